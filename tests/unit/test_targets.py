"""Disruption targets: one typed value parsed once, checked against the scenario's ids."""

from __future__ import annotations

import pytest

from fabnet.model.target import KnownTargets, Target, TargetError, TargetKind, check_target

KNOWN = KnownTargets(nodes=frozenset({"UA-PARTNER", "FR-HUB", "SUP-CN-MOTORS", "UA-MOD"}),
                     countries=frozenset({"UA", "FR", "CN"}),
                     lanes=frozenset({"SUP-CN-MOTORS>FR-HUB", "FR-HUB>UA-MOD"}))


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("UA-PARTNER", TargetKind.NODE, "UA-PARTNER"),
    ("country:CN", TargetKind.COUNTRY, "CN"),
    ("lane:SUP-CN-MOTORS>FR-HUB", TargetKind.LANE, "SUP-CN-MOTORS>FR-HUB"),
    (" FR-HUB ", TargetKind.NODE, "FR-HUB"),
])
def test_parse_reads_kind_and_value(text: str, kind: TargetKind, value: str) -> None:
    t = Target.parse(text)
    assert (t.kind, t.value) == (kind, value)
    assert str(t) == text.strip()


def test_each_kind_answers_only_for_itself() -> None:
    node, country, lane = (Target.parse(x) for x in ("FR-HUB", "country:FR", "lane:A>B"))
    assert (node.node, node.country, node.lane) == ("FR-HUB", None, None)
    assert (country.node, country.country, country.lane) == (None, "FR", None)
    assert (lane.node, lane.country, lane.lane) == (None, None, "A>B")
    assert Target.lane_between("A", "B") == lane


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty target"),
    ("country:", "no country after 'country:'"),
    ("lane:FR-HUB", "a lane is written lane:FROM>TO"),
    ("lane:>UA-MOD", "a lane is written lane:FROM>TO"),
])
def test_unreadable_targets_are_refused_with_the_form(text: str, says: str) -> None:
    with pytest.raises(TargetError, match=says):
        Target.parse(text)
    problem = check_target(text, KNOWN)
    assert problem is not None and says in problem.message and problem.fix


@pytest.mark.parametrize("text", ["UA-PARTNER", "country:CN", "lane:FR-HUB>UA-MOD"])
def test_known_targets_have_no_problem(text: str) -> None:
    assert check_target(text, KNOWN) is None
    assert Target.parse(text).resolve(KNOWN) == Target.parse(text)


@pytest.mark.parametrize(("text", "message", "fix"), [
    ("UA-PARTNR", "unknown node 'UA-PARTNR'", "did you mean UA-PARTNER?"),
    ("ua-partner", "unknown node 'ua-partner'", "did you mean UA-PARTNER?"),
    ("cn", "unknown node 'cn'", "did you mean country:CN?"),
    ("FR-HUB>UA-MOD", "unknown node 'FR-HUB>UA-MOD'", "did you mean lane:FR-HUB>UA-MOD?"),
    ("country:XX", "no node is in country 'XX'",
     "use one of: country:CN, country:FR, country:UA"),
    ("country:fr", "no node is in country 'fr'", "did you mean country:FR?"),
    ("lane:FOO>BAR", "no lane 'FOO>BAR'",
     "use one of: lane:FR-HUB>UA-MOD, lane:SUP-CN-MOTORS>FR-HUB"),
    ("lane:FR-HUB>UA-MDO", "no lane 'FR-HUB>UA-MDO'", "did you mean lane:FR-HUB>UA-MOD?"),
])
def test_unknown_targets_name_the_closest_known_id(text: str, message: str, fix: str) -> None:
    problem = check_target(text, KNOWN)
    assert problem is not None
    assert (problem.message, problem.fix) == (message, fix)
    with pytest.raises(TargetError) as e:
        Target.parse(text).resolve(KNOWN, "--disrupt 'x'")
    assert str(e.value) == f"--disrupt 'x': {message} (fix: {fix})"


def test_known_targets_of_a_scenario_cover_nodes_countries_and_lanes() -> None:
    from datetime import date

    from fabnet.model import BucketKind, Customer, Horizon, Lane, Scenario, Site, Supplier

    sc = Scenario("t", Horizon(date(2027, 1, 4), BucketKind.WEEK, 4),
                  sites=(Site("FR-HUB", "FR"),), suppliers=(Supplier("SUP-CN", "CN"),),
                  customers=(Customer("UA-MOD", "UA"),),
                  lanes=(Lane("SUP-CN", "FR-HUB", 1),))
    known = KnownTargets.of(sc)
    assert known.nodes == {"FR-HUB", "SUP-CN", "UA-MOD"}
    assert known.countries == {"FR", "CN", "UA"}
    assert known.lanes == {"SUP-CN>FR-HUB"}
