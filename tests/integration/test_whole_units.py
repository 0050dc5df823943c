"""Whole-unit plans: integral, within the contract (tests/plancheck.py), true to minimum
order quantities, pack sizes and batches; on tiny networks the MIP's levels equal a
brute-force enumeration of every integer plan; the rounded LP plan they start from is
feasible on its own; the CLI, the store, the API and the floor's release use them."""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from benchmarks.synthetic import synthetic_scenario
from typer.testing import CliRunner

from fabnet.cli.app import app
from fabnet.io.scenario_io import load_scenario
from fabnet.model.network import Network, compile_network
from fabnet.model.scenario import Scenario
from fabnet.plan.lp import PlanningLP, build_lp
from fabnet.plan.solve import LexicographicSolver
from fabnet.plan.whole_units import (
    COST_GAP,
    WholeUnitRounding,
    make_whole_unit_plan,
    order_sizes,
)
from fabnet.services import database as db_svc
from fabnet.services import floor as fl
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.planning import plan_scenario
from fabnet.shop.roles import Caller
from fabnet.store import Role, Store
from tests.integration.test_api_fixtures import Api, Seeded, serve
from tests.integration.test_store import pg_server, url  # noqa: F401 - fixtures
from tests.plancheck import check_plan, read_plan

pytest_plugins = ["tests.integration.test_api_fixtures"]

#: two sites, a transfer, packs of 50 motors with a minimum order of 60, frames in packs
#: of 10, batches of 5 drones at the hub, demands of 130.8 and 28.4 drones
BOXES = """
scenario: boxes
horizon: {start: 2027-01-04, bucket: week, buckets: 6}
items:
  - {id: DRONE, kind: product, holding_cost: 0.5}
  - {id: ARM, kind: assembly}
  - {id: MOTOR, kind: component}
  - {id: FRAME, kind: component}
boms:
  DRONE: [{item: ARM, qty: 4}, {item: FRAME, qty: 1}]
  ARM: [{item: MOTOR, qty: 1}]
routings:
  DRONE: [{work_center: assembly, hours: 1.5}, {work_center: test, hours: 0.25}]
  ARM: [{work_center: arms, hours: 0.2}]
sites:
  - id: HUB
    country: FR
    makes: [DRONE, ARM]
    work_centers:
      - {type: assembly, hours: 60, batch: 5}
      - {type: test, hours: 20}
      - {type: arms, hours: 50, batch: 4}
  - id: LINE2
    country: PL
    makes: [DRONE]
    work_centers: [{type: assembly, hours: 30}, {type: test, hours: 10}]
suppliers:
  - id: SUP
    country: DE
    offers:
      - {item: MOTOR, price: 2, lead_time: 0, moq: 60, multiple: 50, capacity: 500}
      - {item: FRAME, price: 10, lead_time: 1, multiple: 10}
customers:
  - {id: C, country: UA}
lanes:
  - {from: SUP, to: HUB, transit: 0, cost: 0.1}
  - {from: SUP, to: LINE2, transit: 1, cost: 0.2}
  - {from: HUB, to: LINE2, transit: 0, cost: 0.05}
  - {from: HUB, to: C, transit: 1}
  - {from: LINE2, to: C, transit: 1, cost: 0.3}
inventory: [{site: HUB, item: MOTOR, qty: 7}]
demand:
  - {id: D1, customer: C, item: DRONE, qty: 130.8, due: 2027-02-01}
  - {id: D2, customer: C, item: DRONE, qty: 28.4, due: 2027-01-25, priority: 2}
"""

ADMIN = Caller("alice", Role.ADMIN)
FLOWS = {"production": "qty", "purchases": "qty", "transfers": "qty", "deliveries": "qty"}


