"""A re-plan through a kept model writes a cold plan's whole output, not just its levels.

A kept re-plan copies the kept LP with the new capacities instead of building it
(`KeptModels.lp_for`), settles with the kept model's matrix slices (`plan.ReadBack`)
and words shortfalls with per-level and per-item lookups. Checked here: the copied LP
is the built one field by field, and only when the networks differ in capacities alone
(a capacity that changes kind, a new demand, a new lane capacity all build); the
re-plan's tables, shortfall reasons and KPIs are, to the last bit, those the plain
read-back (every part made afresh from a built LP, the solution settled per use) gives
for the same solution; and, where the optimal plan is unique, those of a cold plan.
Parts kept for one structure are refused by an LP of another.
"""

from __future__ import annotations

import dataclasses
import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from benchmarks.synthetic import synthetic_scenario

from fabnet.io.scenario_io import load_scenario
from fabnet.model import compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan import Plan, make_plan, read_back
from fabnet.plan.kept import KEPT, same_network
from fabnet.plan.lp import PlanningLP, build_lp, with_bounds
from fabnet.plan.plan import ReadBack, assemble_plan, demand_outcome, settle_solution
from fabnet.plan.shortfall import explain_shortfalls
from fabnet.plan.solve import LexicographicSolver, PlanResult
from tests.integration.test_known_optima import ALL

#: networks whose optimal plan is unique through the edits below (on priority,
#: struck_site and uk_plant_idle some edits leave ties, which a warm and a cold solve,
#: or a perturbed and an unperturbed start, may break differently: the same levels and
#: KPIs, other flows)
UNIQUE = ("both_in_time", "capacity_limited", "embargo", "late_but_cheap", "lead_time",
          "ramp", "uk_plant_needed", "two_plants")
#: two products, each made at a plant of its own and short there: each demand's reason
#: names its own plant's work center (and a re-plan's, after an edit, too)
TWO_PLANTS = """\
horizon: {start: 2027-01-04, bucket: week, buckets: 3}
customers: [{id: UA-MOD, country: UA}]
scenario: two plants short
items: [{id: A, kind: product, holding_cost: 1}, {id: B, kind: product, holding_cost: 1}]
routings:
  A: [{work_center: assembly, hours: 2}]
  B: [{work_center: welding, hours: 1}]
sites:
  - {id: FR-LYON, country: FR, makes: [A], work_centers: [{type: assembly, hours: 100}]}
  - {id: UK-PLANT, country: GB, makes: [B], work_centers: [{type: welding, hours: 40}]}
lanes:
  - {from: FR-LYON, to: UA-MOD, transit: 0}
  - {from: UK-PLANT, to: UA-MOD, transit: 0}
demand:
  - {id: DA, customer: UA-MOD, item: A, qty: 300, due: 2027-01-18}
  - {id: DB, customer: UA-MOD, item: B, qty: 150, due: 2027-01-18}
"""
#: (work center, hours factor) edits in a row: down, up, far down, back
EDITS = ((0, 0.7), (0, 1.5), (0, 0.2), (0, 1.0))
#: KPIs that time the run rather than describe the plan
TIMINGS = ("solve_seconds", "build_seconds", "readback_seconds")


def _scenario(tmp_path: Path, name: str) -> Scenario:
    path = tmp_path / f"{name}.yaml"
    text = TWO_PLANTS if name == "two_plants" else textwrap.dedent(ALL[name])
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


def _with_hours(sc: Scenario, index: int, factor: float) -> Scenario:
    """`sc` with work center `index`'s hours scaled: one capacity edited."""
    wcs = list(sc.work_centers)
    wcs[index] = dataclasses.replace(wcs[index], hours=wcs[index].hours * factor)
    return dataclasses.replace(sc, work_centers=tuple(wcs))


def _same_lp(a: PlanningLP, b: PlanningLP) -> None:
    """Every field of two LPs equal, entry for entry."""
    for f in dataclasses.fields(PlanningLP):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, sp.spmatrix | sp.sparray):
            x, y = sp.csc_matrix(x), sp.csc_matrix(y)
            assert x.shape == y.shape, f.name
            for part in ("indptr", "indices", "data"):
                assert np.array_equal(getattr(x, part), getattr(y, part)), f.name
        elif isinstance(x, np.ndarray):
            assert np.array_equal(x, y), f.name
        elif isinstance(x, dict):
            assert x.keys() == y.keys(), f.name
            for k in x:
                assert np.array_equal(np.asarray(x[k]), np.asarray(y[k])), (f.name, k)
        else:
            assert x == y, f.name


