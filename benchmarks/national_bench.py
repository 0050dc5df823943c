"""A national-scale network planned end to end: 500 sites, 52 weekly buckets.

`python -m benchmarks.national_bench` draws the network with `benchmarks.synthetic`
(500 sites, 1,000 items, 600 suppliers, 300 customers by default: feeders, final
assembly sites, backup pairs, a strike, an embargo, a closed lane) and plans it the way
`fabnet plan` does, through `fabnet.plan.make_plan`: compile, build the LP, every
lexicographic level, settle and read back the tables, explain the shortfalls. It prints
the time of each stage, the peak resident memory (see `planner_bench.Memory`) and the
machine's load at the start and the end, and checks them against the goal (the whole
plan under 5 minutes). `--json PATH` also writes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.planner_bench import Memory
from benchmarks.synthetic import synthetic_scenario
from fabnet.model import compile_network
from fabnet.plan import make_plan

#: the whole plan, generation left out, under this many seconds
GOAL_S = 300.0


def measure(sites: int, buckets: int, seed: int = 7) -> dict[str, Any]:
    """Generate, compile and plan one national network; seconds, MiB and loads."""
    out: dict[str, Any] = {"sites": sites, "items": 2 * sites, "suppliers": 6 * sites // 5,
                           "customers": 3 * sites // 5, "buckets": buckets, "seed": seed,
                           "load_at_start": os.getloadavg()[0]}
    t0 = time.perf_counter()
    sc = synthetic_scenario(sites, out["items"], out["suppliers"], out["customers"],
                            buckets, seed)
    out["generate_s"] = time.perf_counter() - t0
    mem = Memory()
    t0, c0 = time.perf_counter(), time.process_time()
    net = compile_network(sc)
    out["compile_s"] = time.perf_counter() - t0
    plan = make_plan(net)
    out["plan_s"] = time.perf_counter() - t0
    out["cpu_plan_s"] = time.process_time() - c0
    out["peak_mib"] = mem.peak_mib()
    k = plan.kpis
    for name in ("build_seconds", "solve_seconds", "readback_seconds", "lp_columns",
                 "lp_rows", "units_demanded", "units_delivered", "fill_rate", "cost_total"):
        out[name] = k.get(name)
    out["status"] = str(plan.status)
    out["levels"] = plan.levels
    out["peak_mib_per_mcol"] = out["peak_mib"] / (float(k["lp_columns"]) / 1e6)
    out["load_at_end"] = os.getloadavg()[0]
    out["goal_met"] = out["plan_s"] < GOAL_S and plan.status.solved
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.national_bench",
                                 description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sites", type=int, default=500)
    ap.add_argument("--buckets", type=int, default=52)
    ap.add_argument("--json", metavar="PATH", help="also write every figure to PATH")
    args = ap.parse_args(argv)
    r = measure(args.sites, args.buckets)
    print(f"national network: {r['sites']} sites, {r['items']} items, {r['suppliers']} "
          f"suppliers, {r['customers']} customers, {r['buckets']} weekly buckets; LP "
          f"{r['lp_columns']:,} columns x {r['lp_rows']:,} rows")
    print(f"  generate {r['generate_s']:.1f} s (not timed in the goal); compile "
          f"{r['compile_s']:.2f} s, build {r['build_seconds']:.2f} s, solve "
          f"{r['solve_seconds']:.1f} s, read-back {r['readback_seconds']:.2f} s")
    print(f"  whole plan {r['plan_s']:.1f} s ({r['cpu_plan_s']:.1f} CPU s), status "
          f"{r['status']}, fill rate {r['fill_rate']}")
    print(f"  peak memory {r['peak_mib']:.0f} MiB ({r['peak_mib_per_mcol']:.0f} MiB per "
          "million columns)")
    ok = "met" if r["goal_met"] else "NOT met"
    print(f"goal (whole plan under {GOAL_S / 60:.0f} minutes): {ok} - {r['plan_s']:.1f} s; "
          f"load average {r['load_at_start']:.2f} at the start, {r['load_at_end']:.2f} at "
          "the end (other processes running distort the times)")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(r, indent=1))
    return 0 if r["status"] == "optimal" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
