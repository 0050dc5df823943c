"""Benchmark of the Monte Carlo stress test against the same model written with SimPy.

The benchmark scenario is one a discrete-event simulation answers exactly, so both
sides must give the same fill rate in every sampled future:

- one product, no bill of materials, made at three sites (two in UA, one in PL), each
  with one work center of a fixed number of hours per week, one hour per unit;
- every site has a lane with transit 0 and no capacity limit to one customer (in a
  country no risk touches); an order of the customer is due every week, priority 1;
- risks strike sites (capacity 0 or 0.5) and a country (capacity 0.5).

Units made in a week can wait at their site, and late deliveries count until the end of
the horizon, so the most units the LP can deliver is min(opening stock + everything the
disrupted work centers can make, total demand): a simulation in which each site puts its
week's (disrupted) output into a shared stock and the customer takes its backlog from it
every week, in due order, reaches exactly that, and nothing can do better.

Both sides draw the same futures: `sample_future(sc, default_rng(stream), n)` with the
streams of `SeedSequence(seed).spawn(N)`, as `stress_test` does. The SimPy side turns
those `Disruption` records into per-week capacity factors with its own code.

Also timed: the stress test of the Europe example (examples/europe/scenario.yaml) on a
local pool of two processes, how each future's numbers were found (re-planned, kept the
base plan, repeated an earlier future), a few futures level by level with the combined
start and without it, and (`--dask`) the same futures on a Dask `LocalCluster` of one
and of two worker processes.

    python -m benchmarks.montecarlo_bench           # 200 futures + 1,000 Europe futures
    python -m benchmarks.montecarlo_bench --quick   # 20 + 10
    python -m benchmarks.montecarlo_bench --europe 100 --dask   # 100, and on Dask

Needs simpy and dask.distributed (development dependencies).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import simpy
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from fabnet.batch import Executor
from fabnet.batch.cluster import DaskCluster
from fabnet.io.scenario_io import load_scenario
from fabnet.model import (
    BucketKind,
    Customer,
    Demand,
    Disruption,
    DurationDist,
    Horizon,
    InventoryRecord,
    Item,
    ItemKind,
    Lane,
    Risk,
    RoutingStep,
    Scenario,
    Site,
    WorkCenter,
)
from fabnet.model.network import FloatArray, compile_network
from fabnet.plan.lp import build_lp
from fabnet.resilience.montecarlo import StressResult, sample_future, stress_test

SEED = 2027
SAMPLES, QUICK_SAMPLES = 200, 20
EUROPE_SAMPLES, QUICK_EUROPE_SAMPLES = 1000, 10
EUROPE_DETAIL = 8  # Europe futures timed level by level
WORKERS = (1, 2)
TOL = 1e-6
EUROPE = Path(__file__).resolve().parents[1] / "examples" / "europe" / "scenario.yaml"

START = date(2027, 1, 4)
WEEKS = 52
PRODUCT = "FPV-7"
CUSTOMER = "C-BRIGADE"
HOURS_PER_UNIT = 1.0
#: site, country, work-center hours per week
SITES = (("UA-LINE-A", "UA", 120.0), ("UA-LINE-B", "UA", 100.0), ("PL-PLANT", "PL", 90.0))
OPENING = {"PL-PLANT": 200.0}
#: orders ramp from 250 to 320 a week: about 1,300 units less than the intact capacity
DEMAND_FIRST, DEMAND_LAST = 250.0, 320.0

console = Console()
if not console.is_terminal:  # piped into a file: wide enough for the tables
    console = Console(width=120)


def benchmark_scenario() -> Scenario:
    """The scenario of the module docstring, built from fabnet's model records."""
    horizon = Horizon(START, BucketKind.WEEK, WEEKS)
    sites = tuple(Site(s, c, s, (PRODUCT,)) for s, c, _ in SITES)
    wcs = tuple(WorkCenter(s, "assembly", hours) for s, _, hours in SITES)
    lanes = tuple(Lane(s, CUSTOMER, 0) for s, _, _ in SITES)
    qty = np.linspace(DEMAND_FIRST, DEMAND_LAST, WEEKS)
    demand = tuple(Demand(f"D{t + 1:02d}", CUSTOMER, PRODUCT, round(float(qty[t]), 2),
                          START + timedelta(weeks=t)) for t in range(WEEKS))
    risks = (
        Risk("strike-line-a", "UA-LINE-A", 0.04, 1, DurationDist.UNIFORM, 6, 0.0),
        Risk("strike-line-b", "UA-LINE-B", 0.03, 4, DurationDist.GEOMETRIC, None, 0.5),
        Risk("grid-ua", "country:UA", 0.01, 3, DurationDist.FIXED, None, 0.5),
        Risk("fire-pl", "PL-PLANT", 0.01, 4, DurationDist.FIXED, None, 0.0),
    )
    return Scenario(
        name="Monte Carlo benchmark: three lines, one product", horizon=horizon,
        items=(Item(PRODUCT, "FPV drone", ItemKind.PRODUCT),),
        routings=(RoutingStep(PRODUCT, "assembly", HOURS_PER_UNIT),),
        sites=sites, work_centers=wcs,
        customers=(Customer(CUSTOMER, "DE", CUSTOMER, True),), lanes=lanes,
        inventory=tuple(InventoryRecord(s, PRODUCT, q) for s, q in OPENING.items()),
        demand=demand, risks=risks,
    )


