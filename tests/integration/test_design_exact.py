"""Exact redundancy design: the stochastic MIP and Benders choose what brute-force
enumeration chooses, the bound they prove holds, and the method named is the one run."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fabnet.io import load_scenario
from fabnet.model import Scenario
from fabnet.model.mitigation import Mitigation, MitigationKind
from fabnet.resilience.design import Method, Objective, Search, design
from fabnet.resilience.second_stage import SecondStageError, build_second_stage

from .test_design import FUTURES, SEED, SMALL, design_cli

BUDGETS = (0.0, 2500.0, 5000.0, 12000.0, 1e9)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    p = tmp_path_factory.mktemp("exact") / "small.yaml"
    p.write_text(SMALL)
    return load_scenario(p)


@pytest.fixture(scope="module")
def brute(small: Scenario) -> dict[tuple[Objective, float], tuple[float, float]]:
    """Per objective and budget: the best value over every affordable subset, and the
    units of the objective lost with no mitigation (enumeration re-plans every subset)."""
    out = {}
    for objective in Objective:
        for b in BUDGETS:
            d = design(small, b, FUTURES, SEED, objective, search=Search.REPLAN,
                       marginal_step=None)
            assert d.method is Method.ENUMERATION
            out[objective, b] = (d.after.value(objective), d.before.value(objective))
    return out


@pytest.mark.parametrize("objective", list(Objective))
@pytest.mark.parametrize("search", [Search.MIP, Search.BENDERS])
def test_exact_choice_equals_enumeration_and_bound_holds(
        small: Scenario, brute: dict[tuple[Objective, float], tuple[float, float]],
        objective: Objective, search: Search) -> None:
    for b in BUDGETS:
        d = design(small, b, FUTURES, SEED, objective, search=search, marginal_step=None)
        best, before = brute[objective, b]
        assert d.method is (Method.MIP if search is Search.MIP else Method.BENDERS)
        assert d.after.value(objective) == pytest.approx(best, abs=1e-6)
        assert d.after.cost <= b + 1e-9
        assert d.bound_saved is not None
        assert d.bound_saved >= before - best - 1e-9  # no set saves more than the bound
        assert d.bound.startswith("exact")  # one priority class: the choice is optimal


def test_auto_runs_the_mip_where_it_fits_and_benders_where_not(small: Scenario) -> None:
    assert design(small, 5000, FUTURES, SEED, marginal_step=None).method is Method.MIP
    d = design(small, 5000, FUTURES, SEED, marginal_step=None, extensive_limit=0)
    assert d.method is Method.BENDERS and "Benders' master" in d.bound
    assert set(d.after.chosen) == {"fc-buffer", "batt-buffer"}


def test_benders_stopped_early_is_a_dual_guided_search_with_a_valid_bound(
        small: Scenario, brute: dict[tuple[Objective, float], tuple[float, float]]) -> None:
    d = design(small, 5000, FUTURES, SEED, search=Search.BENDERS, rounds=0,
               marginal_step=None)
    best, before = brute[Objective.EXPECTED, 5000.0]
    assert d.method is Method.DUAL_GUIDED and "stopped after 0 rounds" in d.bound
    assert d.bound_saved is not None and d.bound_saved >= before - best - 1e-9


def test_duals_value_each_candidate_at_the_margin(small: Scenario) -> None:
    d = design(small, 5000, FUTURES, SEED, marginal_step=None)
    assert set(d.dual_value) == {m.id for m in small.mitigations}
    assert d.dual_value["hub-hours"] > 0  # more hours alone save units
    assert d.dual_value["useless-lane"] == pytest.approx(0.0, abs=1e-6)
    assert d.lp_solves > 0


def test_several_priority_classes_keep_a_valid_bound(small: Scenario) -> None:
    two = replace(small, demand=(small.demand[0], replace(small.demand[1], priority=2)))
    for objective in Objective:
        exact = design(two, 5000, FUTURES, SEED, objective, marginal_step=None)
        enum = design(two, 5000, FUTURES, SEED, objective, search=Search.REPLAN,
                      marginal_step=None)
        assert exact.method is Method.MIP and exact.bound_saved is not None
        best_saving = enum.before.value(objective) - enum.after.value(objective)
        assert exact.bound_saved >= best_saving - 1e-9
        assert exact.after.value(objective) <= enum.before.value(objective) + 1e-9


def test_candidates_on_one_work_center_fall_back_to_re_planning(small: Scenario) -> None:
    more = Mitigation("hub-hours-2", MitigationKind.HOURS, 4000, site="HUB",
                      work_center="assembly", hours=20)
    both = replace(small, mitigations=(*small.mitigations, more))
    with pytest.raises(SecondStageError, match="assembly"):
        build_second_stage(both)
    d = design(both, 5000, 4, SEED, marginal_step=None)
    assert d.method is Method.GREEDY_SWAP or d.method is Method.ENUMERATION


def test_marginal_budget_reuses_the_exact_method(small: Scenario) -> None:
    d = design(small, 5000, FUTURES, SEED, marginal_step=10000, extensive_limit=0)
    assert d.marginal is not None and set(d.marginal.chosen) == {
        "fc-buffer", "batt-buffer", "hub-hours"}
    assert d.marginal_saved is not None and d.marginal_saved > 0


def test_cli_names_the_method_and_bound(tmp_path: Path) -> None:
    import json

    got, out = design_cli(tmp_path, "--method", "benders", "--no-matrix")
    s = json.loads((out / "summary.json").read_text())
    assert s["method"] == "benders" and s["bound_units_saved"] >= s["units_saved_expected"]
    assert "benders" in got.output


def test_buffers_of_one_stock_add_up(small: Scenario) -> None:
    half = next(m for m in small.mitigations if m.id == "fc-buffer")
    more = replace(small, mitigations=(*small.mitigations,
                                       replace(half, id="fc-buffer-2", qty=60, cost=1000)))
    for b in (3000.0, 6000.0):
        exact = design(more, b, FUTURES, SEED, marginal_step=None)
        enum = design(more, b, FUTURES, SEED, search=Search.REPLAN, marginal_step=None)
        assert exact.method is Method.MIP and enum.method is Method.ENUMERATION
        assert exact.after.expected == pytest.approx(enum.after.expected, abs=1e-6)
