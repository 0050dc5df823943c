"""Measure one benchmark size in one phase, in its own process.

`python -m benchmarks.planner_bench SIZE PHASE` prints one JSON object per line on
stdout: `{"stage": ...}` as it goes and `{"result": {...}}` at the end. `run.py` starts
one process per size and phase so that every peak-memory figure starts from a fresh
interpreter. Phases:

- `ours`: compile_network, build_lp, pass to HiGHS, the full lexicographic solve (the
  default, weighted path) and the read-back (extract_tables + demand_outcome); then,
  side by side in the same process, HiGHS solving the first level alone, cold, on the
  same LP (the yardstick of the planner's speed) and, with `--plain`, the plain
  sequential path; `--solve-max-cols` leaves the solves out above a size.
- `linprog`: the same network as a straightforward scipy `linprog` model, two levels
  solved cold (`benchmarks/baseline_linprog.py`).
- `replan`: one capacity edited, re-planned through the kept model against a cold plan.
- `pulp`: the same LP written by hand with PuLP (cost level), then handed to HiGHS
  through PuLP's highspy interface (`--no-pass` leaves that out).
- `check`: on a small size, the PuLP LP and ours compared entry by entry and solved
  for one level each (cost, and units delivered) with HiGHS through both, and with CBC.

Peak memory is the process's peak resident set size (VmHWM in /proc/self/status) above
its resident size when the phase began; the peak is reset through /proc/self/clear_refs
first, so tracemalloc's slowdown is avoided and memory held by HiGHS (C++) is counted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.synthetic import synthetic_scenario
from fabnet.model import Scenario, compile_network
from fabnet.model.network import Network
from fabnet.plan.lp import PlanningLP, build_lp


@dataclass(frozen=True)
class Size:
    """One benchmark size: the arguments of `synthetic_scenario`."""

    name: str
    sites: int
    items: int
    suppliers: int
    customers: int
    buckets: int
    seed: int = 7
    #: a scenario file instead of a synthetic network (the sizes above are then its own)
    path: str | None = None

    def scenario(self) -> Scenario:
        """The synthetic scenario of this size (or the scenario file it names)."""
        if self.path is not None:
            from fabnet.io.scenario_io import load_scenario

            return load_scenario(Path(__file__).resolve().parents[1] / self.path)
        return synthetic_scenario(self.sites, self.items, self.suppliers, self.customers,
                                  self.buckets, self.seed)


#: from 5 to 300 sites; weekly buckets, one to two years
SIZES: tuple[Size, ...] = (
    Size("xs", 5, 40, 10, 4, 26),
    Size("s", 10, 60, 20, 8, 32),
    Size("m", 40, 160, 60, 25, 52),
    Size("l", 100, 300, 150, 60, 52),
    Size("xl", 200, 500, 300, 120, 78),
    Size("xxl", 300, 700, 450, 180, 104),
)
#: the two networks the straightforward linprog model is measured on: the Europe example
#: and a 12-site, 52-week synthetic network of about 125,000 columns
EXAMPLES: tuple[Size, ...] = (
    Size("europe", 0, 0, 0, 0, 0, path="examples/europe/scenario.yaml"),
    Size("site12", 12, 80, 25, 290, 52),
)
SIZE_BY_NAME = {s.name: s for s in SIZES + EXAMPLES}


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Memory:
    """Peak resident memory of a phase, from /proc (Linux) or getrusage elsewhere."""

    def __init__(self) -> None:
        gc.collect()
        self.exact = True
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current resident size
            self.start = _status_kib("VmRSS")
        except OSError:
            import resource

            self.exact = False
            self.start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def peak_mib(self) -> float:
        """Peak resident size above the start of the phase, in MiB."""
        if self.exact:
            peak = _status_kib("VmHWM")
        else:
            import resource

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return round(max(peak - self.start, 0) / 1024, 1)


Emit = Callable[[dict[str, Any]], None]
_events = sys.stdout


def _emit(obj: dict[str, Any]) -> None:
    print(json.dumps(obj), file=_events, flush=True)


def _keep_stdout_for_events() -> None:
    """Send everything else written to standard output (HiGHS' banner, CBC) to stderr."""
    global _events
    sys.stdout.flush()
    _events = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)


