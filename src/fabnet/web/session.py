"""Sessions of the dashboard: a signed-in browser holds one API login token in an
HttpOnly cookie, and every form carries a CSRF token derived from it.

A session is a login token of the store, as `POST /auth/login` hands out, so it expires, is
revoked by logout, by a new password or a deactivation, exactly as the API's tokens
are; the store keeps only its SHA-256. The cookie is HttpOnly (no script reads it),
SameSite=Lax (another site's form never sends it along), and Secure when the page is
served over TLS. The CSRF token is an HMAC of the session token: it is different for
each session, needs no storage, and a page of another site can neither read nor
compute it. The sign-in form, before any session exists, uses a double-submit token
(a random cookie the form must repeat).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from fabnet.services import accounts
from fabnet.services.scoping import Viewer
from fabnet.services.signed_in import SignedIn, limited_to
from fabnet.store import Store, User
from fabnet.web.wiring import Wiring

SESSION_COOKIE = "fabnet_session"
SIGNIN_COOKIE = "fabnet_signin"
CSRF_FIELD = "csrf"


def csrf_for(token: str) -> str:
    """The CSRF token of a session: an HMAC of its secret, so only its holder has it."""
    return hmac.new(token.encode(), b"fabnet-web-csrf", hashlib.sha256).hexdigest()


def same(a: str | None, b: str) -> bool:
    """Constant-time equality of two tokens (a missing one is never equal)."""
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def secure(request: Request) -> bool:
    """Is the page served over TLS (then cookies get the Secure flag)?"""
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, token_id: int, token: str,
                hours: float) -> None:
    """Give the browser its session cookie."""
    response.set_cookie(SESSION_COOKIE, f"{token_id}.{token}", max_age=int(hours * 3600),
                        path="/", httponly=True, samesite="lax", secure=secure(request))
    response.delete_cookie(SIGNIN_COOKIE, path="/")


def clear_session(response: Response, request: Request) -> None:
    """Take the session cookie back."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax",
                           secure=secure(request))


def signin_token(request: Request) -> str:
    """The double-submit token of the sign-in form: the browser's, or a fresh one."""
    have = request.cookies.get(SIGNIN_COOKIE)
    return have if have and len(have) == 43 else secrets.token_urlsafe(32)


def keep_signin_token(response: Response, request: Request, token: str) -> None:
    """Give the browser the sign-in form's token as a cookie (an hour)."""
    response.set_cookie(SIGNIN_COOKIE, token, max_age=3600, path="/", httponly=True,
                        samesite="strict", secure=secure(request))


@dataclass(frozen=True)
class WebUser(SignedIn):
    """The signed-in user of a page: their account, the store acting as them, their
    session (token id and secret), its CSRF token, and how they see results."""

    user: User
    store: Store
    token_id: int
    token: str
    viewer: Viewer

    @property
    def csrf(self) -> str:
        """The token every form of this session must carry."""
        return csrf_for(self.token)


def current_user(request: Request, store: Store, wiring: Wiring) -> WebUser | None:
    """The user of the request's session cookie; None without a valid one (unknown,
    expired or revoked token, inactive user)."""
    raw = request.cookies.get(SESSION_COOKIE, "")
    tid, _, token = raw.partition(".")
    if not tid.isdigit() or not token:
        return None
    user = accounts.user_for_token(store, token)
    if user is None:
        return None
    request.state.user_name = user.name  # for the access log
    return WebUser(user, store.acting_as(user.name), int(tid), token,
                   wiring.viewer(limited_to(user), user.role in wiring.cleared))


def end_session(who: WebUser) -> None:
    """Revoke the session's token (logout); only a token of this user is touched."""
    rec = accounts.get_token(who.store, who.token_id)
    if rec.user == who.name and rec.revoked_at is None:
        accounts.revoke_token(who.store, who.token_id)
