"""Roll-ups a planner reads first, and the plan's figures put in words and rounded for people.

The machine tables and KPIs keep full precision; what a person reads is rounded here,
with the largest-remainder method wherever a total is shown beside its parts, so the
displayed parts add up to the displayed total (1,000 = 333 + 333 + 334, not 333 × 3).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from fabnet.model.scenario import Scenario
from fabnet.plan.plan import NO_DEMAND, Plan

#: human names of the KPIs, by their machine names (the keys of `Plan.kpis` and plan.json)
KPI_LABELS: dict[str, str] = {
    "units_demanded": "units demanded",
    "units_delivered": "units delivered",
    "units_on_time": "units on time",
    "units_late": "units late",
    "units_lost": "units lost",
    "fill_rate": "fill rate",
    "on_time_rate": "on-time rate",
    "lateness_unit_buckets": "lateness (units × buckets late)",
    "cost_purchase": "purchase cost",
    "cost_transport": "transport cost",
    "cost_holding": "holding cost",
    "cost_total": "total cost",
    "note": "note",
    "status": "solver status",
    "solve_seconds": "solve time (s)",
    "build_seconds": "LP build time (s)",
    "readback_seconds": "read-back time (s)",
    "lp_columns": "LP columns",
    "lp_rows": "LP rows",
    "whole_units": "whole units",
    "mip_gap": "MIP gap (largest of the levels)",
    "mip_time_limit_reached": "MIP time limit reached",
    "mip_time_limit_seconds": "MIP time limit (s)",
    "mip_seconds": "MIP time (s)",
    "mip_columns": "MIP columns",
    "mip_rows": "MIP rows",
}


def kpi_label(name: str) -> str:
    """The human name of KPI `name` (`fill_rate_p2` -> "fill rate, priority 2")."""
    if name.startswith("fill_rate_p") and name[11:].isdigit():
        return f"fill rate, priority {name[11:]}"
    return KPI_LABELS.get(name, name.replace("_", " "))


def format_kpi(name: str, value: float | str) -> str:
    """A KPI's value as a person reads it: rates in %, units and money rounded, time in s."""
    if isinstance(value, str):
        return value
    if name.endswith("_rate") or name.startswith("fill_rate_p"):
        return f"{100 * value:.1f} %"
    if name.startswith("cost_"):
        return f"€{value:,.0f}"
    if name.endswith("_seconds"):
        return f"{value:.2f}"
    if name == "mip_gap" or name.startswith("mip_gap_"):
        return _gap(value)
    if name in ("whole_units", "mip_time_limit_reached"):
        return "yes" if value else "no"
    return f"{value:,.0f}"


def _gap(value: float) -> str:
    """A MIP gap: 0 only when proved, else in % with enough digits never to read as 0."""
    if value == 0:
        return "0 (proved optimal)"
    return f"{100 * value:.2g} %"


def _level_label(level: str) -> str:
    if level.startswith("delivered_p"):
        return f"units delivered, priority {level[11:]}"
    return {"lateness": "lateness (units × buckets late)", "cost": "cost",
            "firm": "firm work made"}.get(level, level)


def _num(v: float | str | None, money: bool, signed: bool = False) -> str:
    if not isinstance(v, float | int):
        return "—"
    text = f"{v:+,.2f}" if signed else f"{v:,.2f}"
    return ("€" + text) if money else text


def whole_unit_lines(kpis: Mapping[str, float | str]) -> list[tuple[str, str, str, str, str]]:
    """Per level of a whole-unit plan: (level, LP optimum, whole-unit value, difference,
    MIP gap), as a person reads them; empty for a continuous plan."""
    if not kpis.get("whole_units"):
        return []
    out = []
    for name in kpis:
        if not name.startswith("mip_gap_"):
            continue
        level = name[8:]
        whole, lp = kpis.get(f"mip_{level}"), kpis.get(f"lp_{level}")
        money = level == "cost"
        diff = kpis.get(f"whole_minus_lp_{level}")
        gap = kpis[name]
        out.append((_level_label(level), _num(lp, money), _num(whole, money),
                    _num(diff, False, signed=True),
                    gap if isinstance(gap, str) else _gap(float(gap))))
    return out


