"""Tampering with the store behind fabnet's back, as someone with write access to the
database but not the audit key would: every edit is named by `verify`.

Each test runs on a fresh SQLite file (key file beside it, the default) and on a fresh
PostgreSQL schema (key file named explicitly, as a server's settings would); without a
reachable server the PostgreSQL half skips and says why.
"""

from __future__ import annotations

import json
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fabnet.model import FabnetError
from fabnet.services import accounts, audit_trail
from fabnet.services import audit_trail as trail
from fabnet.services import branches as branch_svc
from fabnet.services import database as db_svc
from fabnet.services import jobs as jobs_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Role, Store, StoreError, upgrade
from fabnet.store.audit import ENTRY_MAC, HEAD_MAC, entry_hash, mac_body, read_entries
from fabnet.store.audit_keys import load_keyring
from fabnet.store.mapping import content_sha256
from tests.pgserver import find_pg_server
from tests.unit.test_validation import BASE

# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a reachable PostgreSQL server, or skip."""
    return find_pg_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path | None]]:
    """(URL nobody else uses, key file to name or None for the default beside SQLite)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}", None
        return
    server: str = request.getfixturevalue("pg_server")
    schema = f"fabnet_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{server}?options=-csearch_path%3D{schema}", tmp_path / "keys" / "audit-key"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(where: tuple[str, Path | None]) -> Iterator[Store]:
    """An initialised store with its audit key, acting as alice."""
    url, key = where
    db_svc.init_store(url, key)
    s = db_svc.connect(url, "alice", key)
    yield s
    s.engine.dispose()


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(BASE)
    return p


def raw_sql(store: Store, statement: str, **params: Any) -> None:
    """Change the database behind fabnet's back, as a tamperer would."""
    with store.engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def history(store: Store, tiny: Path) -> None:
    """Entries 1-6: a scenario, two versions, a branch, a user and a role change."""
    scenario_svc.import_scenario(store, tiny, "net")                        # 1 create, 2 version 1
    scenario_svc.import_scenario(store, tiny, "net")                        # 3 version 2
    branch_svc.create_branch(store, "w", "net")                           # 4 branch.create
    accounts.create_user(store, "bob", "correct horse", Role.PLANNER)      # 5 user.create
    with store.unit_of_work() as uow:                              # 6 user.update
        uow.users.update("bob", role=Role.AUDITOR)
        uow.commit()


