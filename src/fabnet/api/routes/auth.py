"""Signing in: a user name and password exchanged for an API token, and who am I.

A sign-in first passes the throttle (`fabnet.api.throttle`: attempts per client address
and per user name, 429; a bounded number of password checks at once, 503), then the
password check, which counts wrong passwords towards the account's lockout.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status

from fabnet.api.deps import Anyone, LoginGuardDep, ServerStore, SettingsDep
from fabnet.api.schemas import LoginRequest, TokenIssued, TokenPublic, UserPublic
from fabnet.api.throttle import Busy
from fabnet.services import accounts

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenIssued)
def login(body: LoginRequest, request: Request, store: ServerStore, settings: SettingsDep,
          guard: LoginGuardDep, response: Response) -> TokenIssued:
    """Exchange a user name and password for a bearer token that expires after the
    server's token lifetime (12 hours by default). Public: no token needed. Too many
    attempts from one address or for one user are a 429 with Retry-After; after 5 wrong
    passwords in a row the account is locked for 15 minutes (by default)."""
    lockout = accounts.Lockout(settings.lockout_failures,
                               timedelta(minutes=settings.lockout_minutes))
    try:
        guard.admit(request.client.host if request.client else "-", body.username)
        done = accounts.login(store, body.username, body.password,
                              accounts.token_lifetime(settings.token_hours),
                              lockout=lockout, gate=guard.gate.turn)
    except Busy as e:
        raise HTTPException(e.status, e.what,
                            headers={"Retry-After": str(e.retry_after)}) from None
    if done is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "wrong user name or password, or the account is inactive or "
                            "locked after repeated wrong passwords (fix: check both; a "
                            f"lock ends after {settings.lockout_minutes:g} minutes, or when "
                            "an admin sets a new password)",
                            headers={"WWW-Authenticate": "Bearer"})
    response.headers["Cache-Control"] = "no-store"
    return TokenIssued(**TokenPublic.of(done.record).model_dump(), token=done.token)


@router.get("/me", response_model=UserPublic)
def me(who: Anyone) -> UserPublic:
    """The signed-in account."""
    return UserPublic.of(who.user)
