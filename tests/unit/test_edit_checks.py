"""An edit of a scenario known to be sound checks only what the edited row affects
(`model.edit_checks`, `services.editing.apply_checked`); these tests prove it refuses
exactly what checking the whole edited scenario refuses, with the same messages, and
accepts the very scenario (warnings and content hash included) that the whole check
gives: over random edits of the Europe example, and over hand-picked edits that break
each rule through another record than the one edited.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabnet.io import load_scenario
from fabnet.io.records import columns
from fabnet.io.tables import scenario_tables
from fabnet.model import consistency
from fabnet.model.edit_checks import PLANS, WARNING_RULES
from fabnet.model.errors import FabnetError, ScenarioError
from fabnet.model.scenario import Scenario
from fabnet.services import editing
from fabnet.services.editing import EditOp
from fabnet.services.sound_scenarios import is_sound, remember_sound
from fabnet.store.digests import version_digests
from fabnet.store.mapping import SECTIONS, content_sha256
from fabnet.store.scenarios import sections_sha256

EUROPE = Path(__file__).parents[2] / "examples" / "europe" / "scenario.yaml"
SOURCE = "europe version 1"


@cache
def europe_scenario() -> Scenario:
    """The Europe example, read once."""
    return load_scenario(EUROPE)


@pytest.fixture
def europe() -> Scenario:
    return europe_scenario()


def outcome(sc: Scenario, section: str, op: EditOp, key: str | None,
            row: dict[str, Any] | None) -> Scenario | None:
    """Apply one edit to a sound `sc` both ways and check they agree; the edited scenario
    (sound), or None when it was refused."""
    assert is_sound(sc)
    try:
        key, at, after = editing.locate_edit(sc, section, op, key, row, SOURCE)
    except FabnetError:  # refused before any check (no such row, a key that changes, …)
        return None
    quick = editing.apply_checked(sc, section, at, after, SOURCE)
    try:
        whole: Scenario | None = editing.apply_whole(sc, section, at, after, SOURCE)
        refused: ScenarioError | None = None
    except ScenarioError as e:
        whole, refused = None, e
    assert (quick is None) == (refused is not None), \
        f"{op} {section}[{key}] {after}: quick {'refused' if quick is None else 'accepted'}" \
        f", whole says {refused}"
    if refused is not None:  # and the edit, as a client makes it, says what the whole says
        with pytest.raises(ScenarioError) as got:
            editing._apply(sc, section, op, key, row, SOURCE)
        assert (str(got.value), got.value.issues, got.value.warnings) == \
            (str(refused), refused.issues, refused.warnings)
        return None
    assert quick is not None and whole is not None
    assert quick == whole and quick.warnings == whole.warnings
    assert version_digests(quick) == (content_sha256(whole), sections_sha256(whole))
    return quick


# ---------------------------------------------------------------- random edits


def value_pool(sc: Scenario) -> dict[str, list[Any]]:
    """Values to write into a row's fields: the scenario's own (most edits are sensible),
    and ones that break a rule or a field's schema."""
    t = scenario_tables(sc)
    ids = sorted({str(r[c]) for s, rows in t.items() for r in rows for c in r
                  if c in ("id", "item", "parent", "site", "supplier", "customer", "type",
                           "work_center", "step") and r[c]})
    countries = sorted({r["country"] for s in ("sites", "suppliers", "customers")
                        for r in t[s]})
    h = sc.horizon
    dates: list[Any] = [h.start, h.start + timedelta(days=90), h.end - timedelta(days=1),
                        h.start - timedelta(days=7), h.end + timedelta(days=7), None,
                        "2027-02-30"]
    return {
        "id": ids + ["NEW-1", "NEW-2", "", " PAD", "country:UA", "lane:FR-HUB>UA-MOD",
                     "kind:site", "default", "kind:bogus", "country:ZZ", "lane:X>Y"],
        "country": countries + ["ZZ", ""],
        "number": [0, 1, 2, 2.5, 0.5, 100, -1, None, 1e9, "x"],
        "date": dates,
        "bool": [True, False, None],
        "text": ["", "renamed", "RQ-{yyyy}-{seq:06}", "{bad", None],
        "kind": ["product", "component", "bogus", "uniform", "fixed", "geometric", "valid",
                 "pending", "revoked"],
        "list": [[], ids[:2], ids[3:4], ["NEW-1"], [0.5, 1.0], [2, -1]],
    }


