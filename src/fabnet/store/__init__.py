"""The shared store: scenarios and their versions, what-if branches, plan runs, jobs,
users and the audit trail, in SQL (a SQLite file by default, PostgreSQL by URL).

Only `fabnet.services` opens a `UnitOfWork`; repositories hand out plain values
(`Scenario`, `Branch`, `Job`, …) and never commit on their own.
"""

from fabnet.store import po_schema as _po_schema  # noqa: F401 - tables of revision 0012
from fabnet.store import transfer_schema as _transfer_schema  # noqa: F401 - revision 0016
from fabnet.store.audit import Action, ChainReport, verify_chain
from fabnet.store.engine import database_url, display_url, make_engine
from fabnet.store.errors import Conflict, NotFound, SchemaOutOfDate, StoreError
from fabnet.store.migrate import check_schema, current_revision, head_revision, upgrade
from fabnet.store.records import (
    ApiToken,
    AuditEntry,
    Branch,
    BranchStatus,
    Change,
    ChangeOp,
    Job,
    JobStatus,
    PlanRun,
    Role,
    ScenarioInfo,
    User,
    VersionInfo,
)
from fabnet.store.unit_of_work import Store, UnitOfWork

__all__ = [
    "Action", "ApiToken", "AuditEntry", "Branch", "BranchStatus", "ChainReport", "Change",
    "ChangeOp", "Conflict", "Job", "JobStatus", "NotFound", "PlanRun", "Role",
    "ScenarioInfo", "SchemaOutOfDate", "Store", "StoreError", "UnitOfWork", "User", "VersionInfo",
    "check_schema", "current_revision", "database_url", "display_url", "head_revision",
    "make_engine", "upgrade", "verify_chain",
]
