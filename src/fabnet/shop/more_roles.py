"""Who may do the floor's after-sales and people verbs: returns, repairs, service records,
line-downs, qualifications and the qualification rule, the skills report.

Repair technicians reuse the line lead's role (`site_manager`): they return, repair and
service units at their own sites, as they build and test there. Quality may open a
return and record a service anywhere (test engineers run the testing services) and
grants qualifications for test steps as well as work centers. Line-downs are reported by
line leads for their own sites, and by planners and continuity officers anywhere. Every
signed-in role may read the skills report, a site manager for their sites only.
"""

from __future__ import annotations

from enum import StrEnum

from fabnet.shop.roles import Caller
from fabnet.store.records import Role


class MoreAction(StrEnum):
    """The verbs of this matrix, as `fabnet floor` names them."""

    RETURN = "return"
    REPAIR = "repair"
    SERVICE = "service"
    LINE_DOWN = "line-down"
    QUALIFY = "qualify"
    REQUIRE_QUALIFICATION = "require-qualification"
    SKILLS = "skills"
    HISTORY = "history"


A, P, C, S, Q = Role.ADMIN, Role.PLANNER, Role.CONTINUITY, Role.SITE_MANAGER, Role.QUALITY

MORE_ROLES: dict[MoreAction, frozenset[Role]] = {
    MoreAction.RETURN: frozenset({A, S, Q}),
    MoreAction.REPAIR: frozenset({A, S}),
    MoreAction.SERVICE: frozenset({A, S, Q}),
    MoreAction.LINE_DOWN: frozenset({A, P, C, S}),
    MoreAction.QUALIFY: frozenset({A, S, Q}),
    MoreAction.REQUIRE_QUALIFICATION: frozenset({A, S}),
    MoreAction.SKILLS: frozenset(Role),
    MoreAction.HISTORY: frozenset(Role),
}


def check(caller: Caller, action: MoreAction, site: str | None = None) -> None:
    """Refuse (`NotPermitted`) unless the caller's role may do `action`, at `site` if
    given (a site manager only at their own sites)."""
    caller.permit(action.value, MORE_ROLES[action], site)