def column_kind(section: str, col: str) -> str:
    """Which pool a column draws from."""
    if section == "lanes" and col in ("from", "to"):
        return "id"
    if col in ("id", "item", "parent", "site", "supplier", "customer", "type", "work_center",
               "step", "target"):
        return "id"
    if col in ("from", "until", "due"):
        return "date"
    if col in ("approved", "serialized", "required"):
        return "bool"
    if col in ("makes", "ramp", "items"):
        return "list"
    if col in ("kind", "dist", "status"):
        return "kind"
    if col == "country":
        return "country"
    if col in ("name", "location", "serial_pattern", "revision", "euc", "authority"):
        return "text"
    return "number"


TEMPLATES: dict[str, dict[str, Any]] = {
    "licences": {"id": "LIC-1", "customer": "UA-MOD", "country": "UA", "items": ["RECON-Q"],
                 "qty": 100, "from": "2027-01-04", "until": "2027-12-31", "euc": "EUC-1",
                 "status": "valid", "authority": ""},
}


@st.composite
def an_edit(draw: st.DrawFn, sc: Scenario, pool: dict[str, list[Any]]
            ) -> tuple[str, EditOp, str | None, dict[str, Any] | None]:
    """One edit of `sc` as a client sends it: section, operation, key and row."""
    t = scenario_tables(sc)
    section = draw(st.sampled_from(list(SECTIONS)))
    rows = t[section]
    op = draw(st.sampled_from(list(EditOp)))
    cols = columns(section)
    same = {c: [r[c] for r in rows] for c in cols}

    def value(col: str) -> Any:
        mine = same.get(col) or []
        take_mine: bool = draw(st.booleans())
        if mine and take_mine:
            return draw(st.sampled_from(mine))  # another row's value: mostly sound
        return draw(st.sampled_from(pool[column_kind(section, col)]))

    def changed(base: dict[str, Any], avoid: tuple[str, ...] = ()) -> dict[str, Any]:
        free = [c for c in cols if c not in avoid] or cols
        picks = draw(st.lists(st.sampled_from(free), min_size=1, max_size=2, unique=True))
        return {**base, **{c: value(c) for c in picks}}

    keys = editing.KEY_COLUMNS.get(section, ("id",))
    if op in (EditOp.CREATE, EditOp.PUT):
        base = dict(draw(st.sampled_from(rows))) if rows else dict(TEMPLATES.get(section, {}))
        if not base:
            base = {c: value(c) for c in cols}
        for c in keys:
            if draw(st.booleans()):
                base[c] = draw(st.sampled_from(["NEW-1", "NEW-2"]))
        return section, op, None, changed(base, keys) if draw(st.booleans()) else base
    if not rows:
        return section, EditOp.DELETE, "NEW-1", None
    row = draw(st.sampled_from(rows))
    key = editing.row_key(section, row)
    if op is EditOp.DELETE:
        return section, op, key, None
    if op is EditOp.PATCH:
        return section, op, key, changed({}, keys if draw(st.integers(0, 9)) else ())
    return section, op, key, changed(dict(row), keys if draw(st.integers(0, 9)) else ())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_edits_are_refused_and_accepted_as_the_whole_check_does(
        data: st.DataObject) -> None:
    sc = remember_sound(europe_scenario())
    pool = value_pool(sc)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        section, op, key, row = data.draw(an_edit(sc, pool), label="edit")
        sc = outcome(sc, section, op, key, row) or sc


# ---------------------------------------------------------------- each rule, broken from afar


