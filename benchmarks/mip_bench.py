"""Benchmark of whole-unit plans: MIP time and gap from xs to l (`planner_bench.SIZES`).

Each size's synthetic network (`benchmarks/synthetic.py`) gets order sizes: packs of 10
on every third offer, a minimum order of 25 on every second, batches of 4 on every
fourth work center. It is planned in whole units (`make_whole_unit_plan`) under the
time limit; the table gives the LP's time, the MIP's time, the largest MIP gap, whether
the time limit stopped a level, and what whole units gave up against the LP per level
(units delivered of each class, lateness, cost). The machine's load (1-minute average)
is taken at the start and at the end of each size: other work on the machine slows both.

    python -m benchmarks.mip_bench                      # xs, s, m, l; 60 s per MIP
    python -m benchmarks.mip_bench --sizes xs s --time-limit 10
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.planner_bench import SIZE_BY_NAME
from benchmarks.synthetic import synthetic_scenario
from fabnet.model.network import compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan.whole_units import make_whole_unit_plan

DEFAULT_SIZES = ("xs", "s", "m", "l")


def with_order_sizes(sc: Scenario) -> Scenario:
    """Packs of 10 on every 3rd offer, a moq of 25 on every 2nd, batches of 4 on every
    4th work center (the rest: any whole number)."""
    offers = tuple(replace(o, multiple=10 if i % 3 == 0 else None,
                           moq=25.0 if i % 2 == 0 else None) for i, o in enumerate(sc.offers))
    wcs = tuple(replace(w, batch=4 if i % 4 == 0 else None)
                for i, w in enumerate(sc.work_centers))
    return replace(sc, offers=offers, work_centers=wcs)


def measure(name: str, time_limit: float) -> dict[str, Any]:
    """Plan one size in whole units; its times, gaps and what whole units gave up."""
    size = SIZE_BY_NAME[name]
    load0 = os.getloadavg()[0]
    sc = with_order_sizes(synthetic_scenario(size.sites, size.items, size.suppliers,
                                             size.customers, size.buckets, size.seed))
    net = compile_network(sc)
    t0 = time.perf_counter()
    plan = make_whole_unit_plan(net, time_limit=time_limit)
    wall = time.perf_counter() - t0
    k = plan.kpis
    mip_s = float(k.get("mip_seconds", 0.0))
    diffs = {n[len("whole_minus_lp_"):]: float(v) for n, v in k.items()
             if n.startswith("whole_minus_lp_") and isinstance(v, int | float)}
    return {"size": name, "lp_columns": k["lp_columns"], "mip_columns": k.get("mip_columns"),
            "mip_rows": k.get("mip_rows"), "wall_s": round(wall, 2),
            "lp_s": round(float(k["solve_seconds"]) - mip_s, 2), "mip_s": round(mip_s, 2),
            "mip_gap": k.get("mip_gap"),
            "mip_gap_levels": {n[len("mip_gap_"):]: v for n, v in k.items()
                               if n.startswith("mip_gap_")},
            "time_limit_reached": bool(k.get("mip_time_limit_reached")),
            "time_limit_s": time_limit, "whole_minus_lp": diffs, "status": k["status"],
            "load_start": round(load0, 2), "load_end": round(os.getloadavg()[0], 2)}


def _gap(v: Any) -> str:
    if isinstance(v, str):
        return "unknown" if v.startswith("unknown") else v
    return f"{100 * float(v):.3g} %"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=list(DEFAULT_SIZES),
                    choices=list(SIZE_BY_NAME))
    ap.add_argument("--time-limit", type=float, default=60.0,
                    help="seconds for each size's MIP, all levels together")
    ap.add_argument("--out", type=Path, default=Path("out/bench/mip.json"))
    args = ap.parse_args(argv)
    console = Console(width=max(Console().width, 150))
    rows = []
    for name in args.sizes:
        with console.status(f"whole-unit plan, size {name}…"):
            rows.append(measure(name, args.time_limit))
    t = Table(title=f"Whole-unit plans (MIP time limit {args.time_limit:g} s)")
    for c in ("size", "LP cols", "LP s", "MIP s", "MIP gap", "gap p1", "limit hit",
              "units Δ (p1, p2, p3)", "lateness Δ", "cost Δ", "load start→end"):
        t.add_column(c, justify="left" if c == "size" else "right")
    for r in rows:
        d = r["whole_minus_lp"]
        units = ", ".join(f"{d[k]:+,.1f}" for k in sorted(d) if k.startswith("delivered"))
        t.add_row(r["size"], f"{r['lp_columns']:,}", f"{r['lp_s']:.1f}", f"{r['mip_s']:.1f}",
                  _gap(r["mip_gap"]), _gap(r["mip_gap_levels"].get("delivered_p1", "—")),
                  "yes" if r["time_limit_reached"] else "no", units,
                  f"{d.get('lateness', 0.0):+,.1f}", f"{d.get('cost', 0.0):+,.0f}",
                  f"{r['load_start']:.1f}→{r['load_end']:.1f}")
    console.print(t)
    console.print("Δ: whole-unit value minus the LP optimum of the level. Other work on the "
                  "machine slows both solves: see the load.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"cpus": os.cpu_count(), "sizes": rows}, indent=1))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
