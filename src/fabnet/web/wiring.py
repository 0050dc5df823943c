"""What the API lends the dashboard: its rules (who sees what, who may run jobs), its
sign-in door (throttle and lockout) and its job runner.

The `web` layer sits above `api` in the design, so it imports nothing of it: the API
builds a `Wiring` from its own policy, throttle and runner when it mounts the pages,
and the pages follow exactly the rules the API's endpoints follow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fastapi import Request

from fabnet.model.errors import FabnetError
from fabnet.services.accounts import Login
from fabnet.services.scoping import Viewer
from fabnet.store import Job, Role


class SignInRefused(FabnetError):
    """A sign-in the throttle turned away before the password was checked (too many
    tries, too many checks at once): `status` 429 or 503, and when to try again."""

    def __init__(self, what: str, status: int, retry_after: int) -> None:
        super().__init__(what)
        self.status, self.retry_after = status, retry_after


@dataclass(frozen=True)
class Wiring:
    """The API's rules and doors, as the pages use them."""

    #: the caller as the result scopers see them: (their sites or None, cleared?) -> Viewer
    viewer: Callable[[frozenset[str] | None, bool], Viewer]
    #: roles cleared for restricted fields
    cleared: frozenset[Role]
    #: roles that may submit plan and what-if jobs
    planners: frozenset[Role]
    #: roles that may submit time-to-survive and Monte Carlo jobs
    stress_testers: frozenset[Role]
    #: the API's login: throttle, password check and lockout; a `Login` or None (wrong
    #: password, unknown, inactive or locked account); `SignInRefused` when throttled
    sign_in: Callable[[Request, str, str], Login | None]
    #: hand a recorded job to the server's job runner
    run_job: Callable[[Request, Job], None]
    #: how long a session lasts, in hours (the API's login token lifetime)
    session_hours: Callable[[Request], float]
    #: who may add, change or delete the rows of each master-data section (the API's
    #: `SECTION_EDITORS`); a section missing here is edited by no one from the pages
    section_editors: Mapping[str, frozenset[Role]] = field(default_factory=dict)
    #: who may read the audit trail and its verify status (the API's `AUDIT_READERS`);
    #: no one from the pages when not given
    audit_readers: frozenset[Role] = frozenset()
    #: who may also change rows on a what-if branch, beyond the section's editors (the
    #: API's `BRANCH_MAKERS`); none from the pages when not given
    branch_makers: frozenset[Role] = frozenset()
