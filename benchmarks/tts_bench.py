"""Benchmark of the time-to-survive sweep (`fabnet stress tts`) on a Willems chain.

Measures, for every stage (site) of Willems chain 38 (2,025 stages; `--quick`: chain 08):

- reading the chain and `compile_network`;
- `time_to_survive(net, nodes=<every site>, workers=W)` for W = 1 and 2: sweep time and
  nodes per second (the sweep includes the served-rate LP and the aggregate model build);
- a baseline, "rebuilding the LP per node", which is what a user without warm starts
  would do: for a sample of nodes (40 evenly spaced), a fresh aggregate model
  (`build_aggregate`) and a fresh HiGHS model (`AggregateSolver`) per LP, TTS and PI
  solved cold with HiGHS' default presolve and certified as ours are. Its time is
  extrapolated to every node and labelled so; its TTS and PI must equal ours for the
  sampled nodes (max abs difference printed);
- where the sweep's time goes: the real sweep once more (workers=1) under cProfile,
  with every HiGHS run timed and its simplex iterations counted (TTS and PI passes,
  base solves, per-node LPs, cold re-solves of answers the optimality check rejected),
  the fixed cost of a warm start (`setBasis` + re-factorisation), the base solves each
  worker chunk repeats, and what starting the PI pass from a base solved at
  τ = 1/TTR would give (docs/performance-continuity.md).

    python -m benchmarks.tts_bench           # chain 38, about 5 minutes on 2 cores
    python -m benchmarks.tts_bench --quick   # chain 08, seconds
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import math
import os
import pstats
import resource
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import numpy.typing as npt
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

import fabnet.resilience.tts as tts_module
from fabnet.io.willems import willems_scenario
from fabnet.model import compile_network
from fabnet.model.network import FloatArray, Network
from fabnet.plan.solve import PlanStatus
from fabnet.resilience.tts import (
    MIN_DAYS,
    AggregateModel,
    AggregateSolver,
    NodeRisk,
    Option,
    _no_outage_survived,
    build_aggregate,
    recovery_days,
    served_rate,
    time_to_survive,
)

DATA = Path(os.environ.get("FABNET_WILLEMS_DIR", "/work/shared/data/willems"))
FULL_CHAIN = "willems_38.csv"
QUICK_CHAIN = "willems_08.csv"
SAMPLE = 40  # baseline nodes, evenly spaced
GOAL_SECONDS = 60.0  # the whole sweep of chain 38 on a 2-core machine
WORKERS = (1, 2)
CHUNK = 64  # time_to_survive's default chunk of nodes per worker task

console = Console()
if not console.is_terminal:  # piped into a file: wide enough for the tables
    console = Console(width=120)


def _progress() -> Progress:
    """A progress bar that shows done/total, elapsed and remaining time."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console,
                    transient=False)


def _tts_objective(s: AggregateSolver) -> None:
    """Least τ with no loss, τ in [1/horizon, 1/MIN_DAYS] (the TTS LP)."""
    m = s.model
    cost = np.zeros(m.matrix.shape[1])
    cost[m.tau_col] = 1.0
    s.set_cost(cost)
    s.set_bounds(m.lost_cols, 0.0, 0.0)
    s.set_bounds(np.array([m.tau_col]), 1.0 / m.horizon_days, 1.0 / MIN_DAYS)


def _pi_objective(s: AggregateSolver) -> None:
    """Least loss rate, loss free (the PI LP; τ is fixed by the caller)."""
    m = s.model
    cost = np.zeros(m.matrix.shape[1])
    cost[m.lost_cols] = 1.0
    s.set_cost(cost)
    s.set_bounds(m.lost_cols, 0.0, np.inf)


def _rate_floor(model: AggregateModel) -> float:
    """The objective scale of a loss LP, as `tts._sweep_nodes` uses it."""
    return max(float(model.demand_rate.sum()), 1.0)


def _tts_value(s: AggregateSolver, node: int) -> float:
    """TTS of one node, solved cold on `s` and read as `tts._sweep_nodes` reads it."""
    m = s.model
    s.set_bounds(m.node_cols[node], 0.0, 0.0)
    st, cert = s.solve(None, 1.0 / m.horizon_days, cold_if_infeasible=False)
    if cert is not None:
        t = 1.0 / cert.objective
        return 0.0 if t <= 2 * MIN_DAYS else min(t, m.horizon_days)
    if st is PlanStatus.INFEASIBLE and \
            _no_outage_survived(s, None, _rate_floor(m)) is PlanStatus.OPTIMAL:
        return 0.0
    return float("nan")


