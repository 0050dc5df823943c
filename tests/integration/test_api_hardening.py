"""Attacks on accounts, tokens, sign-in and logging, replayed against the real app:
each test is what an attacker (or an unlucky admin) does, and what fabnet must answer.

Each test runs on SQLite and on PostgreSQL where the fixtures allow (see
test_api_fixtures); the PostgreSQL half skips, saying why, without a server.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fabnet.api import Settings
from fabnet.api.logsafe import printable
from fabnet.api.throttle import SlidingWindow
from fabnet.services import accounts
from fabnet.services import database as db_svc
from fabnet.store import Conflict, Role, StoreError, make_engine
from fabnet.store.engine import check_writable
from fabnet.store.schema import users
from tests.integration.test_api_fixtures import PASSWORD, Api, Seeded, serve

pytest_plugins = ["tests.integration.test_api_fixtures"]

A, P, Q = Role.ADMIN, Role.PLANNER, Role.QUALITY
FABNET = Path(sys.executable).parent / "fabnet"
MiB = 2**20


def audit_of(api: Api, **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = api.get("/audit", params={"limit": 1000, **filters}).json()["data"]
    return rows


def me(api: Api, token: str) -> int:
    code: int = api.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}
                               ).status_code
    return code


def login(api: Api, name: str, password: str, **kw: Any) -> Any:
    return api.client.post("/auth/login", json={"username": name, "password": password}, **kw)


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "fabnet.api.access"]


# ---------------------------------------------------------------- tokens


def test_a_password_reset_revokes_every_token_of_the_user(api: Api) -> None:
    script = api.post("/tokens", P, json={"label": "nightly import"}).json()
    assert me(api, api.tokens[P]) == me(api, script["token"]) == 200
    r = api.patch("/users/pat", json={"password": "a brand new password"})
    assert r.status_code == 200
    assert me(api, api.tokens[P]) == me(api, script["token"]) == 401
    revoked = [e for e in audit_of(api, action="token.revoke")
               if e["after"].get("reason") == "password changed"]
    assert {e["entity"] for e in revoked} >= {f"token:{script['id']}"}
    assert all(t["revoked_at"] for t in api.get("/tokens", params={"user": "pat"}).json()["data"])
    assert login(api, "pat", "a brand new password").status_code == 200


def test_a_reactivated_user_does_not_get_its_old_tokens_back(api: Api) -> None:
    assert api.patch("/users/quinn", json={"active": False}).status_code == 200
    assert api.patch("/users/quinn", json={"active": True}).status_code == 200
    assert me(api, api.tokens[Q]) == 401
    assert login(api, "quinn", PASSWORD).status_code == 200  # a new sign-in still works


def test_tokens_are_revoked_in_the_transaction_that_deactivates_the_user(api: Api) -> None:
    api.patch("/users/quinn", json={"active": False})
    entries = audit_of(api)
    update = next(i for i, e in enumerate(entries)
                  if e["action"] == "user.update" and e["entity"] == "user:quinn")
    after = entries[update + 1]
    assert after["action"] == "token.revoke" and after["after"]["reason"] == "user deactivated"
    assert after["at"][:19] == entries[update]["at"][:19]


def test_an_inactive_user_gets_no_new_tokens(api: Api) -> None:
    api.patch("/users/quinn", json={"active": False})
    r = api.post("/tokens", json={"user": "quinn", "label": "sneaky"})
    assert r.status_code == 409 and "inactive" in r.json()["detail"]


def test_a_token_in_the_query_string_never_reaches_the_log(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    secret = api.tokens[P]
    api.client.get("/auth/me", params={"access_token": secret, "token": "tok-QZX",
                                       "password": "pw-QZX", "api_key": "key-QZX",
                                       "client_secret": "sec-QZX", "limit": "5"})
    text = "\n".join(access_lines(caplog))
    assert "access_token=***" in text and "api_key=***" in text and "limit=5" in text
    assert secret not in text and "QZX" not in text


def test_login_ignores_the_idempotency_key(api: Api) -> None:
    headers = {**api.auth(P), "Idempotency-Key": "login-once"}
    first, again = (login(api, "pat", PASSWORD, headers=headers) for _ in range(2))
    assert first.status_code == again.status_code == 200
    assert "idempotent-replayed" not in again.headers
    assert first.json()["token"] and again.json()["token"]
    assert first.json()["token"] != again.json()["token"]
    assert me(api, again.json()["token"]) == 200


# ---------------------------------------------------------------- the last admin


def test_the_last_admin_can_not_demote_or_deactivate_itself(api: Api) -> None:
    for change in ({"role": "planner"}, {"active": False}):
        r = api.patch("/users/ada", json=change)
        assert r.status_code == 409 and "last active admin" in r.json()["detail"]
    assert api.get("/users/ada").json()["role"] == "admin"
    with pytest.raises(Conflict, match="make another user admin first"):  # the CLI's way in
        accounts.update_user(api.store, "ada", active=False)
    assert api.patch("/users/pat", json={"role": "admin"}).status_code == 200
    assert api.patch("/users/ada", json={"role": "planner"}).status_code == 200
    r = api.patch("/users/pat", json={"active": False}, headers={})
    assert r.status_code == 403  # ada is no admin any more; pat stays, the last one


# ---------------------------------------------------------------- log forging


def test_a_newline_in_the_path_can_not_forge_a_log_line(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    forged = "x%0aGET%20/users%20200%200.1ms%20user=ada%0d%1b[2J%5c"
    assert api.client.get(f"/scenarios/europe/sites/{forged}").status_code in (401, 404)
    lines = [m for m in access_lines(caplog) if "/scenarios/europe/sites/" in m]
    assert len(lines) == 1
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", lines[0])
    assert "sites/x\\nGET /users 200 0.1ms user=ada\\r\\x1b[2J\\\\ 40" in lines[0]


def test_every_control_character_is_escaped_and_escapes_stay_apart() -> None:
    controls = "".join(map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029]))
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", printable(controls))
    assert printable("a\nb") != printable("a\\nb")  # a sent backslash is not an escape
    assert printable("Lyon, Vaise — zone 2") == "Lyon, Vaise — zone 2"


# ---------------------------------------------------------------- sign-in floods


def test_five_wrong_passwords_lock_the_account_until_an_admin_resets_it(api: Api) -> None:
    for _ in range(5):
        assert login(api, "pat", "not the password").status_code == 401
    locked = login(api, "pat", PASSWORD)
    assert locked.status_code == 401  # right password, locked account: same answer
    assert locked.json() == login(api, "nobody", "not the password").json()
    [entry] = audit_of(api, action="user.lock")
    assert entry["entity"] == "user:pat" and entry["after"]["failed_logins"] == 5
    with api.store.engine.connect() as conn:
        until = conn.execute(sa.select(users.c.locked_until)
                             .where(users.c.name == "pat")).scalar()
    assert until is not None
    assert api.patch("/users/pat", json={"password": "reset by the admin"}).status_code == 200
    assert login(api, "pat", "reset by the admin").status_code == 200


def test_a_right_password_resets_the_count_of_wrong_ones(api: Api) -> None:
    for _ in range(2):
        for _ in range(4):
            assert login(api, "pat", "not the password").status_code == 401
        assert login(api, "pat", PASSWORD).status_code == 200
    assert audit_of(api, action="user.lock") == []


@pytest.fixture
def strict(seeded: Seeded) -> Iterator[Api]:
    """The API with tight sign-in limits: 3 per user name, 6 per address, per minute."""
    yield from serve(seeded, login_per_user=3, login_per_client=6)


def test_too_many_sign_ins_get_429_with_retry_after(strict: Api) -> None:
    codes = [login(strict, "pat", "wrong guess").status_code for _ in range(3)]
    refused = login(strict, "pat", PASSWORD)
    assert codes == [401] * 3 and refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "this user" in refused.json()["detail"]
    # other names from the same address (4 tries so far): their own counts, until the
    # address has tried 6 times
    assert [login(strict, n, "x").status_code for n in ("eve", "cora")] == [401, 401]
    by_address = login(strict, "aud", PASSWORD)
    assert by_address.status_code == 429 and "your address" in by_address.json()["detail"]
    assert int(by_address.headers["retry-after"]) >= 1


def test_a_sliding_window_lets_hits_age_out() -> None:
    t = [0.0]
    window = SlidingWindow(2, 10.0, clock=lambda: t[0])
    assert window.hit("a") is None and window.hit("a") is None
    assert window.hit("a") == 10 and window.hit("b") is None
    t[0] = 10.5
    assert window.hit("a") is None


def _peak_rss() -> int:
    """This process's peak resident memory (VmHWM), in bytes."""
    text = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) * 1024  # type: ignore[union-attr]


