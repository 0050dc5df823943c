"""Benchmark of redundancy design on the Europe example (examples/europe/scenario.yaml).

Times `fabnet design`'s engine (`resilience.design.design`) over `--futures` sampled
futures with `--candidates` mitigations: the example's own candidates, then variants of
them (buffers of other Chinese-origin parts at the hub and at the partner line, and the
hub buffers at half and double size) until there are enough. The method is the
design's own (`--method auto`: the stochastic MIP where the extensive form fits, else
Benders cuts from each future's duals, stopped by `--rounds` or `--time-limit` as a
dual-guided search); `--method replan` re-plans sets (enumeration, or greedy with swaps
above eight candidates). Reports the time, the method and the bound it proved, the LP
solves of the exact method, the sets re-planned exactly, the chosen set and its savings,
and the machine's load at start and end.

    python -m benchmarks.design_bench               # 200 futures, 20 candidates
    python -m benchmarks.design_bench --quick       # 4 futures, 10 candidates
    python -m benchmarks.design_bench --futures 10 --time-limit 600
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from fabnet.batch import executor_for
from fabnet.io.scenario_io import load_scenario
from fabnet.model.mitigation import Mitigation, MitigationKind
from fabnet.model.scenario import Scenario
from fabnet.resilience.design import Search, design

EUROPE = Path(__file__).resolve().parent.parent / "examples" / "europe" / "scenario.yaml"


def with_candidates(sc: Scenario, n: int) -> Scenario:
    """The example with exactly `n` candidates: its own first, then generated variants."""
    own = list(sc.mitigations)
    unit = {i.id: i.unit_cost or 10.0 for i in sc.items}
    extra: list[Mitigation] = []
    for m in own:
        if m.kind is MitigationKind.BUFFER and m.qty:
            for f in (0.5, 2.0):
                extra.append(replace(m, id=f"{m.id}-x{f:g}", qty=m.qty * f, cost=m.cost * f))
    buffered = {m.item for m in own if m.kind is MitigationKind.BUFFER}
    for site in ("FR-HUB", "UA-PARTNER"):
        for i in sc.items:
            if i.origin == "CN" and i.id not in buffered:
                qty = 2000.0
                extra.append(Mitigation(f"{i.id.lower()}-buffer-{site.lower()}",
                                        MitigationKind.BUFFER, unit[i.id] * qty, site=site,
                                        item=i.id, qty=qty,
                                        holding_cost=round(unit[i.id] * 0.2 / 52, 3)))
    return replace(sc, mitigations=tuple((own + extra)[:n]))


def main() -> None:
    """Run the benchmark and print its table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--futures", type=int, default=200)
    ap.add_argument("--candidates", type=int, default=20)
    ap.add_argument("--budget", type=float, default=600_000.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=max(1, min(os.cpu_count() or 1, 16)))
    ap.add_argument("--marginal", action="store_true",
                    help="also search again with 1,000,000 EUR more")
    ap.add_argument("--quick", action="store_true", help="4 futures, 10 candidates")
    ap.add_argument("--method", type=Search, default=Search.AUTO, choices=list(Search))
    ap.add_argument("--rounds", type=int, default=40, help="Benders rounds at most")
    ap.add_argument("--time-limit", type=float, default=900.0,
                    help="seconds for the exact method at most")
    a = ap.parse_args()
    if a.quick:
        a.futures, a.candidates = 4, 10
    load0 = os.getloadavg()
    sc = with_candidates(load_scenario(EUROPE), a.candidates)
    t0 = time.perf_counter()
    with executor_for(a.workers) as ex:
        d = design(sc, a.budget, a.futures, a.seed, executor=ex,
                   marginal_step=1_000_000.0 if a.marginal else None, search=a.method,
                   rounds=a.rounds, time_limit=a.time_limit)
    wall = time.perf_counter() - t0
    load1 = os.getloadavg()
    replanned = sum(e.result.routes.get("replanned", 0) for e in (d.before, d.after))
    t = Table(title=f"Redundancy design, Europe: {a.futures} futures, "
                    f"{len(sc.mitigations)} candidates, budget {a.budget:,.0f} EUR, "
                    f"{a.workers} workers", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    for k, v in [
        ("method", str(d.method)),
        ("bound", d.bound),
        ("units saved at most (bound)", "none proved" if d.bound_saved is None
         else f"{d.bound_saved:,.1f}"),
        ("design time, s", f"{wall:,.1f}"),
        ("exact method: LP solves, seconds", f"{d.lp_solves}, {d.exact_seconds:,.1f}"),
        ("sets re-planned exactly", str(d.evaluations)),
        ("seconds per set", f"{wall / max(d.evaluations, 1):,.2f}"),
        ("seconds per future of a set", f"{wall / max(d.evaluations * a.futures, 1):,.3f}"),
        ("futures re-planned (not kept or repeated), before / after",
         f"{d.before.result.routes.get('replanned', 0)} / "
         f"{d.after.result.routes.get('replanned', 0)} (of {a.futures}; {replanned})"),
        ("chosen", ", ".join(d.after.chosen) or "nothing"),
        ("cost EUR", f"{d.after.cost:,.0f}"),
        ("units saved, expected", f"{d.saved_expected:,.1f}"),
        ("units saved, worst 5 %", f"{d.saved_worst5:,.1f}"),
        ("marginal +1 M EUR", "not run" if d.marginal_saved is None
         else f"{d.marginal_saved:,.1f} units"),
        ("load average at start", " ".join(f"{x:.2f}" for x in load0)),
        ("load average at end", " ".join(f"{x:.2f}" for x in load1)),
    ]:
        t.add_row(k, v)
    Console().print(t)


if __name__ == "__main__":
    main()
