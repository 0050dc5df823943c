"""A recall on SQLite and PostgreSQL: the delivered units that carry a lot become
priority-1 replacement demand in a what-if branch, which is planned and compared with the
base plan; `fabnet trace LOT --down --recall` prints it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.services import branches as branch_svc
from fabnet.services import database as db_svc
from fabnet.services import floor as fl
from fabnet.services import plan_runs as plan_svc
from fabnet.services.recall import recall
from fabnet.shop.errors import FloorError, NotPermitted
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from tests.integration.test_floor import ADMIN, _pass_all, _ready_drones
from tests.integration.test_floor import store as store  # noqa: F401 - fixture
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures


def _ship_three(store: Store) -> list[str]:  # noqa: F811
    """Three drones from cell lot C-1, two shipped to OK, one still in stock."""
    serials = _ready_drones(store, 3)
    for s in serials:
        _pass_all(store, s)
    fl.ship(store, ADMIN, "OK", serials[:2])
    return serials


def test_a_recall_owes_a_replacement_per_delivered_unit_and_plans_it(
        store: Store) -> None:  # noqa: F811
    serials = _ship_three(store)
    r = recall(store, ADMIN, "C-1", today=date(2026, 6, 1))
    assert {u.serial for u in r.units} == set(serials[:2])  # not the one in stock
    assert [(x.customer, x.item, x.qty, x.due) for x in r.replacements] == [
        ("OK", "DRONE", 2, date(2027, 1, 4))]  # the horizon's first day
    assert r.branch == "recall-C-1" and r.status == "optimal"
    branch = branch_svc.materialize(store, r.branch)
    added = [d for d in branch.demand if d.id == r.replacements[0].id]
    assert len(added) == 1 and added[0].priority == 1 and added[0].qty == 2
    assert r.delta["units_demanded"] == 2
    assert r.delta["units_delivered"] == pytest.approx(2, abs=1e-6)
    assert r.delta["cost_total"] > 0  # two more drones are bought and made
    runs = plan_svc.list_plan_runs(store, "tiny")
    assert {(x.id, x.branch) for x in runs} >= {(r.run, "recall-C-1"), (r.base_run, None)}
    again = recall(store, ADMIN, "C-1", today=date(2027, 1, 12))
    assert again.branch == "recall-C-1-2"
    assert again.replacements[0].due == date(2027, 1, 12)  # today, inside the horizon


def test_a_recall_needs_delivered_units_and_a_what_if_role(store: Store) -> None:  # noqa: F811
    _ready_drones(store, 1)
    with pytest.raises(FloorError, match="no delivered unit carries C-1"):
        recall(store, ADMIN, "C-1")
    with pytest.raises(NotPermitted, match="may not open a recall"):
        recall(store, Caller("quinn", Role.QUALITY), "C-1")
    _ship_one(store)
    with pytest.raises(FloorError, match="before the replacements could be due"):
        recall(store, ADMIN, "C-1", today=date(2027, 3, 1))  # after the 4 weeks


def _ship_one(store: Store) -> str:  # noqa: F811
    """Ship the untested drone built above (tested first); its serial."""
    with store.unit_of_work(read_only=True) as uow:
        serial = uow.connection.exec_driver_sql(
            "SELECT serial FROM units WHERE item = 'DRONE'").scalar_one()
    _pass_all(store, serial)
    fl.ship(store, ADMIN, "OK", [serial])
    return str(serial)


def test_trace_down_recall_prints_what_the_recall_costs(tmp_path: Path) -> None:
    from tests.integration.test_floor import TINY

    run = CliRunner()
    env = {"FABNET_DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite'}", "FABNET_USER": "lee"}
    (tmp_path / "tiny.yaml").write_text(TINY)
    for args in (["db", "init"], ["db", "import", str(tmp_path / "tiny.yaml"), "--name",
                                  "tiny"], ["db", "plan", "tiny"]):
        assert run.invoke(app, args, env=env).exit_code == 0
    store = db_svc.connect(env["FABNET_DATABASE_URL"], "lee")
    _ship_three(store)
    store.engine.dispose()
    r = run.invoke(app, ["trace", "C-1", "--down", "--recall", "--branch", "bad-cells"],
                   env=env)
    assert r.exit_code == 0, r.output
    assert "bad-cells" in r.output and "units_lost" in r.output and "cost_total" in r.output
    r = run.invoke(app, ["trace", "C-1", "--down", "--recall", "--json"], env=env)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["recall"]["branch"] == "recall-C-1" and doc["delta"]["units_demanded"] == 2
    assert len(doc["trace"]["units"]) >= 3
    r = run.invoke(app, ["trace", "C-1", "--up", "--recall"], env=env)
    assert r.exit_code != 0 and "add --down" in r.output
