"""Released work orders the network can't finish: the plan makes what it can of them,
says how much is short, and still plans the rest, instead of failing as infeasible."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabnet.io.scenario_io import load_scenario
from fabnet.model.firm_supply import FirmSupply, FixedProduction
from fabnet.model.network import compile_network
from fabnet.plan import PlanStatus, make_plan
from tests.integration.test_floor import TINY


def _drones(plan: object, bucket: int) -> tuple[float, float]:
    rows = [r for r in plan.rows("production")  # type: ignore[attr-defined]
            if r["site"] == "S1" and r["item"] == "DRONE" and r["bucket"] == bucket]
    return sum(r["qty"] for r in rows), sum(r["firm"] for r in rows)


def test_a_work_order_short_of_hours_is_made_as_far_as_it_can_and_the_rest_reported(
        tmp_path: Path) -> None:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    sc = load_scenario(p)
    # 60 drones in week 0 need 60 × (2 + 0.5) = 150 assembly hours at S1, which has 100
    firm = FirmSupply(production=(FixedProduction("S1", "DRONE", 0, 60.0),))
    plan = make_plan(compile_network(sc, firm=firm))
    assert plan.status is PlanStatus.OPTIMAL
    made, firm_part = _drones(plan, 0)
    assert made == pytest.approx(40.0, abs=1e-6)
    assert firm_part == pytest.approx(40.0, abs=1e-6)
    assert plan.kpis["firm_short"] == pytest.approx(20.0, abs=1e-6)
    assert plan.kpis["units_lost"] == pytest.approx(0.0, abs=1e-6)  # D1 is still served


def test_a_work_order_the_network_can_finish_is_kept_whole(tmp_path: Path) -> None:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    sc = load_scenario(p)
    firm = FirmSupply(production=(FixedProduction("S1", "DRONE", 1, 10.0),))
    plan = make_plan(compile_network(sc, firm=firm))
    made, firm_part = _drones(plan, 1)
    assert made >= 10.0 - 1e-6 and firm_part == pytest.approx(10.0, abs=1e-6)
    assert "firm_short" not in plan.kpis
