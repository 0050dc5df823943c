"""What endpoints depend on: the store, the job runner, and the signed-in user.

A request signs in with `Authorization: Bearer TOKEN` (a token from `POST /auth/login`
or `POST /tokens`). `Allow(role, …)` lets the request through only for those roles and
records them, so the OpenAPI document can state who may call each endpoint. The typed
aliases (`Anyone`, `Admin`, …) are what endpoints declare, as in the FastAPI template's
`CurrentUser`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from fabnet.api import policy
from fabnet.api.runner import JobRunner
from fabnet.api.schemas import NAME
from fabnet.api.settings import Settings
from fabnet.api.throttle import LoginGuard
from fabnet.services import accounts
from fabnet.services.signed_in import SignedIn
from fabnet.store import Role, Store, User

bearer = HTTPBearer(auto_error=False, description="An API token from POST /auth/login or "
                    "POST /tokens, sent as `Authorization: Bearer TOKEN`.")


def get_store(request: Request) -> Store:
    """The store the server was started on (acting as the server)."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """The server's settings."""
    settings: Settings = request.app.state.settings
    return settings


def get_runner(request: Request) -> JobRunner:
    """The pool that runs jobs."""
    runner: JobRunner = request.app.state.runner
    return runner


_GUARD_MADE = threading.Lock()


def get_login_guard(request: Request) -> LoginGuard:
    """The app's sign-in throttle (made from its settings on first use, once per app)."""
    state = request.app.state
    with _GUARD_MADE:
        guard: LoginGuard | None = getattr(state, "login_guard", None)
        if guard is None:
            guard = state.login_guard = LoginGuard(state.settings)
    return guard


ServerStore = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
LoginGuardDep = Annotated[LoginGuard, Depends(get_login_guard)]


@dataclass(frozen=True)
class Principal(SignedIn):
    """The signed-in user, and the store acting as them (their name signs every change)."""

    user: User
    store: Store

    @property
    def cleared(self) -> bool:
        """May this user see restricted fields?"""
        return self.role in policy.CLEARED

    def may_see(self, section: str, row: dict[str, Any]) -> bool:
        """Is `row` of `section` within this user's sites?"""
        field = policy.SITE_FIELD.get(section)
        return field is None or self.sites is None or row.get(field) in self.sites

    def check_site(self, section: str, row: dict[str, Any]) -> None:
        """403 unless `row` of `section` is within this user's sites."""
        if not self.may_see(section, row):
            field = policy.SITE_FIELD[section]
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"{section}.{field} = {row.get(field)!r}: not one of your "
                                f"sites ({', '.join(sorted(self.sites or ())) or 'none'}) "
                                "(fix: ask an admin to assign the site to you)")

    def redact(self, section: str, row: dict[str, Any]) -> dict[str, Any]:
        """`row` without the restricted fields this user is not cleared for."""
        hidden = policy.RESTRICTED_FIELDS.get(section)
        if not hidden or self.cleared:
            return row
        return {k: v for k, v in row.items() if k not in hidden}


def authenticate(request: Request, store: ServerStore,
                 creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                 ) -> Principal:
    """The user of the request's bearer token; 401 without a valid one."""
    if creds is None or not creds.credentials:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "not signed in (fix: send Authorization: Bearer TOKEN; get a "
                            "token from POST /auth/login)",
                            headers={"WWW-Authenticate": "Bearer"})
    user = accounts.user_for_token(store, creds.credentials)
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "the token is unknown, expired or revoked, or its user is "
                            "inactive (fix: sign in again with POST /auth/login)",
                            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    request.state.user_name = user.name  # for the access log
    return Principal(user, store.acting_as(user.name))


class Allow:
    """A dependency that admits the signed-in user only in one of `roles`."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    def __call__(self, who: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if who.role not in self.roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role {who.role.value} may not do this (allowed: "
                                f"{policy.roles_text(self.roles)})")
        return who

    def __repr__(self) -> str:
        return f"Allow({policy.roles_text(self.roles)})"


class AllowEdit(Allow):
    """Admits a section's editors, and the what-if makers when the edit is on a branch
    (`?branch=NAME`): a continuity officer may close a lane in a what-if, not in the
    scenario everyone plans with."""

    def __init__(self, section: str) -> None:
        self.section = section
        self.editors = policy.SECTION_EDITORS[section]
        super().__init__(*(self.editors | policy.BRANCH_MAKERS))

    def __call__(self, who: Annotated[Principal, Depends(authenticate)],
                 branch: Annotated[str | None, Query(pattern=NAME)] = None
                 ) -> Principal:
        who = super().__call__(who)
        if who.role not in self.editors and branch is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"role {who.role.value} may change {self.section} only on "
                                f"what-if branches (fix: add ?branch=NAME; in the scenario "
                                f"itself: {policy.roles_text(self.editors)})")
        return who


def allow(roles: frozenset[Role]) -> Any:
    """`Depends(Allow(*roles))`, for use in `Annotated[Principal, allow(...)]`."""
    return Depends(Allow(*roles))


Anyone = Annotated[Principal, allow(policy.EVERYONE)]
Admin = Annotated[Principal, allow(policy.ADMINS)]
AccountReader = Annotated[Principal, allow(policy.ACCOUNT_READERS)]
AuditReader = Annotated[Principal, allow(policy.AUDIT_READERS)]
Importer = Annotated[Principal, allow(policy.IMPORTERS)]
BranchMaker = Annotated[Principal, allow(policy.BRANCH_MAKERS)]
Merger = Annotated[Principal, allow(policy.MERGERS)]
Planner = Annotated[Principal, allow(policy.PLANNERS)]
StressTester = Annotated[Principal, allow(policy.STRESS_TESTERS)]
JobCanceller = Annotated[Principal, allow(policy.JOB_CANCELLERS)]
