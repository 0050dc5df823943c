"""The API's request and response shapes, one family per resource (`XCreate`,
`XUpdate`, `XPublic`, `Page[XPublic]`), so store records never leak as they are.

Every request model refuses unknown fields, numbers that are not finite, integers
outside 32 bits, text with NUL characters or lone surrogates, and dates outside
1900..2300: each refusal is a 422 naming the field, never a database error later.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from fabnet.io.limits import MAX_AMOUNT
from fabnet.io.records import scalar_types
from fabnet.model.horizon import BucketKind
from fabnet.model.scenario import NodeKind
from fabnet.services.scenarios import NAME_PATTERN
from fabnet.services.scoping import VersionView
from fabnet.store import ApiToken, Branch, Job, PlanRun, Role, ScenarioInfo, User, VersionInfo

MAX_INT = 2**31 - 1
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2300, 12, 31)
NAME = NAME_PATTERN  # scenario, branch and user names

T = TypeVar("T")


def sane(value: Any) -> Any:
    """`value` if the store and the engines can take it, else a `ValueError` saying why."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ValueError(f"must be between {-MAX_INT} and {MAX_INT}")
    elif isinstance(value, float):
        if abs(value) > MAX_AMOUNT:
            raise ValueError(f"must be between {-MAX_AMOUNT:g} and {MAX_AMOUNT:g}")
    elif isinstance(value, date) and not isinstance(value, datetime):
        if not FIRST_DAY <= value <= LAST_DAY:
            raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    elif isinstance(value, list | tuple):
        for v in value:
            sane(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            sane(k)
            sane(v)
    return value


def _json_typed(value: Any, types: frozenset[type] | None) -> Any:
    """`value` if JSON sent it as the field's type: a number for a number, true or false
    for a yes/no; `true` for a count or `"4"` for a quantity is refused, not converted."""
    if types is None or value is None:
        return value
    if types == {bool}:
        if not isinstance(value, bool):
            raise PydanticCustomError("bool_type", "Input should be true or false",
                                      {"fix": "send true or false, without quotes"})
    elif types <= {int, float} and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise PydanticCustomError("number_type", "Input should be a number",
                                  {"fix": "send a number, without quotes"})
    return value


class ApiModel(BaseModel):
    """Base of every request body: strict about unknown fields and odd values, and about
    JSON types (a number, true or false, as the field says)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)

    @field_validator("*", mode="before")
    @classmethod
    def _typed(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        return value if field is None else _json_typed(value, scalar_types(field.annotation))

    @field_validator("*", mode="after")
    @classmethod
    def _sane(cls, value: Any) -> Any:
        return sane(value)


class Page(BaseModel, Generic[T]):
    """One page of a list: the rows asked for and how many match in all."""

    data: list[T]
    count: int


Name = Annotated[str, Field(pattern=NAME, description="letters, digits, '.', '_' or '-'")]
Password = Annotated[str, Field(min_length=8, max_length=1000)]
Label = Annotated[str, Field(max_length=200)]
Note = Annotated[str, Field(max_length=2000)]
SiteId = Annotated[str, Field(min_length=1, max_length=200)]
Spec = Annotated[str, Field(min_length=3, max_length=300,
                            description="TARGET@YYYY-MM-DD+BUCKETS[xFACTOR], e.g. "
                            "UA-PARTNER@2027-05-03+6 or country:CN@2027-03-01+13x0.5")]
Version = Annotated[int, Field(ge=1, le=MAX_INT)]


# ---------------------------------------------------------------- auth, users, tokens


class LoginRequest(ApiModel):
    """A user name and password, exchanged for a token."""

    username: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]


class UserCreate(ApiModel):
    """A new account."""

    name: Name
    password: Password
    role: Role
    sites: list[SiteId] = Field(default=[], max_length=1000,
                                description="for site_manager: the sites they lead")


class UserUpdate(ApiModel):
    """Changes to an account; fields left out stay as they are."""

    role: Role | None = None
    sites: list[SiteId] | None = Field(default=None, max_length=1000)
    active: bool | None = None
    password: Password | None = None


class UserPublic(BaseModel):
    """An account as the API shows it (never the password hash)."""

    name: str
    role: Role
    sites: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, u: User) -> UserPublic:
        """From the store's record."""
        return cls(name=u.name, role=u.role, sites=list(u.sites), active=u.active,
                   created_at=u.created_at)


class TokenCreate(ApiModel):
    """A new API token for a script."""

    label: Label = ""
    expires_in_hours: float | None = Field(default=None, gt=0, le=24 * 366 * 5,
                                           description="none: never expires")
    user: Name | None = Field(default=None, description="admin only: issue it for this user")


class TokenPublic(BaseModel):
    """A token's record; the secret itself is never kept."""

    id: int
    user: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenPublic:
        """From the store's record."""
        return cls(id=t.id, user=t.user, label=t.label, created_at=t.created_at,
                   expires_at=t.expires_at, revoked_at=t.revoked_at)


class TokenIssued(TokenPublic):
    """A new token: `token` is shown this once (null when an idempotent retry replays it)."""

    token: str | None
    token_type: str = "bearer"


# ---------------------------------------------------------------- scenarios and versions


class ScenarioPublic(BaseModel):
    """A stored scenario and its newest version."""

    name: str
    versions: int
    latest: int
    title: str
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, s: ScenarioInfo) -> ScenarioPublic:
        """From the store's record."""
        return cls(name=s.name, versions=s.versions, latest=s.latest, title=s.title,
                   updated_at=s.updated_at, updated_by=s.updated_by)


