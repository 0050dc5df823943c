"""Plan a scenario end to end: read, check, compile, solve, write tables and report."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fabnet.io.plan_io import plan_document, write_plan_dir
from fabnet.io.scenario_io import load_scenario
from fabnet.model.errors import FabnetError
from fabnet.model.network import Network, compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan import PLAN_COLUMNS, Plan, make_plan
from fabnet.plan.whole_units import DEFAULT_TIME_LIMIT, make_whole_unit_plan
from fabnet.report import render_plan_report


@dataclass
class PlanRun:
    """What planning a scenario produced."""

    scenario: Scenario
    network: Network
    plan: Plan
    out: Path | None = None


def read_reference(src: str | Path) -> dict[str, Any]:
    """A reference plan: the plan.json in folder `src` (as `--out` wrote it), or the file."""
    p = Path(src)
    p = p / "plan.json" if p.is_dir() else p
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise FabnetError(f"{p}: can't read the reference plan: {e.strerror} "
                          "(fix: give a plan folder that `fabnet plan --out` wrote)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FabnetError(f"{p}: not a plan document ({e}) "
                          "(fix: give the plan.json that `fabnet plan --out` wrote)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise FabnetError(f"{p}: tables: missing (fix: give the plan.json that "
                          "`fabnet plan --out` wrote)")
    return doc


def plan_scenario(path: str | Path, out: str | Path | None = None, report: bool = True,
                  reference: str | Path | Mapping[str, Any] | None = None,
                  frozen: int = 0, force: bool = False, whole_units: bool = False,
                  mip_time_limit: float | None = None) -> PlanRun:
    """Plan the scenario at `path`; with `out`, write the plan tables, plan.json and report.

    `reference` (a plan document, or a plan folder / plan.json to read one from) makes the
    plan the optimal one closest to it; `frozen` keeps its flows in buckets 0 … frozen-1.
    `whole_units` plans in whole units with order sizes (a MIP, `plan/whole_units.py`)
    under `mip_time_limit` seconds; it takes no reference plan.
    """
    check_whole_units(whole_units, mip_time_limit, reference, frozen)
    if frozen < 0:
        raise FabnetError(f"frozen: must be >= 0, got {frozen} (fix: give 0 or more buckets)")
    if frozen and reference is None:
        raise FabnetError(f"frozen: {frozen} buckets need a reference plan to keep "
                          "(fix: give the plan to keep, e.g. the last plan folder)")
    doc = read_reference(reference) if isinstance(reference, str | Path) else reference
    sc = load_scenario(path)
    sc.horizon.check_frozen(frozen)
    net = compile_network(sc)
    if whole_units:
        plan = make_whole_unit_plan(net, time_limit=mip_time_limit or DEFAULT_TIME_LIMIT)
    else:
        plan = make_plan(net, reference=doc, frozen=frozen)
    run = PlanRun(sc, net, plan)
    if out is not None:
        write_plan(run, Path(out), report, force=force)
        run.out = Path(out)
    return run


#: the longest whole-unit MIP a plan may be given (a week); past it a limit is no limit,
#: and an infinite one can't be handed to the MIP's worker
MAX_MIP_SECONDS = 7 * 24 * 3600


def check_whole_units(whole_units: bool, mip_time_limit: float | None,
                      reference: object = None, frozen: int = 0) -> None:
    """One clear line for options a whole-unit plan can't take."""
    if mip_time_limit is not None and not whole_units:
        raise FabnetError("mip time limit: only a whole-unit plan solves a MIP "
                          "(fix: add --whole-units, or drop --mip-time-limit)")
    if mip_time_limit is not None and not 0 < mip_time_limit <= MAX_MIP_SECONDS:
        raise FabnetError(f"mip time limit: must be > 0 and at most {MAX_MIP_SECONDS:,} "
                          f"seconds (a week), got {mip_time_limit} (fix: give a number of "
                          "seconds, e.g. 60)")
    if whole_units and (reference is not None or frozen):
        raise FabnetError("whole units: a whole-unit plan has no reference level and no "
                          "frozen horizon (fix: drop --reference/--frozen, or plan without "
                          "--whole-units)")


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
