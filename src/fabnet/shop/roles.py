"""Who may do what on the floor: one matrix of floor actions to roles, and site limits.

Line leads (the `site_manager` role) release, receive, build, test, transfer and ship for
their own sites; quality holds and releases holds and reads yields everywhere, and may
record tests at any site (test engineers are quality); compliance may ship (the export
gate); planners release and receive; everyone signed in may list orders and trace. A
site manager sees and touches only the records of their sites; every other role, all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fabnet.shop.errors import NotPermitted
from fabnet.store.records import Role


class FloorAction(StrEnum):
    """The verbs of the floor, as the roles matrix names them."""

    RELEASE = "release"
    ORDERS = "orders"
    RECEIVE = "receive"
    BUILD = "build"
    TEST = "test"
    YIELD = "yield"
    HOLD = "hold"
    RELEASE_HOLD = "release-hold"
    SHIP = "ship"
    TRANSFER = "transfer"
    TRACE = "trace"


#: the matrices' verbs that read as nouns, as a refusal says them ("may not see work
#: orders there", not "may not orders there")
_SAID = {"orders": "see work orders", "yield": "see yields", "release-hold": "release holds",
         "history": "read unit histories", "skills": "change skills",
         "line-down": "report a line down", "service": "record services",
         "require-qualification": "require qualifications",
         "po-release": "release purchase orders", "po-list": "list purchase orders",
         "po-receive": "receive purchase orders", "po-cancel": "cancel purchase orders"}

A, P, C, S, Q, E, X, U = (Role.ADMIN, Role.PLANNER, Role.CONTINUITY, Role.SITE_MANAGER,
                          Role.QUALITY, Role.ENGINEERING, Role.COMPLIANCE, Role.AUDITOR)

FLOOR_ROLES: dict[FloorAction, frozenset[Role]] = {
    FloorAction.RELEASE: frozenset({A, P, S}),
    FloorAction.ORDERS: frozenset(Role),
    FloorAction.RECEIVE: frozenset({A, P, S}),
    FloorAction.BUILD: frozenset({A, S}),
    FloorAction.TEST: frozenset({A, S, Q}),
    FloorAction.YIELD: frozenset({A, P, S, Q, E, U}),
    FloorAction.HOLD: frozenset({A, Q}),
    FloorAction.RELEASE_HOLD: frozenset({A, Q}),
    FloorAction.SHIP: frozenset({A, S, X}),
    FloorAction.TRANSFER: frozenset({A, P, S}),
    FloorAction.TRACE: frozenset(Role),
}


@dataclass(frozen=True)
class Caller:
    """Who acts on the floor: their name (it signs the audit trail), role and the sites
    they are limited to (None: every site)."""

    name: str
    role: Role
    sites: frozenset[str] | None = None

    @classmethod
    def of(cls, name: str, role: Role, sites: tuple[str, ...] = ()) -> Caller:
        """A caller as the store's accounts give them: only site managers are limited."""
        return cls(name, role, frozenset(sites) if role is Role.SITE_MANAGER else None)

    def sees(self, site: str) -> bool:
        """Is `site` one of this caller's sites?"""
        return self.sites is None or site in self.sites

    def check(self, action: FloorAction, site: str | None = None) -> None:
        """Refuse (`NotPermitted`) unless the role may do `action`, at `site` if given."""
        self.permit(action.value, FLOOR_ROLES[action], site)

    def permit(self, verb: str, roles: frozenset[Role], site: str | None = None) -> None:
        """Refuse (`NotPermitted`) unless the role is one of `roles` and, if `site` is
        given, the site is one of the caller's: every floor matrix's one check."""
        verb = _SAID.get(verb, verb)
        if self.role not in roles:
            who = ", ".join(r.value for r in Role if r in roles)
            raise NotPermitted(f"{self.name} ({self.role.value}) may not {verb} on the "
                               f"floor (roles that may: {who}) (fix: ask one of them, or an "
                               "admin to change your role)")
        if site is not None and not self.sees(site):
            mine = ", ".join(sorted(self.sites or ())) or "none"
            # the other site is not named: a refusal must not tell where a unit is
            raise NotPermitted(f"{self.name} may not {verb} there: not one of your "
                               f"sites ({mine}) (fix: ask an admin to assign the site to "
                               "you)")