class VersionPublic(BaseModel):
    """One version of a scenario. `content_sha256` is the stored hash of the whole
    version for roles that see all of it (`hash_of: "version"`); for the others it is the
    hash of what they may see (`hash_of: "your view"`), and `note` leaves out restricted
    field names and other sites' ids."""

    scenario: str
    version: int
    title: str
    content_sha256: str
    hash_of: str = "version"
    note: str
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, v: VersionInfo, view: VersionView | None = None) -> VersionPublic:
        """From the store's record, with its hash and note as the caller may see them."""
        return cls(scenario=v.scenario, version=v.version, title=v.title,
                   content_sha256=v.content_sha256 if view is None else view.content_sha256,
                   hash_of="version" if view is None else view.hash_of,
                   note=v.note if view is None else view.note, created_at=v.created_at,
                   created_by=v.created_by)


class HorizonIn(ApiModel):
    """The planning horizon: first day, bucket length and number of buckets."""

    start: date
    bucket: BucketKind = BucketKind.WEEK
    buckets: Annotated[int, Field(ge=1, le=10_000)]


# ---------------------------------------------------------------- branches


class BranchCreate(ApiModel):
    """A what-if branch of a scenario version (default: the newest)."""

    name: Name
    scenario: Name
    version: Version | None = None
    note: Note = ""
    disruptions: list[Spec] = Field(default=[], max_length=100,
                                    description="disruptions to add as its first changes")


class MergeRequest(ApiModel):
    """What to note on the version a merge makes."""

    note: Note = ""


class ChangePublic(BaseModel):
    """One change of a branch: put a row (add or replace) or delete it."""

    op: str
    section: str
    key: str
    record: dict[str, Any] | None


class BranchPublic(BaseModel):
    """A branch and its changes."""

    name: str
    scenario: str
    base_version: int
    status: str
    note: str
    created_at: datetime
    created_by: str
    merged_version: int | None
    changes: list[ChangePublic]

    @classmethod
    def of(cls, b: Branch, changes: list[ChangePublic]) -> BranchPublic:
        """From the store's record, with its changes as the caller may see them."""
        return cls(name=b.name, scenario=b.scenario, base_version=b.base_version,
                   status=b.status.value, note=b.note, created_at=b.created_at,
                   created_by=b.created_by, merged_version=b.merged_version, changes=changes)


class RowDiffPublic(BaseModel):
    """A row a branch adds, removes or changes against its base version."""

    section: str
    key: str
    kind: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    fields: list[str]


class BranchComparison(BaseModel):
    """A branch against its parent, and the rows a merge would clash on."""

    branch: str
    scenario: str
    base_version: int
    parent_latest: int
    conflicts: list[str]
    rows: list[RowDiffPublic]


# ---------------------------------------------------------------- jobs and plan runs


class JobTarget(ApiModel):
    """The scenario a job works on: its newest version, another version, or a branch."""

    scenario: Name
    version: Version | None = None
    branch: Name | None = Field(default=None, description="a what-if branch of the scenario")


