"""Accounts, as the CLI (`fabnet db user-add`, `token-issue`) and the HTTP API both manage
them: argon2 password hashes, logins that hand out API tokens, and token look-ups, on
top of the store's users and tokens repositories.

Passwords are hashed with argon2id (RFC 9106), the winner of the Password Hashing
Competition; a hash carries its own parameters, so stronger settings later still verify
old hashes. Accounts made by earlier releases may carry scrypt hashes, and those
verify too. A token is shown once; the store keeps only its SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fabnet.model.errors import FabnetError
from fabnet.services.scenarios import NAME_PATTERN
from fabnet.store import ApiToken, Conflict, NotFound, Role, Store, User
from fabnet.store.repository import now

MIN_PASSWORD = 8

#: argon2id with the library's defaults (RFC 9106 "low memory": t=3, m=64 MiB, p=4)
DEFAULT_HASHER = PasswordHasher()
_SCRYPT = "scrypt"

#: what wraps each password check: e.g. a semaphore bounding the hashes run at once
Gate = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class Lockout:
    """After `failures` wrong passwords in a row an account is locked for `duration`:
    nobody signs in as it, not even with the right password, until it ends or an admin
    sets a new password."""

    failures: int = 5
    duration: timedelta = timedelta(minutes=15)


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    """An argon2id hash of `password` (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`)."""
    return (hasher or DEFAULT_HASHER).hash(password)


def verify_password(password: str, stored: str, hasher: PasswordHasher | None = None) -> bool:
    """True when `password` matches `stored`: an argon2 hash, or an older
    `scrypt$N$r$p$salt$hash` one (compared in constant time)."""
    if stored.startswith("$argon2"):
        try:
            return (hasher or DEFAULT_HASHER).verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        kind, n, r, p, salt, dk = stored.split("$")
        if kind != _SCRYPT:
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got, base64.b64decode(dk))


def check_user_name(name: str) -> None:
    """Names are letters, digits, '.', '_' or '-' (they appear in audit entries)."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise FabnetError(f"user name {name!r}: use letters, digits, '.', '_' or '-' "
                          "(fix: e.g. alice.martin)")


def check_password(name: str, password: str) -> None:
    """Passwords have at least `MIN_PASSWORD` characters."""
    if len(password) < MIN_PASSWORD:
        raise FabnetError(f"user {name!r}: the password is too short (fix: use at least "
                          f"{MIN_PASSWORD} characters)")


def create_user(store: Store, name: str, password: str, role: Role,
                sites: tuple[str, ...] = (), hasher: PasswordHasher | None = None) -> User:
    """A new active account with an argon2 password hash (audited, without the hash)."""
    check_user_name(name)
    check_password(name, password)
    digest = hash_password(password, hasher)
    with store.unit_of_work() as uow:
        user = uow.users.add(name, digest, role, sites)
        uow.commit()
    return user


def update_user(store: Store, name: str, role: Role | None = None,
                sites: tuple[str, ...] | None = None, active: bool | None = None,
                password: str | None = None, hasher: PasswordHasher | None = None) -> User:
    """Change an account's role, sites, active flag or password (audited). A new password
    or a deactivation revokes every token of the user in the same transaction (audited),
    so neither an old session nor a reactivation brings them back; the last active admin
    can't be demoted or deactivated (`Conflict`)."""
    digest = None
    if password is not None:
        check_password(name, password)
        digest = hash_password(password, hasher)
    with store.unit_of_work() as uow:
        old = uow.users.get(name)
        leaves = old.role is Role.ADMIN and old.active and (
            (role is not None and role is not Role.ADMIN) or active is False)
        if leaves and uow.users.active_admins() == [name]:
            raise Conflict(f"user {name!r} is the last active admin: demoting or deactivating "
                           "it would leave nobody to manage accounts (fix: make another "
                           "user admin first)")
        user = uow.users.update(name, role, sites, active, digest)
        if digest is not None:
            uow.tokens.revoke_all(name, "password changed")
        if active is False and old.active:
            uow.tokens.revoke_all(name, "user deactivated")
        uow.commit()
    return user


def get_user(store: Store, name: str) -> User:
    """One account."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.users.get(name)


def list_users(store: Store) -> list[User]:
    """Every account, by name."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.users.all()


@dataclass(frozen=True)
class Login:
    """A successful login: the token (shown once), its record, and the user."""

    token: str
    record: ApiToken
    user: User


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify when the user is unknown, so a sign-in takes as long either way."""
    return hasher.hash("no such user")


def authenticate(store: Store, name: str, password: str, hasher: PasswordHasher | None = None,
                 gate: Gate = nullcontext) -> User | None:
    """The active user with this name and password, or None. An unknown name costs one
    hash check too, so timing does not tell which names exist; the check runs inside
    `gate()` (e.g. a semaphore bounding how many hashes run at once)."""
    with store.unit_of_work(read_only=True) as uow:
        try:
            user: User | None = uow.users.get(name)
        except NotFound:
            user = None
    with gate():
        stored = user.password_hash if user else _dummy_hash(hasher or DEFAULT_HASHER)
        ok = verify_password(password, stored, hasher)
    return user if user is not None and ok and user.active else None


def login(store: Store, name: str, password: str, ttl: timedelta,
          hasher: PasswordHasher | None = None, lockout: Lockout | None = None,
          gate: Gate = nullcontext) -> Login | None:
    """Check a user's password and issue a token that expires after `ttl`; None when the
    name is unknown, the account inactive or locked, or the password wrong. Wrong
    passwords count towards `lockout` (default `Lockout()`); the password is checked
    even on a locked account, so the answer and its timing don't tell it is locked."""
    lockout = lockout or Lockout()
    user = authenticate(store, name, password, hasher, gate)
    at = now()
    with store.unit_of_work() as uow:
        if user is None:
            uow.users.record_failed_login(name, lockout.failures, lockout.duration, at)
            uow.commit()
            return None
        if uow.users.locked_until(name, at) is not None:
            return None
        uow.users.clear_failed_logins(name)
        uow.commit()
    token, rec = issue_token(store.acting_as(user.name), user.name, "login", at + ttl)
    return Login(token, rec, user)


def issue_token(store: Store, user: str, label: str = "",
                expires_at: datetime | None = None) -> tuple[str, ApiToken]:
    """A token for a script: the token itself (shown once) and its record (audited)."""
    token = secrets.token_urlsafe(32)
    with store.unit_of_work() as uow:
        rec = uow.tokens.add(user, token_sha256(token), label, expires_at)
        uow.commit()
    return token, rec


def token_sha256(token: str) -> str:
    """What the store keeps of an API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(store: Store, token: str, at: datetime | None = None) -> User | None:
    """The active user a bearer token belongs to; None if unknown, revoked or expired."""
    with store.unit_of_work(read_only=True) as uow:
        found = uow.tokens.find(token_sha256(token))
    if found is None:
        return None
    rec, user = found
    t = at or now()
    if rec.revoked_at is not None or (rec.expires_at is not None and rec.expires_at <= t):
        return None
    return user if user.active else None


def list_tokens(store: Store, user: str | None = None) -> list[ApiToken]:
    """Tokens of one user, or of everyone; the secrets themselves are never kept."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.tokens.all(user)


def get_token(store: Store, token_id: int) -> ApiToken:
    """One token's record."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.tokens.get(token_id)


def revoke_token(store: Store, token_id: int) -> ApiToken:
    """Revoke a token (audited); it is refused from then on."""
    with store.unit_of_work() as uow:
        rec = uow.tokens.revoke(token_id)
        uow.commit()
    return rec


def token_lifetime(hours: float) -> timedelta:
    """A token lifetime from a number of hours."""
    return timedelta(hours=hours)
