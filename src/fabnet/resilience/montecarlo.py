"""Stress test: sample many futures from the scenario's risks and re-plan each exactly.

Each risk says how likely an event is per bucket at a node, in a country or on a lane,
how long it lasts and what capacity is left. A sample draws events for every risk and
bucket from its own random stream (`SeedSequence(seed).spawn(n)`), so the same seed
gives the same futures whatever the number of workers. Each future is re-planned on
the delivery levels of the planning LP (units delivered, by priority), warm-started
from the base plan's basis in a worker process that keeps its own model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from fabnet.model.network import FloatArray
from fabnet.model.scenario import Disruption, DurationDist, Risk, Scenario
from fabnet.model.target import Target


def sample_risk(risk: Risk, buckets: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """(start bucket, duration) of each event of one risk over the horizon."""
    starts = np.nonzero(rng.random(buckets) < risk.rate)[0]
    if risk.dist is DurationDist.UNIFORM:
        hi = risk.duration_max if risk.duration_max is not None else risk.duration
        dur = rng.integers(risk.duration, hi + 1, size=starts.size)
    elif risk.dist is DurationDist.GEOMETRIC:
        dur = rng.geometric(1.0 / max(risk.duration, 1), size=starts.size)
    else:
        dur = np.full(starts.size, risk.duration)
    return [(int(s), int(d)) for s, d in zip(starts, dur, strict=True) if d > 0]


def sample_future(sc: Scenario, rng: np.random.Generator, n: int) -> tuple[Disruption, ...]:
    """One sampled future: the disruptions every risk produces."""
    out = []
    h = sc.horizon
    for risk in sc.risks:
        for k, (start, dur) in enumerate(sample_risk(risk, h.buckets, rng)):
            out.append(Disruption(f"mc{n}-{risk.id}-{k}", risk.target, h.bucket_start(start),
                                  dur, risk.capacity))
    return tuple(out)


@dataclass
class SampleOutcome:
    """What one sampled future costs."""

    fill: float
    lost_by_item: dict[str, float]
    critical: list[str]
    events: int


@dataclass
class StressResult:
    """Distributions over the samples."""

    samples: int
    seed: int
    target: float
    fill: FloatArray
    lost_by_item: dict[str, FloatArray]
    critical_counts: dict[str, int]
    events: list[int] = field(default_factory=list)

    @property
    def p_target(self) -> float:
        """Share of futures whose fill rate reaches the target."""
        return float((self.fill >= self.target - 1e-9).mean()) if self.fill.size else 0.0

    @property
    def worst5_mean(self) -> float:
        """Mean fill rate of the worst 5 % of futures (at least one)."""
        if not self.fill.size:
            return 0.0
        k = max(1, int(np.ceil(0.05 * self.fill.size)))
        return float(np.sort(self.fill)[:k].mean())

    def summary(self) -> dict[str, float]:
        """Headline statistics."""
        f = self.fill
        return {
            "samples": float(self.samples), "fill_mean": float(f.mean()),
            "fill_p5": float(np.percentile(f, 5)), "fill_p50": float(np.percentile(f, 50)),
            "fill_min": float(f.min()), "p_fill_ge_target": self.p_target,
            "worst5_mean_fill": self.worst5_mean,
            "units_lost_mean": float(sum(v.mean() for v in self.lost_by_item.values())),
        }


_WORKER: dict[str, object] = {}


def _init(sc: Scenario) -> None:
    from fabnet.resilience.whatif import Replanner

    _WORKER["replanner"] = Replanner(sc)


def _one(extra: tuple[Disruption, ...]) -> SampleOutcome:
    from fabnet.plan.plan import demand_outcome
    from fabnet.resilience.whatif import Replanner

    rp = _WORKER["replanner"]
    assert isinstance(rp, Replanner)
    net, result = rp.solve(extra, levels_upto="delivered")
    out = demand_outcome(net, rp.lp, result.x)
    demanded = float(net.demand_qty.sum())
    lost_by: dict[str, float] = {}
    for i, item in enumerate(net.items):
        mask = net.demand_item == i
        if mask.any():
            lost_by[item] = float(out["lost"][mask].sum())
    critical = critical_nodes(rp, result)
    fill = float(out["delivered"].sum()) / demanded if demanded else 1.0
    return SampleOutcome(fill, lost_by, critical, len(extra))


def critical_nodes(rp: object, result: object) -> list[str]:
    """Sites, suppliers and lanes whose capacity binds with a non-zero dual at any level."""
    from fabnet.plan.solve import PlanResult
    from fabnet.resilience.whatif import Replanner

    assert isinstance(rp, Replanner) and isinstance(result, PlanResult)
    net, lp = rp.network, rp.lp
    owners = {
        "work": [net.sites[int(s)] for s in net.wc_site],
        "supply": [net.suppliers[int(v)] for v in net.offer_supplier],
        "lane": [str(Target.lane_between(a, b))
                 for a, b in zip(net.lane_from, net.lane_to, strict=True)],
    }
    names: set[str] = set()
    for lv in result.levels:
        for block, owner in owners.items():
            b = lp.rows[block]
            if not b.count:
                continue
            d = lv.duals[b.offset:b.offset + b.size].reshape(b.count, b.per)
            names.update(owner[e] for e in np.nonzero((np.abs(d) > 1e-7).any(axis=1))[0])
    return sorted(names)


def stress_test(sc: Scenario, samples: int, seed: int, target: float = 0.95,
                workers: int = 1, progress: Callable[[int], None] | None = None
                ) -> StressResult:
    """Sample `samples` futures from `sc.risks` and re-plan each; same seed, same numbers."""
    streams = np.random.SeedSequence(seed).spawn(samples)
    futures = [sample_future(sc, np.random.default_rng(s), n) for n, s in enumerate(streams)]
    outcomes: list[SampleOutcome] = []
    if workers <= 1:
        _init(sc)
        for f in futures:
            outcomes.append(_one(f))
            if progress:
                progress(1)
    else:
        with ProcessPoolExecutor(workers, initializer=_init, initargs=(sc,)) as pool:
            for o in pool.map(_one, futures, chunksize=max(1, samples // (8 * workers))):
                outcomes.append(o)
                if progress:
                    progress(1)
    items = sorted({k for o in outcomes for k in o.lost_by_item})
    counts: Counter[str] = Counter()
    for o in outcomes:
        counts.update(o.critical)
    return StressResult(samples, seed, target, np.array([o.fill for o in outcomes]),
                        {i: np.array([o.lost_by_item.get(i, 0.0) for o in outcomes])
                         for i in items}, dict(counts.most_common()),
                        [o.events for o in outcomes])
