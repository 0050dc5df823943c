"""Continuity verbs: what-if, time-to-survive, stress test, exposure, Willems import.

Each reads the scenario once, runs its engine, and (given `out`) writes its tables and
a self-contained report.html into a folder that appears whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fabnet.batch import executor_for
from fabnet.io.plan_io import csv_text, plan_document, write_folder, write_plan_dir
from fabnet.io.scenario_io import load_scenario, save_scenario
from fabnet.io.willems import willems_scenario
from fabnet.model.network import compile_network
from fabnet.model.scenario import Disruption, Scenario
from fabnet.plan import PLAN_COLUMNS, Plan
from fabnet.report import render_page, render_plan_report
from fabnet.report.resilience import (
    exposure_section,
    montecarlo_section,
    tts_section,
    whatif_section,
)
from fabnet.resilience.exposure import Exposure, country_exposure
from fabnet.resilience.montecarlo import StressResult, stress_test
from fabnet.resilience.tts import NodeRisk, time_to_survive
from fabnet.resilience.whatif import Replanner, WhatIfDiff, compare_plans, parse_disruption
from fabnet.services.planning import PlanRun, write_plan

Progress = Callable[[int], None] | None


@dataclass
class WhatIfRun:
    """A what-if's base plan, disrupted plan and their difference."""

    scenario: Scenario
    base: Plan
    plan: Plan
    diff: WhatIfDiff


def whatif(path: str | Path, specs: list[str], out: Path | None = None,
           force: bool = False, frozen: int = 0) -> WhatIfRun:
    """Re-plan around `specs` (TARGET@DATE+BUCKETS[xFACTOR]) and compare with the base plan.

    The re-plan is the optimal plan closest to the base plan; `frozen` keeps the base
    plan's flows in buckets 0 … frozen-1 (a frozen horizon).
    """
    sc = load_scenario(path)
    extra = tuple(parse_disruption(s, sc, i + 1) for i, s in enumerate(specs))
    return whatif_disruptions(sc, extra, out, frozen=frozen, force=force)


def whatif_disruptions(sc: Scenario, extra: tuple[Disruption, ...], out: Path | None = None,
                       replanner: Replanner | None = None, base: Plan | None = None,
                       force: bool = False, frozen: int = 0) -> WhatIfRun:
    """The what-if for already-parsed disruptions (shares the re-planner when given).

    `base`, when given, is the re-planner's own base plan (`replanner.plan()`).
    """
    sc.horizon.check_frozen(frozen)
    rp = replanner or Replanner(sc)
    base = base or rp.plan()
    new = rp.plan(extra, reference=rp.base_solution(), frozen=frozen)
    diff = compare_plans(sc, base, new, list(extra))
    if out is not None:
        net = rp.network_with(extra)
        doc = plan_document(new.scenario, PLAN_COLUMNS, new.tables, new.kpis, new.bucket_starts)
        doc["whatif"] = {"disruptions": [d.__dict__ | {"start": str(d.start)} for d in extra],
                         "kpis": {k: {"base": b, "whatif": n} for k, (b, n) in diff.kpis.items()},
                         "by_customer_item": diff.by_customer_item, "moved": diff.moved,
                         "purchases": diff.purchases}
        report = render_plan_report(net, new, [whatif_section(diff)])
        write_plan_dir(out, doc, PLAN_COLUMNS, new.tables, {"report.html": report},
                       force=force)
    return WhatIfRun(sc, base, new, diff)


def tts(path: str | Path | Scenario | None = None, willems: str | Path | None = None,
        capacity_factor: float = 1.25, stock_days: float | None = None, ttr: float = 28.0,
        out: Path | None = None, workers: int = 1, progress: Progress = None,
        kinds: set[str] | None = None, force: bool = False,
        scheduler: str | None = None) -> list[NodeRisk]:
    """TTS, TTR and PI of every node of a scenario, or of a Willems chain read directly.

    Node chunks run on the Dask cluster at `scheduler` when one is named, else on a local
    pool of `workers` processes (docs/scale-out.md)."""
    if willems is not None:
        sc = willems_scenario(Path(willems), capacity_factor, stock_days, ttr)
        kinds = kinds or {"site"}
    elif path is not None:
        sc = _read(path)
    else:
        raise ValueError("give a scenario or a Willems file")
    net = compile_network(sc)
    from fabnet.resilience.tts import node_ids

    chosen = [n for n, k in node_ids(net) if kinds is None or str(k) in kinds]
    with executor_for(workers, scheduler) as ex:
        risks = time_to_survive(net, chosen, progress, workers=workers,
                                executor=ex if scheduler else None)
    if out is not None:
        # a failed node's unknown TTS or PI is an empty cell, never a number
        rows = [(r.node, "" if r.tts is None else r.tts, r.ttr, "" if r.pi is None else r.pi,
                 str(r.status)) for r in risks]
        write_folder(out, {
            "tts.csv": csv_text(["node", "tts", "ttr", "pi", "status"], rows),
            "report.html": render_page(f"Time-to-survive: {sc.name}",
                                       "TTS, TTR in days; PI in units of demand",
                                       [tts_section(risks, 40, float(sc.horizon.days))]),
        }, force=force)
    return risks


def tts_node_count(path: str | Path | Scenario | None, willems: str | Path | None,
                   kinds: set[str] | None) -> int:
    """How many nodes a TTS sweep will cover (for a progress bar)."""
    if willems is not None:
        from fabnet.io.willems import read_stages

        return len(read_stages(Path(willems)))
    sc = _read(path)  # type: ignore[arg-type]
    n = len(sc.sites) * (kinds is None or "site" in kinds)
    n += len(sc.offers) * (kinds is None or "offer" in kinds)
    n += len(sc.lanes) * (kinds is None or "lane" in kinds)
    return n


