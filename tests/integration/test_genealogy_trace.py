"""Tracing the genealogy on SQLite and PostgreSQL: a site manager's trace down is cut to
their sites in SQL with the others counted, each unit shows its latest shipment, the
answer is ordered by depth and serial, a unit reached by two paths shows once at its
shortest depth, the down walk reads each step from one covering index (revision 0018)
and each unit's latest shipment from the unit itself (revision 0019), which the upgrade
fills in from the shipments made before it."""

from __future__ import annotations

import sqlalchemy as sa

from fabnet.services import floor as fl
from fabnet.services import repair as rp
from fabnet.services.trace import trace_down, trace_up
from fabnet.shop import genealogy_sql as gq
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from tests.integration.test_floor import ADMIN, _orders, _pass_all, store  # noqa: F401
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures

LEAD_S1 = Caller.of("lena", Role.SITE_MANAGER, ("S1",))
LEAD_S2 = Caller.of("sam", Role.SITE_MANAGER, ("S2",))
NOBODY = Caller.of("nora", Role.SITE_MANAGER, ())


def _three_packs_one_drone(store: Store) -> tuple[list[str], str]:  # noqa: F811
    """Three packs of lot C-1 built at S1, the first in a drone, the last moved to S2."""
    wo = _orders(store)
    fl.receive(store, ADMIN, "S1", "CELL", "C-1", 12, "SUP")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-1", 1, "SUP")
    packs = sorted(fl.build(store, ADMIN, wo["PACK"], 3).serials)
    drone, = fl.build(store, ADMIN, wo["DRONE"], 1).serials
    fl.transfer(store, ADMIN, [packs[2]], "S2")
    return packs, drone


def test_a_site_manager_gets_their_sites_units_and_a_count_of_the_others(
        store: Store) -> None:  # noqa: F811
    packs, drone = _three_packs_one_drone(store)
    everyone = trace_down(store, ADMIN, "C-1")
    assert [(u.serial, u.depth, u.site) for u in everyone.units] == [
        (packs[0], 1, "S1"), (packs[1], 1, "S1"), (packs[2], 1, "S2"), (drone, 2, "S1")]
    assert everyone.hidden == 0
    s1 = trace_down(store, LEAD_S1, "C-1")
    assert [u.serial for u in s1.units] == [packs[0], packs[1], drone] and s1.hidden == 1
    s2 = trace_down(store, LEAD_S2, "C-1")
    assert [u.serial for u in s2.units] == [packs[2]] and s2.hidden == 3
    none = trace_down(store, NOBODY, "C-1")
    assert none.units == () and none.hidden == 4
    # from a unit: the drone its pack is in, for the site that has the drone only
    assert [u.serial for u in trace_down(store, LEAD_S1, packs[0]).units] == [drone]
    theirs = trace_down(store, LEAD_S2, packs[0])
    assert theirs.units == () and theirs.hidden == 1


def test_each_unit_found_down_shows_its_latest_shipment(store: Store) -> None:  # noqa: F811
    packs, drone = _three_packs_one_drone(store)
    _pass_all(store, drone)
    first = fl.ship(store, ADMIN, "OK", [drone])
    [d] = [u for u in trace_down(store, ADMIN, "F-1").units]
    assert (d.serial, d.shipment, d.customer, d.shipped_at) == (
        drone, first.id, "OK", first.shipped_at)
    rp.return_unit(store, LEAD_S1, drone, "motor noise")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-2", 1, "SUP")
    rp.repair(store, LEAD_S1, drone, {"FRAME": "F-2"})
    _pass_all(store, drone)
    again = fl.ship(store, ADMIN, "OK", [drone])
    assert again.id != first.id
    by_serial = {u.serial: u for u in trace_down(store, ADMIN, "C-1").units}
    assert (by_serial[drone].shipment, by_serial[drone].shipped_at) == (
        again.id, again.shipped_at)
    assert by_serial[packs[0]].shipment is None and by_serial[packs[0]].customer is None
    assert trace_down(store, ADMIN, "F-1").units == ()  # swapped out in the repair
    # up: the drone's parts, with the ids of the units among them for their records
    up = trace_up(store, ADMIN, drone)
    assert {c.serial or c.lot for c in up.components} == {packs[0], "F-2", "C-1"}
    assert {o.serial for o in up.operations} == {drone, packs[0]}
    steps = [(o.serial, o.seq) for o in up.operations]
    assert steps == sorted(steps)
    assert len(up.tests) == 4 and [t.id for t in up.tests] == sorted(t.id for t in up.tests)
    assert [t.step for t in up.tests] == ["flight", "volts", "flight", "volts"]