@contextmanager
def _stage(emit: Emit, name: str, into: dict[str, Any], key: str) -> Iterator[None]:
    emit({"stage": name})
    t0, c0 = time.perf_counter(), time.process_time()
    yield
    into[key] = time.perf_counter() - t0
    into["cpu_" + key] = time.process_time() - c0


def lp_shape(lp: PlanningLP) -> dict[str, int]:
    """Columns, rows and nonzeros of an LP."""
    return {"cols": lp.num_cols, "rows": lp.num_rows, "nnz": int(lp.matrix.nnz)}


def first_level_alone(lp: PlanningLP) -> dict[str, Any]:
    """HiGHS solving the LP's first level alone, cold (presolve, dual simplex), on a model
    of its own: the time the whole lexicographic plan is measured against."""
    import highspy

    from fabnet.plan.solve import LexicographicSolver, SolvePath

    solver = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL)
    name, c, maximize = solver.objectives()[0]
    h = solver.highs
    h.changeColsCost(lp.num_cols, np.arange(lp.num_cols, dtype=np.int32), c.astype(float))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximize
                           else highspy.ObjSense.kMinimize)
    h.setOptionValue("simplex_strategy", 1)
    t0, c0 = time.perf_counter(), time.process_time()
    h.run()
    out = {"first_level": name, "first_level_s": time.perf_counter() - t0,
           "cpu_first_level_s": time.process_time() - c0,
           "first_level_objective": float(h.getInfo().objective_function_value),
           "first_level_iterations": int(h.getInfo().simplex_iteration_count)}
    del solver, h
    gc.collect()
    return out


def _solve_figures(result: Any, prefix: str = "") -> dict[str, Any]:
    return {prefix + "solve_s": result.solve_seconds, prefix + "status": str(result.status),
            prefix + "path": str(result.path), prefix + "start_s": result.start_seconds,
            prefix + "start_iterations": result.start_iterations,
            prefix + "start_held": result.start_held, prefix + "start_rounds": result.start_rounds,
            prefix + "levels": [{"name": lv.name, "seconds": lv.seconds,
                                 "objective": lv.objective, "iterations": it}
                                for lv, it in zip(result.levels, result.level_iterations,
                                                  strict=False)]}


def measure_ours(size: Size, emit: Emit = _emit, max_cols: int | None = None,
                 solve_max_cols: int | None = None, plain: bool = False,
                 plain_max_cols: int | None = None) -> dict[str, Any]:
    """Times and peak memory of fabnet's own pipeline on one size.

    Stops after build_lp when the LP has more than `max_cols` columns (`skipped`) or more
    than `solve_max_cols` (no solve, no read-back). After the read-back, HiGHS solves the
    first level alone, cold, and with `plain` the plain sequential path solves every
    level (also when the LP has at most `plain_max_cols` columns), both on the same LP,
    so every ratio is measured side by side.
    """
    from fabnet.plan.plan import demand_outcome, extract_tables
    from fabnet.plan.solve import LexicographicSolver, SolvePath

    out: dict[str, Any] = {"size": asdict(size), "load_at_start": os.getloadavg()[0]}
    emit({"stage": "generate"})
    sc = size.scenario()
    mem = Memory()
    with _stage(emit, "compile_network", out, "compile_s"):
        net = compile_network(sc)
    with _stage(emit, "build_lp", out, "build_s"):
        lp = build_lp(net)
    out.update(lp_shape(lp))
    out["build_mem_mib"] = mem.peak_mib()
    out["skipped"] = max_cols is not None and lp.num_cols > max_cols
    out["solved"] = not out["skipped"] and (solve_max_cols is None
                                            or lp.num_cols <= solve_max_cols)
    if not out["solved"]:
        return out
    emit({"stage": "HiGHS solve"})
    c0 = time.process_time()
    solver = LexicographicSolver(lp)
    result = solver.solve()
    out["cpu_pass_solve_s"] = time.process_time() - c0
    out["pass_s"] = result.pass_seconds
    out["perturbed_start"] = solver.perturbed_start  # False: no model is kept here
    out.update(_solve_figures(result))
    with _stage(emit, "read-back", out, "readback_s"):
        extract_tables(net, lp, result.x)
        demand_outcome(net, lp, result.x)
    out["mem_mib"] = mem.peak_mib()
    out["mem_mib_per_mcol"] = out["mem_mib"] / (lp.num_cols / 1e6)
    own = out["build_s"] + out["pass_s"] + out["readback_s"]
    out["overhead_pct"] = 100.0 * own / out["solve_s"] if out["solve_s"] > 0 else None
    out["mem_exact"] = mem.exact
    levels = {lv.name: lv.objective for lv in result.levels}
    del solver, result
    gc.collect()
    emit({"stage": "first level alone, cold"})
    out.update(first_level_alone(lp))
    out["vs_first_level"] = out["solve_s"] / max(out["first_level_s"], 1e-9)
    out["cpu_vs_first_level"] = out["cpu_pass_solve_s"] / max(out["cpu_first_level_s"], 1e-9)
    if plain or (plain_max_cols is not None and lp.num_cols <= plain_max_cols):
        emit({"stage": "plain sequential path"})
        c0 = time.process_time()
        plain_result = LexicographicSolver(lp, path=SolvePath.SEQUENTIAL).solve()
        out["cpu_plain_solve_s"] = time.process_time() - c0
        out.update(_solve_figures(plain_result, "plain_"))
        out["plain_vs_first_level"] = out["plain_solve_s"] / max(out["first_level_s"], 1e-9)
        # the same optimum on both paths, level by level, to the holds' slack
        out["same_levels"] = all(
            abs(lv.objective - levels.get(lv.name, np.nan))
            <= 1e-6 * max(1.0, abs(lv.objective)) for lv in plain_result.levels)
    out["load_at_end"] = os.getloadavg()[0]
    return out


