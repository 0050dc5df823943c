"""Plan a scenario end to end: read, check, compile, solve, write tables and report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fabnet.io.plan_io import plan_document, write_plan_dir
from fabnet.io.scenario_io import load_scenario
from fabnet.model.network import Network, compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan import PLAN_COLUMNS, Plan, make_plan
from fabnet.report import render_plan_report


@dataclass
class PlanRun:
    """What planning a scenario produced."""

    scenario: Scenario
    network: Network
    plan: Plan
    out: Path | None = None


def plan_scenario(path: str | Path, out: str | Path | None = None,
                  report: bool = True, force: bool = False) -> PlanRun:
    """Plan the scenario at `path`; with `out`, write the plan tables, plan.json and report."""
    sc = load_scenario(path)
    net = compile_network(sc)
    plan = make_plan(net)
    run = PlanRun(sc, net, plan)
    if out is not None:
        write_plan(run, Path(out), report, force=force)
        run.out = Path(out)
    return run


def write_plan(run: PlanRun, out: Path, report: bool = True,
               sections: list[tuple[str, str]] | None = None, force: bool = False) -> None:
    """Write a plan's contract tables, plan.json and (optionally) report.html into `out`.

    Files in `out` that fabnet did not write are kept; `force` writes into a folder it did
    not make (see `fabnet.io.safe_write`).
    """
    plan = run.plan
    doc = plan_document(plan.scenario, PLAN_COLUMNS, plan.tables, plan.kpis,
                        plan.bucket_starts)
    extra = {"report.html": render_plan_report(run.network, plan, sections)} if report else {}
    write_plan_dir(out, doc, PLAN_COLUMNS, plan.tables, extra, force=force)
