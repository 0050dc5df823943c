"""Users (name, role, sites, password hash) and their API tokens (only the hash is kept)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from fabnet.store.audit import Action
from fabnet.store.errors import Conflict, NotFound
from fabnet.store.records import ApiToken, Role, User
from fabnet.store.repository import Repository, as_utc, as_utc_or_none, now
from fabnet.store.schema import api_tokens, users

U, T = users, api_tokens


def _public(u: User) -> dict[str, Any]:
    """What the audit trail keeps of a user: never the password hash."""
    return {"name": u.name, "role": u.role.value, "sites": list(u.sites), "active": u.active}


class UserRepository(Repository):
    """Accounts."""

    def add(self, name: str, password_hash: str, role: Role,
            sites: tuple[str, ...] = ()) -> User:
        """A new active account."""
        if self._conn.execute(sa.select(U.c.id).where(U.c.name == name)).first():
            raise Conflict(f"user {name!r} already exists (fix: choose another name)")
        self._conn.execute(sa.insert(U).values(
            name=name, password_hash=password_hash, role=role.value, sites=list(sites),
            active=True, created_at=now()))
        user = self.get(name)
        self._audit.append(Action.USER_CREATE, f"user:{name}", None, _public(user))
        return user

    def get(self, name: str) -> User:
        """An account by name."""
        r = self._conn.execute(sa.select(U).where(U.c.name == name)).one_or_none()
        if r is None:
            raise NotFound(f"no user {name!r} (fix: check the name, or add the user)")
        return _user(r)

    def all(self) -> list[User]:
        """Every account, by name."""
        return [_user(r) for r in self._conn.execute(sa.select(U).order_by(U.c.name))]

    def update(self, name: str, role: Role | None = None, sites: tuple[str, ...] | None = None,
               active: bool | None = None, password_hash: str | None = None) -> User:
        """Change an account's role, sites, active flag or password."""
        old = self.get(name)
        values: dict[str, Any] = {}
        if role is not None:
            values["role"] = role.value
        if sites is not None:
            values["sites"] = list(sites)
        if active is not None:
            values["active"] = active
        if password_hash is not None:
            values["password_hash"] = password_hash
        if values:
            self._conn.execute(sa.update(U).where(U.c.name == name).values(**values))
        new = self.get(name)
        after = _public(new) | ({"password": "changed"} if password_hash is not None else {})
        self._audit.append(Action.USER_UPDATE, f"user:{name}", _public(old), after)
        return new


class TokenRepository(Repository):
    """API tokens: looked up by the SHA-256 of the token a client presents."""

    def add(self, user: str, token_sha256: str, label: str = "",
            expires_at: datetime | None = None) -> ApiToken:
        """Record a new token of `user` (the caller hands the token itself to the user)."""
        uid = self._conn.execute(sa.select(U.c.id).where(U.c.name == user)).scalar()
        if uid is None:
            raise NotFound(f"no user {user!r} (fix: add the user first)")
        tid = self._conn.execute(sa.insert(T).values(
            user_id=uid, token_sha256=token_sha256, label=label, created_at=now(),
            expires_at=expires_at, revoked_at=None).returning(T.c.id)).scalar_one()
        self._audit.append(Action.TOKEN_CREATE, f"token:{tid}", None,
                           {"user": user, "label": label, "expires_at": expires_at})
        return self.get(int(tid))

    def get(self, token_id: int) -> ApiToken:
        """A token by its id."""
        r = self._conn.execute(sa.select(T, U.c.name.label("user")).join(U)
                               .where(T.c.id == token_id)).one_or_none()
        if r is None:
            raise NotFound(f"no API token {token_id} (fix: check the id)")
        return _token(r)

    def find(self, token_sha256: str) -> tuple[ApiToken, User] | None:
        """The token with this hash and its user (None if unknown)."""
        r = self._conn.execute(sa.select(T, U.c.name.label("user")).join(U)
                               .where(T.c.token_sha256 == token_sha256)).one_or_none()
        if r is None:
            return None
        return _token(r), self._user_by_id(int(r.user_id))

    def all(self, user: str | None = None) -> list[ApiToken]:
        """Tokens (of one user, or all), oldest first."""
        q = sa.select(T, U.c.name.label("user")).join(U).order_by(T.c.id)
        if user is not None:
            q = q.where(U.c.name == user)
        return [_token(r) for r in self._conn.execute(q)]

    def revoke(self, token_id: int) -> ApiToken:
        """Revoke a token; it stays listed, and is refused from now on."""
        old = self.get(token_id)
        self._conn.execute(sa.update(T).where(T.c.id == token_id).values(revoked_at=now()))
        new = self.get(token_id)
        self._audit.append(Action.TOKEN_REVOKE, f"token:{token_id}",
                           {"revoked_at": old.revoked_at}, {"revoked_at": new.revoked_at})
        return new

    def _user_by_id(self, uid: int) -> User:
        return _user(self._conn.execute(sa.select(U).where(U.c.id == uid)).one())


def _user(r: Any) -> User:
    return User(int(r.id), r.name, Role(r.role), tuple(r.sites), r.password_hash,
                bool(r.active), as_utc(r.created_at))


def _token(r: Any) -> ApiToken:
    return ApiToken(int(r.id), r.user, r.label, as_utc(r.created_at),
                    as_utc_or_none(r.expires_at), as_utc_or_none(r.revoked_at))
