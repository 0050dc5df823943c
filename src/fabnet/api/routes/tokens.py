"""API tokens for scripts: issued once (only their hash is kept), listed, revoked.

Anyone signed in manages their own tokens; an admin manages everyone's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from fabnet.api.deps import Anyone, Principal
from fabnet.api.schemas import MAX_INT, NAME, Page, TokenCreate, TokenIssued, TokenPublic
from fabnet.services import accounts
from fabnet.store import ApiToken, Role
from fabnet.store.repository import now

router = APIRouter(prefix="/tokens", tags=["tokens"])
TokenId = Annotated[int, Path(ge=1, le=MAX_INT)]


def _mine(who: Principal, user: str) -> None:
    if user != who.name and who.role is not Role.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"tokens of {user!r} are theirs to manage (fix: sign in as "
                            f"{user!r}, or ask an admin)")


@router.post("", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
def issue_token(body: TokenCreate, who: Anyone, response: Response) -> TokenIssued:
    """Issue a token for a script, for yourself (an admin: for `user`). The token is in
    this answer only; keep it safe. A retry with the same Idempotency-Key answers with
    `token: null` instead of issuing a second one."""
    user = body.user or who.name
    _mine(who, user)
    expires = None if body.expires_in_hours is None else \
        now() + timedelta(hours=body.expires_in_hours)
    token, rec = accounts.issue_token(who.store, user, body.label, expires)
    response.headers["Cache-Control"] = "no-store"
    return TokenIssued(**TokenPublic.of(rec).model_dump(), token=token)


@router.get("", response_model=Page[TokenPublic])
def list_tokens(who: Anyone,
                user: Annotated[str | None, Query(pattern=NAME)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0)] = 0) -> Page[TokenPublic]:
    """Your tokens (an admin: everyone's, or `user`'s), oldest first; never the secrets."""
    if who.role is not Role.ADMIN:
        _mine(who, user or who.name)
        user = who.name
    found = accounts.list_tokens(who.store, user)
    return Page(data=[TokenPublic.of(t) for t in found[offset:offset + limit]],
                count=len(found))


def _own_token(who: Principal, token_id: int) -> ApiToken:
    rec = accounts.get_token(who.store, token_id)
    _mine(who, rec.user)
    return rec


@router.get("/{token_id}", response_model=TokenPublic)
def get_token(token_id: TokenId, who: Anyone) -> TokenPublic:
    """One of your tokens."""
    return TokenPublic.of(_own_token(who, token_id))


@router.post("/{token_id}/revoke", response_model=TokenPublic)
def revoke_token(token_id: TokenId, who: Anyone) -> TokenPublic:
    """Revoke one of your tokens; it is refused from now on (audited)."""
    _own_token(who, token_id)
    return TokenPublic.of(accounts.revoke_token(who.store, token_id))
