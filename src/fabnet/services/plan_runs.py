"""Plans kept in the store: plan a stored version or a branch with the real solver and
keep the plan (its KPIs and tables) as a plan run; list and read plan runs."""

from __future__ import annotations

import json
from typing import Any

from fabnet.io.plan_io import plan_document
from fabnet.model.errors import FabnetError
from fabnet.services.branches import base_and_branch
from fabnet.store import PlanRun, Store


def plan_stored(store: Store, name: str, version: int | None = None,
                branch: str | None = None, frozen: int = 0, from_floor: bool = True,
                actual_rates: bool = False, whole_units: bool = False,
                mip_time_limit: float | None = None) -> PlanRun:
    """Plan a stored version (or a branch) and keep the plan in the store; with
    `from_floor`, the floor's work orders and stock are its firm supply (firm_supply.py);
    with `actual_rates`, routing hours are the floor's recorded ones (actuals.py). The
    firm supply's notes (quantities moved to the first bucket or left out of the horizon)
    are kept as the plan document's `notes`.

    The last optimal plan kept for the scenario (and branch) is the reference: among the
    optimal plans, the one closest to it; `frozen` keeps its first buckets as they were.
    `whole_units` plans in whole units with order sizes (`plan/whole_units.py`), without
    the reference level, under `mip_time_limit` seconds.
    """
    from fabnet.services.planning import check_whole_units

    check_whole_units(whole_units, mip_time_limit, None, frozen)
    from fabnet.model.network import compile_network
    from fabnet.plan import PLAN_COLUMNS, make_plan

    with store.unit_of_work(read_only=True) as uow:
        if branch is not None:
            b = uow.branches.get(branch)
            name, version = b.scenario, b.base_version
            sc = base_and_branch(uow.scenarios, b)[1]
        else:
            version = uow.scenarios.info(name, version).version
            sc = uow.scenarios.get(name, version)
        last = next((r for r in uow.plan_runs.all(name, 20)
                     if r.branch == branch and r.status == "optimal"), None)
    if frozen and last is None:
        raise FabnetError(f"frozen: {frozen} buckets of {name!r} need a stored plan to keep "
                          "(fix: plan it once without frozen)")
    from fabnet.services.firm_supply import firm_supply
    firm = firm_supply(store, name, sc) if from_floor else None
    net = compile_network(sc, firm=firm)
    if actual_rates:
        from fabnet.services.actuals import actual_rates as rates_of
        from fabnet.services.actuals import apply_actual_rates
        net = apply_actual_rates(net, rates_of(store, name))
    if whole_units:
        from fabnet.plan.whole_units import DEFAULT_TIME_LIMIT, make_whole_unit_plan
        plan = make_whole_unit_plan(net, time_limit=mip_time_limit or DEFAULT_TIME_LIMIT)
    else:
        # the model is kept per database, scenario and branch: a re-plan after a
        # capacity edit re-solves it warm (plan/kept.py)
        plan = make_plan(net, reference=last.document if last else None,
                         frozen=frozen, keep=(str(store.engine.url), name, branch))
    doc = _jsonable(plan_document(plan.scenario, PLAN_COLUMNS, plan.tables, plan.kpis,
                                  plan.bucket_starts))
    if firm is not None and firm.notes:  # firm quantities moved or left out, and why
        doc["notes"] = list(firm.notes)
    with store.unit_of_work() as uow:
        run = uow.plan_runs.add(name, version, branch, str(plan.status), doc["kpis"], doc)
        uow.commit()
    return run


def _jsonable(doc: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON (numpy numbers, dates and enums turned into JSON values)."""
    def default(v: Any) -> Any:
        if hasattr(v, "item"):
            return v.item()
        return str(v)

    out: dict[str, Any] = json.loads(json.dumps(doc, default=default))
    return out


def list_plan_runs(store: Store, scenario: str | None = None, limit: int = 50
                   ) -> list[PlanRun]:
    """The newest plan runs first."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.plan_runs.all(scenario, limit)


def get_plan_run(store: Store, run_id: int) -> PlanRun:
    """One stored plan run."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.plan_runs.get(run_id)
