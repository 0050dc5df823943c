"""The floor board and a unit's file (what the floor pages show) on SQLite and PostgreSQL,
on the tiny two-site network: each site manager's board holds their site only, the queue
per work center counts the hours left, holds and line-downs are cut to the caller's sites,
and a unit of another site is refused before anything of it is read."""

from __future__ import annotations

from datetime import date

import pytest

from fabnet.services import accounts
from fabnet.services import floor as fl
from fabnet.services.floor_pages import floor_board, unit_file
from fabnet.services.line_down import line_down
from fabnet.shop.errors import NotPermitted
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from tests.integration.test_floor import (  # noqa: F401 - fixtures
    ADMIN,
    QUALITY,
    _pass_all,
    _ready_drones,
    pg_server,
    store,
    url,
)


def _manager(store: Store, name: str, site: str) -> Caller:  # noqa: F811
    accounts.create_user(store, name, "a long password 1", Role.SITE_MANAGER, (site,))
    return Caller.of(name, Role.SITE_MANAGER, (site,))


def test_each_site_manager_board_holds_their_site_only(store: Store) -> None:  # noqa: F811
    serials = _ready_drones(store, 2)  # built at S1 from lot C-1
    fl.receive(store, ADMIN, "S2", "CELL", "C-2", 8, "SUP")
    fl.hold(store, QUALITY, "C-1", "supplier notice")
    fl.hold(store, QUALITY, "C-2", "incoming inspection")
    s1, s2 = _manager(store, "sue", "S1"), _manager(store, "sam", "S2")

    mine = floor_board(store, s2, "tiny")
    assert mine.sites == ("S2",)
    assert {q.site for q in mine.queues} == {"S2"}
    assert [(h.lot, h.site) for h in mine.holds] == [("C-2", "S2")]
    assert mine.units == () and not mine.may_hold and mine.may_line_down
    assert mine.yields == () and mine.pareto == ()

    theirs = floor_board(store, s1, "tiny")
    assert [h.lot for h in theirs.holds] == ["C-1"]
    assert {u.serial for u in theirs.units} >= set(serials)  # and the packs in them
    assert {u.site for u in theirs.units} == {"S1"}
    every = floor_board(store, ADMIN, "tiny")
    assert sorted(h.lot or "" for h in every.holds) == ["C-1", "C-2"]
    assert every.sites == ("S1", "S2") and every.may_hold


def test_the_queue_counts_the_hours_left_at_each_work_center(store: Store) -> None:  # noqa: F811
    _ready_drones(store, 1)
    board = floor_board(store, ADMIN, "tiny")
    orders = {o.item: o for o in fl.list_orders(store, ADMIN, "tiny") if o.site == "S1"}
    queue = {(q.site, q.work_center): q for q in board.queues}
    assembly = queue[("S1", "assembly")]
    want = orders["DRONE"].remaining * 2 + orders["PACK"].remaining * 0.5
    assert assembly.hours_left == pytest.approx(want)
    flight = queue[("S1", "flight-test")]
    assert [w.order.item for w in flight.orders] == ["DRONE"]  # packs are not flown
    assert flight.hours_left == pytest.approx(orders["DRONE"].remaining * 0.5)


def test_a_line_down_shows_on_its_site_board_only(store: Store) -> None:  # noqa: F811
    s1, s2 = _manager(store, "sue", "S1"), _manager(store, "sam", "S2")
    line_down(store, s2, "S2", "assembly", date(2027, 1, 11), date(2027, 1, 17), 0.5,
              "tiny")
    (d,) = floor_board(store, s2, "tiny").line_downs
    assert (d.site, d.work_center, d.start, d.until, d.capacity) == \
        ("S2", "assembly", date(2027, 1, 11), date(2027, 1, 17), 0.5)
    assert floor_board(store, s1, "tiny").line_downs == ()
    with pytest.raises(NotPermitted, match="not one of your sites"):
        line_down(store, s1, "S2", "assembly", date(2027, 1, 11), scenario="tiny")


def test_a_unit_file_tells_its_parts_tests_and_shipment(store: Store) -> None:  # noqa: F811
    serial = _ready_drones(store, 1)[0]
    _pass_all(store, serial)
    fl.ship(store, ADMIN, "OK", [serial])
    got = unit_file(store, ADMIN, serial)
    assert {c.item for c in got.components} >= {"FRAME", "PACK", "CELL"}
    assert {t.step for t in got.tests} == {"flight", "volts"}
    assert [s.customer for s in got.shipments] == ["OK"]
    assert got.unit.status.value == "shipped" and got.missing == ()
    with pytest.raises(NotPermitted) as refused:
        unit_file(store, _manager(store, "sam", "S2"), serial)
    assert "S1" not in str(refused.value)  # the refusal names no other site
