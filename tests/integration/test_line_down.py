"""Line-downs on SQLite and PostgreSQL: a work center of a site cut for some weeks is a new
scenario version whose next stored plan has that work center's hours, and only its hours,
cut to the factor; line leads report them for their own sites; the trail records them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fabnet.io import load_scenario
from fabnet.model import Disruption, ScenarioError, compile_network
from fabnet.services import audit_trail
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.line_down import line_down
from fabnet.shop.errors import FloorError, NotPermitted
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from fabnet.store.audit import read_entries
from fabnet.store.mapping import hashed_json
from tests.integration.test_floor import ADMIN, TINY, store  # noqa: F401 - fixture
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures

LEAD_S1 = Caller.of("lena", Role.SITE_MANAGER, ("S1",))
LEAD_S2 = Caller.of("sam", Role.SITE_MANAGER, ("S2",))


def _load(doc: dict[str, Any], site: str, wc: str) -> dict[int, tuple[float, float]]:
    """bucket -> (hours used, hours available) of one work center in a plan document (a
    bucket the plan leaves out of its load table has neither)."""
    rows = {int(r["bucket"]): (float(r["hours_used"]), float(r["hours_available"]))
            for r in doc["tables"]["load"] if r["site"] == site and r["work_center"] == wc}
    return {t: rows.get(t, (0.0, 0.0)) for t in range(4)}


def test_line_down_cuts_that_work_center_in_the_next_stored_plan(store: Store) -> None:  # noqa: F811
    before = plan_svc.plan_stored(store, "tiny")
    assert _load(before.document, "S1", "assembly")[0][1] == 100.0
    got = line_down(store, LEAD_S1, "S1", "assembly", date(2027, 1, 4),
                    until=date(2027, 1, 17), capacity=0.0)
    assert (got.disruption.target, got.disruption.work_center) == ("S1", "assembly")
    assert (got.disruption.buckets, got.version.version, got.until) == (2, 2,
                                                                        date(2027, 1, 17))
    after = plan_svc.plan_stored(store, "tiny")
    assert after.version == 2 and after.status == "optimal"
    asm = _load(after.document, "S1", "assembly")
    assert [asm[t] for t in (0, 1)] == [(0.0, 0.0), (0.0, 0.0)]
    assert asm[2][1] == asm[3][1] == 100.0
    # the drones due in week 2 are still made, in week 2, and the site's test line is whole
    assert asm[2][0] > 0
    assert {t: v[1] for t, v in _load(after.document, "S1", "flight-test").items()} == \
        {t: 50.0 for t in range(4)}
    assert {t: v[1] for t, v in _load(after.document, "S2", "assembly").items()} == \
        {t: 100.0 for t in range(4)}
    assert after.kpis["fill_rate"] == before.kpis["fill_rate"]


def test_a_partial_line_down_leaves_the_factor_of_the_hours(store: Store) -> None:  # noqa: F811
    line_down(store, ADMIN, "S1", "flight-test", date(2027, 1, 13), capacity=0.25)
    sc = scenario_svc.load_stored(store, "tiny")
    [d] = sc.disruptions
    assert (d.id, d.start, d.buckets, d.capacity, d.work_center) == (
        "line-down-1", date(2027, 1, 13), 3, 0.25, "flight-test")  # to the horizon's end
    avail = _load(plan_svc.plan_stored(store, "tiny").document, "S1", "flight-test")
    assert [avail[t][1] for t in range(4)] == [50.0, 12.5, 12.5, 12.5]
    assert all(avail[t][0] <= avail[t][1] + 1e-9 for t in range(4))
    line_down(store, ADMIN, "S1", "flight-test", date(2027, 1, 4), until=date(2027, 1, 4),
              capacity=0.5)
    ids = [x.id for x in scenario_svc.load_stored(store, "tiny").disruptions]
    assert ids == ["line-down-1", "line-down-2"]
    avail = _load(plan_svc.plan_stored(store, "tiny").document, "S1", "flight-test")
    assert [avail[t][1] for t in range(4)] == [25.0, 12.5, 12.5, 12.5]


def test_line_leads_report_line_downs_for_their_own_sites_only(store: Store) -> None:  # noqa: F811
    with pytest.raises(NotPermitted, match="not one of your sites"):
        line_down(store, LEAD_S2, "S1", "assembly", date(2027, 1, 4))
    with pytest.raises(NotPermitted, match="roles that may: admin, planner, continuity, "
                                           "site_manager"):
        line_down(store, Caller("quinn", Role.QUALITY), "S1", "assembly", date(2027, 1, 4))
    assert scenario_svc.list_versions(store, "tiny")[-1].version == 1  # nothing was stored


def test_a_line_down_that_names_nothing_is_refused_with_the_fix(store: Store) -> None:  # noqa: F811
    with pytest.raises(FloorError, match=r"no 'paint' work center \(fix: use one of "
                                         r"assembly, flight-test\)"):
        line_down(store, ADMIN, "S1", "paint", date(2027, 1, 4))
    with pytest.raises(FloorError, match="no site 'S9'"):
        line_down(store, ADMIN, "S9", "assembly", date(2027, 1, 4))
    with pytest.raises(FloorError, match="outside the horizon"):
        line_down(store, ADMIN, "S1", "assembly", date(2028, 1, 4))
    with pytest.raises(FloorError, match="before --from"):
        line_down(store, ADMIN, "S1", "assembly", date(2027, 1, 11), until=date(2027, 1, 4))
    with pytest.raises(FloorError, match="--capacity 1.5"):
        line_down(store, ADMIN, "S1", "assembly", date(2027, 1, 11), capacity=1.5)


def test_a_line_down_is_in_the_audit_trail(store: Store) -> None:  # noqa: F811
    line_down(store.acting_as("lena"), LEAD_S1, "S1", "assembly", date(2027, 1, 11),
              capacity=0.5)
    with store.unit_of_work(read_only=True) as uow:
        entries = list(read_entries(uow.connection))
    [e] = [e for e in entries if e.action == "floor.line_down"]
    assert (e.actor, e.entity) == ("lena", "site:S1/assembly")
    assert e.after["disruption"] == "line-down-1" and e.after["version"] == 2
    assert any(x.action == "scenario.version.add" and x.entity == "scenario:tiny@2"
               and x.actor == "lena" for x in entries)
    assert audit_trail.verify_audit(store).ok


def test_work_center_line_downs_round_trip_through_files_and_store(store: Store,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    line_down(store, ADMIN, "S1", "assembly", date(2027, 1, 11), capacity=0.5)
    stored = scenario_svc.load_stored(store, "tiny")
    for name in ("back.yaml", "back.xlsx", "back"):
        scenario_svc.export_scenario(store, "tiny", tmp_path / name)
        assert load_scenario(tmp_path / name) == stored


# ---------------------------------------------------------------- the contract itself


def _tiny(tmp_path: Path, disruptions: str) -> Path:
    p = tmp_path / "t.yaml"
    p.write_text(TINY + "disruptions:\n" + disruptions)
    return p


def test_old_disruptions_still_cut_the_whole_site_and_hash_as_before(tmp_path: Path) -> None:
    whole = load_scenario(_tiny(tmp_path, "  - {id: X, target: S1, from: 2027-01-11, "
                                          "buckets: 1, capacity: 0.5}\n"))
    net = compile_network(whole)
    s1 = [w for w in range(len(net.wc_type)) if net.sites[net.wc_site[w]] == "S1"]
    assert all(np.array_equal(net.wc_hours[w], net.wc_nominal[w] * [1, 0.5, 1, 1])
               for w in s1)
    [d] = whole.disruptions
    assert d == Disruption("X", "S1", date(2027, 1, 11), 1, 0.5, None)
    # a disruption hashes with exactly the fields it had before work_center existed
    assert hashed_json(d) == {"id": "X", "target": "S1", "start": "2027-01-11",
                              "buckets": 1, "capacity": 0.5}


def test_a_work_center_disruption_cuts_only_that_work_center(tmp_path: Path) -> None:
    sc = load_scenario(_tiny(tmp_path, "  - {id: X, target: S1, from: 2027-01-11, buckets: 2, "
                                       "capacity: 0.5, work_center: assembly}\n"))
    net = compile_network(sc)
    cut = {(net.sites[net.wc_site[w]], net.wc_type[w]): net.wc_hours[w].tolist()
           for w in range(len(net.wc_type))}
    assert cut[("S1", "assembly")] == [100.0, 50.0, 50.0, 100.0]
    assert cut[("S1", "flight-test")] == [50.0] * 4
    assert cut[("S2", "assembly")] == [100.0] * 4
    assert "S1" not in net.node_factor  # the site itself is not disrupted


@pytest.mark.parametrize(("target", "wc", "message"), [
    ("S1", "paint", "site S1 has no 'paint' work center"),
    ("SUP", "assembly", "a work center is cut only at a site, and 'SUP' is not one"),
])
def test_a_work_center_disruption_must_name_a_work_center_of_a_site(
        tmp_path: Path, target: str, wc: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario(_tiny(tmp_path, f"  - {{id: X, target: {target}, from: 2027-01-11, "
                                      f"buckets: 1, work_center: {wc}}}\n"))
    assert any(message in str(i) and "work_center" in str(i) for i in e.value.issues)
