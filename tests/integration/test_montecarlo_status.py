"""Every stress-test future carries its solver status; failed futures are counted, never
turned into a fill rate, a loss or "no loss", and statistics are over the solved ones."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from fabnet.io import load_scenario
from fabnet.model import Scenario
from fabnet.plan import PlanStatus
from fabnet.resilience.montecarlo import stress_test
from fabnet.services.continuity import montecarlo
from tests.integration.test_continuity import TWO_PLANTS


@pytest.fixture
def two_plants_path(tmp_path: Path) -> Path:
    p = tmp_path / "two.yaml"
    p.write_text(TWO_PLANTS)
    return p


@pytest.fixture
def two_plants(two_plants_path: Path) -> Scenario:
    return load_scenario(two_plants_path)


def test_futures_stopped_by_an_iteration_limit_are_counted_not_scored(
        two_plants: Scenario) -> None:
    # presolve off: with it, the delivery levels' small model of this network is solved by
    # presolve alone, exactly, with no simplex pivot for the limit to stop
    res = stress_test(two_plants, 6, seed=7,
                      options={"simplex_iteration_limit": 0, "presolve": "off"})
    assert res.status == [PlanStatus.ITERATION_LIMIT] * 6
    s = res.summary()
    assert (s["samples"], s["solved"], s["failed"], s["failed_iteration_limit"]) == (6, 0, 6, 6)
    for k in ("fill_mean", "fill_min", "p_fill_ge_target", "worst5_mean_fill",
              "units_lost_mean"):
        assert s[k] is None, k
    assert res.critical_counts == {}
    assert all(v is None for v in res.units_lost_mean_by_item().values())


def test_futures_that_cannot_keep_the_frozen_plan_are_failed_and_left_out(
        two_plants_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "mc"
    res = montecarlo(two_plants_path, 12, seed=7, out=out, frozen=10)
    assert 0 < res.failed < res.samples
    assert set(res.failed_by_status) == {"infeasible"}
    ok = res.solved_mask
    summary = json.loads((out / "summary.json").read_text())
    assert summary["solved"] == int(ok.sum()) and summary["failed"] == res.failed
    assert summary["failed_infeasible"] == res.failed
    assert summary["fill_mean"] == pytest.approx(float(res.fill[ok].mean()))
    assert summary["fill_min"] == pytest.approx(float(res.fill[ok].min()))
    with (out / "samples.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12
    for row, solved in zip(rows, ok, strict=True):
        if solved:
            assert row["status"] == "optimal" and float(row["fill_rate"]) > 0
        else:
            assert row["status"] == "infeasible"
            assert row["fill_rate"] == "" and row["lost_Q"] == ""
    html = (out / "report.html").read_text()
    assert f"{res.failed} of 12 futures did not solve ({res.failed} infeasible)" in html
    assert np.isnan(res.fill[~ok]).all()


def test_same_seed_same_statuses_with_more_workers(two_plants: Scenario) -> None:
    a = stress_test(two_plants, 12, seed=7, frozen=10)
    b = stress_test(two_plants, 12, seed=7, frozen=10, workers=2)
    assert a.status == b.status
    assert a.summary() == b.summary()