CASES: list[tuple[str, str, EditOp, str | None, dict[str, Any] | None, bool]] = [
    # (what, section, op, key, row, accepted)
    ("an item BOM lines use is deleted", "items", EditOp.DELETE, "FRAME-7", None, False),
    ("a BOM line goes; its component is still bought", "boms", EditOp.DELETE,
     "RECON-Q/FRAME-7", None, True),
    ("a BOM line closes a cycle through a sub-assembly", "boms", EditOp.CREATE, None,
     {"parent": "BATT-LR-6S4P", "item": "LR-FW", "qty": 1}, False),
    ("a supplier takes a site's id", "suppliers", EditOp.CREATE, None,
     {"id": "FR-HUB", "country": "FR"}, False),
    ("a customer takes a supplier's id (no rule forbids it)", "customers", EditOp.CREATE,
     None, {"id": "SUP-CN-MOTORS", "country": "CN"}, True),
    ("a node moves to a country no risk names", "sites", EditOp.PATCH, "FR-HUB",
     {"country": "DE"}, True),
    ("a lane a risk names is deleted", "lanes", EditOp.DELETE, "FR-HUB>UA-MOD", None, False),
    ("a node a disruption and a recovery time name is deleted", "sites", EditOp.DELETE,
     "UA-PARTNER", None, False),
    ("a disruption names a country no node is in", "disruptions", EditOp.PATCH,
     "UA-PARTNER-power-cuts", {"target": "country:QQ"}, False),
    ("a demand falls due after the horizon", "demand", EditOp.PATCH,
     "D2702-UA-MOD-RECON-Q", {"due": "2029-01-01"}, False),
    ("a demand is changed", "demand", EditOp.PATCH, "D2702-UA-MOD-RECON-Q", {"qty": 301},
     True),
    ("a serial pattern that does not parse", "items", EditOp.PATCH, "RECON-Q",
     {"serial_pattern": "{bad"}, False),
    ("a risk's rate over 1", "risks", EditOp.PATCH, "strike-ua-rnd", {"rate": 2}, False),
    ("a negative quantity (the row's schema)", "demand", EditOp.PATCH,
     "D2702-UA-MOD-RECON-Q", {"qty": -1}, False),
    ("a site lists an item it can't route (a warning)", "sites", EditOp.PATCH, "UA-RND",
     {"makes": ["LR-FW"]}, True),
    ("a licence for a customer in another country (a warning)", "licences", EditOp.CREATE,
     None, {**TEMPLATES["licences"], "country": "PL"}, True),
    ("a licence for an unknown item", "licences", EditOp.CREATE, None,
     {**TEMPLATES["licences"], "items": ["NOPE"]}, False),
    ("a test step of an unknown item", "test_plans", EditOp.CREATE, None,
     {"item": "NOPE", "step": "x", "required": True}, False),
    ("a recovery time for a lane that does not exist", "recovery", EditOp.CREATE, None,
     {"target": "lane:FR-HUB>NOWHERE", "days": 3}, False),
]


@pytest.mark.parametrize(("what", "section", "op", "key", "row", "accepted"), CASES,
                         ids=[c[0] for c in CASES])
def test_an_edit_that_breaks_a_rule_elsewhere_is_refused_as_the_whole_check_does(
        europe: Scenario, what: str, section: str, op: EditOp, key: str | None,
        row: dict[str, Any] | None, accepted: bool) -> None:
    got = outcome(remember_sound(europe), section, op, key, row)
    assert (got is not None) == accepted, what


def test_the_last_of_something_others_need_goes_only_with_them(europe: Scenario) -> None:
    sc = remember_sound(europe)
    # battery work centers: two sites have one, and a routing step needs one somewhere
    one = outcome(sc, "work_centers", EditOp.DELETE, "FR-HUB/battery", None)
    assert one is not None
    assert outcome(one, "work_centers", EditOp.DELETE, "UK-PLANT/battery", None) is None
    # a risk names country:CN: the suppliers there may move away, all but the last
    cn = [s.id for s in europe.suppliers if s.country == "CN"]
    for supplier in cn[:-1]:
        moved = outcome(sc, "suppliers", EditOp.PATCH, supplier, {"country": "VN"})
        assert moved is not None
        sc = moved
    assert outcome(sc, "suppliers", EditOp.PATCH, cn[-1], {"country": "VN"}) is None
    # an item bought from one supplier only, neither made nor stocked, loses its offer
    offers = [o for o in europe.offers if sum(x.item == o.item for x in europe.offers) == 1
              and o.item not in {i.item for i in europe.inventory}]
    assert offers
    lone = offers[0]
    assert outcome(remember_sound(europe), "offers", EditOp.DELETE,
                   f"{lone.supplier}/{lone.item}", None) is None


def test_the_warnings_of_an_accepted_edit_are_the_whole_checks(europe: Scenario) -> None:
    got = outcome(remember_sound(europe), "sites", EditOp.PATCH, "UA-RND",
                  {"makes": ["LR-FW", "STRIKE-FPV"]})
    assert got is not None and any("UA-RND lists LR-FW" in str(w) for w in got.warnings)
    again = outcome(got, "demand", EditOp.PATCH, "D2702-UA-MOD-RECON-Q", {"qty": 1})
    assert again is not None and again.warnings == got.warnings  # kept, not recomputed


def test_every_rule_has_a_plan_for_one_changed_record() -> None:
    missing = [r.__name__ for r in consistency.RULES if r not in PLANS]
    assert not missing, f"add a plan to model/edit_checks.PLANS for {missing}"
    assert list(WARNING_RULES) == [r for r in consistency.RULES if r in WARNING_RULES]


def test_a_scenario_read_back_is_not_taken_as_checked(europe: Scenario) -> None:
    from dataclasses import replace

    copy = replace(europe)
    assert copy == europe and not is_sound(copy)
    assert is_sound(remember_sound(europe))
