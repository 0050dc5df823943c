"""What a disruption or a risk hits: one node, every node of a country, or one lane.

A target is written `UA-PARTNER` (a site, supplier or customer id), `country:CN` or
`lane:SUP-TW>FR-HUB`. `Target.parse` reads that text once into a typed value; every
engine then asks the value, never the string, what it names. `Target.problem` checks it
against a scenario's nodes, countries and lanes and, as a spell checker does, offers the
closest known id when it names nothing ("did you mean UA-PARTNER?").
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from fabnet.model.errors import FabnetError
from fabnet.model.scenario import Customer, Scenario, Site, Supplier

COUNTRY_PREFIX = "country:"
LANE_PREFIX = "lane:"
#: the grammar, for fixes
FORMS = "a site, supplier or customer id, country:XX or lane:FROM>TO"


class TargetKind(StrEnum):
    """What a target names."""

    NODE = "node"
    COUNTRY = "country"
    LANE = "lane"


class TargetError(FabnetError):
    """A target that can't be read, or that names nothing in the scenario."""


@dataclass(frozen=True)
class TargetProblem:
    """Why a target names nothing, and the fix (the closest known id, or the known ones)."""

    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.message} (fix: {self.fix})"


@dataclass(frozen=True)
class KnownTargets:
    """The node ids, countries and lane ids (`FROM>TO`) of one scenario."""

    nodes: frozenset[str]
    countries: frozenset[str]
    lanes: frozenset[str]

    @classmethod
    def of(cls, sc: Scenario) -> KnownTargets:
        """Everything a target of `sc` may name."""
        nodes: list[Site | Supplier | Customer] = [*sc.sites, *sc.suppliers, *sc.customers]
        return cls(frozenset(n.id for n in nodes), frozenset(n.country for n in nodes),
                   frozenset(ln.id for ln in sc.lanes))


@dataclass(frozen=True)
class Target:
    """A node id, a country code or a lane id (`FROM>TO`), by `kind`."""

    kind: TargetKind
    value: str

    @classmethod
    def parse(cls, text: str) -> Target:
        """`UA-PARTNER`, `country:CN` or `lane:A>B` as a typed target; bad text raises."""
        got = _read(text)
        if isinstance(got, TargetProblem):
            raise TargetError(str(got))
        return got

    @classmethod
    def lane_between(cls, origin: str, destination: str) -> Target:
        """The target of the lane from `origin` to `destination`."""
        return cls(TargetKind.LANE, f"{origin}>{destination}")

    @property
    def node(self) -> str | None:
        """The node id, for a node target."""
        return self.value if self.kind is TargetKind.NODE else None

    @property
    def country(self) -> str | None:
        """The country code, for a country target."""
        return self.value if self.kind is TargetKind.COUNTRY else None

    @property
    def lane(self) -> str | None:
        """The lane id `FROM>TO`, for a lane target."""
        return self.value if self.kind is TargetKind.LANE else None

    def __str__(self) -> str:
        prefix = {TargetKind.NODE: "", TargetKind.COUNTRY: COUNTRY_PREFIX,
                  TargetKind.LANE: LANE_PREFIX}[self.kind]
        return prefix + self.value

    def problem(self, known: KnownTargets) -> TargetProblem | None:
        """Why this target names nothing in `known` (None when it names something)."""
        if self.kind is TargetKind.COUNTRY:
            if self.value in known.countries:
                return None
            return TargetProblem(f"no node is in country {self.value!r}",
                                 _fix(self.value, known.countries, COUNTRY_PREFIX))
        if self.kind is TargetKind.LANE:
            if self.value in known.lanes:
                return None
            return TargetProblem(f"no lane {self.value!r}",
                                 _fix(self.value, known.lanes, LANE_PREFIX))
        if self.value in known.nodes:
            return None
        fix = _fix(self.value, known.nodes)
        country = _same_but_case(self.value, known.countries)
        lane = _same_but_case(self.value, known.lanes)
        if country is not None:
            fix = f"did you mean {COUNTRY_PREFIX}{country}?"
        elif lane is not None:
            fix = f"did you mean {LANE_PREFIX}{lane}?"
        return TargetProblem(f"unknown node {self.value!r}", fix)

    def resolve(self, known: KnownTargets, where: str = "") -> Target:
        """This target, checked: raises `TargetError` naming `where` and the closest id."""
        why = self.problem(known)
        if why is not None:
            raise TargetError(f"{where}: {why}" if where else str(why))
        return self


def check_target(text: str, known: KnownTargets) -> TargetProblem | None:
    """Why the target written `text` can't be read or names nothing (None when sound)."""
    got = _read(text)
    return got if isinstance(got, TargetProblem) else got.problem(known)


def _read(text: str) -> Target | TargetProblem:
    """The target `text` names, or why it can't be read."""
    t = text.strip()
    if t.startswith(COUNTRY_PREFIX):
        code = t[len(COUNTRY_PREFIX):].strip()
        if not code:
            return TargetProblem(f"target {text!r}: no country after 'country:'",
                                 "write e.g. country:CN")
        return Target(TargetKind.COUNTRY, code)
    if t.startswith(LANE_PREFIX):
        origin, sep, destination = t[len(LANE_PREFIX):].partition(">")
        if not sep or not origin.strip() or not destination.strip():
            return TargetProblem(f"target {text!r}: a lane is written lane:FROM>TO",
                                 "write e.g. lane:SUP-TW>FR-HUB")
        return Target.lane_between(origin.strip(), destination.strip())
    if not t:
        return TargetProblem("empty target", f"name {FORMS}")
    return Target(TargetKind.NODE, t)


def _same_but_case(value: str, known: Iterable[str]) -> str | None:
    """The known id equal to `value` when case is ignored."""
    return next((k for k in sorted(known) if k.lower() == value.lower()), None)


def _closest(value: str, known: Iterable[str]) -> str | None:
    """The known id most like `value`, ignoring case (difflib's ratio, at least 0.6)."""
    by_lower: dict[str, str] = {}
    for k in sorted(known):
        by_lower.setdefault(k.lower(), k)
    hit = difflib.get_close_matches(value.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[hit[0]] if hit else None


def _fix(value: str, known: frozenset[str], prefix: str = "") -> str:
    """`did you mean X?` for the closest id, else the first few known ones."""
    best = _closest(value, known)
    if best is not None:
        return f"did you mean {prefix}{best}?"
    if not known:
        return "the scenario has none; add it first"
    names = sorted(known)
    more = f", … ({len(names)} in all)" if len(names) > 10 else ""
    return "use one of: " + ", ".join(prefix + n for n in names[:10]) + more
