"""What the store holds besides scenarios: plain values the repositories hand out.

Like the domain records, these import no ORM: a repository reads rows and builds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from fabnet.model.licence import Licence
from fabnet.model.mitigation import Mitigation
from fabnet.model.scenario import (
    BomLine,
    Customer,
    Demand,
    Disruption,
    InventoryRecord,
    Item,
    Lane,
    Offer,
    Recovery,
    Risk,
    RoutingStep,
    Site,
    Supplier,
    TestPlan,
    WorkCenter,
)

SectionRecord = (Item | BomLine | RoutingStep | Site | WorkCenter | Supplier | Offer | Customer
                 | Lane | InventoryRecord | Demand | Disruption | Recovery | Risk | TestPlan
                 | Licence | Mitigation)


@dataclass(frozen=True)
class ScenarioInfo:
    """A named scenario in the store and its newest version."""

    name: str
    versions: int
    latest: int
    title: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True)
class VersionInfo:
    """One stored version of a scenario (its content is read with `ScenarioRepository.get`)."""

    scenario: str
    version: int
    title: str
    content_sha256: str
    note: str
    created_at: datetime
    created_by: str
    rows: int = 0


class ChangeOp(StrEnum):
    """What a branch does to one row of its base: put it (add or replace) or delete it."""

    PUT = "put"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    """One row-level change of a branch: `section`'s row `key` becomes `record` (or goes)."""

    op: ChangeOp
    section: str
    key: str
    record: SectionRecord | None = None


class BranchStatus(StrEnum):
    """An open branch takes changes; a merged one has become a version of its parent."""

    OPEN = "open"
    MERGED = "merged"


@dataclass(frozen=True)
class Branch:
    """A what-if on a scenario version that stores only its changes."""

    name: str
    scenario: str
    base_version: int
    status: BranchStatus
    changes: tuple[Change, ...]
    note: str
    created_at: datetime
    created_by: str
    merged_version: int | None = None


class PlanRunStatus(StrEnum):
    """How planning a stored scenario ended (mirrors the solver's outcome)."""

    OPTIMAL = "optimal"
    FAILED = "failed"


@dataclass(frozen=True)
class PlanRun:
    """A plan computed from a stored version (or branch): KPIs and the plan document."""

    id: int
    scenario: str
    version: int
    branch: str | None
    status: str
    kpis: dict[str, Any]
    document: dict[str, Any]
    created_at: datetime
    created_by: str


class JobStatus(StrEnum):
    """Where a long-running job is."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """True once the job has a result or an error."""
        return self in (JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED)

    @property
    def comes_from(self) -> frozenset[JobStatus]:
        """The statuses a job may move to this one from: a job starts only when queued,
        is done only while it runs (never after a cancel), and fails or is cancelled
        only before it has ended. A finished job never changes again."""
        return _COMES_FROM[self]


_COMES_FROM: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset(),
    JobStatus.RUNNING: frozenset({JobStatus.QUEUED}),
    JobStatus.DONE: frozenset({JobStatus.RUNNING}),
    JobStatus.FAILED: frozenset({JobStatus.QUEUED, JobStatus.RUNNING}),
    JobStatus.CANCELLED: frozenset({JobStatus.QUEUED, JobStatus.RUNNING}),
}


@dataclass(frozen=True)
class Job:
    """A long-running job (plan, TTS sweep, stress test) and its progress from 0 to 1."""

    id: str
    kind: str
    status: JobStatus
    progress: float
    params: dict[str, Any]
    result: Any
    error: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str


class Role(StrEnum):
    """The people of DESIGN.md, as roles an account can have."""

    ADMIN = "admin"
    PLANNER = "planner"
    CONTINUITY = "continuity"
    SITE_MANAGER = "site_manager"
    QUALITY = "quality"
    ENGINEERING = "engineering"
    COMPLIANCE = "compliance"
    AUDITOR = "auditor"


@dataclass(frozen=True)
class User:
    """An account: its role, and the sites it may act on (empty: all)."""

    id: int
    name: str
    role: Role
    sites: tuple[str, ...]
    password_hash: str
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class ApiToken:
    """An API token of a user; the store keeps only its SHA-256."""

    id: int
    user: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit trail: who did what to which entity, before and after."""

    seq: int
    at: str
    actor: str
    action: str
    entity: str
    before: Any
    after: Any
    prev_hash: str
    hash: str