@dataclass
class Baseline:
    """The rebuild-per-node baseline on a sample of nodes."""

    nodes: list[str]
    tts: FloatArray
    pi: FloatArray
    build_s: float = 0.0
    solve_s: float = 0.0
    lps: int = 0

    @property
    def seconds(self) -> float:
        """Build and solve time of the sampled nodes."""
        return self.build_s + self.solve_s


def rebuild_per_node(net: Network, rate: FloatArray, sample: list[int],
                     advance: Callable[[], None]) -> Baseline:
    """TTS and PI of the sampled sites, each LP on a freshly built model, solved cold
    and certified as our sweep's answers are."""
    tts = np.zeros(len(sample))
    pi = np.zeros(len(sample))
    out = Baseline([net.sites[i] for i in sample], tts, pi)
    for j, site in enumerate(sample):
        t0 = time.perf_counter()
        model = _build(net, rate, [net.sites[site]])
        node = next(i for i, (nid, _) in enumerate(model.nodes) if nid == net.sites[site])
        s = AggregateSolver(model)
        _tts_objective(s)
        t1 = time.perf_counter()
        tts[j] = _tts_value(s, node)
        t2 = time.perf_counter()
        out.build_s += t1 - t0
        out.solve_s += t2 - t1
        out.lps += 1
        ttr = recovery_days(net.scenario, *model.nodes[node])
        if tts[j] < ttr - 1e-9:
            s = AggregateSolver(model)  # a fresh model: the PI LP is solved cold as well
            _pi_objective(s)
            s.set_bounds(model.node_cols[node], 0.0, 0.0)
            s.set_bounds(np.array([model.tau_col]), 1.0 / ttr, 1.0 / ttr)
            t3 = time.perf_counter()
            _, cert = s.solve(None, _rate_floor(model))
            pi[j] = cert.objective * ttr if cert is not None else float("nan")
            out.build_s += t3 - t2
            out.solve_s += time.perf_counter() - t3
            out.lps += 1
        advance()
    out.tts = np.asarray(np.round(tts, 6) + 0.0, dtype=np.float64)
    out.pi = np.asarray(np.round(np.maximum(pi, 0.0), 6), dtype=np.float64)
    return out


@dataclass
class PassStats:
    """Per-LP seconds and simplex iterations of one kind of LP."""

    name: str
    seconds: list[float] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def add(self, seconds: float, iterations: int) -> None:
        """Record one LP."""
        self.seconds.append(seconds)
        self.iterations.append(iterations)

    @property
    def mean_s(self) -> float:
        """Mean seconds per LP."""
        return float(np.mean(self.seconds)) if self.seconds else 0.0

    def row(self) -> list[str]:
        """A table row: name, runs, total s, mean/p50/max ms, mean/max iterations."""
        s, it = np.array(self.seconds or [0.0]), np.array(self.iterations or [0])
        return [self.name, str(len(self.seconds)), f"{s.sum():,.2f}",
                f"{1e3 * s.mean():.1f}", f"{1e3 * np.median(s):.1f}", f"{1e3 * s.max():.1f}",
                f"{it.mean():,.0f}", f"{int(it.max()):,}"]


class _RecordingHighs:
    """Stands in for the `highspy.Highs` of `tts._highs`: records every `run`.

    Each run is filed by the objective last set (τ: TTS; lost units: a least-loss LP,
    which is the PI pass or, between two TTS objectives, the check that a node with an
    infeasible TTS LP survives nothing) and by what came before it: a `setBasis` (a
    node's warm LP), a `clearSolver` (a cold re-solve of an answer the check rejected,
    or a cold start), or neither (a pass's base solve).
    """

    def __init__(self, h: highspy.Highs, tau: int, runs: list[tuple[int, str, str, float, int]],
                 setbasis: PassStats) -> None:
        self._h, self._tau, self._runs, self._setbasis = h, tau, runs, setbasis
        self._mode, self._start, self._epoch = "other", "base solve", 0

    def __getattr__(self, name: str) -> object:
        """Everything else goes to the real HiGHS object."""
        return getattr(self._h, name)

    def changeColsCost(self, n: int, idx: npt.NDArray[np.int32],  # noqa: N802
                       cost: FloatArray) -> object:
        self._mode = "TTS" if float(np.asarray(cost)[self._tau]) != 0.0 else "loss"
        self._epoch += 1
        return self._h.changeColsCost(n, idx, cost)

    def setBasis(self, basis: highspy.HighsBasis) -> object:  # noqa: N802
        self._start = "node LP (warm)"
        t = time.perf_counter()
        out = self._h.setBasis(basis)
        self._setbasis.add(time.perf_counter() - t, 0)
        return out

    def clearSolver(self) -> object:  # noqa: N802
        self._start = "cold re-solve"
        return self._h.clearSolver()

    def run(self) -> object:
        """Run HiGHS and file the time and iteration count."""
        t = time.perf_counter()
        out = self._h.run()
        dt = time.perf_counter() - t
        self._runs.append((self._epoch, self._mode, self._start, dt,
                           int(self._h.getInfo().simplex_iteration_count)))
        self._start = "base solve"
        return out


