"""Accounts: admins create and change them; admins and auditors read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from fabnet.api.deps import AccountReader, Admin
from fabnet.api.schemas import NAME, Page, UserCreate, UserPublic, UserUpdate
from fabnet.services import accounts
from fabnet.store import Role

router = APIRouter(prefix="/users", tags=["users"])
UserName = Annotated[str, Path(pattern=NAME)]


@router.get("", response_model=Page[UserPublic])
def list_users(who: AccountReader,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100,
               offset: Annotated[int, Query(ge=0)] = 0,
               role: Role | None = None) -> Page[UserPublic]:
    """Every account, by name (filter: `role`)."""
    users = [u for u in accounts.list_users(who.store) if role is None or u.role is role]
    return Page(data=[UserPublic.of(u) for u in users[offset:offset + limit]], count=len(users))


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, who: Admin) -> UserPublic:
    """Create an account (its password is hashed with argon2id; audited without it)."""
    return UserPublic.of(accounts.create_user(who.store, body.name, body.password, body.role,
                                              tuple(body.sites)))


@router.get("/{name}", response_model=UserPublic)
def get_user(name: UserName, who: AccountReader) -> UserPublic:
    """One account."""
    return UserPublic.of(accounts.get_user(who.store, name))


@router.patch("/{name}", response_model=UserPublic)
def update_user(name: UserName, body: UserUpdate, who: Admin) -> UserPublic:
    """Change an account's role, sites, active flag or password (audited)."""
    return UserPublic.of(accounts.update_user(
        who.store, name, body.role, None if body.sites is None else tuple(body.sites),
        body.active, body.password))