def _phases(kpis: dict[str, Any]) -> dict[str, float]:
    """A plan's wall seconds by phase: LP build, solve (every level), read-back."""
    return {k: float(kpis[f"{k}_seconds"]) for k in ("build", "solve", "readback")}


def measure_replan(size: Size, emit: Emit = _emit, factor: float = 0.8) -> dict[str, Any]:
    """A re-plan after one capacity edit (the first work center's hours × `factor`),
    through a kept model (`plan.kept`), against a cold plan of the edited network: a
    stored scenario's first plan (a new kept model, perturbed start), and a plan with no
    model kept (`cold_plain_*`: unperturbed start)."""
    import dataclasses

    from fabnet.plan import make_plan
    from fabnet.plan.kept import KEPT

    out: dict[str, Any] = {"size": asdict(size), "load_at_start": os.getloadavg()[0]}
    sc = size.scenario()
    first, *rest = sc.work_centers
    edited = dataclasses.replace(sc, work_centers=(dataclasses.replace(
        first, hours=first.hours * factor), *rest))
    out["edit"] = f"{first.site} {first.type} hours x {factor}"
    key = ("bench", size.name)
    emit({"stage": "first plan, kept"})
    t0 = time.perf_counter()
    make_plan(compile_network(sc), keep=key)
    out["first_plan_s"] = time.perf_counter() - t0
    emit({"stage": "re-plan of the edit, kept model"})
    t0, c0 = time.perf_counter(), time.process_time()
    warm = make_plan(compile_network(edited), keep=key)
    out["replan_s"], out["cpu_replan_s"] = time.perf_counter() - t0, time.process_time() - c0
    out["reused"] = KEPT.reused == 1
    out["lp_copied"] = KEPT.patched == 1  # the kept LP with new bounds, not a build
    out["replan_pivots"] = KEPT.last_pivots
    out["replan_phases_s"] = _phases(warm.kpis)
    emit({"stage": "cold plan of the edit"})
    t0, c0 = time.perf_counter(), time.process_time()
    cold = make_plan(compile_network(edited), keep=("bench cold", size.name))
    out["cold_s"], out["cpu_cold_s"] = time.perf_counter() - t0, time.process_time() - c0
    out["cold_pivots"] = KEPT.last_pivots
    out["cold_phases_s"] = _phases(cold.kpis)
    KEPT.forget(("bench cold", size.name))
    emit({"stage": "cold plan of the edit, no model kept"})
    t0, c0 = time.perf_counter(), time.process_time()
    plain = make_plan(compile_network(edited))
    out["cold_plain_s"] = time.perf_counter() - t0
    out["cpu_cold_plain_s"] = time.process_time() - c0
    out["replan_pct"] = 100.0 * out["replan_s"] / out["cold_s"]
    out["cpu_replan_pct"] = 100.0 * out["cpu_replan_s"] / out["cpu_cold_s"]
    out["replan_pct_plain"] = 100.0 * out["replan_s"] / out["cold_plain_s"]
    out["cpu_replan_pct_plain"] = 100.0 * out["cpu_replan_s"] / out["cpu_cold_plain_s"]
    out["same_levels"] = warm.levels.keys() == cold.levels.keys() and all(
        abs(v - cold.levels[k]) <= 1e-6 * max(1.0, abs(v)) for k, v in warm.levels.items())
    out["same_levels_plain"] = warm.levels.keys() == plain.levels.keys() and all(
        abs(v - plain.levels[k]) <= 1e-6 * max(1.0, abs(v)) for k, v in warm.levels.items())
    out["levels"] = warm.levels
    out["load_at_end"] = os.getloadavg()[0]
    return out


