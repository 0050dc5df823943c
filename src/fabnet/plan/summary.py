"""Roll-ups a planner reads first: units demanded vs planned per product and month."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from fabnet.model.scenario import Scenario
from fabnet.plan.plan import Plan


@dataclass(frozen=True)
class MonthLine:
    """Demanded units due in a month vs planned units arriving in it, for one product."""

    item: str
    month: str
    demanded: float
    planned: float
    on_time: float


def monthly_summary(sc: Scenario, plan: Plan) -> list[MonthLine]:
    """Demand by due month and deliveries by arrival month, per product."""
    starts = plan.bucket_starts
    end = sc.horizon.end
    demanded: dict[tuple[str, str], float] = defaultdict(float)
    planned: dict[tuple[str, str], float] = defaultdict(float)
    on_time: dict[tuple[str, str], float] = defaultdict(float)
    due_of = {d.id: d for d in sc.demand}
    for d in sc.demand:
        demanded[(d.item, d.due.strftime("%Y-%m"))] += d.qty
    for r in plan.rows("deliveries"):
        a = r["arrival_bucket"]
        day = starts[a] if a < len(starts) else end
        planned[(r["item"], day.strftime("%Y-%m"))] += r["qty"]
        if sc.horizon.bucket_of(due_of[r["demand"]].due) >= a:
            on_time[(r["item"], due_of[r["demand"]].due.strftime("%Y-%m"))] += r["qty"]
    keys = sorted(set(demanded) | set(planned))
    return [MonthLine(i, m, round(demanded[(i, m)], 4), round(planned[(i, m)], 4),
                      round(on_time[(i, m)], 4)) for i, m in keys]


def top_shortfalls(plan: Plan, sc: Scenario, n: int = 10) -> list[dict[str, object]]:
    """The `n` largest shortfalls (lost first, then late), with demand details."""
    by_id = {d.id: d for d in sc.demand}
    rows = []
    for r in plan.rows("shortfalls"):
        d = by_id[r["demand"]]
        rows.append({**r, "customer": d.customer, "item": d.item, "due": str(d.due),
                     "priority": d.priority})
    rows.sort(key=lambda r: (-float(str(r["qty_lost"])), -float(str(r["qty_late"])),
                             str(r["demand"])))
    return rows[:n]