def stored(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT * FROM audit ORDER BY seq")))


def rechain_from(store: Store, seq: int, **changes: Any) -> None:
    """Rewrite entry `seq` and recompute every plain hash after it, and the head's, as
    someone who knows the hash formula but not the key would."""
    rows = stored(store)
    prev = rows[seq - 2].hash if seq > 1 else "0" * 64
    for r in rows[seq - 1:]:
        values = {k: getattr(r, k) for k in ("at", "actor", "action", "entity")}
        if r.seq == seq:
            values |= changes
        h = entry_hash(prev, values["at"], values["actor"], values["action"],
                       values["entity"], None if r.before is None else json.loads(r.before),
                       None if r.after is None else json.loads(r.after))
        raw_sql(store, "UPDATE audit SET actor = :actor, prev_hash = :p, hash = :h "
                "WHERE seq = :s", actor=values["actor"], p=prev, h=h, s=r.seq)
        prev = h
    raw_sql(store, "UPDATE audit_head SET hash = :h", h=prev)


# ---------------------------------------------------------------- a sound store


def test_a_clean_store_verifies_with_every_entry_signed(store: Store, tiny: Path) -> None:
    history(store, tiny)
    report = audit_trail.verify_audit(store)
    assert report.ok, report.problem
    assert (report.entries, report.signed) == (6, 6)
    assert isinstance(report, trail.TrailReport)
    assert (report.versions, report.users, report.problems) == (2, 1, ())


def test_the_key_file_is_private_and_the_database_never_holds_the_key(
        store: Store, where: tuple[str, Path | None], tiny: Path) -> None:
    history(store, tiny)
    url, explicit = where
    path = trail.audit_key_path(url, explicit)
    assert path is not None and store.audit_keys is not None
    assert path == (explicit or Path(url.removeprefix("sqlite:///") + ".audit-key"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = store.audit_keys.key(store.audit_keys.current)
    assert key is not None
    with store.engine.connect() as conn:
        dump = repr([list(conn.execute(sa.text(f"SELECT * FROM {t}")))
                     for t in ("audit", "audit_head", "users", "scenario_versions")])
    assert key.hex() not in dump and path.read_text().split('"key": "')[1][:20] not in dump


def test_a_key_file_others_can_read_is_refused(store: Store) -> None:
    assert store.audit_keys is not None
    path = store.audit_keys.path
    path.chmod(0o644)
    with pytest.raises(FabnetError, match=r"chmod 600"):
        load_keyring(path)


def test_writing_a_signed_store_without_its_key_is_refused(store: Store, tiny: Path) -> None:
    keyless = Store(store.engine, "mallory")
    with pytest.raises(StoreError, match="FABNET_AUDIT_KEY_FILE"):
        scenario_svc.import_scenario(keyless, tiny, "net")
    assert audit_trail.verify_audit(store).ok


# ---------------------------------------------------------------- the trail itself


def test_a_cut_off_tail_with_the_head_moved_back_is_named(store: Store, tiny: Path) -> None:
    history(store, tiny)
    third = stored(store)[2]
    raw_sql(store, "DELETE FROM audit WHERE seq > 3")
    raw_sql(store, "DELETE FROM users")   # and the user the cut entries created
    raw_sql(store, "UPDATE audit_head SET seq = 3, hash = :h, key_id = :k, mac = :m",
            h=third.hash, k=third.key_id, m=third.mac)
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 4 and "head was moved" in report.problem
    assert report.entries == 3


def test_a_rewritten_entry_rechained_with_correct_plain_hashes_is_named(store: Store,
                                                                       tiny: Path) -> None:
    history(store, tiny)
    rechain_from(store, 2, actor="mallory")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 2 and "entry 2" in report.problem
    assert "rewritten outside fabnet: its MAC does not match" in report.problem


@pytest.mark.parametrize("mac", ["none", "made up"])
def test_a_forged_entry_appended_to_the_chain_is_named(store: Store, tiny: Path,
                                                       mac: str) -> None:
    history(store, tiny)
    last = stored(store)[-1]
    at, after = "2027-01-01T00:00:00.000000+00:00", {"name": "mallory", "role": "admin"}
    h = entry_hash(last.hash, at, "alice", "user.update", "user:bob", None, after)
    forged = None if mac == "none" else "ab" * 32
    raw_sql(store, "INSERT INTO audit (seq, at, actor, action, entity, before, after, "
            "prev_hash, hash, key_id, mac) VALUES (7, :at, 'alice', 'user.update', "
            "'user:bob', NULL, :after, :p, :h, :k, :m)", at=at,
            after='{"name":"mallory","role":"admin"}', p=last.hash, h=h,
            k=None if forged is None else last.key_id, m=forged)
    raw_sql(store, "UPDATE audit_head SET seq = 7, hash = :h", h=h)
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 7 and "entry 7 (user.update user:bob" in report.problem
    assert ("is not signed" if forged is None else "MAC does not match") in report.problem


def test_an_entry_stored_with_a_duplicate_key_is_named(store: Store, tiny: Path) -> None:
    history(store, tiny)
    raw_sql(store, """UPDATE audit SET after = '{"name":"evil","name":"net"}' WHERE seq = 1""")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 1 and "duplicate key 'name'" in report.problem
    with pytest.raises(StoreError, match="audit entry 1"):
        audit_trail.audit_entries(store)


def test_an_entry_stored_in_another_json_spelling_is_named(store: Store, tiny: Path) -> None:
    history(store, tiny)
    raw_sql(store, """UPDATE audit SET after = '{"name": "net"}' WHERE seq = 1""")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 1 and "not the canonical JSON" in report.problem


# ---------------------------------------------------------------- the data against the trail


def test_a_role_edited_in_the_users_table_is_named(store: Store, tiny: Path) -> None:
    history(store, tiny)
    raw_sql(store, "UPDATE users SET role = 'admin' WHERE name = 'bob'")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 6
    assert "user 'bob'" in report.problem and "role 'admin' (entry 6 says 'auditor')" \
        in report.problem


def test_a_user_added_outside_fabnet_is_named(store: Store, tiny: Path) -> None:
    history(store, tiny)
    raw_sql(store, "INSERT INTO users (name, password_hash, role, sites, active, created_at)"
            " VALUES ('eve', 'x', 'admin', '[]', true, CURRENT_TIMESTAMP)")
    report = audit_trail.verify_audit(store)
    assert not report.ok and "user 'eve' has no user.create entry" in report.problem


def _version_id(store: Store, version: int) -> int:
    with store.unit_of_work(read_only=True) as uow:
        return uow.scenarios.version_id("net", version)


def _rows_of(version: int) -> str:
    """SQL: the rows version `version` of net holds (rows are shared between versions)."""
    return (f"scenario_id = (SELECT id FROM scenarios WHERE name = 'net') "
            f"AND valid_from <= {version} AND (valid_to IS NULL OR valid_to > {version})")


def test_a_site_location_edited_in_a_stored_version_is_named(store: Store,
                                                             tiny: Path) -> None:
    history(store, tiny)
    raw_sql(store, f"UPDATE scenario_sites SET location = '50.45,30.52' WHERE {_rows_of(1)}")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 2
    assert "scenario:net@1: its rows (changed: sites) no longer match the content hash " \
        "that entry 2 recorded" in report.problem


def test_a_version_edited_with_its_content_hash_recomputed_is_named(
        store: Store, where: tuple[str, Path | None], tiny: Path) -> None:
    history(store, tiny)
    vid = _version_id(store, 2)
    raw_sql(store, f"UPDATE scenario_demand SET qty = 5000 WHERE {_rows_of(2)}")
    fresh = db_svc.connect(where[0], "mallory", where[1])  # reads the rows, not a cache
    with fresh.unit_of_work(read_only=True) as uow:
        forged = content_sha256(uow.scenarios.get("net", 2))
    fresh.engine.dispose()
    raw_sql(store, "UPDATE scenario_versions SET content_sha256 = :h WHERE id = :v",
            h=forged, v=vid)
    report = audit_trail.verify_audit(store)
    # versions 1 and 2 share the edited rows: both are named, the forged one too
    assert report.bad_seq == 2 and "scenario:net@1" in report.problem
    assert any("scenario:net@2" in p and "(changed: demand)" in p for p in report.problems)


def test_version_rows_edited_without_touching_the_audit_are_named(store: Store,
                                                                  tiny: Path) -> None:
    history(store, tiny)
    raw_sql(store, f"UPDATE scenario_lanes SET cost = 0 WHERE {_rows_of(2)}")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 2 and any("scenario:net@2: its rows (changed: lanes)" in p
                                       for p in report.problems)
    assert report.entries == 6  # the trail itself is sound; the version is not


# ---------------------------------------------------------------- checkpoints


def test_a_checkpoint_catches_a_tail_cut_back_to_an_older_signed_head(
        store: Store, tiny: Path, tmp_path: Path) -> None:
    history(store, tiny)
    with store.engine.connect() as conn:
        old_head = conn.execute(sa.text("SELECT * FROM audit_head")).one()
    jobs_svc.create_job(store, "plan")                                        # 7
    jobs_svc.create_job(store, "stress")                                      # 8
    cp = trail.audit_checkpoint(store, tmp_path / "checkpoint.json")
    assert store.audit_keys is not None
    assert (cp.seq, cp.count, cp.key_id) == (8, 8, store.audit_keys.current)
    # an older copy of the trail: entries 7-8 gone, the head as it was then (MAC valid)
    raw_sql(store, "DELETE FROM audit WHERE seq > 6")
    raw_sql(store, "UPDATE audit_head SET seq = :s, hash = :h, key_id = :k, mac = :m",
            s=old_head.seq, h=old_head.hash, k=old_head.key_id, m=old_head.mac)
    assert audit_trail.verify_audit(store).ok          # what no key can tell without a checkpoint
    report = audit_trail.verify_audit(store, tmp_path / "checkpoint.json")
    assert report.bad_seq == 7 and "entries 7 to 8 are gone" in report.problem


def test_a_checkpoint_catches_a_history_rewritten_with_the_key(store: Store, tiny: Path,
                                                               tmp_path: Path) -> None:
    history(store, tiny)
    trail.audit_checkpoint(store, tmp_path / "cp.json")
    keys = store.audit_keys
    assert keys is not None
    rechain_from(store, 4, actor="mallory")    # then re-sign it all, as a key thief could
    for r in stored(store):
        raw_sql(store, "UPDATE audit SET mac = :m WHERE seq = :s", s=r.seq,
                m=keys.sign(ENTRY_MAC, mac_body(r.seq, r.hash, r.key_id), r.key_id)[1])
    last = stored(store)[-1]
    raw_sql(store, "UPDATE audit_head SET mac = :m",
            m=keys.sign(HEAD_MAC, mac_body(last.seq, last.hash, last.key_id))[1])
    assert audit_trail.verify_audit(store).ok
    report = audit_trail.verify_audit(store, tmp_path / "cp.json")
    assert report.bad_seq == 6 and "history up to it was rewritten" in report.problem


def test_an_altered_checkpoint_file_is_refused(store: Store, tiny: Path,
                                               tmp_path: Path) -> None:
    history(store, tiny)
    path = tmp_path / "cp.json"
    trail.audit_checkpoint(store, path)
    path.write_text(path.read_text().replace('"count":6', '"count":5'))
    with pytest.raises(FabnetError, match="checkpoint was altered"):
        audit_trail.verify_audit(store, path)


def test_a_trail_that_does_not_verify_gets_no_checkpoint(store: Store, tiny: Path,
                                                         tmp_path: Path) -> None:
    history(store, tiny)
    raw_sql(store, "UPDATE users SET active = false")
    with pytest.raises(FabnetError, match="no checkpoint was written"):
        trail.audit_checkpoint(store, tmp_path / "cp.json")
    assert not (tmp_path / "cp.json").exists()


# ---------------------------------------------------------------- key rotation


def test_after_a_key_rotation_old_and_new_entries_verify(store: Store, tiny: Path) -> None:
    history(store, tiny)
    stale = store.acting_as("bob")              # loaded the keyring before the rotation
    rotated, old, new = trail.rotate_audit_key(store)
    assert old != new and rotated.audit_keys is not None
    assert [k for k, _ in load_keyring(rotated.audit_keys.path).keys] == [old, new]
    scenario_svc.import_scenario(stale, tiny, "net")     # signs with the new key all the same
    report = audit_trail.verify_audit(rotated)
    assert report.ok, report.problem
    assert report.signed == report.entries == 8
    rows = stored(store)
    assert [r.key_id for r in rows] == [old] * 6 + [new] * 2
    assert rows[6].action == "audit.key.rotate"


def test_an_entry_signed_with_a_retired_key_after_a_rotation_is_named(store: Store,
                                                                      tiny: Path) -> None:
    history(store, tiny)
    assert store.audit_keys is not None
    old_keys = store.audit_keys
    rotated, old, _ = trail.rotate_audit_key(store)
    last = stored(store)[-1]
    at = "2027-01-01T00:00:00.000000+00:00"
    h = entry_hash(last.hash, at, "alice", "job.create", "job:x", None, None)
    raw_sql(store, "INSERT INTO audit (seq, at, actor, action, entity, before, after, "
            "prev_hash, hash, key_id, mac) VALUES (8, :at, 'alice', 'job.create', 'job:x', "
            "NULL, NULL, :p, :h, :k, :m)", at=at, p=last.hash, h=h, k=old,
            m=old_keys.sign(ENTRY_MAC, mac_body(8, h, old), old)[1])
    raw_sql(store, "UPDATE audit_head SET seq = 8, hash = :h, key_id = :k, mac = :m", h=h,
            k=old, m=old_keys.sign(HEAD_MAC, mac_body(8, h, old), old)[1])
    report = audit_trail.verify_audit(rotated)
    assert report.bad_seq == 8 and "older key" in report.problem


# ---------------------------------------------------------------- stores from before


def test_a_store_from_before_signing_is_signed_by_db_init(tmp_path: Path, tiny: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = sa.create_engine(url)
    upgrade(engine)                             # tables, but no key file: an older store
    engine.dispose()
    old = db_svc.connect(url, "alice")
    assert old.audit_keys is None
    scenario_svc.import_scenario(old, tiny, "net")       # entries 1-2, unsigned
    assert audit_trail.verify_audit(old).ok and audit_trail.verify_audit(old).signed == 0
    db_svc.init_store(url)
    signed = db_svc.connect(url, "alice")
    scenario_svc.import_scenario(signed, tiny, "net")    # 3 audit.key.create, 4 version 2
    report = audit_trail.verify_audit(signed)
    assert report.ok and (report.entries, report.signed) == (4, 2), report.problem
    with signed.unit_of_work(read_only=True) as uow:
        assert [e.action for e in read_entries(uow.connection)][2] == "audit.key.create"
    raw_sql(signed, "UPDATE audit SET key_id = NULL, mac = NULL WHERE seq > 2")
    raw_sql(signed, "UPDATE audit_head SET key_id = NULL, mac = NULL")
    report = audit_trail.verify_audit(signed)
    assert report.bad_seq == 1 and "no entry carries a MAC" in report.problem


# ---------------------------------------------------------------- command line


def _run(*args: str) -> Any:
    from typer.testing import CliRunner

    from fabnet.cli import app as fabnet_app

    return CliRunner().invoke(fabnet_app, list(args))


def test_cli_checkpoint_verify_and_rotate_key(where: tuple[str, Path | None], tiny: Path,
                                              tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    url, key = where
    if key is not None:
        monkeypatch.setenv(trail.KEY_FILE_ENV, str(key))
    assert _run("db", "init", "--url", url).exit_code == 0
    assert _run("db", "import", str(tiny), "--name", "net", "--url", url).exit_code == 0
    cp = tmp_path / "elsewhere" / "cp.json"
    cp.parent.mkdir()
    r = _run("audit", "checkpoint", "--to", str(cp), "--url", url)
    assert r.exit_code == 0 and "checkpoint of 2 entries" in r.output, r.output
    r = _run("audit", "rotate-key", "--url", url)
    assert r.exit_code == 0 and "now signs" in r.output, r.output
    r = _run("audit", "verify", "--checkpoint", str(cp), "--url", url)
    assert r.exit_code == 0 and "ok: 3 entries, 3 signed" in r.output, r.output
    store = db_svc.connect(url, "alice", key)
    try:
        raw_sql(store, "DELETE FROM audit WHERE seq > 1")
        raw_sql(store, "UPDATE audit_head SET seq = 1, hash = (SELECT hash FROM audit)")
    finally:
        store.engine.dispose()
    r = _run("audit", "verify", "--checkpoint", str(cp), "--url", url)
    assert r.exit_code == 1 and "broken at entry 2" in r.output and "Traceback" not in r.output