# --- the SimPy side: what a user would write, sharing only the sampled futures ---------

def units_per_week(sc: Scenario, future: tuple[Disruption, ...]) -> FloatArray:
    """Units each site can make each week under `future` (sites × weeks)."""
    h = sc.horizon
    hours = {wc.site: wc.hours for wc in sc.work_centers}
    per_unit = {r.item: r.hours for r in sc.routings}[PRODUCT]
    out = np.array([[hours[s.id] / per_unit] * h.buckets for s in sc.sites])
    for d in future:
        first = h.bucket_of(d.start)
        lo, hi = max(first, 0), min(first + d.buckets, h.buckets)
        for k, s in enumerate(sc.sites):
            if d.target in (s.id, f"country:{s.country}"):
                out[k, lo:hi] *= d.capacity
    return out


def simulate(units: FloatArray, orders: FloatArray, opening: float) -> float:
    """Units delivered: each line puts its weekly output into one shared stock; the
    customer adds each week's order to its backlog and takes what the stock holds."""
    env = simpy.Environment()
    stock = simpy.Container(env, init=opening)
    delivered = [0.0]
    weeks = orders.size

    def line(k: int) -> simpy.events.ProcessGenerator:
        for t in range(weeks):
            if units[k, t] > 0:
                yield stock.put(float(units[k, t]))
            yield env.timeout(1)

    def customer() -> simpy.events.ProcessGenerator:
        backlog = 0.0
        yield env.timeout(0.5)  # mid-week: after the week's output
        for t in range(weeks):
            backlog += float(orders[t])
            take = min(backlog, stock.level)
            if take > 0:
                yield stock.get(take)
                backlog -= take
                delivered[0] += take
            yield env.timeout(1)

    for k in range(units.shape[0]):
        env.process(line(k))
    env.process(customer())
    env.run()
    return delivered[0]


def simpy_stress(sc: Scenario, samples: int, seed: int, advance: Callable[[], None]
                 ) -> tuple[FloatArray, FloatArray, list[int]]:
    """Fill rate per future from the SimPy model and from the closed form, and events."""
    h = sc.horizon
    orders = np.zeros(h.buckets)
    for d in sc.demand:
        orders[h.bucket_of(d.due)] += d.qty
    opening = sum(r.qty for r in sc.inventory)
    total = float(orders.sum())
    fill, closed, events = np.zeros(samples), np.zeros(samples), []
    streams = np.random.SeedSequence(seed).spawn(samples)
    for n, stream in enumerate(streams):
        future = sample_future(sc, np.random.default_rng(stream), n)
        units = units_per_week(sc, future)
        fill[n] = simulate(units, orders, opening) / total
        closed[n] = min(opening + float(units.sum()), total) / total
        events.append(len(future))
        advance()
    return fill, closed, events


# --- timing -------------------------------------------------------------------------------