class PlanJob(JobTarget):
    """Plan the scenario (the plan is kept as a plan run); among the optimal plans, the one
    closest to the last stored plan run of the same scenario and branch."""

    frozen: Annotated[int, Field(ge=0, le=10_000, description="keep the last stored plan "
                                 "run's first N buckets as they are (a frozen horizon)")] = 0
    whole_units: bool = Field(default=False, description="plan in whole units with the "
                              "offers' moq/multiple and the work centers' batch (a MIP; no "
                              "reference level, no frozen horizon)")
    mip_time_limit: Annotated[float | None, Field(
        gt=0, le=3600, description="seconds for the whole-unit MIP, all levels together "
        "(default 60; only with whole_units)")] = None

    @model_validator(mode="after")
    def _limit_needs_whole_units(self) -> PlanJob:
        """A MIP time limit means nothing to a continuous plan: say so at once."""
        if self.mip_time_limit is not None and not self.whole_units:
            raise ValueError("mip_time_limit: only a whole-unit plan solves a MIP "
                             "(fix: add \"whole_units\": true, or drop mip_time_limit)")
        return self


class WhatIfJob(JobTarget):
    """Re-plan around disruptions and compare with the plan without them."""

    disruptions: list[Spec] = Field(min_length=1, max_length=50)
    frozen: Annotated[int, Field(ge=0, le=10_000, description="keep the base plan's first "
                                 "N buckets as they are (a frozen horizon)")] = 0


class TtsJob(JobTarget):
    """Time-to-survive, time-to-recover and performance impact per node (Simchi-Levi et
    al., Interfaces 2015)."""

    kinds: list[NodeKind] | None = Field(default=None, max_length=len(NodeKind),
                                         description="node kinds to sweep, each once "
                                         "(default: every site, offer and lane)")

    @field_validator("kinds")
    @classmethod
    def _once(cls, kinds: list[NodeKind] | None) -> list[NodeKind] | None:
        if kinds is not None and len(set(kinds)) < len(kinds):
            raise ValueError("names a kind twice (fix: name each kind once)")
        return kinds


class MonteCarloJob(JobTarget):
    """A stress test: sampled futures from the scenario's risks, each re-planned."""

    samples: Annotated[int, Field(ge=1, le=100_000)] = 200
    seed: Annotated[int, Field(ge=0, le=MAX_INT)] = 0
    target: Annotated[float, Field(ge=0, le=1)] = 0.95


class JobPublic(BaseModel):
    """A job and where it is; poll it until `status` is done or failed."""

    id: str
    kind: str
    status: str
    progress: float
    params: dict[str, Any]
    error: str | None
    created_at: datetime
    updated_at: datetime
    created_by: str

    @classmethod
    def of(cls, j: Job, params: dict[str, Any] | None = None, error: str | None = None
           ) -> JobPublic:
        """From the store's record (without its result); `params` and `error` as the
        caller may see them, when they are scoped (default: as stored)."""
        return cls(id=j.id, kind=j.kind, status=j.status.value, progress=j.progress,
                   params=j.params if params is None else params,
                   error=j.error if params is None else error, created_at=j.created_at,
                   updated_at=j.updated_at, created_by=j.created_by)


class JobResult(BaseModel):
    """A finished job's result (for a plan: the plan run, its KPIs and its tables)."""

    id: str
    kind: str
    status: str
    result: Any


class PlanRunPublic(BaseModel):
    """A plan kept in the store, with its KPIs."""

    id: int
    scenario: str
    version: int
    branch: str | None
    status: str
    kpis: dict[str, Any]
    created_at: datetime
    created_by: str

    scope: dict[str, Any] | None = Field(
        default=None, description="for a role limited to some sites: which, and what was "
        "left out (`kpis` are then those of the visible rows)")

    @classmethod
    def of(cls, r: PlanRun, kpis: dict[str, Any] | None = None,
           scope: dict[str, Any] | None = None) -> PlanRunPublic:
        """From the store's record (without its tables); `kpis` as the caller may see them."""
        return cls(id=r.id, scenario=r.scenario, version=r.version, branch=r.branch,
                   status=r.status, kpis=r.kpis if kpis is None else kpis,
                   created_at=r.created_at, created_by=r.created_by, scope=scope)


class PlanRunDocument(PlanRunPublic):
    """A kept plan with every table of the plan contract (for a site-limited role: the
    rows of their sites)."""

    document: dict[str, Any]


# ---------------------------------------------------------------- audit


class AuditEntryPublic(BaseModel):
    """One entry of the hash-chained audit trail."""

    seq: int
    at: str
    actor: str
    action: str
    entity: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


class AuditVerification(BaseModel):
    """The audit chain recomputed: sound, or the first entry that is not."""

    ok: bool
    entries: int
    head_hash: str
    bad_seq: int | None
    problem: str
