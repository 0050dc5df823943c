"""Who may do what through the API: the roles matrix, site scoping and restricted fields.

Roles are the store's (`fabnet.store.Role`); the issue's "site-lead" is `site_manager`.
Everyone signed in may read master data, scenarios, branches, jobs and plans, except:

- a site manager sees and edits the rows of site-scoped sections (`SITE_FIELD`) only
  for the sites assigned to them (none assigned: none);
- restricted fields (`RESTRICTED_FIELDS`: a site's country, i.e. where it is) are
  returned only to `CLEARED` roles, can't be filtered on by others, and never appear in
  the server's logs;
- accounts and the audit trail are for admins and auditors.

The auditor reads everything, restricted fields and the audit trail included, and
changes nothing. Results (plans, what-ifs, TTS, Monte Carlo), version hashes and notes
follow the same rules through `fabnet.services.scoping`: `viewer()` is the caller as it
sees them, and `refused_as_403()` turns its refusals into 403s.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, status

from fabnet.services.scoping import ScopeRefused, Viewer
from fabnet.store import Role

A, P, C, S, Q, E, X, U = (Role.ADMIN, Role.PLANNER, Role.CONTINUITY, Role.SITE_MANAGER,
                          Role.QUALITY, Role.ENGINEERING, Role.COMPLIANCE, Role.AUDITOR)

EVERYONE: frozenset[Role] = frozenset(Role)
ADMINS = frozenset({A})
ACCOUNT_READERS = frozenset({A, U})
AUDIT_READERS = frozenset({A, U})
IMPORTERS = frozenset({A, P})
BRANCH_MAKERS = frozenset({A, P, C})
MERGERS = frozenset({A, P})
PLANNERS = frozenset({A, P, C})  # plan and what-if jobs
STRESS_TESTERS = frozenset({A, P, C})  # time-to-survive and Monte Carlo jobs
JOB_CANCELLERS = frozenset({A, P, C})  # their own jobs; an admin anyone's

#: who may add, change or delete rows of each master-data section of a scenario; on a
#: what-if branch the `BRANCH_MAKERS` may too
SECTION_EDITORS: dict[str, frozenset[Role]] = {
    "items": frozenset({A, P, E}),
    "boms": frozenset({A, P, E}),
    "routings": frozenset({A, P, E}),
    "sites": frozenset({A, P, S}),
    "work_centers": frozenset({A, P, S}),
    "suppliers": frozenset({A, P}),
    "offers": frozenset({A, P}),
    "customers": frozenset({A, P, X}),
    "lanes": frozenset({A, P}),
    "inventory": frozenset({A, P, S}),
    "demand": frozenset({A, P}),
    "disruptions": frozenset({A, P, C, S}),
    "recovery": frozenset({A, P, C}),
    "risks": frozenset({A, P, C}),
    "test_plans": frozenset({A, P, E, Q}),  # quality engineers own the test steps
    "licences": frozenset({A, X}),  # export compliance alone changes licences
    "mitigations": frozenset({A, P, C}),  # redundancy candidates: continuity's question
}

#: the column naming the site a row belongs to, in the sections a site manager is
#: limited to their own sites in
SITE_FIELD: dict[str, str] = {
    "sites": "id",
    "work_centers": "site",
    "inventory": "site",
    "disruptions": "target",
}

#: columns marked restricted, returned only to cleared roles: where a site is
RESTRICTED_FIELDS: dict[str, frozenset[str]] = {
    "sites": frozenset({"country", "location"}),
}

#: roles cleared for restricted fields (a site manager only ever sees their own sites)
CLEARED: frozenset[Role] = frozenset({A, P, C, S, U})


def restricted_names() -> frozenset[str]:
    """Every restricted column name (query parameters with these names are masked in logs)."""
    return frozenset(f for fields in RESTRICTED_FIELDS.values() for f in fields)


def roles_text(roles: frozenset[Role]) -> str:
    """Roles for a description, in the order of `Role`."""
    if roles == EVERYONE:
        return "any signed-in role"
    return ", ".join(r.value for r in Role if r in roles)


def viewer(sites: frozenset[str] | None, cleared: bool) -> Viewer:
    """The caller as the result scopers see them: their sites (None: every site) and
    whether they are cleared for restricted fields, with this module's rules."""
    return Viewer(sites, cleared, SITE_FIELD, RESTRICTED_FIELDS)


@contextmanager
def refused_as_403() -> Iterator[None]:
    """Answer a result the caller may not see (`ScopeRefused`) with a 403 saying why."""
    try:
        yield
    except ScopeRefused as e:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(e)) from None