def whole_unit_note(kpis: Mapping[str, float | str]) -> str:
    """One line on how the whole-unit MIP ended: proved, or stopped by its time limit."""
    limit = kpis.get("mip_time_limit_seconds", "?")
    secs = kpis.get("mip_seconds", "?")
    if kpis.get("mip_time_limit_reached"):
        gap = kpis.get("mip_gap")
        shown = gap if isinstance(gap, str) else _gap(float(gap or 0))
        return (f"MIP time limit reached ({limit} s): the plan is in whole units and feasible, "
                f"but not proved optimal; largest MIP gap {shown}")
    return f"MIP: every level proved optimal in {secs} s (limit {limit} s)"


def kpi_summary(kpis: Mapping[str, float | str],
                names: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(label, value) lines for the KPIs `names` (default: all), as a person reads them.

    A plan without demand has no rates: its line says "no demand" instead, and the units
    delivered and lost shown add up to the units demanded (largest-remainder rounding).
    """
    names = list(kpis) if names is None else list(names)
    shown = dict(kpis)
    if all(isinstance(shown.get(n), float | int) for n in
           ("units_demanded", "units_delivered", "units_lost")):
        parts = largest_remainder([float(shown["units_delivered"]),
                                   float(shown["units_lost"])], float(shown["units_demanded"]))
        shown["units_delivered"], shown["units_lost"] = parts
    lines = []
    for name in names:
        if name in ("fill_rate", "on_time_rate") and name not in shown:
            if shown.get("note") == NO_DEMAND:
                lines.append((kpi_label(name), NO_DEMAND))
            continue
        if name in shown:
            lines.append((kpi_label(name), format_kpi(name, shown[name])))
    return lines


def largest_remainder(values: Sequence[float], total: float | None = None,
                      decimals: int = 0) -> list[float]:
    """`values` rounded to `decimals` so that they add up to `total` rounded the same way.

    `total` defaults to the sum of `values`. Each value is rounded down, then the units
    still missing go to the values with the largest remainders (Hamilton's method).
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return []
    scale = 10.0 ** decimals
    want = round((float(v.sum()) if total is None else total) * scale)
    low = np.floor(v * scale)
    missing = int(want - low.sum())
    order = np.argsort(-(v * scale - low), kind="stable")
    if missing > 0:
        low[order[:min(missing, v.size)]] += 1
    elif missing < 0:  # the total is smaller than the parts: take from the smallest remainders
        low[order[::-1][:min(-missing, v.size)]] -= 1
    return [round(float(x) / scale, decimals) for x in low]


@dataclass(frozen=True)
class MonthLine:
    """Demanded units due in a month vs planned units arriving in it, for one product."""

    item: str
    month: str
    demanded: float
    planned: float
    on_time: float

    @property
    def month_start(self) -> date:
        """The first day of the month (for date axes)."""
        return date.fromisoformat(f"{self.month}-01")


def monthly_summary(sc: Scenario, plan: Plan) -> list[MonthLine]:
    """Demand by due month and deliveries by arrival month, per product (full precision)."""
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
    return [MonthLine(i, m, demanded[(i, m)], planned[(i, m)], on_time[(i, m)])
            for i, m in keys]


def displayed_months(lines: Sequence[MonthLine]) -> list[MonthLine]:
    """The monthly lines rounded to whole units, with a total line after each product.

    Rounded by largest remainder within each product, so every product's months add up
    to its total line.
    """
    out: list[MonthLine] = []
    for item in sorted({ln.item for ln in lines}):
        mine = [ln for ln in lines if ln.item == item]
        cols = [largest_remainder([getattr(ln, c) for ln in mine])
                for c in ("demanded", "planned", "on_time")]
        out += [MonthLine(item, ln.month, d, p, o)
                for ln, d, p, o in zip(mine, *cols, strict=True)]
        out.append(MonthLine(item, "total", *(float(sum(c)) for c in cols)))
    return out


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