def _output(plan: Plan) -> tuple[dict[str, list[tuple[Any, ...]]], dict[str, Any]]:
    """A plan's tables and KPIs without the run's timings."""
    kpis = {k: v for k, v in plan.kpis.items() if k not in TIMINGS}
    tables = dict(plan.tables)
    tables["kpis"] = [(k, v) for k, v in tables["kpis"] if k not in TIMINGS]
    return tables, kpis


def _plain_read_back(sc: Scenario, result: PlanResult) -> Plan:
    """The read-back with nothing kept: a freshly built LP, every part made for it, the
    solution settled for the outcome and again for the tables."""
    net = compile_network(sc)
    lp = build_lp(net)
    outcome = demand_outcome(net, lp, result.x)
    short = explain_shortfalls(net, lp, result, outcome["late"], outcome["lost"])
    return assemble_plan(net, lp, result, short)


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-6)
    return a == b


def _same_kpis(warm: Plan, cold: Plan) -> None:
    """The same levels and KPIs (to the solver's tolerance), whatever ties were broken."""
    assert warm.levels.keys() == cold.levels.keys()
    for k, v in cold.levels.items():
        assert _close(warm.levels[k], v), k
    assert warm.kpis.keys() == cold.kpis.keys()
    for k, v in cold.kpis.items():
        if k not in TIMINGS:
            assert _close(warm.kpis[k], v), k


def _same_tables(warm: Plan, cold: Plan) -> None:
    """Every row of every table alike (quantities to the solver's tolerance; ids, dates
    and shortfall reasons exactly), in any order."""
    for name, rows in warm.tables.items():
        if name == "kpis":
            continue
        a, b = sorted(rows, key=str), sorted(cold.tables[name], key=str)
        assert len(a) == len(b), name
        for x, y in zip(a, b, strict=True):
            assert len(x) == len(y) and all(map(_close, x, y)), (name, x, y)


def _cold(sc: Scenario) -> Plan:
    """A cold plan of `sc` as a stored scenario's first plan is made: through a new kept
    model (whose start is the perturbed one, as every kept model's)."""
    key = ("cold", repr(sc))
    try:
        return make_plan(compile_network(sc), keep=key)
    finally:
        KEPT.forget(key)


def _re_plan(key: tuple[str, str], sc: Scenario) -> tuple[PlanningLP, PlanResult, bool,
                                                          ReadBack]:
    """Re-plan `sc` as `make_plan` does under `key`: its LP, result, whether the kept
    model was re-used, and the read-back parts it hands out."""
    net = compile_network(sc)
    lp = KEPT.lp_for(key, net)
    result, reused, readback = KEPT.solve_kept(key, net, lp)
    return lp, result, reused, readback


@pytest.mark.parametrize("name", UNIQUE)
def test_a_re_plan_writes_a_cold_plans_tables_reasons_and_kpis(tmp_path: Path,
                                                                name: str) -> None:
    sc = _scenario(tmp_path, name)
    key = ("output", name)
    make_plan(compile_network(sc), keep=key)
    patched, reused = KEPT.patched, KEPT.reused
    for index, factor in EDITS:
        edited = _with_hours(sc, index, factor)
        warm = make_plan(compile_network(edited), keep=key)
        cold = _cold(edited)
        _same_tables(warm, cold)  # shortfall reasons word for word among them
        _same_tables(warm, make_plan(compile_network(edited)))  # no model kept at all
        _same_kpis(warm, cold)
    # every edit kept each capacity's kind, so each copied the kept LP and re-used it
    assert (KEPT.patched - patched, KEPT.reused - reused) == (len(EDITS), len(EDITS))
    KEPT.forget(key)


@pytest.mark.parametrize("name", ("struck_site", "uk_plant_idle", "uk_plant_needed",
                                  "synthetic"))
def test_a_re_plans_output_is_the_plain_read_back_of_its_solution(tmp_path: Path,
                                                                   name: str) -> None:
    sc = (synthetic_scenario(5, 40, 10, 4, 12, seed=7) if name == "synthetic"
          else _scenario(tmp_path, name))
    key = ("plain read-back", name)
    _re_plan(key, sc)
    edits = (*EDITS, (1, 0.3), (1, 0.05)) if len(sc.work_centers) > 1 else EDITS
    for index, factor in edits:
        edited = _with_hours(sc, index, factor)
        lp, result, reused, readback = _re_plan(key, edited)
        assert reused
        net = compile_network(edited)
        _same_lp(lp, build_lp(net))
        kept = read_back(net, lp, result, readback)
        assert _output(kept) == _output(_plain_read_back(edited, result))
        assert _output(kept) == _output(read_back(net, lp, result))  # parts made afresh
    KEPT.forget(key)


