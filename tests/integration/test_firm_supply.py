"""A stored scenario's plan starts from the floor (SQLite and PostgreSQL): released work
orders are production it keeps and never plans twice, floor stock replaces the opening
inventory, and the result equals the plan of a file holding the same stock and fixed
production."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fabnet.io.plan_io import plan_document, write_plan_dir
from fabnet.io.scenario_io import load_scenario
from fabnet.model.errors import ScenarioError
from fabnet.model.firm_supply import FirmSupply, FixedProduction, OpeningStock
from fabnet.model.network import compile_network
from fabnet.plan import PLAN_COLUMNS, make_plan
from fabnet.services import database as db_svc
from fabnet.services import floor as fl
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.firm_supply import firm_supply
from fabnet.store import Store
from tests.integration.test_floor import ADMIN, TINY
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures
from tests.plancheck import check_plan

#: KPIs that are timings or sizes, not the plan's content
TIMINGS = {"solve_seconds", "build_seconds", "readback_seconds", "lp_columns", "lp_rows"}


@pytest.fixture
def store(url: str, tmp_path: Path) -> Iterator[Store]:  # noqa: F811
    """The tiny floor network, planned and released, with one drone built at S1.

    Plan 1 makes 4 packs and 4 drones at S1 for D1 (4 drones); the floor then builds one
    pack and one drone from it: 3 of each are left on their work orders, one drone
    (built, untested) is on hand, and the lots received are used up.
    """
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    scenario_svc.import_scenario(s, p, "tiny")
    plan_svc.plan_stored(s, "tiny")
    orders = {o.item: o for o in fl.release(s, ADMIN, "tiny")}
    assert orders["DRONE"].qty == 4 and orders["PACK"].qty == 4
    fl.receive(s, ADMIN, "S1", "CELL", "C-1", 4, "SUP")
    fl.receive(s, ADMIN, "S1", "FRAME", "F-1", 1, "SUP")
    fl.build(s, ADMIN, orders["PACK"].id, 1)
    fl.build(s, ADMIN, orders["DRONE"].id, 1)
    yield s
    s.engine.dispose()


def _made(doc: dict[str, Any], item: str) -> tuple[float, float]:
    """(units produced, of which firm) of `item` in a plan document, to the solver's
    tolerance (each level is held to 1e-7 + 1e-9 × its value)."""
    rows = [r for r in doc["tables"]["production"] if r["item"] == item]
    return round(sum(r["qty"] for r in rows), 6), sum(r["firm"] for r in rows)


def test_firm_supply_reads_remaining_work_orders_and_floor_stock(store: Store) -> None:
    firm = firm_supply(store, "tiny")
    by_item = {x.item: x for x in firm.production}
    assert {(x.site, x.item, x.qty) for x in firm.production} == {
        ("S1", "DRONE", 3.0), ("S1", "PACK", 3.0)}
    orders = {o.item: o for o in fl.list_orders(store, ADMIN, "tiny")}
    assert by_item["DRONE"].bucket == orders["DRONE"].due_bucket
    # the cells and frames went into the build; the pack is inside the drone
    assert {(x.site, x.item): x.qty for x in firm.stock} == {
        ("S1", "CELL"): 0.0, ("S1", "FRAME"): 0.0, ("S1", "PACK"): 0.0, ("S1", "DRONE"): 1.0}
    assert firm.notes == ()  # nothing moved to bucket 0 or left out of the horizon


def test_a_released_work_order_is_never_planned_twice(store: Store) -> None:
    doc = plan_svc.plan_stored(store, "tiny").document
    # 4 drones demanded: 1 on hand + 3 the work order still makes, nothing more
    assert _made(doc, "DRONE") == (3.0, 3.0)
    assert _made(doc, "PACK") == (3.0, 3.0)
    assert doc["kpis"]["units_delivered"] == pytest.approx(4.0)
    # releasing this plan adds no work order: all its production is already firm
    assert fl.release(store, ADMIN, "tiny") == []


def test_more_demand_is_made_on_top_of_the_firm_quantity(store: Store,
                                                         tmp_path: Path) -> None:
    p = tmp_path / "tiny6.yaml"
    p.write_text(TINY.replace("qty: 4, due: 2027-01-18", "qty: 6, due: 2027-01-18"))
    scenario_svc.import_scenario(store, p, "tiny")
    doc = plan_svc.plan_stored(store, "tiny").document
    assert _made(doc, "DRONE") == (5.0, 3.0)  # 3 firm + 2 new, 1 on hand
    assert doc["kpis"]["units_delivered"] == pytest.approx(6.0)


def test_plan_without_the_floor_ignores_it(store: Store) -> None:
    doc = plan_svc.plan_stored(store, "tiny", from_floor=False).document
    assert _made(doc, "DRONE") == (4.0, 0.0)


def test_floor_plan_equals_the_file_plan_with_the_same_stock_and_firm_production(
        store: Store, tmp_path: Path) -> None:
    reference = plan_svc.list_plan_runs(store, "tiny")[0].document
    floor_doc = plan_svc.plan_stored(store, "tiny").document
    orders = {o.item: o for o in fl.list_orders(store, ADMIN, "tiny")}
    p = tmp_path / "same.yaml"
    p.write_text(TINY + "inventory: [{site: S1, item: DRONE, qty: 1}]\n")
    sc = load_scenario(p)
    fixed = FirmSupply(production=tuple(
        FixedProduction("S1", item, orders[item].due_bucket, 3.0) for item in ("DRONE", "PACK")))
    plan = make_plan(compile_network(sc, firm=fixed), reference=reference)
    out = tmp_path / "plan"
    doc = plan_document(plan.scenario, PLAN_COLUMNS, plan.tables, plan.kpis,
                        plan.bucket_starts)
    write_plan_dir(out, doc, PLAN_COLUMNS, plan.tables, {})
    assert check_plan(sc, out) == []

    def content(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d["kpis"].items() if k not in TIMINGS}

    assert content(floor_doc) == content(doc)
    key = ("site", "item", "bucket")
    assert sorted((tuple(r[k] for k in key), r["qty"], r["firm"])
                  for r in floor_doc["tables"]["production"]) == sorted(
        (tuple(r[k] for k in key), r["qty"], r["firm"]) for r in doc["tables"]["production"])


def test_firm_production_where_the_site_cannot_make_it_names_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY)
    sc = load_scenario(p)
    with pytest.raises(ScenarioError, match="FRAME") as e:
        compile_network(sc, firm=FirmSupply(production=(FixedProduction("S1", "FRAME", 0, 2),)))
    assert "makes" in str(e.value)
    with pytest.raises(ScenarioError, match="unknown site 'S9'"):
        compile_network(sc, firm=FirmSupply(stock=(OpeningStock("S9", "CELL", 1),)))
