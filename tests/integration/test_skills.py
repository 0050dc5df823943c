"""Qualified operators on SQLite and PostgreSQL: at a site that requires them, a build or a
test by an operator not qualified for that work center or step on that day is refused and
books nothing; the skills report counts who is qualified now, in 30 and in 90 days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fabnet.services import audit_trail
from fabnet.services import floor as fl
from fabnet.services import skills as sk
from fabnet.shop.errors import FloorError, NotPermitted
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from fabnet.store.audit import read_entries
from fabnet.store.floor_repair import SkillKind
from fabnet.store.repository import now
from tests.integration.test_floor import ADMIN, _orders, store  # noqa: F401 - fixture
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures

LEAD_S1 = Caller.of("lena", Role.SITE_MANAGER, ("S1",))
LEAD_S2 = Caller.of("sam", Role.SITE_MANAGER, ("S2",))
QUALITY = Caller("quinn", Role.QUALITY)


def _today() -> date:
    return now().date()


def _stock(store: Store) -> dict[str, int]:  # noqa: F811
    wo = _orders(store)
    fl.receive(store, ADMIN, "S1", "CELL", "C-1", 40, "SUP")
    fl.receive(store, ADMIN, "S1", "FRAME", "F-1", 10, "SUP")
    return wo


def test_with_the_rule_off_anyone_may_build_and_test(store: Store) -> None:  # noqa: F811
    wo = _stock(store)
    fl.build(store, ADMIN, wo["PACK"], 1, operator="nobody")
    [d] = fl.build(store, ADMIN, wo["DRONE"], 1, operator="nobody").serials
    assert fl.record_test(store, ADMIN, d, "flight", True, operator="nobody").result.passed


def test_at_a_site_that_requires_it_only_qualified_operators_build(store: Store) -> None:  # noqa: F811
    wo = _stock(store)
    assert sk.require_qualification(store, LEAD_S1, "S1", True) is False
    with pytest.raises(sk.NotQualified, match=r"olga is not qualified for work center "
                                              r"assembly at S1 .*nothing was booked .*fix: "
                                              r"`fabnet floor qualify olga assembly"):
        fl.build(store, ADMIN, wo["PACK"], 1, operator="olga")
    assert fl.list_orders(store, ADMIN, "tiny")[0].qty_done == 0
    sk.qualify(store, LEAD_S1, "olga", "assembly", _today() + timedelta(days=10), site="S1")
    assert fl.build(store, ADMIN, wo["PACK"], 1, operator="olga").serials
    # a drone also needs flight-test: one missing work center refuses the whole build
    with pytest.raises(sk.NotQualified, match="work center flight-test"):
        fl.build(store, ADMIN, wo["DRONE"], 1, operator="olga")
    sk.qualify(store, ADMIN, "olga", "flight-test", _today())  # every site, through today
    [d] = fl.build(store, ADMIN, wo["DRONE"], 1, operator="olga").serials
    # tests need a qualification for the step
    with pytest.raises(sk.NotQualified, match="test step flight"):
        fl.record_test(store, ADMIN, d, "flight", True, operator="olga")
    sk.qualify(store, QUALITY, "olga", "flight", _today() + timedelta(days=1))
    assert fl.record_test(store, ADMIN, d, "flight", True, operator="olga").result.passed
    # at S2 the rule is off
    sk.require_qualification(store, ADMIN, "S1", False)
    assert fl.build(store, ADMIN, wo["PACK"], 1, operator="nobody").serials


def test_an_expired_or_other_site_qualification_does_not_count(store: Store) -> None:  # noqa: F811
    sk.require_qualification(store, ADMIN, "S1", True)
    sk.qualify(store, ADMIN, "olga", "assembly", _today(), site="S1")
    day = _today() + timedelta(days=1)
    with store.unit_of_work(read_only=True) as uow:
        sid = fl._scenario_id(uow, "tiny")[0]
        sk.check_qualified(uow, sid, "S1", "olga", SkillKind.WORK_CENTER, "assembly", _today())
        with pytest.raises(sk.NotQualified, match=f"on {day}"):
            sk.check_qualified(uow, sid, "S1", "olga", SkillKind.WORK_CENTER, "assembly", day)
        with pytest.raises(sk.NotQualified, match="test step assembly"):  # kinds apart
            sk.check_qualified(uow, sid, "S1", "olga", SkillKind.TEST_STEP, "assembly",
                               _today())
        # S2's rule is off: anyone works there
        sk.check_qualified(uow, sid, "S2", "nobody", SkillKind.WORK_CENTER, "assembly",
                           _today())
    sk.require_qualification(store, ADMIN, "S2", True)
    with store.unit_of_work(read_only=True) as uow, \
            pytest.raises(sk.NotQualified, match="at S2"):  # an S1 qualification
        sk.check_qualified(uow, sid, "S2", "olga", SkillKind.WORK_CENTER, "assembly",
                           _today())


def test_skills_counts_qualified_operators_now_and_in_30_and_90_days(store: Store) -> None:  # noqa: F811
    t = _today()
    sk.qualify(store, ADMIN, "ann", "assembly", t + timedelta(days=100), site="S1")
    sk.qualify(store, ADMIN, "bob", "assembly", t + timedelta(days=40), site="S1")
    sk.qualify(store, ADMIN, "bob", "assembly", t + timedelta(days=60))  # renewed, any site
    sk.qualify(store, ADMIN, "cid", "assembly", t + timedelta(days=5))  # any site
    sk.qualify(store, ADMIN, "dan", "flight", t + timedelta(days=20), site="S2")
    sk.require_qualification(store, ADMIN, "S2", True)
    rep = sk.skills(store, ADMIN, on=t)
    got = {(c.site, c.kind.value, c.name): (c.now, c.in_30, c.in_90) for c in rep.counts}
    assert got[("S1", "work_center", "assembly")] == (3, 2, 1)
    assert got[("S2", "work_center", "assembly")] == (2, 1, 0)
    assert got[("S1", "work_center", "flight-test")] == (0, 0, 0)
    assert got[("S2", "test_step", "flight")] == (1, 0, 0)
    assert got[("S1", "test_step", "flight")] == (0, 0, 0)
    assert rep.rules == {"S2": True}
    mine = sk.skills(store, LEAD_S1, on=t)
    assert {c.site for c in mine.counts} == {"S1"} and mine.rules == {}
    assert {c.site for c in sk.skills(store, ADMIN, site="S2", on=t).counts} == {"S2"}
    with pytest.raises(NotPermitted, match="not one of your sites"):
        sk.skills(store, LEAD_S1, site="S2")


def test_who_may_qualify_and_switch_the_rule(store: Store) -> None:  # noqa: F811
    until = _today() + timedelta(days=30)
    with pytest.raises(NotPermitted, match="not one of your sites"):
        sk.qualify(store, LEAD_S2, "olga", "assembly", until, site="S1")
    with pytest.raises(FloorError, match="own sites only"):
        sk.qualify(store, LEAD_S1, "olga", "assembly", until)
    with pytest.raises(NotPermitted, match="roles that may: admin, site_manager, quality"):
        sk.qualify(store, Caller("pia", Role.PLANNER), "olga", "assembly", until)
    with pytest.raises(NotPermitted, match="not one of your sites"):
        sk.require_qualification(store, LEAD_S2, "S1", True)
    with pytest.raises(NotPermitted, match="roles that may: admin, site_manager"):
        sk.require_qualification(store, QUALITY, "S1", True)
    with pytest.raises(FloorError, match="neither a work-center type at S1 nor a test step"):
        sk.qualify(store, LEAD_S1, "olga", "paint", until, site="S1")
    with pytest.raises(FloorError, match="already past"):
        sk.qualify(store, ADMIN, "olga", "assembly", _today() - timedelta(days=1))


def test_qualifications_and_rule_changes_are_audited(store: Store) -> None:  # noqa: F811
    lena = store.acting_as("lena")
    q = sk.qualify(lena, LEAD_S1, "olga", "assembly", date(2099, 1, 1), site="S1")
    sk.require_qualification(lena, LEAD_S1, "S1", True)
    sk.require_qualification(lena, LEAD_S1, "S1", True)  # no change, no entry
    with store.unit_of_work(read_only=True) as uow:
        entries = [e for e in read_entries(uow.connection) if e.actor == "lena"]
    assert [(e.action, e.entity) for e in entries] == [
        ("floor.qualify", "operator:olga"), ("floor.qualification.rule", "site:S1")]
    assert entries[0].after == {"qualification": q.id, "kind": "work_center",
                                "name": "assembly", "site": "S1", "until": "2099-01-01",
                                "scenario": "tiny"}
    assert (entries[1].before, entries[1].after) == ({"require_qualification": False},
                                                     {"require_qualification": True})
    assert [x.operator for x in sk.qualifications(store, LEAD_S2)] == []
    assert [x.operator for x in sk.qualifications(store, LEAD_S1)] == ["olga"]
    assert audit_trail.verify_audit(store).ok
