"""`make bench`: the planner on synthetic networks from 5 to 300 sites, against PuLP.

For each size (see `planner_bench.SIZES`) one process measures fabnet's pipeline
(compile, build_lp, pass to HiGHS, full lexicographic solve, read-back) and another the
same LP written by hand with PuLP; a third checks, on the smallest size, that the PuLP
model is the same LP and reaches the same optima. Results are printed as tables.

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

from benchmarks.planner_bench import SIZES, Size

QUICK_MAX_COLS = 25_000
#: the full lexicographic solve of the largest size alone takes longer than the whole
#: benchmark may (see docs/performance.md); solve sizes up to this by default
SOLVE_MAX_COLS = 500_000
BUILD_GOAL = 20.0  # our build at least this many times faster than PuLP's
OVERHEAD_GOAL = 10.0  # our own time under this % of HiGHS' solve time


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
                "pass", "HiGHS solve", "read-back", "overhead", "peak MiB"):
        ours.add_column(col, justify="left" if col == "size" else "right")
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
                     str(r["mem_mib"]) if "mem_mib" in r else f"{r['build_mem_mib']} (build)")
        if r.get("levels"):
            by = {lv["name"]: lv["seconds"] for lv in r["levels"]}
            levels.add_row(size["name"], f"{r['cols']:,}", *[_s(by.get(n)) for n in names])
        if "pulp_build_s" in r:
            ratio = r["pulp_build_s"] / r["build_s"]
            base.add_row(size["name"], f"{r['cols']:,}", _s(r["build_s"]),
                         _s(r["pulp_build_s"]), f"{ratio:.0f}x", _s(_opt(r, "pass_s")),
                         _s(_opt(r, "pulp_pass_s")), str(r["build_mem_mib"]),
                         str(r.get("pulp_mem_mib", r["pulp_build_mem_mib"])))
    out = [ours, levels, base]
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
    failed = False
    started = time.perf_counter()
    with Progress(SpinnerColumn(), TextColumn("{task.description}", style="cyan"),
                  BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("starting", total=per_size * len(SIZES) + 1)
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
        except KeyboardInterrupt:
            console.print("[yellow]interrupted: the sizes done so far[/]")
        except BenchError as exc:
            console.print(f"[red]{exc}[/]", markup=False)
            failed = True
    for t in tables(results, check):
        console.print(t)
    for line in verdicts(results):
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
                       "results": results, "check": check}, f, indent=1)
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
