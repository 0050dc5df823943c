"""A line down: one work center of a site loses capacity for a while, and the plan knows.

`fabnet floor line-down SITE WORK_CENTER --from DATE [--until DATE] [--capacity F]`
records the event as a disruption of that work center only (`Disruption.work_center`)
on the newest version of the stored scenario, as a new version: the next stored plan run
plans with those hours cut to the factor, and the site's other work centers, stock and
lanes carry on. A line lead reports it for their own sites. The scenario row is locked
while the new version is computed, so two line-downs reported at once both land.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from fabnet.model.consistency import check_scenario
from fabnet.model.errors import ScenarioError, split_issues
from fabnet.model.scenario import Disruption
from fabnet.services.floor import _scenario_id
from fabnet.shop import more_roles
from fabnet.shop.errors import FloorError
from fabnet.shop.more_roles import MoreAction
from fabnet.shop.roles import Caller
from fabnet.store import Action, Store, UnitOfWork, VersionInfo
from fabnet.store.floor_repair import RepairRepository


@dataclass(frozen=True)
class LineDown:
    """A recorded line-down: the disruption and the scenario version it went into."""

    disruption: Disruption
    version: VersionInfo
    until: date  # the last day covered (the end of its last bucket)


def line_down(store: Store, caller: Caller, site: str, work_center: str, start: date,
              until: date | None = None, capacity: float = 0.0,
              scenario: str | None = None, note: str = "") -> LineDown:
    """Record that `work_center` at `site` runs at `capacity` (0: down) from the bucket of
    `start` through the bucket of `until` (default: the end of the horizon), as a new
    version of the stored scenario."""
    more_roles.check(caller, MoreAction.LINE_DOWN, site)
    if not (math.isfinite(capacity) and 0 <= capacity < 1):
        raise FloorError(f"--capacity {capacity:g}: a line down leaves a factor from 0 (down) "
                         "to below 1 of its hours (fix: e.g. --capacity 0.5)")
    if until is not None and until < start:
        raise FloorError(f"--until {until}: before --from {start} (fix: end it on or after "
                         "the day it starts)")

    def work(uow: UnitOfWork) -> LineDown:
        _, name = _scenario_id(uow, scenario)
        RepairRepository(uow.connection, uow.audit).lock_scenario(name)
        info = uow.scenarios.info(name)
        sc = uow.scenarios.get(name, info.version)
        if site not in {s.id for s in sc.sites}:
            raise FloorError(f"no site {site!r} in scenario {name!r} (fix: use one of "
                             f"{', '.join(sorted(s.id for s in sc.sites))})")
        types = sorted(w.type for w in sc.work_centers if w.site == site)
        if work_center not in types:
            raise FloorError(f"site {site} has no {work_center!r} work center (fix: use one "
                             f"of {', '.join(types) or 'none'})")
        h = sc.horizon
        if not h.contains(start):
            raise FloorError(f"--from {start}: outside the horizon of {name!r} ({h.start} .. "
                             f"{h.end}) (fix: a date inside it)")
        t0 = h.bucket_of(start)
        t1 = h.buckets - 1 if until is None else min(h.bucket_of(until), h.buckets - 1)
        taken = {d.id for d in sc.disruptions}
        n = 1
        while f"line-down-{n}" in taken:
            n += 1
        d = Disruption(f"line-down-{n}", site, start, t1 - t0 + 1, capacity, work_center)
        new = sc.with_disruptions((d,))
        errors, warnings = split_issues(i.located(f"scenario {name}")
                                        for i in check_scenario(new))
        if errors:
            raise ScenarioError(errors, warnings)
        version = uow.scenarios.add_version(
            name, new, note or f"line down: {site}/{work_center} at {capacity:g} from "
            f"{start}" + (f" until {until}" if until else ""))
        last_day = h.bucket_start(t1 + 1) - timedelta(days=1)
        uow.audit.append(Action.LINE_DOWN, f"site:{site}/{work_center}", None,
                         {"scenario": name, "version": version.version, "disruption": d.id,
                          "from": start.isoformat(), "until": last_day.isoformat(),
                          "buckets": d.buckets, "capacity": capacity})
        uow.commit()
        return LineDown(d, version, last_day)
    return store.acting_as(caller.name).run(work)
