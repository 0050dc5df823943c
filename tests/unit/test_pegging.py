"""Pegging on a tiny hand-made plan with exact answers: a product P made at S1 from two
of component C (opening stock, then a purchase), part of it moved to S2; three demands.

    S1 stock of C: 10          purchase of 30 C from V arrives at S1 in bucket 1
    S1 makes P: 5 in bucket 0 (takes the 10 C in stock), 15 in bucket 1 (takes 30 C)
    D1: 5 P from S1 in bucket 0   D3: 3 P from S1 in bucket 1
    S1 -> S2: 12 P leave in bucket 1, arrive in 2; D2: 12 P from S2 in bucket 2
"""

from __future__ import annotations

from datetime import date

import pytest

from fabnet.model.horizon import BucketKind, Horizon
from fabnet.model.scenario import BomLine, InventoryRecord, Scenario
from fabnet.plan.pegging import FlowKind, peg_plan

SC = Scenario("tiny", Horizon(date(2027, 1, 4), BucketKind.WEEK, 4),
              boms=(BomLine("P", "C", 2.0),), inventory=(InventoryRecord("S1", "C", 10.0),))
TABLES = {
    "production": [{"site": "S1", "item": "P", "bucket": 0, "qty": 5.0},
                   {"site": "S1", "item": "P", "bucket": 1, "qty": 15.0}],
    "purchases": [{"supplier": "V", "site": "S1", "item": "C", "order_bucket": 0,
                   "arrival_bucket": 1, "qty": 30.0}],
    "transfers": [{"from": "S1", "to": "S2", "item": "P", "depart_bucket": 1,
                   "arrival_bucket": 2, "qty": 12.0}],
    "deliveries": [
        {"demand": "D1", "site": "S1", "customer": "K", "item": "P", "depart_bucket": 0,
         "arrival_bucket": 0, "qty": 5.0},
        {"demand": "D2", "site": "S2", "customer": "K", "item": "P", "depart_bucket": 2,
         "arrival_bucket": 2, "qty": 12.0},
        {"demand": "D3", "site": "S1", "customer": "K", "item": "P", "depart_bucket": 1,
         "arrival_bucket": 1, "qty": 3.0}],
}


def _pegs(demand: str) -> list[tuple[str, str, int, float, int]]:
    return [(str(p.flow.kind), p.flow.site, p.flow.bucket, round(p.qty, 9), p.depth)
            for p in peg_plan(SC, TABLES).demand(demand)]


def test_a_transferred_demand_is_traced_to_the_lot_and_the_purchase_behind_it() -> None:
    assert _pegs("D2") == [("delivery", "S2", 2, 12.0, 0), ("transfer", "S2", 2, 12.0, 1),
                           ("production", "S1", 1, 12.0, 2), ("purchase", "S1", 1, 24.0, 3)]


def test_first_in_first_out_gives_the_first_lot_to_the_first_demand() -> None:
    assert _pegs("D1") == [("delivery", "S1", 0, 5.0, 0), ("production", "S1", 0, 5.0, 1),
                           ("stock", "S1", 0, 10.0, 2)]
    assert _pegs("D3") == [("delivery", "S1", 1, 3.0, 0), ("production", "S1", 1, 3.0, 1),
                           ("purchase", "S1", 1, 6.0, 2)]


def test_every_use_is_served_in_full_and_nothing_twice() -> None:
    pg = peg_plan(SC, TABLES)
    bought = sum(p.qty for d in ("D1", "D2", "D3") for p in pg.demand(d)
                 if p.flow.kind is FlowKind.PURCHASE)
    made = sum(p.qty for d in ("D1", "D2", "D3") for p in pg.demand(d)
               if p.flow.kind is FlowKind.PRODUCTION)
    assert bought == pytest.approx(30.0) and made == pytest.approx(20.0)


def test_units_from_outside_the_tables_are_other_supply() -> None:
    tables = {**TABLES, "deliveries": [*TABLES["deliveries"], {
        "demand": "D4", "site": "S3", "customer": "K", "item": "P", "depart_bucket": 3,
        "arrival_bucket": 3, "qty": 7.0}]}
    pegs = peg_plan(SC, tables).demand("D4")
    assert [(str(p.flow.kind), p.flow.site, p.qty) for p in pegs] == [
        ("delivery", "S3", 7.0), ("other", "S3", 7.0)]
    assert peg_plan(SC, tables).demand("no such demand") == []
