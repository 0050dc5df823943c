"""Qualified operators: who may work which work center or run which test step, until when.

The seeds' hub trains technicians, and a line is only as fast as its qualified people.
A qualification names an operator, a work-center type or a test step, an expiry date and
optionally a site (none: every site). A site that turns the rule on
(`fabnet floor require-qualification SITE on`) refuses an operation or a test recorded
by an operator who is not qualified for it on that day: the floor's build and test verbs
call `check_qualified` before they book anything. `skills` counts, per work center and
test step of each site, the operators qualified today and in 30 and 90 days, so a
planner sees a line about to lose its last qualified tester before it happens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from fabnet.services.floor import _scenario_id
from fabnet.shop import more_roles
from fabnet.shop.errors import FloorError
from fabnet.shop.more_roles import MoreAction
from fabnet.shop.roles import Caller
from fabnet.store import Action, Store, UnitOfWork
from fabnet.store.floor_repair import Qualification, RepairRepository, SkillCount, SkillKind
from fabnet.store.repository import now

T = TypeVar("T")


class NotQualified(FloorError):
    """An operation or test by an operator not qualified for it, at a site whose rule is on."""


def check_qualified(uow: UnitOfWork, scenario_id: int, site: str, operator: str,
                    kind: SkillKind, type_or_step: str, on_date: date) -> None:
    """Refuse (`NotQualified`) an operation on a work-center type, or a test step, by
    `operator` at `site` on `on_date` when the site requires qualification and the
    operator holds none valid that day; a site with the rule off lets everyone work."""
    rep = RepairRepository(uow.connection, uow.audit)
    if not rep.requires_qualification(scenario_id, site):
        return
    if rep.is_qualified(scenario_id, site, operator, kind, type_or_step, on_date):
        return
    what = "work center" if kind is SkillKind.WORK_CENTER else "test step"
    raise NotQualified(f"{operator} is not qualified for {what} {type_or_step} at {site} on "
                       f"{on_date}, and {site} requires qualified operators; nothing was "
                       f"booked (fix: `fabnet floor qualify {operator} {type_or_step} --until "
                       f"DATE --site {site}`, or name a qualified --operator)")


def check_operations(uow: UnitOfWork, scenario_id: int, site: str, operator: str,
                     work_centers: Iterable[str], on_date: date) -> None:
    """`check_qualified` for every work-center type of a build's operations."""
    for wc in dict.fromkeys(work_centers):
        check_qualified(uow, scenario_id, site, operator, SkillKind.WORK_CENTER, wc, on_date)


def _run(store: Store, caller: Caller, work: Callable[[UnitOfWork, RepairRepository], T],
         read_only: bool = False) -> T:
    def body(uow: UnitOfWork) -> T:
        out = work(uow, RepairRepository(uow.connection, uow.audit))
        if not read_only:
            uow.commit()
        return out
    return store.acting_as(caller.name).run(body, read_only)


def qualify(store: Store, caller: Caller, operator: str, name: str, until: date,
            site: str | None = None, kind: SkillKind | None = None,
            scenario: str | None = None) -> Qualification:
    """Qualify `operator` for a work-center type or a test step (`name`; `kind` says which
    when the scenario has both by that name) through `until`, at `site` or every site. A
    site manager qualifies for their own sites only, so they must name one."""
    if not operator.strip():
        raise FloorError("OPERATOR: name the operator")
    if site is None and caller.sites is not None:
        raise FloorError(f"{caller.name} qualifies operators for their own sites only (fix: "
                         f"--site one of {', '.join(sorted(caller.sites)) or 'none'})")
    more_roles.check(caller, MoreAction.QUALIFY, site)

    def work(uow: UnitOfWork, rep: RepairRepository) -> Qualification:
        sid, sname = _scenario_id(uow, scenario)
        sc = uow.scenarios.get(sname)
        if site is not None and site not in {s.id for s in sc.sites}:
            raise FloorError(f"--site {site}: no such site in scenario {sname!r} (fix: use "
                             f"one of {', '.join(sorted(s.id for s in sc.sites))})")
        types = {w.type for w in sc.work_centers if site is None or w.site == site}
        steps = {p.step for p in sc.test_plans}
        found = [k for k, names in ((SkillKind.WORK_CENTER, types),
                                    (SkillKind.TEST_STEP, steps)) if name in names]
        if kind is not None:
            found = [k for k in found if k is kind]
        if not found:
            where = f" at {site}" if site else ""
            raise FloorError(f"{name!r} is neither a work-center type{where} nor a test step "
                             f"of scenario {sname!r} (fix: one of "
                             f"{', '.join(sorted(types | steps)) or 'none'})")
        if len(found) > 1:
            raise FloorError(f"{name!r} is a work-center type and a test step (fix: say which "
                             "with --kind work_center or --kind test_step)")
        if until < now().date():
            raise FloorError(f"--until {until}: already past (fix: the last day the "
                             "qualification holds, today or later)")
        q = rep.add_qualification(sid, operator, found[0], name, site, until)
        rep.audit(Action.QUALIFY, f"operator:{operator}",
                  {"qualification": q.id, "kind": q.kind.value, "name": name,
                   "site": site, "until": until.isoformat(), "scenario": sname})
        return q
    return _run(store, caller, work)


def require_qualification(store: Store, caller: Caller, site: str, on: bool,
                          scenario: str | None = None) -> bool:
    """Turn a site's rule on or off; returns what it was before."""
    more_roles.check(caller, MoreAction.REQUIRE_QUALIFICATION, site)

    def work(uow: UnitOfWork, rep: RepairRepository) -> bool:
        sid, sname = _scenario_id(uow, scenario)
        if site not in {s.id for s in uow.scenarios.get(sname).sites}:
            raise FloorError(f"no site {site!r} in scenario {sname!r}")
        was = rep.set_requires_qualification(sid, site, on)
        if was != on:
            rep.audit(Action.QUALIFICATION_RULE, f"site:{site}",
                      {"require_qualification": on}, {"require_qualification": was})
        return was
    return _run(store, caller, work)


@dataclass(frozen=True)
class Skills:
    """The skills report: counts per work center and test step, and each site's rule."""

    on: date
    counts: tuple[SkillCount, ...]
    rules: dict[str, bool]


def skills(store: Store, caller: Caller, site: str | None = None,
           scenario: str | None = None, on: date | None = None) -> Skills:
    """Per work center and test step of the caller's sites (or `site`), how many operators
    are qualified on `on` (default today), 30 and 90 days later."""
    more_roles.check(caller, MoreAction.SKILLS, site)
    day = on or now().date()

    def work(uow: UnitOfWork, rep: RepairRepository) -> Skills:
        sid, sname = _scenario_id(uow, scenario)
        version = uow.scenarios.info(sname).version
        sites = frozenset({site}) if site is not None else caller.sites
        rules = {s: v for s, v in rep.rules(sid).items() if sites is None or s in sites}
        return Skills(day, tuple(rep.skill_counts(sid, version, day, sites)), rules)
    return _run(store, caller, work, read_only=True)


def qualifications(store: Store, caller: Caller, operator: str | None = None,
                   scenario: str | None = None) -> list[Qualification]:
    """Qualifications granted (of the caller's sites, and those of every site)."""
    more_roles.check(caller, MoreAction.SKILLS)

    def work(uow: UnitOfWork, rep: RepairRepository) -> list[Qualification]:
        sid, _ = _scenario_id(uow, scenario)
        return rep.qualifications(sid, operator, caller.sites)
    return _run(store, caller, work, read_only=True)