def measure_linprog(size: Size, emit: Emit = _emit) -> dict[str, Any]:
    """The straightforward linprog model of one network, two levels cold, against
    fabnet's whole `make_plan` (compile, build, every level, read-back) of the same."""
    from benchmarks.baseline_linprog import solve_two_levels
    from fabnet.plan import make_plan

    out: dict[str, Any] = {"size": asdict(size), "load_at_start": os.getloadavg()[0]}
    emit({"stage": "generate"})
    sc = size.scenario()
    emit({"stage": "fabnet make_plan"})
    t0, c0 = time.perf_counter(), time.process_time()
    plan = make_plan(compile_network(sc))
    out["plan_s"] = time.perf_counter() - t0
    out["cpu_plan_s"] = time.process_time() - c0
    out["plan_status"] = str(plan.status)
    out["cols"], out["rows"] = plan.kpis["lp_columns"], plan.kpis["lp_rows"]
    out["plan_delivered"] = float(plan.kpis["units_delivered"])
    out["plan_cost"] = float(plan.kpis["cost_total"])
    emit({"stage": "linprog, two levels cold"})
    out.update(solve_two_levels(compile_network(sc)))
    out["linprog_vs_plan"] = out["linprog_s"] / max(out["plan_s"], 1e-9)
    out["cpu_linprog_vs_plan"] = out["cpu_linprog_s"] / max(out["cpu_plan_s"], 1e-9)
    out["load_at_end"] = os.getloadavg()[0]
    return out


def measure_pulp(size: Size, emit: Emit = _emit, hand_over: bool = True) -> dict[str, Any]:
    """Times and peak memory of the hand-written PuLP baseline on one size."""
    from benchmarks.baseline_pulp import build_pulp, pass_to_highs

    out: dict[str, Any] = {"size": asdict(size)}
    emit({"stage": "generate"})
    net = compile_network(size.scenario())
    mem = Memory()
    with _stage(emit, "PuLP build", out, "pulp_build_s"):
        model = build_pulp(net)
    out["pulp_build_mem_mib"] = mem.peak_mib()
    out["pulp_cols"] = len(model.variables)
    out["pulp_rows"] = len(model.problem.constraints)
    if hand_over:
        with _stage(emit, "PuLP -> HiGHS", out, "pulp_pass_s"):
            pass_to_highs(model)
        out["pulp_mem_mib"] = mem.peak_mib()
    return out


def _row_index(lp: PlanningLP) -> dict[tuple[str, int, int], int]:
    return {(family, e, t): int(b.at(e, t)) for family, b in lp.rows.items()
            for e in range(b.count) for t in range(b.per)}


def _our_single_level(lp: PlanningLP, c: np.ndarray, maximize: bool) -> float:
    """Our LP solved for one objective only, on the model fabnet passes to HiGHS."""
    import highspy

    from fabnet.plan.solve import LexicographicSolver

    h = LexicographicSolver(lp).highs
    h.changeColsCost(lp.num_cols, np.arange(lp.num_cols, dtype=np.int32), c.astype(float))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize if maximize
                           else highspy.ObjSense.kMinimize)
    h.run()
    return float(h.getInfo().objective_function_value)


