"""`make bench`: the planner on synthetic networks from 5 to 300 sites, against PuLP.

For each size (see `planner_bench.SIZES`) one process measures fabnet's pipeline
(compile, build_lp, pass to HiGHS, full lexicographic solve, read-back), then, side by
side, HiGHS solving the first level alone, cold, on the same LP and (up to
`--plain-max-cols`) the plain sequential path; another builds the same LP by hand with
PuLP; a third checks, on the smallest size, that the PuLP model is the same LP and
reaches the same optima. Then the Europe example and a 12-site network are planned by
fabnet and by a straightforward scipy linprog model (two levels, cold). Results are
printed as tables, each ratio against its goal, with the machine's load.

    python -m benchmarks.run                 # every size, about 5 minutes on 2 cores
    python -m benchmarks.run --quick         # sizes up to ~20,000 columns
    python -m benchmarks.run --max-cols 200000 --json out/bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from importlib.metadata import version
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from benchmarks.planner_bench import EXAMPLES, SIZES, Size

QUICK_MAX_COLS = 25_000
#: the full lexicographic solve of the largest size alone takes longer than the whole
#: benchmark may (see docs/performance.md); solve sizes up to this by default
SOLVE_MAX_COLS = 500_000
BUILD_GOAL = 20.0  # our build at least this many times faster than PuLP's
OVERHEAD_GOAL = 10.0  # our own time under this % of HiGHS' solve time
#: the whole lexicographic solve within this many times HiGHS' first level alone, cold
FIRST_LEVEL_GOAL = 2.0
#: fabnet's whole plan at least this many times faster than the linprog model
LINPROG_GOAL = 5.0
#: peak memory of the 1M-column plan under this many MiB (3 GB)
MEMORY_GOAL_MIB = 3e9 / 2**20
#: a re-plan of one capacity edit through the kept model under this % of a cold plan
REPLAN_GOAL_PCT = 10.0
#: solve the plain sequential path too, for comparison, up to this many columns
PLAIN_MAX_COLS = 200_000


class BenchError(RuntimeError):
    """A measuring process failed."""


def _measure(progress: Progress, task: Any, label: str, args: list[str]) -> dict[str, Any]:
    """Run one `planner_bench` process, following its stages on the progress bar."""
    cmd = [sys.executable, "-m", "benchmarks.planner_bench", *args]
    err = tempfile.TemporaryFile("w+")  # HiGHS' banner and warnings; shown on failure
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    result: dict[str, Any] | None = None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.startswith("{"):
                continue  # not one of ours
            msg = json.loads(line)
            if "stage" in msg:
                progress.update(task, description=f"{label}: {msg['stage']}")
            elif "result" in msg:
                result = msg["result"]
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        err.seek(0)
        errors = err.read()
        err.close()
    if proc.returncode != 0 or result is None:
        raise BenchError(f"{' '.join(cmd)} failed with exit status {proc.returncode}:\n"
                         + errors[-4000:])
    return result


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    mem_kib = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kib = int(next(ln for ln in f if ln.startswith("MemTotal")).split()[1])
    except (OSError, StopIteration):
        pass
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln for ln in f if ln.startswith("model name")).split(":", 1)[1].strip()
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
            "load_average_at_start": os.getloadavg(),
            "python": platform.python_version(), "platform": platform.platform(),
            **{p: version(p) for p in ("highspy", "numpy", "scipy", "pulp")}}


def _s(x: float | None) -> str:
    """Seconds, to three significant figures."""
    if x is None:
        return "-"
    return f"{x:.3g}" if x < 100 else f"{x:.0f}"


def _opt(row: dict[str, Any], key: str) -> float | None:
    v = row.get(key)
    return float(v) if v is not None else None


def tables(results: list[dict[str, Any]], check: dict[str, Any] | None) -> list[Table]:
    """The result tables: our pipeline, HiGHS levels, the PuLP comparison, the check."""
    ours = Table(title="fabnet planner (seconds; overhead = (build_lp + pass + read-back)"
                 " / HiGHS solve)")
    for col in ("size", "sites", "columns", "rows", "nonzeros", "compile", "build_lp",
                "pass", "HiGHS solve", "read-back", "overhead", "peak MiB", "MiB / M cols"):
        ours.add_column(col, justify="left" if col == "size" else "right")
    speed = Table(title="Whole lexicographic solve against HiGHS' first level alone, cold, "
                  "same LP (seconds; ratio = solve / first level; CPU ratio in brackets)")
    for col in ("size", "columns", "first level", "weighted start", "levels after",
                "solve", "ratio", "plain path", "plain ratio", "same levels", "load"):
        speed.add_column(col, justify="left" if col == "size" else "right")
    levels = Table(title="HiGHS time per lexicographic level (seconds)")
    names: list[str] = []
    for r in results:
        names += [lv["name"] for lv in r.get("levels", []) if lv["name"] not in names]
    for col in ("size", "columns", *names):
        levels.add_column(col, justify="left" if col == "size" else "right")
    base = Table(title="Same LP written by hand with PuLP (cost level; seconds)")
    for col in ("size", "columns", "build_lp", "PuLP build", "PuLP / ours", "pass",
                "PuLP -> HiGHS", "build MiB", "PuLP MiB"):
        base.add_column(col, justify="left" if col == "size" else "right")
    for r in results:
        size = r["size"]
        oh = r.get("overhead_pct")
        ours.add_row(size["name"], str(size["sites"]), f"{r['cols']:,}", f"{r['rows']:,}",
                     f"{r['nnz']:,}", _s(r["compile_s"]), _s(r["build_s"]),
                     _s(_opt(r, "pass_s")), _s(_opt(r, "solve_s")),
                     _s(_opt(r, "readback_s")), "-" if oh is None else f"{oh:.2f} %",
                     str(r["mem_mib"]) if "mem_mib" in r else f"{r['build_mem_mib']} (build)",
                     f"{r['mem_mib_per_mcol']:.0f}" if "mem_mib_per_mcol" in r else "-")
        if "first_level_s" in r:
            after = r["solve_s"] - r["start_s"]
            plain = f"{r['plain_vs_first_level']:.1f}x" if "plain_solve_s" in r else "-"
            speed.add_row(size["name"], f"{r['cols']:,}", _s(r["first_level_s"]),
                          _s(r["start_s"]), _s(after), _s(r["solve_s"]),
                          f"{r['vs_first_level']:.2f}x ({r['cpu_vs_first_level']:.2f}x)",
                          _s(_opt(r, "plain_solve_s")), plain,
                          {True: "yes", False: "NO", None: "-"}[r.get("same_levels")],
                          f"{r['load_at_start']:.1f}-{r['load_at_end']:.1f}")
        if r.get("levels"):
            by = {lv["name"]: lv["seconds"] for lv in r["levels"]}
            levels.add_row(size["name"], f"{r['cols']:,}", *[_s(by.get(n)) for n in names])
        if "pulp_build_s" in r:
            ratio = r["pulp_build_s"] / r["build_s"]
            base.add_row(size["name"], f"{r['cols']:,}", _s(r["build_s"]),
                         _s(r["pulp_build_s"]), f"{ratio:.0f}x", _s(_opt(r, "pass_s")),
                         _s(_opt(r, "pulp_pass_s")), str(r["build_mem_mib"]),
                         str(r.get("pulp_mem_mib", r["pulp_build_mem_mib"])))
    out = [ours, speed, levels, base]
    if check is not None:
        chk = Table(title=f"Baseline check on size {check['size']['name']}: the PuLP model is "
                    "fabnet's LP")
        chk.add_column("what")
        chk.add_column("fabnet", justify="right")
        chk.add_column("PuLP", justify="right")
        chk.add_column("same", justify="center")
        mark = {True: "yes", False: "NO"}
        chk.add_row("columns", f"{check['cols']:,}", f"{check['pulp_cols']:,}",
                    mark[check["cols"] == check["pulp_cols"]])
        chk.add_row("rows (PuLP leaves out free and empty rows)", f"{check['rows']:,}",
                    f"{check['pulp_rows']:,}", mark[check["left_out_rows_free_or_empty"]])
        chk.add_row("nonzeros in the rows both have", "", f"{check['pulp_nnz']:,}",
                    mark[check["same_matrix"]])
        chk.add_row("row and column bounds", "", "",
                    mark[check["same_row_bounds"] and check["same_col_bounds"]])
        chk.add_row("min cost alone, HiGHS (PuLP: HiGHS)", f"{check['cost_ours']:.6f}",
                    f"{check['cost_pulp_highs']:.6f}", "")
        chk.add_row("min cost alone, HiGHS (PuLP: CBC)", f"{check['cost_ours']:.6f}",
                    f"{check['cost_pulp_cbc']:.6f}", "")
        chk.add_row("max units delivered alone", f"{check['delivered_ours']:.6f}",
                    f"{check['delivered_pulp_highs']:.6f}", mark[check["same_optima"]])
        out.append(chk)
    return out


def linprog_table(examples: list[dict[str, Any]]) -> Table:
    """fabnet's whole plan against the straightforward linprog model (two levels, cold)."""
    t = Table(title="fabnet plan (compile, build, every level, read-back) against a "
              "straightforward scipy linprog model solving two levels cold (seconds)")
    for col in ("network", "columns", "rows", "fabnet plan", "linprog", "level 1",
                "level 2", "linprog / fabnet", "CPU ratio", "load"):
        t.add_column(col, justify="left" if col == "network" else "right")
    for r in examples:
        t.add_row(r["size"]["name"], f"{r['cols']:,}", f"{r['rows']:,}", _s(r["plan_s"]),
                  _s(r["linprog_s"]), _s(r["linprog_level1_s"]), _s(r["linprog_level2_s"]),
                  f"{r['linprog_vs_plan']:.2f}x", f"{r['cpu_linprog_vs_plan']:.2f}x",
                  f"{r['load_at_start']:.1f}-{r['load_at_end']:.1f}")
    return t