def montecarlo(path: str | Path | Scenario, samples: int, seed: int, target: float = 0.95,
               workers: int = 1, out: Path | None = None, progress: Progress = None,
               force: bool = False, frozen: int = 0,
               scheduler: str | None = None) -> StressResult:
    """Sample futures from the scenario's risks and re-plan each exactly.

    `frozen` keeps the base plan's first buckets in every future. The futures run on the
    Dask cluster at `scheduler` when one is named, else on `workers` local processes. A
    future that did not solve is written with its status and empty numbers, and counted
    in the summary.
    """
    from fabnet.model.errors import FabnetError

    sc = _read(path)
    if not sc.risks:
        where = f"scenario {sc.name!r}" if isinstance(path, Scenario) else path
        raise FabnetError(f"{where}: risks: the scenario has no risks to sample "
                          "(fix: add a risks: section with id, target, rate, duration)")
    with executor_for(workers, scheduler) as ex:
        res = stress_test(sc, samples, seed, target, workers, progress, frozen=frozen,
                          executor=ex)
    if out is not None:
        items = list(res.lost_by_item)
        ok = res.solved_mask

        def num(v: float, i: int) -> float | str:
            return float(v) if ok[i] else ""

        rows = [[i, str(res.status[i]), num(res.fill[i], i), res.events[i]]
                + [num(res.lost_by_item[k][i], i) for k in items]
                for i in range(res.samples)]
        write_folder(out, {
            "samples.csv": csv_text(["sample", "status", "fill_rate", "events"]
                                    + [f"lost_{k}" for k in items], rows),
            "critical_nodes.csv": csv_text(["node", "futures"], list(res.critical_counts.items())),
            "summary.json": json.dumps(res.summary(), indent=1),
            "report.html": render_page(f"Stress test: {sc.name}",
                                       f"{samples} futures, seed {seed}",
                                       [montecarlo_section(res)]),
        }, force=force)
    return res


def _read(src: str | Path | Scenario) -> Scenario:
    """A scenario given as such, or read from its path."""
    return src if isinstance(src, Scenario) else load_scenario(src)


def exposure(src: str | Path | Scenario, buckets: int = 13, out: Path | None = None,
             progress: Progress = None, force: bool = False) -> Exposure:
    """Country-of-origin shares, sourcing gaps and the embargo what-if per country."""
    sc = _read(src)
    rp = Replanner(sc)
    ex = country_exposure(sc, buckets, rp.units_lost, progress)
    if out is not None:
        share_rows = [(p, c, v, ex.unit_share[p].get(c, 0.0))
                      for p, sh in ex.value_share.items() for c, v in sh.items()]
        write_folder(out, {
            "shares.csv": csv_text(["product", "country", "value_share", "unit_share"], share_rows),
            "embargo.csv": csv_text(["country", "units_lost"], list(ex.embargo_lost.items())),
            "sourcing.csv": csv_text(["item", "gap"], [(i, "single-sourced")
                                                   for i in ex.single_sourced]
                                 + [(i, f"all sources in {c}")
                                    for i, c in ex.one_country.items()]),
            "report.html": render_page(f"Exposure: {sc.name}",
                                       f"embargo of {buckets} buckets from the horizon start",
                                       [exposure_section(ex)]),
        }, force=force)
    return ex


def exposure_shares(src: str | Path | Scenario) -> Exposure:
    """Country-of-origin shares and sourcing gaps alone, without the embargo what-ifs
    (no re-plan, milliseconds): what a page shows at once while `exposure` runs."""
    return country_exposure(_read(src))


def import_willems(src: str | Path, out: str | Path, capacity_factor: float = 1.25,
                   stock_days: float | None = None, ttr: float = 28.0,
                   force: bool = False) -> Scenario:
    """Write a Willems chain as a scenario (any format, by the target's suffix)."""
    sc = willems_scenario(Path(src), capacity_factor, stock_days, ttr)
    save_scenario(sc, out, force=force, sources=(src,))
    return sc


@dataclass
class Headline:
    """The continuity headline of a plan: exposed nodes, strikes' cost, country exposure."""

    risks: list[NodeRisk]
    strikes: list[WhatIfRun]
    exposure: Exposure


def plan_with_continuity(src: str | Path | Scenario, out: Path | None, strikes: list[str],
                         embargo_buckets: int = 13, progress: Progress = None,
                         force: bool = False) -> tuple[PlanRun, Headline]:
    """Plan a scenario and add the continuity headline to its summary and report.

    One re-planner serves the plan, every strike what-if and every embargo what-if.
    """
    sc = _read(src)
    struck = [parse_disruption(spec, sc, i + 1, where="--strike")
              for i, spec in enumerate(strikes)]  # refused before any solve
    rp = Replanner(sc)
    base = rp.plan()
    if progress:
        progress(1)
    risks = time_to_survive(rp.network)
    if progress:
        progress(1)
    runs = []
    for strike in struck:
        runs.append(whatif_disruptions(sc, (strike,), replanner=rp, base=base))
        if progress:
            progress(1)
    ex = country_exposure(sc, embargo_buckets, rp.units_lost, progress)
    run = PlanRun(sc, rp.network, base)
    if out is not None:
        sections = [tts_section(risks, horizon_days=float(sc.horizon.days))]
        sections += [whatif_section(w.diff, f"What-if: {spec}")
                     for w, spec in zip(runs, strikes, strict=True)]
        sections.append(exposure_section(ex))
        write_plan(run, Path(out), True, sections, force=force)
        run.out = Path(out)
    return run, Headline(risks, runs, ex)