def check_baseline(size: Size, emit: Emit = _emit) -> dict[str, Any]:
    """Check that the PuLP baseline is the same LP as ours, and solves to the same optima."""
    import pulp  # type: ignore[import-untyped, unused-ignore]

    from benchmarks.baseline_pulp import build_pulp, to_arrays

    emit({"stage": "check: build both"})
    net: Network = compile_network(size.scenario())
    lp = build_lp(net)
    model = build_pulp(net, "cost")
    mat, lower, upper, rows = to_arrays(model, _row_index(lp), lp.num_cols)
    ours = lp.matrix.tocsr()
    left_out = np.setdiff1d(np.arange(lp.num_rows), rows)
    free_or_empty = (np.diff(ours.indptr)[left_out] == 0) | \
        (np.isinf(lp.row_lower[left_out]) & np.isinf(lp.row_upper[left_out]))
    col_upper = np.array([np.inf if x.upBound is None else float(x.upBound)
                          for x in model.variables])
    col_lower = np.array([float(x.lowBound) for x in model.variables])
    out: dict[str, Any] = {
        "size": asdict(size), **lp_shape(lp),
        "pulp_cols": len(model.variables), "pulp_rows": len(rows), "pulp_nnz": int(mat.nnz),
        "same_matrix": bool(len(model.variables) == lp.num_cols
                            and (ours[rows] != mat).nnz == 0),
        "same_row_bounds": bool(np.array_equal(lower, lp.row_lower[rows])
                                and np.array_equal(upper, lp.row_upper[rows])),
        "same_col_bounds": bool(np.array_equal(col_upper, lp.col_upper)
                                and np.array_equal(col_lower, lp.col_lower)),
        "left_out_rows_free_or_empty": bool(free_or_empty.all()),
        "left_out_rows": int(left_out.size),
    }
    emit({"stage": "check: solve cost level"})
    pulp.HiGHS(msg=False).solve(model.problem)
    out["cost_pulp_highs"] = float(pulp.value(model.problem.objective))
    model.problem.solve(pulp.PULP_CBC_CMD(msg=False))
    out["cost_pulp_cbc"] = float(pulp.value(model.problem.objective))
    out["cost_ours"] = _our_single_level(lp, lp.cost, maximize=False)
    emit({"stage": "check: solve delivered level"})
    model = build_pulp(net, "delivered")
    pulp.HiGHS(msg=False).solve(model.problem)
    out["delivered_pulp_highs"] = float(pulp.value(model.problem.objective))
    out["delivered_ours"] = _our_single_level(lp, lp.delivered, maximize=True)

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))

    out["same_optima"] = (close(out["cost_ours"], out["cost_pulp_highs"])
                          and close(out["cost_ours"], out["cost_pulp_cbc"])
                          and close(out["delivered_ours"], out["delivered_pulp_highs"]))
    out["ok"] = all(out[k] for k in ("same_matrix", "same_row_bounds", "same_col_bounds",
                                     "left_out_rows_free_or_empty", "same_optima"))
    return out


def main(argv: list[str] | None = None) -> None:
    """Command line of one measurement (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("size", choices=sorted(SIZE_BY_NAME))
    ap.add_argument("phase", choices=("ours", "pulp", "check", "linprog", "replan"))
    ap.add_argument("--max-cols", type=int, help="ours: skip a size with more columns")
    ap.add_argument("--solve-max-cols", type=int, help="ours: solve only up to this many")
    ap.add_argument("--no-pass", action="store_true", help="pulp: don't hand it to HiGHS")
    ap.add_argument("--plain", action="store_true",
                    help="ours: also solve every level on the plain sequential path")
    ap.add_argument("--plain-max-cols", type=int,
                    help="ours: the plain sequential path too, up to this many columns")
    args = ap.parse_args(argv)
    _keep_stdout_for_events()
    size = SIZE_BY_NAME[args.size]
    if args.phase == "ours":
        result = measure_ours(size, max_cols=args.max_cols, solve_max_cols=args.solve_max_cols,
                              plain=args.plain, plain_max_cols=args.plain_max_cols)
    elif args.phase == "linprog":
        result = measure_linprog(size)
    elif args.phase == "replan":
        result = measure_replan(size)
    elif args.phase == "pulp":
        result = measure_pulp(size, hand_over=not args.no_pass)
    else:
        result = check_baseline(size)
    _emit({"result": result})


if __name__ == "__main__":
    main(sys.argv[1:])