def _plan(conn: sa.Connection, q: sa.Select[object]) -> str:
    """The database's plan of `q` for lot 1 (scoped: to site S1), as text."""
    sql = str(q.params(lots=[1], units=[2], sites=["S1"]).compile(
        dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        return "\n".join(r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
    return _pg_plan(conn, sql, {})


def _pg_plan(conn: sa.Connection, sql: str, params: dict[str, object]) -> str:
    """PostgreSQL's plan of the driver's text `sql` with `params`, as text."""
    conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # tiny tables: scans are cheaper
    conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
    return "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql, params))


def test_a_unit_reached_at_two_depths_shows_once_at_the_shorter(
        store: Store) -> None:  # noqa: F811
    # lot code X-1 names a cell lot (in the pack, in the drone) and a frame lot (in the
    # drone): the drone is two steps down one way and one step down the other
    wo = _orders(store)
    fl.receive(store, ADMIN, "S1", "CELL", "X-1", 4, "SUP")
    fl.receive(store, ADMIN, "S1", "FRAME", "X-1", 1, "SUP")
    pack, = fl.build(store, ADMIN, wo["PACK"], 1).serials
    drone, = fl.build(store, ADMIN, wo["DRONE"], 1).serials
    both = trace_down(store, ADMIN, "X-1")
    assert [(u.serial, u.depth) for u in both.units] == sorted([(drone, 1), (pack, 1)])
    assert both.hidden == 0
    theirs = trace_down(store, LEAD_S1, "X-1")
    assert [(u.serial, u.depth) for u in theirs.units] == sorted([(drone, 1), (pack, 1)])
    assert theirs.hidden == 0
    assert trace_down(store, LEAD_S2, "X-1").hidden == 2


def test_the_down_walk_reads_edges_from_their_index_and_no_shipment_per_unit(
        store: Store) -> None:  # noqa: F811
    _three_packs_one_drone(store)
    for scoped in (False, True):
        with store.engine.connect() as conn, conn.begin():
            if conn.dialect.name == "sqlite":
                plan = _plan(conn, gq.down_query(scoped, conn.dialect.name))
            else:  # the text a trace streams, its lists bound as arrays
                sql, fixed = gq.down_sql(scoped)
                plan = _pg_plan(conn, sql, fixed | {"lots": [1], "units": [2],
                                                    "sites": ["S1"]})
        assert "ix_genealogy_down" in plan, plan
        assert "shipment_units" not in plan, plan  # the latest shipment is the unit's
        if store.engine.dialect.name == "sqlite":
            assert "COVERING INDEX ix_genealogy_down " in plan, plan
            assert "SCAN g" not in plan, plan
            assert "GROUP BY" not in plan, plan  # no sort of every row but the answer's
        else:
            assert "Index Only Scan using ix_genealogy_down on genealogy" in plan, plan
            assert "Aggregate" not in plan or scoped, plan


def test_the_upgrade_fills_in_each_shipped_units_latest_shipment(
        store: Store) -> None:  # noqa: F811
    from alembic import command

    from fabnet.store.migrate import alembic_config, upgrade

    packs, drone = _three_packs_one_drone(store)
    _pass_all(store, drone)
    first = fl.ship(store, ADMIN, "OK", [drone])
    rp.return_unit(store, LEAD_S1, drone, "motor noise")
    rp.repair(store, LEAD_S1, drone, {})
    _pass_all(store, drone)
    again = fl.ship(store, ADMIN, "OK", [drone])
    rp.return_unit(store, LEAD_S1, drone, "camera")  # back in: still its latest shipment
    before = trace_down(store, ADMIN, "C-1").units
    with store.engine.begin() as conn:  # the store as revision 0018 left it
        cfg = alembic_config(conn)
        command.downgrade(cfg, "0018")
    with store.engine.connect() as conn:
        assert "last_shipment_id" not in {c["name"] for c in sa.inspect(conn).get_columns("units")}
    upgrade(store.engine)
    after = trace_down(store, ADMIN, "C-1").units
    assert after == before
    by_serial = {u.serial: u for u in after}
    assert (by_serial[drone].shipment, by_serial[drone].customer) == (again.id, "OK")
    assert again.id > first.id
    assert all(by_serial[p].shipment is None for p in packs)
