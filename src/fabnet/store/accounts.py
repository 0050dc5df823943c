"""Users (name, role, sites, password hash) and their API tokens (only the hash is kept)."""

from __future__ import annotations

from datetime import datetime, timedelta
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
        unlocked = password_hash is not None and self._unlock(name)
        new = self.get(name)
        after = _public(new) | ({"password": "changed"} if password_hash is not None else {}) \
            | ({"unlocked": True} if unlocked else {})
        self._audit.append(Action.USER_UPDATE, f"user:{name}", _public(old), after)
        return new

    def active_admins(self) -> list[str]:
        """The names of the active admins, their rows locked until the transaction ends
        (on PostgreSQL; SQLite's writers queue anyway), so two admins demoting each
        other at once can't both pass a "someone else is admin" check."""
        q = (sa.select(U.c.name).where(U.c.role == Role.ADMIN.value, U.c.active.is_(True))
             .order_by(U.c.name).with_for_update())
        return [str(n) for n in self._conn.execute(q).scalars()]

    def locked_until(self, name: str, at: datetime) -> datetime | None:
        """Until when `name` may not sign in (None: not locked at `at`, or no such user)."""
        until = self._conn.execute(sa.select(U.c.locked_until)
                                   .where(U.c.name == name)).scalar()
        return None if until is None or as_utc(until) <= at else as_utc(until)

    def record_failed_login(self, name: str, limit: int, lock_for: timedelta, at: datetime
                            ) -> datetime | None:
        """Count one more wrong password of `name`; at the `limit`-th in a row the account
        is locked for `lock_for` (audited as `user.lock`) and the time it ends returned.
        Failures while locked, and of unknown names, count nothing."""
        count = self._conn.execute(
            sa.update(U).where(U.c.name == name,
                               sa.or_(U.c.locked_until.is_(None), U.c.locked_until <= at))
            .values(failed_logins=U.c.failed_logins + 1)
            .returning(U.c.failed_logins)).scalar()
        if count is None or int(count) < limit:
            return None
        until = at + lock_for
        self._conn.execute(sa.update(U).where(U.c.name == name)
                           .values(failed_logins=0, locked_until=until))
        self._audit.append(Action.USER_LOCK, f"user:{name}", None,
                           {"failed_logins": int(count), "locked_until": until})
        return until

    def clear_failed_logins(self, name: str) -> None:
        """Forget `name`'s wrong passwords (after a successful sign-in)."""
        self._conn.execute(sa.update(U).where(U.c.name == name, U.c.failed_logins != 0)
                           .values(failed_logins=0))

    def _unlock(self, name: str) -> bool:
        """Lift a lock and forget the failures (a new password); True if it was locked."""
        was = self._conn.execute(sa.select(U.c.locked_until).where(U.c.name == name)).scalar()
        self._conn.execute(sa.update(U).where(U.c.name == name)
                           .values(failed_logins=0, locked_until=None))
        return was is not None and as_utc(was) > now()


class TokenRepository(Repository):
    """API tokens: looked up by the SHA-256 of the token a client presents."""

    def add(self, user: str, token_sha256: str, label: str = "",
            expires_at: datetime | None = None) -> ApiToken:
        """Record a new token of `user` (the caller hands the token itself to the user)."""
        found = self._conn.execute(sa.select(U.c.id, U.c.active).where(U.c.name == user)).first()
        if found is None:
            raise NotFound(f"no user {user!r} (fix: add the user first)")
        if not found.active:
            raise Conflict(f"user {user!r} is inactive: it gets no tokens (fix: reactivate "
                           f"the account first, PATCH /users/{user} {{\"active\": true}})")
        uid = found.id
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

    def revoke_all(self, user: str, reason: str) -> list[ApiToken]:
        """Revoke every token of `user` not revoked yet (each audited, with `reason`):
        a new password or a deactivation signs the user out everywhere, for good."""
        ids = self._conn.execute(
            sa.select(T.c.id).join(U).where(U.c.name == user, T.c.revoked_at.is_(None))
            .order_by(T.c.id)).scalars().all()
        if not ids:
            return []
        at = now()
        self._conn.execute(sa.update(T).where(T.c.id.in_(ids)).values(revoked_at=at))
        for tid in ids:
            self._audit.append(Action.TOKEN_REVOKE, f"token:{tid}", {"revoked_at": None},
                               {"revoked_at": at, "reason": reason})
        return [self.get(int(tid)) for tid in ids]

    def _user_by_id(self, uid: int) -> User:
        return _user(self._conn.execute(sa.select(U).where(U.c.id == uid)).one())


def _user(r: Any) -> User:
    return User(int(r.id), r.name, Role(r.role), tuple(r.sites), r.password_hash,
                bool(r.active), as_utc(r.created_at))


def _token(r: Any) -> ApiToken:
    return ApiToken(int(r.id), r.user, r.label, as_utc(r.created_at),
                    as_utc_or_none(r.expires_at), as_utc_or_none(r.revoked_at))
