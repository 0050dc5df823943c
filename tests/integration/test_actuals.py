"""Recorded operation times give actual hours per unit per work center (SQLite and
PostgreSQL), compared with the routing's, and a stored plan can run on them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fabnet.cli.app import app
from fabnet.services import database as db_svc
from fabnet.services import floor as fl
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.actuals import actual_rates
from fabnet.store import Store
from tests.integration.test_floor import ADMIN, TINY
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures


def _at(hour: int) -> datetime:
    return datetime(2027, 1, 4, hour, tzinfo=UTC)


@pytest.fixture
def store(url: str, tmp_path: Path) -> Iterator[Store]:  # noqa: F811
    """Tiny floor: 2 packs built in 3 h, 2 drones in 2 h, 1 more pack with no times."""
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    scenario_svc.import_scenario(s, p, "tiny")
    plan_svc.plan_stored(s, "tiny")
    orders = {o.item: o for o in fl.release(s, ADMIN, "tiny")}
    fl.receive(s, ADMIN, "S1", "CELL", "C-1", 12, "SUP")
    fl.receive(s, ADMIN, "S1", "FRAME", "F-1", 2, "SUP")
    fl.build(s, ADMIN, orders["PACK"].id, 2, started=_at(8), ended=_at(11))
    fl.build(s, ADMIN, orders["DRONE"].id, 2, started=_at(12), ended=_at(14))
    fl.build(s, ADMIN, orders["PACK"].id, 1)  # no start recorded: no time on record
    yield s
    s.engine.dispose()


def test_recorded_times_give_actual_hours_per_unit(store: Store) -> None:
    got = {(r.site, r.item, r.work_center): (r.units, r.actual_hours, r.routing_hours)
           for r in actual_rates(store, "tiny")}
    assert got == {
        ("S1", "PACK", "assembly"): (2.0, pytest.approx(1.5), 0.5),  # 3 h over 2 packs
        ("S1", "DRONE", "assembly"): (2.0, pytest.approx(1.0), 2.0),  # 2 h over 2 drones
        ("S1", "DRONE", "flight-test"): (2.0, pytest.approx(1.0), 0.5),
    }


def test_plan_with_actual_rates_loads_work_centers_at_the_recorded_hours(
        store: Store) -> None:
    doc = plan_svc.plan_stored(store, "tiny", actual_rates=True).document
    made: dict[tuple[str, int], float] = {}
    for r in doc["tables"]["production"]:
        made[(r["item"], r["bucket"])] = made.get((r["item"], r["bucket"]), 0.0) + r["qty"]
    for r in doc["tables"]["load"]:
        if r["site"] == "S1" and r["work_center"] == "assembly":
            t = r["bucket"]
            want = 1.5 * made.get(("PACK", t), 0.0) + 1.0 * made.get(("DRONE", t), 0.0)
            assert r["hours_used"] == pytest.approx(want)
    assert any(r["hours_used"] > 0 for r in doc["tables"]["load"])
    assert doc["kpis"]["status"] == "optimal"


def test_db_actuals_prints_actual_against_routing(store: Store, url: str) -> None:  # noqa: F811
    res = CliRunner().invoke(app, ["db", "actuals", "tiny", "--url", url, "--as", "alice"])
    assert res.exit_code == 0, res.output
    assert "PACK" in res.output and "300%" in res.output  # 1.5 h against 0.5 h
