"""`fabnet db users|user-set|tokens|token-revoke`: accounts and API tokens of the store,
through the same service as the API's `/users` and `/tokens` (`fabnet.services.accounts`).

Whoever can open the store's database manages its accounts, as `fabnet db user-add` does;
every change is audited under `--as`. A new password or a deactivation revokes the
user's tokens, and the last active admin can't be demoted or deactivated, exactly as
through the API.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from fabnet.cli.console import out_console
from fabnet.cli.store import ActorHere, UrlHere, _t, db_app, open_store, print_table
from fabnet.model.errors import FabnetError
from fabnet.store import ApiToken, Role, User

JsonHere = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise FabnetError(f"role {text!r} is unknown (fix: use one of "
                          f"{', '.join(x.value for x in Role)})") from None


def _user_json(u: User) -> dict[str, object]:
    """An account as scripts see it: never its password hash."""
    return {"name": u.name, "role": u.role.value, "sites": list(u.sites), "active": u.active,
            "created_at": u.created_at.isoformat()}


def _token_json(t: ApiToken) -> dict[str, object]:
    return {"id": t.id, "user": t.user, "label": t.label, "created_at": t.created_at.isoformat(),
            "expires_at": t.expires_at.isoformat() if t.expires_at else None,
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}


def _show_users(users: list[User], as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps([_user_json(u) for u in users], indent=1) + "\n")
        return
    print_table("users", ("name", "role", "sites", "active", "created"),
                [(u.name, u.role.value, ", ".join(u.sites) or "all",
                  "yes" if u.active else "no", _t(u.created_at)) for u in users])


@db_app.command("users")
def users_cmd(ctx: typer.Context, as_json: JsonHere = False, url: UrlHere = None,
              actor: ActorHere = None) -> None:
    """List the accounts: role, sites, active (never a password hash)."""
    from fabnet.services.accounts import list_users

    _show_users(list_users(open_store(ctx, url, actor)), as_json)


@db_app.command("user-set")
def user_set_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str | None, typer.Option(help="A new role.")] = None,
    site: Annotated[list[str] | None, typer.Option(
        help="The sites the user may act on from now on; repeat for several.")] = None,
    all_sites: Annotated[bool, typer.Option("--all-sites",
                                            help="Let the user act on every site.")] = False,
    active: Annotated[bool | None, typer.Option(
        "--activate/--deactivate", help="Let the user sign in again, or stop them (their "
        "tokens are revoked).")] = None,
    reset_password: Annotated[bool, typer.Option(
        "--reset-password", help="Set a new password (asked for, or read from "
        "FABNET_NEW_PASSWORD); the user's tokens are revoked.")] = False,
    as_json: JsonHere = False,
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Change an account's role, sites, active flag or password (audited)."""
    import os

    from fabnet.services.accounts import update_user

    if site and all_sites:
        raise FabnetError("--site and --all-sites contradict each other (fix: give one)")
    if role is None and not site and not all_sites and active is None and not reset_password:
        raise FabnetError(f"user {name!r}: nothing to change (fix: give --role, --site, "
                          "--all-sites, --activate, --deactivate or --reset-password)")
    password = None
    if reset_password:
        password = os.environ.get("FABNET_NEW_PASSWORD") or typer.prompt(
            "New password", hide_input=True, confirmation_prompt=True)
    sites = () if all_sites else tuple(site) if site else None
    u = update_user(open_store(ctx, url, actor), name, _role(role) if role else None, sites,
                    active, password)
    if as_json:
        sys.stdout.write(json.dumps(_user_json(u), indent=1) + "\n")
    else:
        out_console.print(f"user {u.name}: {u.role.value}, sites "
                          f"{', '.join(u.sites) or 'all'}, {'active' if u.active else 'inactive'}"
                          + (", new password (tokens revoked)" if password else ""))


@db_app.command("tokens")
def tokens_cmd(ctx: typer.Context,
               user: Annotated[str | None, typer.Option(help="Only this user's.")] = None,
               as_json: JsonHere = False, url: UrlHere = None, actor: ActorHere = None) -> None:
    """List API tokens (never the secrets, which the store does not keep)."""
    from fabnet.services.accounts import list_tokens

    found = list_tokens(open_store(ctx, url, actor), user)
    if as_json:
        sys.stdout.write(json.dumps([_token_json(t) for t in found], indent=1) + "\n")
        return
    print_table("API tokens", ("id", "user", "label", "created", "expires", "revoked"),
                [(str(t.id), t.user, t.label, _t(t.created_at),
                  _t(t.expires_at) if t.expires_at else "never",
                  _t(t.revoked_at) if t.revoked_at else "") for t in found])


@db_app.command("token-revoke")
def token_revoke_cmd(ctx: typer.Context,
                     token_id: Annotated[int, typer.Argument(help="The token's id.")],
                     url: UrlHere = None, actor: ActorHere = None) -> None:
    """Revoke an API token at once (audited); it is refused from then on."""
    from fabnet.services.accounts import revoke_token

    t = revoke_token(open_store(ctx, url, actor), token_id)
    out_console.print(f"token {t.id} of {t.user} revoked")