def _file_runs(runs: list[tuple[int, str, str, float, int]]) -> dict[str, PassStats]:
    """Runs by LP kind: a least-loss objective set between two TTS ones is a TTS-0 check."""
    modes: dict[int, str] = {}
    for epoch, mode, *_ in runs:
        modes[epoch] = mode
    last_tts = max((e for e, m in modes.items() if m == "TTS"), default=-1)
    log: dict[str, PassStats] = {}
    for epoch, mode, start, dt, iters in runs:
        if mode == "loss":
            mode = "TTS 0 check" if epoch < last_tts else "PI"
        key = f"{mode} {start}"
        log.setdefault(key, PassStats(key)).add(dt, iters)
    return log


@dataclass
class Recording:
    """The real sweep, every HiGHS run timed, under cProfile."""

    log: dict[str, PassStats]
    highs_model_s: float
    wall: float
    risks: list[NodeRisk]
    profile: list[tuple[str, int, float, float]]


def record_sweep(net: Network, nodes: list[str], rate: FloatArray,
                 progress: Callable[[int], None], top: int = 10) -> Recording:
    """The real sweep on `nodes` (workers=1, under cProfile), every HiGHS run timed; also
    the time to build one HiGHS model (`_highs`), which every worker chunk repeats."""
    runs: list[tuple[int, str, str, float, int]] = []
    setbasis = PassStats("setBasis calls")
    real = tts_module._highs
    made: list[float] = []

    def recording(model: AggregateModel, options: Mapping[str, Option] | None = None
                  ) -> _RecordingHighs:
        t = time.perf_counter()
        h = real(model, options)
        made.append(time.perf_counter() - t)
        return _RecordingHighs(h, model.tau_col, runs, setbasis)

    tts_module._highs = recording  # type: ignore[assignment]
    prof = cProfile.Profile()
    try:
        t = time.perf_counter()
        prof.enable()
        risks = time_to_survive(net, nodes=nodes, demand_rate=rate, workers=1,
                                progress=progress)
        prof.disable()
        wall = time.perf_counter() - t
    finally:
        tts_module._highs = real
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (file, line, fn), (_, calls, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{Path(file).name}:{line}({fn})" if line else fn
        rows.append((where, int(calls), float(tt), float(ct)))
    rows.sort(key=lambda r: -r[2])
    log = _file_runs(runs)
    log["setBasis"] = setbasis
    return Recording(log, float(np.mean(made)) if made else 0.0, wall, risks, rows[:top])


def _build(net: Network, rate: FloatArray, nodes: list[str]) -> AggregateModel:
    """The aggregate model as `time_to_survive` builds it for a sweep of `nodes`."""
    if "keep_lanes" in inspect.signature(build_aggregate).parameters:
        wanted = set(nodes)
        keep = np.array([f"lane:{a}>{b}" in wanted
                         for a, b in zip(net.lane_from, net.lane_to, strict=True)], dtype=bool)
        return build_aggregate(net, rate, keep_lanes=keep)
    return build_aggregate(net, rate)


def pi_fixed_tau(model: AggregateModel, sample: list[int], ttr: FloatArray,
                 exposed: list[int], advance: Callable[[], None]
                 ) -> tuple[PassStats, PassStats, float]:
    """The PI pass with its base LP solved at τ = 1/TTR (one base per TTR value) rather
    than with τ free: (base solves, node LPs, fixed cost of one warm start in s)."""
    s = AggregateSolver(model)
    _pi_objective(s)
    floor_obj = _rate_floor(model)
    base_stats, lp_stats = PassStats("PI base solve, τ = 1/TTR"), PassStats(
        "PI node LP (warm), base τ = 1/TTR")
    floor: list[float] = []
    tau = np.array([model.tau_col])
    for value in sorted({float(ttr[j]) for j in exposed}):
        s.set_bounds(tau, 1.0 / value, 1.0 / value)
        t = time.perf_counter()
        s.h.run()
        base_stats.add(time.perf_counter() - t, int(s.h.getInfo().simplex_iteration_count))
        base = s.h.getBasis()
        for _ in range(10):  # a warm start with nothing changed: setBasis + re-factorisation
            t = time.perf_counter()
            s.h.setBasis(base)
            s.h.run()
            floor.append(time.perf_counter() - t)
        for j in exposed:
            if float(ttr[j]) != value:
                continue
            s.set_bounds(model.node_cols[sample[j]], 0.0, 0.0)
            t = time.perf_counter()
            _, cert = s.solve(base, floor_obj)
            lp_stats.add(time.perf_counter() - t, int(s.h.getInfo().simplex_iteration_count))
            pi = cert.objective * value if cert is not None else float("nan")
            lp_stats.values.append(round(max(pi, 0.0), 6))
            s.set_bounds(model.node_cols[sample[j]], 0.0, np.inf)
            advance()
    return base_stats, lp_stats, float(np.median(floor)) if floor else 0.0


@dataclass
class Sweep:
    """One measured sweep: wall seconds, CPU seconds (this process and its workers)."""

    label: str
    wall: float
    cpu: float
    risks: list[NodeRisk]


def _cpu() -> float:
    """CPU seconds of this process and of its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _sweep(net: Network, nodes: list[str], workers: int, label: str, fold: bool = True
           ) -> Sweep:
    """`time_to_survive` on `nodes`, timed, with a progress bar."""
    with _progress() as prog:
        task = prog.add_task(label, total=2 * len(nodes))

        def step(k: int) -> None:
            prog.advance(task, k)

        c, t = _cpu(), time.perf_counter()
        if fold:
            risks = time_to_survive(net, nodes=nodes, workers=workers, progress=step)
        else:
            risks = time_to_survive(net, nodes=nodes, workers=workers, progress=step,
                                    fold=False)
        return Sweep(label, time.perf_counter() - t, _cpu() - c, risks)


def _values(risks: list[NodeRisk]) -> dict[str, tuple[float, float]]:
    """(TTS, PI) by node id; NaN where a node failed."""
    nan = float("nan")
    return {r.node: (nan if r.tts is None else r.tts, nan if r.pi is None else r.pi)
            for r in risks}


def main(quick: bool = False) -> None:
    """Run the benchmark and print its tables (module docstring)."""
    path = DATA / (QUICK_CHAIN if quick else FULL_CHAIN)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    console.rule(f"[bold]TTS sweep benchmark: {path.name}{' (--quick)' if quick else ''}, "
                 f"{os.cpu_count()} CPUs, load average {load}")
    t0 = time.perf_counter()
    sc = willems_scenario(path)
    t1 = time.perf_counter()
    net = compile_network(sc)
    t2 = time.perf_counter()
    nodes = list(net.sites)
    n = len(nodes)
    read_s, compile_s = t1 - t0, t2 - t1

    sweeps = {w: _sweep(net, nodes, w, f"ours, workers={w}") for w in WORKERS}
    extra: list[Sweep] = []
    if "fold" in inspect.signature(time_to_survive).parameters:
        extra.append(_sweep(net, nodes, 1, "ours, workers=1, fold=False", fold=False))
    ours = _values(sweeps[1].risks)
    w_diff = float(np.nanmax([abs(a - b) for sw in [*sweeps.values(), *extra] for k in ours
                              for a, b in zip(ours[k], _values(sw.risks)[k], strict=True)]))
    exposed = sum(r.exposed for r in sweeps[1].risks)
    failed = {sw.label: sum(r.failed for r in sw.risks) for sw in [*sweeps.values(), *extra]}

    k = min(SAMPLE, n)
    sample = sorted({int(round(x)) for x in np.linspace(0, n - 1, k)})
    t = time.perf_counter()
    rate = served_rate(net)
    rate_s = time.perf_counter() - t
    with _progress() as prog:
        task = prog.add_task(f"baseline: rebuild per node ({len(sample)} nodes)",
                             total=len(sample))
        base = rebuild_per_node(net, rate, sample, lambda: prog.advance(task))
    d_tts = max(abs(ours[nd][0] - v) for nd, v in zip(base.nodes, base.tts, strict=True))
    d_pi = max(abs(ours[nd][1] - v) for nd, v in zip(base.nodes, base.pi, strict=True))
    d_tts, d_pi = (float("nan") if math.isnan(d) else d for d in (d_tts, d_pi))
    scale = n / len(sample)
    base_full = rate_s + base.seconds * scale
    extrapolated = len(sample) < n

    tbl = Table(title=f"Time-to-survive of every stage of {path.stem} ({n:,} nodes, "
                    f"{exposed:,} exposed)")
    for c in ("step", "wall s", "CPU s", "nodes/s", "vs baseline"):
        tbl.add_column(c, justify="left" if c == "step" else "right")
    tbl.add_row("read chain (willems_scenario)", f"{read_s:.2f}", "", "", "")
    tbl.add_row("compile_network", f"{compile_s:.2f}", "", "", "")
    for sw in [*sweeps.values(), *extra]:
        tbl.add_row(sw.label.replace("ours", "ours: time_to_survive"), f"{sw.wall:.2f}",
                  f"{sw.cpu:.2f}", f"{n / sw.wall:,.1f}", f"{base_full / sw.wall:,.1f}× faster")
    label = "extrapolated" if extrapolated else "measured"
    tbl.add_row(f"baseline: rebuild per node ({label} from {len(sample)} nodes)",
              f"{base_full:,.1f}", "", f"{n / base_full:,.2f}", "1.0×")
    console.print(tbl)
    best = min(sw.wall for sw in sweeps.values())
    met = best < GOAL_SECONDS
    bt = Table(title="Baseline detail (sampled nodes)", show_header=False)
    bt.add_column("what")
    bt.add_column("value", justify="right")
    bt.add_row("served-rate LP, once (both sides)", f"{rate_s:.2f} s")
    bt.add_row("LPs solved cold", f"{base.lps}")
    bt.add_row("model build (build_aggregate + _highs) per LP",
               f"{base.build_s / base.lps:.3f} s")
    bt.add_row("cold solve (presolve on) per LP", f"{base.solve_s / base.lps:.3f} s")
    bt.add_row("max |TTS ours - baseline| (days)", f"{d_tts:.2e}")
    bt.add_row("max |PI ours - baseline| (units)", f"{d_pi:.2e}")
    bt.add_row("max |TTS or PI| difference between our sweeps", f"{w_diff:.2e}")
    bt.add_row("failed nodes (status not optimal) per sweep",
               ", ".join(f"{k}: {v}" for k, v in failed.items()))
    bt.add_row(f"goal: whole sweep < {GOAL_SECONDS:.0f} s",
               f"[{'green' if met else 'red'}]{'met' if met else 'missed'} ({best:.1f} s)")
    bt.add_row("load average now (1, 5, 15 min; other processes count)",
               ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    console.print(bt)
    diagnose(net, rate, sweeps)


def diagnose(net: Network, rate: FloatArray, sweeps: dict[int, Sweep]) -> None:
    """Where the sweep's time goes, every node: each HiGHS run timed and a cProfile of
    the real sweep; then the PI pass re-run from a base solved at τ = 1/TTR."""
    n = len(net.sites)
    ids = list(net.sites)
    with _progress() as prog:
        task = prog.add_task("diagnosis: the sweep again, every LP timed, cProfile",
                             total=2 * n)
        rec = record_sweep(net, ids, rate, lambda k: prog.advance(task, k))
    ours = _values(rec.risks)
    model = _build(net, rate, ids)
    node_of = {nid: i for i, (nid, _) in enumerate(model.nodes)}
    cols = [node_of[nid] for nid in ids]
    ttr = np.array([recovery_days(net.scenario, *model.nodes[i]) for i in cols])
    exposed = [j for j, nid in enumerate(ids) if ours[nid][0] < ttr[j] - 1e-9]
    with _progress() as prog:
        task = prog.add_task("diagnosis: PI pass from a τ = 1/TTR base", total=len(exposed))
        fixed_base, fixed_lp, floor_s = pi_fixed_tau(model, cols, ttr, exposed,
                                                      lambda: prog.advance(task))
    d_fix = max((abs(ours[ids[j]][1] - v) for j, v in zip(exposed, fixed_lp.values,
                                                          strict=True)), default=0.0)
    log = rec.log
    a = model.matrix
    pt = Table(title=f"Every HiGHS run of a sweep of all {n:,} nodes, workers=1 (aggregate "
                     f"LP: {a.shape[0]:,} rows × {a.shape[1]:,} columns, {a.nnz:,} nonzeros)")
    for c in ("LP", "runs", "total s", "mean ms", "p50 ms", "max ms", "mean iters",
              "max iters"):
        pt.add_column(c, justify="left" if c == "LP" else "right")
    order = ["TTS base solve", "TTS node LP (warm)", "TTS cold re-solve",
             "TTS 0 check base solve", "TTS 0 check cold re-solve", "PI base solve",
             "PI node LP (warm)", "PI cold re-solve"]
    for key in order + sorted(set(log) - set(order) - {"setBasis"}):
        if key in log:
            pt.add_row(*log[key].row())
    if "setBasis" in log:
        sb = log["setBasis"]
        pt.add_row(sb.name, str(len(sb.seconds)), f"{sum(sb.seconds):,.3f}",
                   f"{1e3 * sb.mean_s:.3f}", "", "", "", "")
    pt.add_row(*fixed_base.row(), style="cyan")
    pt.add_row(*fixed_lp.row(), style="cyan")
    console.print(pt)

    def total(key: str) -> float:
        return sum(log[key].seconds) if key in log else 0.0

    runs = sum(total(k) for k in log if k != "setBasis")
    chunks = math.ceil(n / CHUNK)
    chunk_fixed = rec.highs_model_s + total("TTS base solve") + total("PI base solve")
    notes = Table(title=f"Where the time of a sweep of all {n:,} nodes goes (workers=1)",
                  show_header=False)
    notes.add_column("what")
    notes.add_column("value", justify="right")
    notes.add_row("sweep, wall (this run, under cProfile)", f"{rec.wall:,.1f} s")
    notes.add_row("  all HiGHS runs", f"{runs:,.1f} s")
    notes.add_row("    TTS node LPs (warm)", f"{total('TTS node LP (warm)'):,.1f} s")
    notes.add_row("    PI node LPs (warm)", f"{total('PI node LP (warm)'):,.1f} s")
    cold = [k for k in log if k.endswith("cold re-solve")]
    notes.add_row("    cold re-solves (warm answers the check rejected)",
                  f"{sum(len(log[k].seconds) for k in cold):,} LPs, "
                  f"{sum(total(k) for k in cold):,.1f} s")
    notes.add_row("    TTS 0 checks (infeasible TTS LPs confirmed)",
                  f"{sum(total(k) for k in log if k.startswith('TTS 0 check')):,.1f} s")
    notes.add_row("  everything else (Python, bounds, model build, profiler)",
                  f"{rec.wall - runs:,.1f} s")
    notes.add_row("fixed cost of one warm start (setBasis + run, nothing changed)",
                  f"{1e3 * floor_s:.1f} ms")
    notes.add_row(f"workers>1: HiGHS model + base solves, repeated by each of {chunks} "
                  f"chunks of {CHUNK}", f"{chunk_fixed:.3f} s each, "
                  f"{chunks * chunk_fixed:,.1f} s in all")
    notes.add_row("PI node LPs from a τ = 1/TTR base instead", f"{sum(fixed_lp.seconds):,.1f} s"
                  f" (max |ΔPI| {d_fix:.1e})")
    notes.add_row("measured sweeps above, workers=1 / workers=2",
                  f"{sweeps[1].wall:,.1f} s / {sweeps[2].wall:,.1f} s")
    console.print(notes)
    ct = Table(title=f"cProfile of that sweep of {n:,} nodes, workers=1 (top by own time)")
    for c in ("function", "calls", "own s", "cumulative s"):
        ct.add_column(c, justify="left" if c == "function" else "right")
    for where, calls, tt, cum in rec.profile:
        ct.add_row(where, f"{calls:,}", f"{tt:.2f}", f"{cum:.2f}")
    console.print(ct)


def cli() -> None:
    """`python -m benchmarks.tts_bench [--quick]`."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help=f"use {QUICK_CHAIN} (seconds)")
    main(ap.parse_args().quick)


if __name__ == "__main__":
    cli()
