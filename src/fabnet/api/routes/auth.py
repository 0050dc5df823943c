"""Signing in: a user name and password exchanged for an API token, and who am I."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response, status

from fabnet.api.deps import Anyone, ServerStore, SettingsDep
from fabnet.api.schemas import LoginRequest, TokenIssued, TokenPublic, UserPublic
from fabnet.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenIssued)
def login(body: LoginRequest, store: ServerStore, settings: SettingsDep,
          response: Response) -> TokenIssued:
    """Exchange a user name and password for a bearer token that expires after the
    server's token lifetime (12 hours by default). Public: no token needed."""
    done = accounts.login(store, body.username, body.password,
                          accounts.token_lifetime(settings.token_hours))
    if done is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "wrong user name or password, or the account is inactive "
                            "(fix: check both; an admin can reactivate the account)",
                            headers={"WWW-Authenticate": "Bearer"})
    response.headers["Cache-Control"] = "no-store"
    return TokenIssued(**TokenPublic.of(done.record).model_dump(), token=done.token)


@router.get("/me", response_model=UserPublic)
def me(who: Anyone) -> UserPublic:
    """The signed-in account."""
    return UserPublic.of(who.user)
