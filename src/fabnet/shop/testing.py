"""Tests on the floor: results per unit and step, the completeness rule, and yield.

A unit is complete only when every required step of its item's test plan has a last
result that passes (a retest after a fail counts; a fail after a pass undoes it). A
value outside the step's limits is a fail whatever the operator pressed. First-pass
yield counts, per step, the units whose first result passed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from fabnet.model.scenario import TestPlan


@dataclass(frozen=True)
class TestResult:
    """One recorded result of `step` on a unit."""

    id: int
    serial: str
    step: str
    passed: bool
    value: float | None
    station: str | None
    operator: str
    at: datetime


def missing_steps(plans: Iterable[TestPlan], last: Mapping[str, bool]) -> list[str]:
    """The required steps whose last result (step -> passed) is missing or a fail, each
    as `step (not tested)` or `step (failed)`."""
    out = []
    for p in plans:
        if not p.required:
            continue
        if p.step not in last:
            out.append(f"{p.step} (not tested)")
        elif not last[p.step]:
            out.append(f"{p.step} (failed)")
    return out


@dataclass(frozen=True)
class YieldRow:
    """First-pass yield of one step of one item at one site in one ISO week."""

    item: str
    site: str
    step: str
    week: str
    tested: int
    first_pass: int

    @property
    def fpy(self) -> float:
        """First-pass yield, from 0 to 1."""
        return self.first_pass / self.tested if self.tested else 0.0


@dataclass(frozen=True)
class FailureRow:
    """A bar of the failure Pareto: how many failed results a step of an item had."""

    item: str
    step: str
    failures: int
    share: float  # of all failures in the report
