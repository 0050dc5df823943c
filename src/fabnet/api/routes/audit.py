"""The tamper-evident audit trail, for admins and auditors: read it, verify it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from fabnet.api.deps import AuditReader
from fabnet.api.schemas import MAX_INT, AuditEntryPublic, AuditVerification, Page
from fabnet.services import audit_trail, pages

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntryPublic])
def list_entries(who: AuditReader, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 offset: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
                 actor: Annotated[str | None, Query(max_length=100)] = None,
                 action: Annotated[str | None, Query(max_length=100)] = None,
                 entity: Annotated[str | None, Query(max_length=300, description=
                                                     "entities starting with this, e.g. "
                                                     "scenario:europe")] = None
                 ) -> Page[AuditEntryPublic]:
    """Entries in chain order: who did what to which entity, before and after (filters:
    `actor`, `action`, `entity` prefix)."""
    page = pages.audit_page(who.store, limit, offset, actor, action, entity)
    return Page(data=[AuditEntryPublic(**vars(e)) for e in page.rows], count=page.count)


@router.get("/verify", response_model=AuditVerification)
def verify(who: AuditReader) -> AuditVerification:
    """Recompute the hash chain from the first entry; the first entry that was edited,
    deleted or moved, if any. Keep `head_hash` elsewhere to catch a rewritten trail."""
    r = audit_trail.verify_audit(who.store)
    return AuditVerification(ok=r.ok, entries=r.entries, head_hash=r.head_hash,
                             bad_seq=r.bad_seq, problem=r.problem)