def _progress() -> Progress:
    """A progress bar that shows done/total, elapsed and remaining time."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console)


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _ours(sc: Scenario, samples: int, workers: int, label: str,
          executor: Executor | None = None) -> tuple[float, float, StressResult]:
    """Wall seconds, CPU seconds (this machine's processes) and result of one stress test."""
    with _progress() as prog:
        task = prog.add_task(label, total=samples)
        c, t = _cpu(), time.perf_counter()
        res = stress_test(sc, samples, SEED, workers=workers, executor=executor,
                          progress=lambda k: prog.advance(task, k))
        return time.perf_counter() - t, _cpu() - c, res


def main(quick: bool = False, europe_samples: int | None = None, dask: bool = False,
         toy: int | None = None, linprog: bool = False, detail: int = EUROPE_DETAIL) -> None:
    """Run the benchmark and print its tables (module docstring); 0 futures skip a part."""
    n = toy if toy is not None else (QUICK_SAMPLES if quick else SAMPLES)
    n_eu = europe_samples if europe_samples is not None else \
        (QUICK_EUROPE_SAMPLES if quick else EUROPE_SAMPLES)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    console.rule(f"[bold]Monte Carlo benchmark{' (--quick)' if quick else ''}: "
                 f"{os.cpu_count()} CPUs, load average {load}, seed {SEED}")
    if n:
        toy_model(n)
    if n_eu:
        europe(n_eu, dask, linprog, detail)
    console.print("load average at the end (1, 5, 15 min; other processes count): "
                  + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


def own_columns(sc: Scenario) -> int:
    """Columns of the workers' own model of the delivery levels: the LP's, less those
    closed in every future and the deliveries a later one dominates at those levels."""
    from fabnet.resilience.montecarlo import delivery_model_columns

    net = compile_network(sc)
    return int(delivery_model_columns(build_lp(net), net)[0].size)


def toy_model(n: int) -> None:
    """The benchmark scenario's `n` futures: ours with one and two workers against SimPy."""
    sc = benchmark_scenario()
    lp = build_lp(compile_network(sc))
    ours = {w: _ours(sc, n, w, f"ours, workers={w}") for w in WORKERS}
    with _progress() as prog:
        task = prog.add_task("SimPy, same futures", total=n)
        c, t = _cpu(), time.perf_counter()
        fill_sp, fill_cf, events = simpy_stress(sc, n, SEED, lambda: prog.advance(task))
        simpy_s, simpy_cpu = time.perf_counter() - t, _cpu() - c
    fill = ours[1][2].fill
    d_sp = float(np.abs(fill - fill_sp).max())
    d_cf = float(np.abs(fill - fill_cf).max())
    d_w = max(float(np.abs(fill - ours[w][2].fill).max()) for w in WORKERS)
    bad = int((np.abs(fill - fill_sp) > TOL).sum())
    same_events = events == ours[1][2].events

    tbl = Table(title=f"{n} sampled futures of the benchmark scenario "
                    f"(LP per future: {lp.num_rows:,} rows × {lp.num_cols:,} columns, "
                    f"{own_columns(sc):,} in the workers' own model)")
    for col in ("engine", "wall s", "CPU s", "ms / future", "vs SimPy"):
        tbl.add_column(col, justify="left" if col == "engine" else "right")
    for w in WORKERS:
        wall, cpu, _ = ours[w]
        tbl.add_row(f"fabnet stress_test, workers={w} (exact LP per future)", f"{wall:.2f}",
                  f"{cpu:.2f}", f"{1e3 * wall / n:.1f}",
                  f"{wall / simpy_s:,.1f}× slower" if wall > simpy_s
                  else f"{simpy_s / wall:,.1f}× faster")
    tbl.add_row("SimPy simulation (greedy, optimal here)", f"{simpy_s:.2f}", f"{simpy_cpu:.2f}",
              f"{1e3 * simpy_s / n:.1f}", "1.0×")
    console.print(tbl)
    ck = Table(title="Same futures, same answer?", show_header=False)
    ck.add_column("check")
    ck.add_column("value", justify="right")
    ck.add_row("events per future identical on both sides", "yes" if same_events else "[red]NO")
    ck.add_row("max |fill ours − fill SimPy|", f"{d_sp:.2e}")
    ck.add_row(f"futures whose fill differs by more than {TOL:g}",
               f"[{'green' if bad == 0 else 'red'}]{bad} of {n}")
    ck.add_row("max |fill ours − min(stock + capacity, demand) / demand|", f"{d_cf:.2e}")
    ck.add_row("max |fill workers=1 − workers=2|", f"{d_w:.2e}")
    ck.add_row("fill: mean / min / P(fill ≥ 0.95)",
               f"{fill.mean():.4f} / {fill.min():.4f} / {ours[1][2].p_target:.2f}")
    ck.add_row("events per future: mean", f"{np.mean(events):.2f}")
    ck.add_row("futures by route (workers=1)", _routes(ours[1][2]))
    console.print(ck)


def _routes(res: StressResult) -> str:
    """Futures per route, e.g. "replanned 180, kept_base 15, repeated 5"."""
    return ", ".join(f"{k} {v}" for k, v in sorted(res.routes.items()))


def europe(samples: int, dask: bool = False, linprog: bool = False,
           detail: int = EUROPE_DETAIL) -> None:
    """Time the stress test of the Europe example on a local pool of two processes (and,
    with `dask`, on a LocalCluster of one and of two workers; with `linprog`, against
    three plans of the linprog model), then `detail` futures one at a time."""
    sc = load_scenario(EUROPE)
    lp = build_lp(compile_network(sc))
    runs = {"local pool, 2 processes": _ours(sc, samples, 2, "Europe, workers=2")}
    if dask:
        from distributed import Client, LocalCluster

        for n in (1, 2):
            with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                              dashboard_address=None) as lc, \
                    Client(lc, set_as_default=False) as client:
                runs[f"Dask LocalCluster, {n} worker{'s' if n > 1 else ''}"] = _ours(
                    sc, samples, 1, f"Europe, Dask {n} worker(s)", DaskCluster(client))
    t = Table(title=f"Stress test of the Europe example: {samples} futures "
                    f"({len(sc.risks)} risks; LP per future: {lp.num_rows:,} rows × "
                    f"{lp.num_cols:,} columns, {own_columns(sc):,} in the workers' own model; "
                    "one level per priority class)")
    for c in ("executor", "wall s", "CPU s here", "s / future", "fill mean", "fill p5",
              "P(fill ≥ 0.95)", "futures by route"):
        t.add_column(c, justify="left" if c in ("executor", "futures by route") else "right")
    for name, (s, cpu, res) in runs.items():
        summ = res.summary()
        t.add_row(name, f"{s:.1f}", f"{cpu:.1f}", f"{s / samples:.3f}",
                  f"{summ['fill_mean']:.4f}", f"{summ['fill_p5']:.4f}",
                  f"{summ['p_fill_ge_target']:.2f}", _routes(res))
    console.print(t)
    first = next(iter(runs.values()))[2]
    d = max(float(np.nanmax(np.abs(first.fill - r[2].fill))) for r in runs.values())
    console.print(f"max |fill| difference between the executors on Europe: {d:.2e}")
    if dask:
        one = runs["Dask LocalCluster, 1 worker"][0]
        two = runs["Dask LocalCluster, 2 workers"][0]
        console.print(f"Dask speed-up from 1 to 2 workers: {one / two:.2f}×")
    if linprog:
        wall, cpu, _ = runs["local pool, 2 processes"]
        linprog_plans(sc, wall, cpu, samples)
    if detail:
        europe_levels(sc, min(samples, detail))


def europe_levels(sc: Scenario, samples: int) -> None:
    """Where one Europe future's time goes, the stress test's way (capacities from the
    disruptions' factors, the worker's own model of the delivery levels) against the way
    before it (a compiled network per future, the full solver from its combined start),
    on the same futures in one process, interleaved; CPU seconds, so other load counts
    less. Both give every level's optimum: the largest difference is printed."""
    from fabnet.plan.lp import capacity_rows
    from fabnet.resilience.montecarlo import _FutureSolver, _Run

    own = _FutureSolver(_Run("bench-own", sc, None, None, 0, shortcuts=False))
    full = _FutureSolver(_Run("bench-full", sc, None, None, 0, shortcuts=False),
                         own_model=False)
    streams = np.random.SeedSequence(SEED).spawn(samples)
    cpu: dict[str, list[float]] = {k: [] for k in ("compile", "caps", "own", "full")}
    worst = 0.0
    with _progress() as prog:
        task = prog.add_task("Europe, one future at a time", total=samples)
        for n, stream in enumerate(streams):
            future = sample_future(sc, np.random.default_rng(stream), n)
            t0 = time.process_time()
            capacity_rows(compile_network(sc, future), own.lp)
            cpu["compile"].append(time.process_time() - t0)
            t0 = time.process_time()
            own.caps.of(future)
            cpu["caps"].append(time.process_time() - t0)
            fills = []
            for k, w in (("own", own), ("full", full)):
                t0 = time.process_time()
                fills.append(w.evaluate(future).fill)
                cpu[k].append(time.process_time() - t0)
            if fills[0] is not None and fills[1] is not None:
                worst = max(worst, abs(fills[0] - fills[1]))
            prog.advance(task)
    tbl = Table(title=f"Europe: CPU seconds of one future, first {samples} futures "
                      "(one process, every future re-planned)")
    for c in ("step", "mean CPU s / future", "max CPU s"):
        tbl.add_column(c, justify="left" if c == "step" else "right")
    for key, label in (("compile", "capacities by compile_network (before)"),
                       ("caps", "capacities from the disruptions' factors (now)"),
                       ("own", "a future on the worker's own model (now)"),
                       ("full", "a future on the full solver, combined start (before)")):
        tbl.add_row(label, f"{np.mean(cpu[key]):.3f}", f"{np.max(cpu[key]):.3f}")
    console.print(tbl)
    console.print(f"full solver used by the own model's check: {own.replans} of {samples}; "
                  f"largest fill difference between the two: {worst:.2e}")


def linprog_plans(sc: Scenario, futures_s: float, futures_cpu: float, samples: int) -> None:
    """Time one plan of the straightforward linprog model of the Europe example
    (benchmarks/baseline_linprog.py) and set `samples` futures against three of them."""
    from benchmarks.baseline_linprog import solve_two_levels

    net = compile_network(sc)
    c, t = _cpu(), time.perf_counter()
    out = solve_two_levels(net)
    wall, cpu = time.perf_counter() - t, _cpu() - c
    console.print(f"linprog model of the Europe example, one plan (two levels, cold): "
                  f"{wall:.1f} s wall, {cpu:.1f} CPU s, status {out['linprog_status']}; "
                  f"{samples} futures took {futures_s:.1f} s wall ({futures_cpu:.1f} CPU s): "
                  f"{futures_s / (3 * wall):.2f}× three plans' wall time, "
                  f"{futures_cpu / (3 * cpu):.2f}× their CPU time")


def cli() -> None:
    """`python -m benchmarks.montecarlo_bench [--quick] [--europe N] [--dask] [--toy N]
    [--linprog] [--detail N]`."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_SAMPLES} futures and {QUICK_EUROPE_SAMPLES} Europe futures")
    ap.add_argument("--europe", type=int, default=None, metavar="N",
                    help=f"Europe futures (default {EUROPE_SAMPLES})")
    ap.add_argument("--dask", action="store_true",
                    help="also on a Dask LocalCluster of 1 and of 2 workers")
    ap.add_argument("--toy", type=int, default=None, metavar="N",
                    help=f"futures of the benchmark scenario against SimPy (default {SAMPLES}; "
                         "0 skips it)")
    ap.add_argument("--linprog", action="store_true",
                    help="also time one plan of the linprog model of the Europe example and "
                         "set the Europe futures against three of them")
    ap.add_argument("--detail", type=int, default=EUROPE_DETAIL, metavar="N",
                    help=f"Europe futures timed one at a time (default {EUROPE_DETAIL})")
    args = ap.parse_args()
    main(args.quick, args.europe, args.dask, args.toy, args.linprog, args.detail)


if __name__ == "__main__":
    cli()