def test_a_capacity_that_changes_kind_is_built_not_copied(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, "uk_plant_needed")
    key = ("kind", str(tmp_path))
    make_plan(compile_network(sc), keep=key)
    base = compile_network(sc)
    # a work center down to no hours, and an unlimited lane given a capacity: the first
    # changes no entry of the LP but its bounds, the second opens early deliveries
    shut = _with_hours(sc, 0, 0.0)
    lanes = list(sc.lanes)
    i = next(k for k, ln in enumerate(lanes) if ln.destination == "UA-MOD")
    lanes[i] = dataclasses.replace(lanes[i], capacity=1000.0)
    capped = dataclasses.replace(sc, lanes=tuple(lanes))
    for edited in (shut, capped):
        net = compile_network(edited)
        assert not same_network(base, net)
        patched = KEPT.patched
        lp = KEPT.lp_for(key, net)
        assert KEPT.patched == patched  # built
        _same_lp(lp, build_lp(net))
        _same_kpis(make_plan(net, keep=key), make_plan(compile_network(edited)))
    # copying the kept LP for the capped lane would have kept its early deliveries shut
    capped_net = compile_network(capped)
    copied = with_bounds(build_lp(base), capped_net)
    assert not np.array_equal(copied.col_upper, build_lp(capped_net).col_upper)
    KEPT.forget(key)


def test_a_new_demand_builds_a_new_model_with_parts_of_its_own(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, "uk_plant_needed")
    key = ("structure", str(tmp_path))
    _, _, _, old_parts = _re_plan(key, sc)
    more = dataclasses.replace(sc.demand[0], id="D2", qty=15.0)
    moved = dataclasses.replace(sc, demand=(*sc.demand, more))
    patched = KEPT.patched
    lp, result, reused, parts = _re_plan(key, moved)
    assert not reused and KEPT.patched == patched
    assert parts is not old_parts and parts.fits(lp) and not old_parts.fits(lp)
    net = compile_network(moved)
    with pytest.raises(ValueError, match="another structure"):
        settle_solution(net, lp, result.x, old_parts)
    assert _output(read_back(net, lp, result, parts)) == _output(
        _plain_read_back(moved, result))
    # and the next capacity edit of the new structure re-uses the new model
    lp, result, reused, again = _re_plan(key, _with_hours(moved, 0, 0.6))
    assert reused and again is parts
    _same_kpis(make_plan(compile_network(_with_hours(moved, 0, 0.7)), keep=key),
               make_plan(compile_network(_with_hours(moved, 0, 0.7))))
    KEPT.forget(key)


def test_each_short_demand_names_the_work_center_of_its_own_item(tmp_path: Path) -> None:
    sc = _scenario(tmp_path, "two_plants")
    key = ("two plants", str(tmp_path))
    make_plan(compile_network(sc), keep=key)
    for factor in (1.0, 0.5):  # the first plan, then a re-plan of an edit
        plan = make_plan(compile_network(_with_hours(sc, 1, factor)), keep=key)
        why = {r[0]: r[3] for r in plan.tables["shortfalls"]}
        assert why.keys() == {"DA", "DB"}
        assert "FR-LYON/assembly at capacity" in why["DA"] and "UK-PLANT" not in why["DA"]
        assert "UK-PLANT/welding at capacity" in why["DB"] and "FR-LYON" not in why["DB"]
    assert KEPT.patched >= 1
    KEPT.forget(key)


def test_a_kept_models_first_plan_starts_perturbed() -> None:
    # its basis is the one re-plans start from: the perturbed start's re-solves warm in
    # fewer pivots than the unperturbed one's (which a plan with no kept model takes)
    sc = synthetic_scenario(5, 40, 10, 4, 12, seed=7)
    net = compile_network(sc)
    key = ("perturbed start", "synthetic")
    make_plan(net, keep=key)
    perturbed = LexicographicSolver(build_lp(net), perturbed_start=True).solve()
    unperturbed = LexicographicSolver(build_lp(net)).solve()
    assert perturbed.start_iterations != unperturbed.start_iterations  # the test can tell
    assert KEPT.last_pivots[0] == perturbed.start_iterations
    KEPT.forget(key)
