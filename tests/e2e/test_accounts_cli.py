"""Accounts and tokens on the command line, on a temporary SQLite store: the same service
as the API's, so a reset password or a deactivation revokes the user's tokens, the last
admin can't be demoted or deactivated, and every change is in the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.services import accounts
from fabnet.services.database import connect
from fabnet.store.audit import read_entries


def test_accounts_and_tokens_on_the_command_line(tmp_path: Path) -> None:
    run = CliRunner()
    url = f"sqlite:///{tmp_path / 'f.sqlite'}"
    env = {"FABNET_DATABASE_URL": url, "FABNET_USER": "root",
           "FABNET_NEW_PASSWORD": "correct horse battery"}

    def fab(*args: str, code: int = 0) -> str:
        r = run.invoke(app, list(args), env=env)
        assert r.exit_code == code, r.output
        assert "Traceback" not in r.output
        return r.output

    fab("db", "init")
    fab("db", "user-add", "ada", "--role", "admin")
    fab("db", "user-add", "lee", "--role", "site_manager", "--site", "FR-HUB")
    users = {u["name"]: u for u in json.loads(fab("db", "users", "--json"))}
    assert users["lee"] == {**users["lee"], "role": "site_manager", "sites": ["FR-HUB"],
                            "active": True}
    assert "password" not in json.dumps(users) and "argon" not in fab("db", "users")

    store = connect(url, "test")
    token = fab("db", "token-issue", "lee", "--label", "nightly").strip().splitlines()[-1]
    assert accounts.user_for_token(store, token) is not None
    moved = json.loads(fab("db", "user-set", "lee", "--site", "UA-PARTNER", "--site",
                           "FR-HUB", "--json"))
    assert moved["sites"] == ["UA-PARTNER", "FR-HUB"]
    assert accounts.user_for_token(store, token) is not None  # a site change keeps tokens
    assert "new password (tokens revoked)" in fab("db", "user-set", "lee", "--reset-password")
    assert accounts.user_for_token(store, token) is None
    [listed] = json.loads(fab("db", "tokens", "--user", "lee", "--json"))
    assert listed["label"] == "nightly" and listed["revoked_at"] is not None

    second = fab("db", "token-issue", "lee").strip().splitlines()[-1]
    assert "inactive" in fab("db", "user-set", "lee", "--deactivate")
    assert accounts.user_for_token(store, second) is None
    fab("db", "user-set", "lee", "--activate", "--all-sites")
    assert accounts.user_for_token(store, second) is None  # reactivating brings none back
    assert accounts.get_user(store, "lee").sites == ()

    third = fab("db", "token-issue", "lee").strip().splitlines()[-1]
    tid = json.loads(fab("db", "tokens", "--user", "lee", "--json"))[-1]["id"]
    assert f"token {tid} of lee revoked" in fab("db", "token-revoke", str(tid))
    assert accounts.user_for_token(store, third) is None

    refused = fab("db", "user-set", "ada", "--role", "planner", code=1)
    assert "last active admin" in refused and len(refused.strip().splitlines()) <= 3
    assert "last active admin" in fab("db", "user-set", "ada", "--deactivate", code=1)
    assert "nothing to change" in fab("db", "user-set", "ada", code=1)
    assert "unknown" in fab("db", "user-set", "ada", "--role", "boss", code=1)
    assert "contradict" in fab("db", "user-set", "lee", "--site", "X", "--all-sites", code=1)
    assert "nobody" in fab("db", "user-set", "nobody", "--deactivate", code=1)

    with store.unit_of_work(read_only=True) as uow:
        trail = [(e.action, e.entity, e.actor) for e in read_entries(uow.connection)]
    assert trail.count(("user.update", "user:lee", "root")) == 4
    assert sum(1 for a, _, who in trail if a == "token.revoke" and who == "root") == 3