def _reset_peak() -> None:
    """Make VmHWM start again from the current resident size (Linux: clear_refs 5)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError as e:
        pytest.skip(f"can't reset the peak memory counter here ({e})")


@pytest.fixture
def flood_target(seeded: Seeded) -> Iterator[Api]:
    """The API with 2 password checks at once, a short wait, and the other limits out of
    the way, so only the hashing turnstile stands between a flood and the memory."""
    yield from serve(seeded, login_hashing=2, login_wait_seconds=0.3,
                     login_per_user=10_000, login_per_client=10_000,
                     lockout_failures=10_000)


def test_a_login_flood_keeps_memory_bounded_by_the_hashing_turnstile(
        flood_target: Api) -> None:
    api = flood_target
    # a real account with the real argon2 parameters: 64 MiB per check
    accounts.create_user(api.store, "target", "the real password", Role.PLANNER)
    threads, per_thread = 24, 4
    codes: list[int] = []
    retry_after: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def attack(n: int) -> None:
        start.wait()
        for i in range(per_thread):
            r = login(api, "target" if i % 2 else f"ghost-{n}", f"guess {n}-{i}")
            with lock:
                codes.append(r.status_code)
                if r.status_code == 503:
                    retry_after.append(r.headers.get("retry-after", ""))

    _reset_peak()
    before = _peak_rss()
    pool = [threading.Thread(target=attack, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    grown = _peak_rss() - before
    # two 64 MiB checks at a time and some slack, not 24 (or 96) of them
    assert grown < 2 * 64 * MiB + 96 * MiB, f"peak memory grew by {grown / MiB:.0f} MiB"
    assert len(codes) == threads * per_thread and set(codes) <= {401, 503}
    assert 401 in codes and 503 in codes  # some checked, the rest told to come back
    assert retry_after and all(v.isdigit() and int(v) >= 1 for v in retry_after)


# ---------------------------------------------------------------- timing


@contextmanager
def _counted(log: list[str], name: str) -> Iterator[None]:
    log.append(name)
    yield


def test_unknown_users_cost_a_password_check_on_every_path(api: Api) -> None:
    checks: list[str] = []
    for name in ("pat", "nobody"):
        assert accounts.authenticate(api.store, name, "wrong", gate=partial(_counted, checks, name)
                                ) is None
    assert checks == ["pat", "nobody"]  # the same work for a name that doesn't exist
    assert accounts.login(api.store, "nobody", "wrong", accounts.token_lifetime(1),
                          gate=partial(_counted, checks, "login")) is None
    assert checks[-1] == "login"
    assert accounts.authenticate(api.store, "pat", PASSWORD) is not None


# ---------------------------------------------------------------- read-only stores


def _read_only_url(seeded: Seeded) -> str:
    """The seeded store, opened so that no write can succeed. Tests run as root, where
    chmod 0o444 stops no write, so SQLite opens the file with `mode=ro` (what a read-only
    file or folder gives an ordinary user: 'attempt to write a readonly database') and
    PostgreSQL starts every transaction read-only."""
    if seeded.url.startswith("sqlite:///"):
        return f"sqlite:///file:{seeded.url[len('sqlite:///'):]}?mode=ro&uri=true"
    return seeded.url + "%20-cdefault_transaction_read_only%3Don"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serving_a_read_only_store_is_one_line_with_the_fix(seeded: Seeded) -> None:
    url = _read_only_url(seeded)
    env = {k: v for k, v in os.environ.items() if k != "FABNET_DATABASE_URL"}
    try:
        done = subprocess.run([str(FABNET), "serve", "--url", url, "--port", str(_free_port())],
                              capture_output=True, text=True, timeout=60, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("fabnet serve started on a read-only store")
    out = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1 and "Traceback" not in "\n".join(out)
    errors = [line for line in out if line.startswith("error:")]
    assert len(errors) == 1 and len(out) <= 2, out  # the banner, then the one line
    assert "can't be written" in errors[0] and "fix:" in errors[0]


def test_writing_to_a_read_only_store_names_the_fix(seeded: Seeded, tmp_path: Path) -> None:
    engine = make_engine(_read_only_url(seeded))
    try:
        with pytest.raises(StoreError, match=r"can't be written here: .*\(fix: "):
            check_writable(engine)
        store = db_svc.connect(_read_only_url(seeded), "alice")
        with pytest.raises(StoreError, match="can't be written here"):
            accounts.create_user(store, "bob", "long enough", Role.QUALITY)
        assert [u.name for u in accounts.list_users(store)][:1] == ["ada"]  # reads still work
    finally:
        engine.dispose()
    missing = tmp_path / "no such folder" / "store.sqlite"
    with pytest.raises(StoreError, match="folder exists"):
        db_svc.init_store(f"sqlite:///{missing}")


# ---------------------------------------------------------------- settings


def test_the_sign_in_limits_come_from_the_environment() -> None:
    s = Settings.from_env({"FABNET_API_LOGIN_HASHING": "3", "FABNET_API_LOCKOUT_FAILURES": "7",
                           "FABNET_API_LOCKOUT_MINUTES": "30",
                           "FABNET_API_LOGIN_PER_CLIENT": "50"}, url="sqlite:///x.sqlite")
    assert (s.login_hashing, s.lockout_failures, s.lockout_minutes, s.login_per_client) == \
        (3, 7, 30.0, 50)
    with pytest.raises(Exception, match="FABNET_API_LOGIN_PER_USER='-1': must be > 0"):
        Settings.from_env({"FABNET_API_LOGIN_PER_USER": "-1"})
