"""Two kept plans side by side: how their KPIs, what each site makes, and each demand's
shortfall differ, as one caller may see both (`scoping.plan_run_view`: a site manager
compares the rows and KPIs of their sites only).

A planner who changed a capacity and planned again asks "what did that change?": the
answer is the KPIs that moved, the products made more or less at each site, and the
demands now more or less short.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fabnet.services import plan_runs as plan_svc
from fabnet.services import scoping
from fabnet.services.scoping import Viewer
from fabnet.store import PlanRun, Store

#: a change smaller than this is no change
TOL = 1e-6


@dataclass(frozen=True)
class KpiChange:
    """One KPI in both runs (None where a run has no number for it)."""

    name: str
    a: float | None
    b: float | None

    @property
    def change(self) -> float | None:
        """b - a, when both are numbers."""
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def moved(self) -> bool:
        """Did the KPI change?"""
        c = self.change
        return (self.a is None) != (self.b is None) or (c is not None and abs(c) > TOL)


@dataclass(frozen=True)
class QtyChange:
    """A quantity (units made, lost or late) keyed by what it is of, in both runs."""

    key: tuple[str, ...]
    a: float
    b: float

    @property
    def change(self) -> float:
        """b - a."""
        return self.b - self.a


@dataclass(frozen=True)
class RunComparison:
    """Run `b` against run `a`."""

    a: PlanRun
    b: PlanRun
    kpis: list[KpiChange]
    production: list[QtyChange]
    shortfalls: list[QtyChange]
    scope: Mapping[str, Any] | None

    @property
    def moved(self) -> list[KpiChange]:
        """The KPIs that changed."""
        return [k for k in self.kpis if k.moved]


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _sums(rows: Sequence[Mapping[str, Any]], keys: tuple[str, ...], col: str
          ) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = defaultdict(float)
    for r in rows:
        out[tuple(str(r.get(k)) for k in keys)] += float(r.get(col) or 0.0)
    return out


def _changes(a: Mapping[tuple[str, ...], float], b: Mapping[tuple[str, ...], float]
             ) -> list[QtyChange]:
    out = [QtyChange(k, a.get(k, 0.0), b.get(k, 0.0)) for k in sorted(set(a) | set(b))]
    out = [c for c in out if abs(c.change) > TOL]
    out.sort(key=lambda c: (-abs(c.change), c.key))
    return out


def compare_runs(store: Store, viewer: Viewer, a_id: int, b_id: int) -> RunComparison:
    """Plan run `b_id` against `a_id`, as `viewer` may see both (`ScopeRefused` when one
    is withheld from them)."""
    sources = scoping.Sources(store)
    seen = []
    for rid in (a_id, b_id):
        run = plan_svc.get_plan_run(store, rid)
        kpis, doc, scope = scoping.plan_run_view(run, viewer, sources, with_tables=True)
        seen.append((run, kpis, (doc or {}).get("tables") or {}, scope))
    (ra, ka, ta, scope), (rb, kb, tb, _) = seen
    names = list(ka) + [k for k in kb if k not in ka]
    changes = [KpiChange(n, _number(ka.get(n)), _number(kb.get(n))) for n in names
               if _number(ka.get(n)) is not None or _number(kb.get(n)) is not None]
    made = _changes(_sums(ta.get("production", []), ("site", "item"), "qty"),
                    _sums(tb.get("production", []), ("site", "item"), "qty"))
    short = []
    for col in ("qty_lost", "qty_late"):
        short += [QtyChange((*c.key, col.removeprefix("qty_")), c.a, c.b) for c in _changes(
            _sums(ta.get("shortfalls", []), ("demand",), col),
            _sums(tb.get("shortfalls", []), ("demand",), col))]
    short.sort(key=lambda c: (-abs(c.change), c.key))
    return RunComparison(ra, rb, changes, made, short, scope)