def _write(tmp_path: Path, text: str, name: str = "boxes.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def rule_violations(sc: Scenario, tables: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Whole units, packs, minimum orders and batches, read from written tables alone."""
    bad = []
    for table, col in FLOWS.items():
        for r in tables[table]:
            if r[col] != round(r[col]):
                bad.append(f"{table}: {r} is not whole")
    offer = {(o.supplier, o.item): o for o in sc.offers}
    for r in tables["purchases"]:
        o = offer[(r["supplier"], r["item"])]
        if o.multiple and r["qty"] % o.multiple:
            bad.append(f"purchases: {r['qty']} is not a multiple of {o.multiple}")
        if o.moq and 0 < r["qty"] < o.moq:
            bad.append(f"purchases: {r['qty']} is under the moq {o.moq}")
    wcs = {(w.site, w.type): w.batch or 1 for w in sc.work_centers}
    for r in tables["production"]:
        for step in (s for s in sc.routings if s.item == r["item"]):
            b = wcs[(r["site"], step.work_center)]
            if r["qty"] % b:
                bad.append(f"production: {r['qty']} {r['item']} at {r['site']} is not a "
                           f"batch of {b}")
    return bad


# --- the contract and the rules ---------------------------------------------------------

def test_whole_unit_plan_is_integral_and_keeps_the_contract_packs_moq_and_batches(
        tmp_path: Path) -> None:
    path = _write(tmp_path, BOXES)
    run = plan_scenario(path, tmp_path / "out", report=False, whole_units=True)
    sc = load_scenario(path)
    assert check_plan(sc, tmp_path / "out") == []
    written = read_plan(tmp_path / "out")
    assert rule_violations(sc, written.tables) == []
    k = json.loads((tmp_path / "out" / "plan.json").read_text())["kpis"]
    assert k["whole_units"] == 1 and k["status"] == "optimal"
    assert k["mip_time_limit_reached"] == 0 and k["mip_gap"] <= COST_GAP
    # 130.8 and 28.4 drones can't be delivered: at most 130 and 28 whole ones
    assert k["mip_delivered_p1"] <= 130 and k["mip_delivered_p2"] <= 28
    assert k["lp_delivered_p1"] == pytest.approx(130.8)
    assert k["whole_minus_lp_delivered_p1"] == pytest.approx(
        k["mip_delivered_p1"] - k["lp_delivered_p1"])
    assert run.plan.levels["delivered_p1"] == k["mip_delivered_p1"]
    # the shortfall says what whole units gave up
    why = {r["demand"]: r["reason"] for r in written.tables["shortfalls"]}
    assert "whole units" in why["D1"]


def test_without_order_sizes_the_rules_hold_trivially_and_units_are_whole(
        tmp_path: Path) -> None:
    """Old scenarios (no moq, multiple or batch) plan in plain whole units."""
    plain = BOXES.replace(", moq: 60, multiple: 50", "").replace(", multiple: 10", "") \
        .replace(", batch: 5", "").replace(", batch: 4", "")
    path = _write(tmp_path, plain)
    plan_scenario(path, tmp_path / "out", report=False, whole_units=True)
    sc = load_scenario(path)
    assert all(o.moq is None and o.multiple is None for o in sc.offers)
    assert check_plan(sc, tmp_path / "out") == []
    assert rule_violations(sc, read_plan(tmp_path / "out").tables) == []


def test_a_pack_size_the_lp_ignores_changes_the_whole_unit_plan(tmp_path: Path) -> None:
    """The motors come in 50s: no purchase row of 28."""
    path = _write(tmp_path, BOXES)
    cont = plan_scenario(path, None, report=False).plan
    whole = plan_scenario(path, None, report=False, whole_units=True).plan
    motors_lp = [r["qty"] for r in cont.rows("purchases") if r["item"] == "MOTOR"]
    motors = [r["qty"] for r in whole.rows("purchases") if r["item"] == "MOTOR"]
    assert any(q % 50 for q in motors_lp)  # the continuous plan buys odd quantities
    assert motors and all(q % 50 == 0 and q >= 60 for q in motors)


# --- brute force on tiny networks -------------------------------------------------------

@dataclass(frozen=True)
class Tiny:
    """One product from `bom` motors, one site, one supplier, one or two buckets."""

    buckets: int
    demand: tuple[float, ...]  # D1 due bucket 0 priority 1, D2 due last bucket priority 2
    hours: float  # assembly hours per bucket, 1 h per drone
    batch: int
    moq: float | None
    multiple: int | None
    capacity: float
    opening: float  # motors in stock at the start
    bom: int = 2

    def yaml(self) -> str:
        due = ["2027-01-04", f"2027-01-{4 + 7 * (self.buckets - 1):02d}"]
        dem = "\n".join(f"  - {{id: D{i + 1}, customer: C, item: DRONE, qty: {q}, "
                        f"due: {due[i]}, priority: {i + 1}}}" for i, q in enumerate(self.demand))
        sizes = "".join(f", {k}: {v}" for k, v in (("moq", self.moq),
                                                    ("multiple", self.multiple)) if v)
        return f"""
scenario: tiny
horizon: {{start: 2027-01-04, bucket: week, buckets: {self.buckets}}}
items:
  - {{id: DRONE, kind: product, holding_cost: 0.25}}
  - {{id: MOTOR, kind: component, holding_cost: 0.1}}
boms: {{DRONE: [{{item: MOTOR, qty: {self.bom}}}]}}
routings: {{DRONE: [{{work_center: assembly, hours: 1}}]}}
sites:
  - {{id: S, country: FR, makes: [DRONE],
     work_centers: [{{type: assembly, hours: {self.hours}, batch: {self.batch}}}]}}
suppliers:
  - {{id: V, country: DE, offers: [{{item: MOTOR, price: 3, lead_time: 0,
                                   capacity: {self.capacity}{sizes}}}]}}
customers: [{{id: C, country: UA}}]
lanes:
  - {{from: V, to: S, transit: 0, cost: 0.5}}
  - {{from: S, to: C, transit: 0, cost: 1}}
inventory: [{{site: S, item: MOTOR, qty: {self.opening}}}]
demand:
{dem}
"""

    def brute_force(self) -> dict[str, float]:
        """Every integer plan enumerated; the lexicographic best of their level values."""
        T, n = self.buckets, len(self.demand)
        cap_q = [math.floor(q) for q in self.demand]
        due = [0, T - 1][:n]
        buys = [0] + [v for v in range(1, int(self.capacity) + 1)
                      if v % (self.multiple or 1) == 0 and v >= (self.moq or 0)]
        makes = [m for m in range(0, int(self.hours) + 1) if m % self.batch == 0]
        best: tuple[float, ...] | None = None
        ships = list(itertools.product(*(range(c + 1) for c in cap_q)))
        per_bucket = [(p, m, d) for p in buys for m in makes for d in ships]
        for plan in itertools.product(per_bucket, repeat=T):
            motors, drones = self.opening, 0.0
            sent = [0] * n
            late = cost = 0.0
            ok = True
            for t, (p, m, d) in enumerate(plan):
                motors += p - self.bom * m
                drones += m - sum(d)
                if motors < -1e-9 or drones < -1e-9:
                    ok = False
                    break
                for i, q in enumerate(d):
                    sent[i] += q
                    late += q * max(t - due[i], 0)
                cost += 3.5 * p + sum(d) + 0.25 * drones + 0.1 * motors
            if not ok or any(s > c for s, c in zip(sent, cap_q, strict=True)):
                continue
            key = (*(-s for s in sent), late, cost)
            if best is None or key[:-1] < best[:-1] or \
                    (key[:-1] == best[:-1] and key[-1] < best[-1] - 1e-9):
                best = key
        assert best is not None
        out = {f"delivered_p{i + 1}": -best[i] for i in range(n)}
        out["lateness"], out["cost"] = best[n], best[n + 1]
        return out


TINY_CASES = [
    Tiny(1, (5.5,), hours=7, batch=3, moq=5, multiple=4, capacity=12, opening=1),
    Tiny(1, (4,), hours=6, batch=2, moq=9, multiple=None, capacity=9, opening=0.5),
    Tiny(2, (4, 5), hours=5, batch=2, moq=10, multiple=5, capacity=10, opening=3),
    Tiny(2, (3.5, 2), hours=4, batch=1, moq=None, multiple=6, capacity=18, opening=0),
    Tiny(2, (6, 3.7), hours=6, batch=3, moq=7, multiple=None, capacity=8, opening=2, bom=3),
]


@pytest.mark.parametrize("case", TINY_CASES, ids=lambda c: f"T{c.buckets}-{c.demand}")
def test_mip_levels_equal_a_brute_force_enumeration(case: Tiny, tmp_path: Path) -> None:
    path = _write(tmp_path, case.yaml(), "tiny.yaml")
    plan = make_whole_unit_plan(compile_network(load_scenario(path)), time_limit=30)
    want = case.brute_force()
    assert set(plan.levels) == set(want)
    for name, value in want.items():
        assert plan.levels[name] == pytest.approx(value, rel=1e-6, abs=1e-6), name
    assert plan.kpis["status"] == "optimal"


# --- the rounded LP plan every MIP starts from ------------------------------------------

def _with_sizes(sc: Scenario) -> Scenario:
    """A synthetic network with packs on every 3rd offer, minimum orders on every 2nd and
    batches on every 4th work center."""
    offers = tuple(replace(o, multiple=10 if i % 3 == 0 else None,
                           moq=25.0 if i % 2 == 0 else None) for i, o in enumerate(sc.offers))
    wcs = tuple(replace(w, batch=4 if i % 4 == 0 else None)
                for i, w in enumerate(sc.work_centers))
    return replace(sc, offers=offers, work_centers=wcs)


def _row_violations(lp: PlanningLP, x: np.ndarray) -> int:
    act = lp.matrix @ x
    tol = 1e-9 * np.maximum(1.0, np.abs(lp.matrix) @ np.abs(x))
    return int(((act > lp.row_upper + tol) | (act < lp.row_lower - tol)).sum()
               + (x < lp.col_lower - 1e-9).sum() + (x > lp.col_upper + 1e-9).sum())


@pytest.fixture(scope="module")
def synthetic() -> tuple[Network, PlanningLP, np.ndarray]:
    net = compile_network(_with_sizes(synthetic_scenario(5, 40, 10, 4, 26, seed=3)))
    lp = build_lp(net)
    result = LexicographicSolver(lp).solve()
    assert result.status.solved
    return net, lp, result.x


def test_the_rounded_lp_plan_keeps_every_row_with_valid_order_sizes(
        synthetic: tuple[Network, PlanningLP, np.ndarray]) -> None:
    net, lp, x_lp = synthetic
    sizes = order_sizes(net, lp)
    assert (sizes.step > 1).any() and (sizes.least > 0).any()
    assert _row_violations(lp, x_lp) == 0
    x = WholeUnitRounding(net, lp, sizes)(x_lp)
    assert _row_violations(lp, x) == 0
    ints = sizes.integer
    assert np.array_equal(x[ints], np.round(x[ints]))
    assert np.allclose(np.mod(x[ints], sizes.step[ints]), 0)
    assert not ((x[ints] > 0) & (x[ints] < sizes.least[ints])).any()
    assert (x[ints] <= sizes.big[ints]).all()
    # it is a plan that still delivers: rounding loses at most a few units per demand arc
    deliver = lp.cols["deliver"]
    sl = slice(deliver.offset, deliver.offset + deliver.size)
    assert x[sl].sum() > 0.5 * x_lp[sl].sum()


def test_a_short_time_limit_still_gives_a_whole_feasible_plan_and_says_so(
        tmp_path: Path) -> None:
    sc = _with_sizes(synthetic_scenario(5, 40, 10, 4, 26, seed=5))
    net = compile_network(sc)
    plan = make_whole_unit_plan(net, time_limit=0.2)
    from fabnet.services.planning import PlanRun, write_plan
    write_plan(PlanRun(sc, net, plan), tmp_path / "out", report=False)
    assert check_plan(sc, tmp_path / "out") == []
    assert rule_violations(sc, read_plan(tmp_path / "out").tables) == []
    k = plan.kpis
    reached = bool(k["mip_time_limit_reached"])
    assert (k["status"] == "time_limit") == reached
    gaps = [v for n, v in k.items() if n.startswith("mip_gap_")]
    # never shown as exact when it's not: stopped means some level's gap is open or unknown
    if reached:
        assert any(isinstance(g, str) or g > 0 for g in gaps)
    else:  # every level proved (the cost level to its relative gap)
        assert all(not isinstance(g, str) and g <= COST_GAP for g in gaps)


# --- the command line -------------------------------------------------------------------

def test_fabnet_plan_whole_units_prints_the_levels_and_writes_the_kpis(tmp_path: Path) -> None:
    path = _write(tmp_path, BOXES)
    r = CliRunner().invoke(app, ["plan", str(path), "--whole-units", "--mip-time-limit", "30",
                                 "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "Whole units against the continuous plan" in r.output
    assert "proved optimal" in r.output
    kpis = {row[0]: row[1] for row in
            (line.split(",", 1) for line in
             (tmp_path / "out" / "kpis.csv").read_text().splitlines()[1:])}
    assert kpis["whole_units"] == "1.0" and kpis["mip_time_limit_seconds"] == "30.0"
    j = CliRunner().invoke(app, ["plan", str(path), "--whole-units", "--json"])
    assert j.exit_code == 0 and json.loads(j.output)["mip_gap"] <= COST_GAP


@pytest.mark.parametrize("args", [["--mip-time-limit", "5"],
                                  ["--whole-units", "--mip-time-limit", "0"],
                                  ["--whole-units", "--frozen", "1", "--reference", "x"]])
def test_options_a_whole_unit_plan_cannot_take_are_one_clear_line(
        tmp_path: Path, args: list[str]) -> None:
    path = _write(tmp_path, BOXES)
    r = CliRunner().invoke(app, ["plan", str(path), *args])
    assert r.exit_code != 0
    assert "Traceback" not in r.output and "fix:" in r.output


def test_bad_order_sizes_in_a_scenario_name_the_record_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, BOXES.replace("multiple: 50", "multiple: 0.5"))
    r = CliRunner().invoke(app, ["plan", str(path), "--whole-units"])
    assert r.exit_code == 1 and "multiple" in r.output and "Traceback" not in r.output


# --- the store, the API and the floor ---------------------------------------------------

@pytest.fixture
def store(url: str, tmp_path: Path) -> Iterator[Store]:  # noqa: F811
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    scenario_svc.import_scenario(s, _write(tmp_path, BOXES), "boxes")
    yield s
    s.engine.dispose()


def test_stored_order_sizes_and_a_whole_unit_run_release_as_planned(store: Store) -> None:
    with store.unit_of_work(read_only=True) as uow:
        sc = uow.scenarios.get("boxes")
    assert {(o.item, o.moq, o.multiple) for o in sc.offers} == {("MOTOR", 60.0, 50),
                                                               ("FRAME", None, 10)}
    assert {w.type: w.batch for w in sc.work_centers if w.site == "HUB"} == \
        {"assembly": 5, "test": None, "arms": 4}
    run = plan_svc.plan_stored(store, "boxes", whole_units=True, mip_time_limit=30)
    assert run.kpis["whole_units"] == 1 and run.status == "optimal"
    planned: dict[tuple[str, str, int], float] = defaultdict(float)
    for r in run.document["tables"]["production"]:
        planned[(r["site"], r["item"], r["bucket"])] += r["qty"]
    orders = fl.release(store, ADMIN, "boxes")
    released = {(o.site, o.item, o.due_bucket): o.qty for o in orders}
    assert released == planned
    assert all(q % 5 == 0 for (s, i, _), q in released.items() if (s, i) == ("HUB", "DRONE"))


def test_a_continuous_run_is_released_in_whole_batches(store: Store) -> None:
    run = plan_svc.plan_stored(store, "boxes")
    assert "whole_units" not in run.kpis
    orders = fl.release(store, ADMIN, "boxes")
    planned = {(r["site"], r["item"], r["bucket"]): r["qty"]
               for r in run.document["tables"]["production"]}
    batch = {("HUB", "DRONE"): 5, ("HUB", "ARM"): 4, ("LINE2", "DRONE"): 1}
    for o in orders:
        b = batch[(o.site, o.item)]
        assert o.qty % b == 0 and o.qty >= planned[(o.site, o.item, o.due_bucket)]
        assert o.qty - planned[(o.site, o.item, o.due_bucket)] < b


def test_the_api_plan_job_takes_whole_units(seeded: Seeded, tmp_path: Path) -> None:
    for api in serve(seeded):
        scenario_svc.import_scenario(api.store, _write(tmp_path, BOXES), "boxes")
        _plan_job_whole(api)


def _plan_job_whole(api: Api) -> None:
    for body in ({"mip_time_limit": 0, "whole_units": True}, {"mip_time_limit": 5}):
        bad = api.post("/jobs/plan", json={"scenario": "boxes", **body})
        assert bad.status_code == 422 and "mip_time_limit" in bad.text
    r = api.post("/jobs/plan", json={"scenario": "boxes", "whole_units": True,
                                     "mip_time_limit": 30})
    assert r.status_code == 202, r.text
    job = api.wait(r.json()["id"])
    assert job["status"] == "done", job
    result = api.get(f"/jobs/{job['id']}/result").json()["result"]
    assert result["kpis"]["whole_units"] == 1 and result["kpis"]["mip_gap"] <= COST_GAP
    doc = api.get(f"/plan-runs/{result['plan_run']}").json()["document"]
    for table in FLOWS:
        assert all(row["qty"] == round(row["qty"]) for row in doc["tables"][table])


def test_firm_work_orders_and_purchase_orders_are_kept_outside_batches_and_packs(
        tmp_path: Path) -> None:
    """A work order of 3 drones at the batch-5 hub and an open order of 28 motors in a
    box-of-50 offer are firm: kept as they are, the plan adds whole units to them."""
    from fabnet.model.firm_supply import FirmSupply, FixedProduction, ScheduledReceipt

    sc = load_scenario(_write(tmp_path, BOXES))
    firm = FirmSupply(production=(FixedProduction("HUB", "DRONE", 2, 3.0),),
                      receipts=(ScheduledReceipt("PO-1", "SUP", "HUB", "MOTOR", 0, 0, 28.0),))
    net = compile_network(sc, firm=firm)
    plan = make_whole_unit_plan(net, time_limit=30)
    assert plan.kpis["status"] == "optimal" and "firm" in plan.levels
    assert plan.levels["firm"] == 31 and "firm_short" not in plan.kpis
    made = {(r["site"], r["item"], r["bucket"]): (r["qty"], r["firm"])
            for r in plan.rows("production")}
    qty, part = made[("HUB", "DRONE", 2)]
    assert part == 3 and qty >= 3 and qty == round(qty)
    po = [r for r in plan.rows("purchases") if r["item"] == "MOTOR" and r["order_bucket"] == 0]
    assert po and po[0]["qty"] >= 28 and po[0]["qty"] == round(po[0]["qty"])
    assert all(q["qty"] % 50 == 0 for q in plan.rows("purchases")
               if q["item"] == "MOTOR" and q["order_bucket"] > 0)


def test_the_summary_never_shows_a_stopped_level_as_exact() -> None:
    from fabnet.plan.summary import format_kpi, whole_unit_lines, whole_unit_note
    from fabnet.plan.whole_units import UNKNOWN_GAP

    k: dict[str, float | str] = {
        "whole_units": 1.0, "mip_delivered_p1": 130.0, "lp_delivered_p1": 130.8,
        "whole_minus_lp_delivered_p1": -0.8, "mip_gap_delivered_p1": 1e-7,
        "mip_cost": 4197.9, "lp_cost": 3001.9, "whole_minus_lp_cost": 1196.0,
        "mip_gap_cost": UNKNOWN_GAP, "mip_gap": UNKNOWN_GAP,
        "mip_time_limit_reached": 1.0, "mip_time_limit_seconds": 5.0, "mip_seconds": 6.1}
    units, cost = whole_unit_lines(k)
    assert units[:4] == ("units delivered, priority 1", "130.80", "130.00", "-0.80")
    assert units[4] != "0 (proved optimal)" and units[4].endswith("%")
    assert cost[1] == "€3,001.90" and cost[4].startswith("unknown")
    assert "time limit reached" in whole_unit_note(k) and "not proved" in whole_unit_note(k)
    assert format_kpi("mip_gap_cost", 0.0) == "0 (proved optimal)"
    assert whole_unit_lines({"units_delivered": 3.0}) == []