def linprog_verdicts(examples: list[dict[str, Any]]) -> list[str]:
    """The goal of at least LINPROG_GOAL times faster than the linprog model."""
    lines = []
    for r in examples:
        ok = "met" if r["linprog_vs_plan"] >= LINPROG_GOAL else "NOT met"
        lines.append(f"linprog goal on {r['size']['name']} (fabnet >= {LINPROG_GOAL:.0f}x "
                     f"faster): {ok} - {r['linprog_vs_plan']:.2f}x "
                     f"(CPU {r['cpu_linprog_vs_plan']:.2f}x)")
    return lines


def replan_verdicts(r: dict[str, Any] | None) -> list[str]:
    """The goal of a kept-model re-plan under REPLAN_GOAL_PCT of a cold plan's time."""
    if r is None:
        return []
    ok = "met" if r["replan_pct"] < REPLAN_GOAL_PCT and r["same_levels"] else "NOT met"
    return [f"re-plan goal on {r['size']['name']} ({r['edit']}; kept model < "
            f"{REPLAN_GOAL_PCT:.0f} % of a cold plan, same levels): {ok} - "
            f"{r['replan_s']:.2f} s against {r['cold_s']:.2f} s = {r['replan_pct']:.1f} % "
            f"(CPU {r['cpu_replan_pct']:.1f} %), same levels: "
            f"{'yes' if r['same_levels'] else 'NO'}, model re-used: "
            f"{'yes' if r['reused'] else 'NO'}; load {r['load_at_start']:.1f}-"
            f"{r['load_at_end']:.1f}"]


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    """The issue's two goals, against the figures measured."""
    lines: list[str] = []
    with_base = [r for r in results if "pulp_build_s" in r]
    if with_base:
        big = max(with_base, key=lambda r: r["cols"])
        ratio = big["pulp_build_s"] / big["build_s"]
        ok = "met" if ratio >= BUILD_GOAL else "NOT met"
        lines.append(f"build goal (>= {BUILD_GOAL:.0f}x faster than PuLP): {ok} - "
                     f"{ratio:.0f}x at {big['cols']:,} columns")
    solved = [r for r in results if r.get("overhead_pct") is not None]
    if solved:
        worst = max(solved, key=lambda r: r["overhead_pct"])
        ok = "met" if worst["overhead_pct"] < OVERHEAD_GOAL else "NOT met"
        lines.append(f"overhead goal (< {OVERHEAD_GOAL:.0f} % of HiGHS' solve time): {ok} - "
                     f"worst {worst['overhead_pct']:.2f} % (size {worst['size']['name']}, "
                     f"{worst['cols']:,} columns)")
    timed = [r for r in results if "first_level_s" in r]
    if timed:
        worst = max(timed, key=lambda r: r["vs_first_level"])
        ok = "met" if worst["vs_first_level"] <= FIRST_LEVEL_GOAL else "NOT met"
        lines.append(f"first-level goal (whole solve <= {FIRST_LEVEL_GOAL:.0f}x HiGHS' first "
                     f"level alone, cold): {ok} - worst {worst['vs_first_level']:.2f}x "
                     f"(size {worst['size']['name']}; CPU {worst['cpu_vs_first_level']:.2f}x); "
                     + ", ".join(f"{r['size']['name']} {r['vs_first_level']:.2f}x"
                                 for r in timed))
    large = [r for r in results if "mem_mib" in r and r["cols"] >= 900_000]
    for r in large:
        ok = "met" if r["mem_mib"] < MEMORY_GOAL_MIB else "NOT met"
        lines.append(f"memory goal (1M-column plan < 3 GB): {ok} - {r['mem_mib']:.0f} MiB at "
                     f"{r['cols']:,} columns")
    unsolved = [r["size"]["name"] for r in results if not r.get("solved", True)]
    if unsolved:
        lines.append(f"not solved (over --solve-max-cols): {', '.join(unsolved)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                 description="Planner benchmark on synthetic networks.")
    ap.add_argument("--quick", action="store_true",
                    help=f"smoke run: sizes up to {QUICK_MAX_COLS:,} columns")
    ap.add_argument("--max-cols", type=int, help="leave out sizes with more LP columns")
    ap.add_argument("--solve-max-cols", type=int, default=SOLVE_MAX_COLS,
                    help="run the full lexicographic solve only up to this many columns "
                    f"(default {SOLVE_MAX_COLS:,}; 0 = every size)")
    ap.add_argument("--no-baseline", action="store_true", help="leave out PuLP")
    ap.add_argument("--no-pulp-pass", action="store_true",
                    help="time PuLP's build only, not handing it to HiGHS")
    ap.add_argument("--plain-max-cols", type=int, default=PLAIN_MAX_COLS,
                    help="also solve the plain sequential path up to this many columns "
                    f"(default {PLAIN_MAX_COLS:,}; 0 = never)")
    ap.add_argument("--no-linprog", action="store_true",
                    help="leave out the linprog comparison on the Europe example and the "
                    "12-site network")
    ap.add_argument("--json", metavar="PATH", help="also write every figure to PATH")
    args = ap.parse_args(argv)
    max_cols = args.max_cols if args.max_cols else (QUICK_MAX_COLS if args.quick else None)
    solve_max = args.solve_max_cols or None

    # piped output (make bench | tee) gets the width the tables need
    console = Console(width=None if sys.stdout.isatty() else 150)
    info = machine()
    console.print(f"[bold]fabnet planner benchmark[/] on {info['cores']} cores, "
                  f"{info['memory_gib']} GiB ({info['cpu']}); highspy {info['highspy']}, "
                  f"PuLP {info['pulp']}")
    results: list[dict[str, Any]] = []
    check: dict[str, Any] | None = None
    per_size = 1 if args.no_baseline else 2
    examples: list[dict[str, Any]] = []
    replan: dict[str, Any] | None = None
    n_examples = 0 if args.no_linprog or args.quick else len(EXAMPLES)
    failed = False
    started = time.perf_counter()
    with Progress(SpinnerColumn(), TextColumn("{task.description}", style="cyan"),
                  BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("starting", total=per_size * len(SIZES) + 1 + n_examples)
        try:
            if not args.no_baseline:
                check = _measure(progress, task, f"check ({SIZES[0].name})",
                                 [SIZES[0].name, "check"])
            progress.advance(task)
            for i, size in enumerate(SIZES):
                row = _run_size(progress, task, size, args, max_cols, solve_max)
                if row is None:
                    progress.update(task, completed=per_size * len(SIZES) + 1)
                    break
                results.append(row)
                console.print(f"  {size.name}: {row['cols']:,} columns done "
                              f"({time.perf_counter() - started:.0f} s so far)")
                progress.update(task, completed=1 + per_size * (i + 1))
            for ex in EXAMPLES[:n_examples]:
                examples.append(_measure(progress, task, f"{ex.name}: fabnet and linprog",
                                         [ex.name, "linprog"]))
                progress.advance(task)
            if n_examples:
                replan = _measure(progress, task, "europe: re-plan of a capacity edit",
                                  [EXAMPLES[0].name, "replan"])
        except KeyboardInterrupt:
            console.print("[yellow]interrupted: the sizes done so far[/]")
        except BenchError as exc:
            console.print(f"[red]{exc}[/]", markup=False)
            failed = True
    for t in tables(results, check):
        console.print(t)
    if examples:
        console.print(linprog_table(examples))
    for line in verdicts(results) + linprog_verdicts(examples) + replan_verdicts(replan):
        console.print(line)
    if check is not None and not check["ok"]:
        console.print("[red]the PuLP baseline is not the same LP as fabnet's: its timings "
                      "compare different models[/]")
    console.print(f"total {time.perf_counter() - started:.0f} s; load average "
                  f"{os.getloadavg()[0]:.2f} at the end, {info['load_average_at_start'][0]:.2f} "
                  "at the start (other processes running distort the times)")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"machine": info, "sizes": [asdict(s) for s in SIZES],
                       "results": results, "check": check, "examples": examples,
                       "replan": replan}, f,
                      indent=1)
    return 1 if failed or (check is not None and not check["ok"]) else 0


def _run_size(progress: Progress, task: Any, size: Size, args: argparse.Namespace,
              max_cols: int | None, solve_max: int | None) -> dict[str, Any] | None:
    """Both phases of one size; None when it is over `max_cols`."""
    label = f"{size.name} ({size.sites} sites)"
    cmd = [size.name, "ours"]
    if max_cols:
        cmd += ["--max-cols", str(max_cols)]
    if solve_max:
        cmd += ["--solve-max-cols", str(solve_max)]
    if args.plain_max_cols:
        cmd += ["--plain-max-cols", str(args.plain_max_cols)]
    row = _measure(progress, task, label, cmd)
    if row["skipped"]:
        return None
    progress.advance(task)
    if not args.no_baseline:
        label = f"{size.name} ({row['cols']:,} columns)"
        cmd = [size.name, "pulp"] + (["--no-pass"] if args.no_pulp_pass else [])
        row.update(_measure(progress, task, label, cmd))
    return row


if __name__ == "__main__":
    sys.exit(main())
