"""The what-if form's fields, checked before a job is submitted: each bad field gets
its own message, shown next to it on the continuity page, and nothing is started.

A what-if stops (or slows) one target from a date for a number of buckets: the target
must be a site, supplier, customer, lane (`lane:A>B`) or, for a role cleared for where
sites are, a country (`country:XX`) of the scenario; the date must lie in its horizon;
the buckets are a whole number from 1 to the horizon's length; the capacity left is a
number from 0 (down) up to, not including, 1 (1 would disrupt nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from fabnet.model.scenario import Scenario
from fabnet.model.target import KnownTargets

#: the form's fields, in the order they appear
FIELDS = ("target", "from", "buckets", "capacity")


@dataclass(frozen=True)
class WhatIfForm:
    """The form as entered, its field messages, and the disruption spec when it is good."""

    values: dict[str, str]
    errors: dict[str, str]
    spec: str | None


def targets(sc: Scenario, cleared: bool) -> list[str]:
    """What the form's target picker offers: nodes, countries (cleared roles) and lanes."""
    known = KnownTargets.of(sc)
    countries = known.countries if cleared else frozenset()
    return sorted(known.nodes) + sorted(f"country:{c}" for c in countries) + \
        sorted(f"lane:{ln}" for ln in known.lanes)


def check(form: Mapping[str, str], sc: Scenario, cleared: bool) -> WhatIfForm:
    """The what-if form checked against scenario `sc`."""
    values = {f: form.get(f, "").strip() for f in FIELDS}
    errors: dict[str, str] = {}
    target = values["target"]
    if not target:
        errors["target"] = "missing (fix: pick a site, supplier, customer, country or lane)"
    elif target not in set(targets(sc, cleared)):
        errors["target"] = (f"{target[:60]!r} is not a site, supplier, customer, lane or "
                            f"country of the scenario (fix: pick one from the list)")
    h = sc.horizon
    start: date | None = None
    try:
        start = date.fromisoformat(values["from"])
    except ValueError:
        errors["from"] = f"not a date, got {values['from'][:20]!r} (fix: YYYY-MM-DD)"
    if start is not None and not h.contains(start):
        errors["from"] = (f"{start} is outside the horizon, {h.start} to "
                          f"{h.bucket_start(h.buckets - 1)} (fix: a date inside it)")
    try:
        buckets = int(values["buckets"])
        if not 1 <= buckets <= h.buckets:
            errors["buckets"] = f"must be from 1 to {h.buckets}, got {buckets}"
    except ValueError:
        errors["buckets"] = f"not a whole number, got {values['buckets'][:20]!r}"
    try:
        factor = float(values["capacity"] or "0")
        if not 0 <= factor < 1:
            errors["capacity"] = (f"must be from 0 (down) to below 1, got {factor:g} (1 "
                                  "would disrupt nothing)")
    except ValueError:
        errors["capacity"] = f"not a number, got {values['capacity'][:20]!r}"
    if errors:
        return WhatIfForm(values, errors, None)
    spec = f"{target}@{values['from']}+{values['buckets']}"
    if factor > 0:
        spec += f"x{values['capacity']}"
    return WhatIfForm(values, errors, spec)
