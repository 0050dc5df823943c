"""Storing large scenarios without holding the store up: versions share the rows they
don't change, a one-row edit writes a bounded number of rows whatever the scenario's
size, a long import on SQLite (WAL) does not keep a login waiting, and a store migrated
from revision 0007 still holds every version it held.

Functional, not timing: rows are counted, never seconds.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from benchmarks.synthetic import synthetic_scenario

from fabnet.io import load_scenario
from fabnet.io.scenario_io import save_scenario
from fabnet.io.tables import RawTables, build_scenario
from fabnet.model import Scenario
from fabnet.model.errors import ScenarioError
from fabnet.services import accounts, audit_trail, editing
from fabnet.services import database as db_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Role, Store, head_revision, make_engine
from fabnet.store.digests import version_digests
from fabnet.store.mapping import content_sha256
from fabnet.store.migrate import upgrade
from fabnet.store.scenarios import StoredDigest, sections_sha256
from fabnet.store.schema import SECTION_TABLES
from tests.pgserver import find_pg_server
from tests.unit.test_validation import BASE


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a reachable PostgreSQL server, or skip."""
    return find_pg_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new SQLite file, or a new PostgreSQL schema (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    server: str = request.getfixturevalue("pg_server")
    schema = f"fabnet_test_{secrets.token_hex(6)}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    yield s
    s.engine.dispose()


def network(size: int) -> Scenario:
    """A valid synthetic network; `size` sites, ten times as many items."""
    return synthetic_scenario(size, 10 * size, 3 * size, size, 12, seed=size)


def stored_rows(engine: sa.Engine) -> int:
    """Master-data rows in the store, all sections together."""
    with engine.connect() as conn:
        return sum(int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
                   for t in SECTION_TABLES.values())


def import_as(store: Store, sc: Scenario, name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    save_scenario(sc, path)
    scenario_svc.import_scenario(store, path, name)


def test_the_assembled_content_hash_is_the_one_the_trail_records() -> None:
    sc = network(6)
    digest, sections = version_digests(sc)
    assert digest == content_sha256(sc) and sections == sections_sha256(sc)
    edited = replace(sc, demand=sc.demand[:-1])
    assert version_digests(edited)[0] == content_sha256(edited) != digest


@pytest.mark.parametrize("size", [4, 24])
def test_a_one_row_edit_writes_one_row_whatever_the_size(store: Store, size: int,
                                                           tmp_path: Path) -> None:
    sc = network(size)
    import_as(store, sc, "net", tmp_path)
    before = stored_rows(store.engine)
    assert before == sum(len(getattr(sc, s)) for s in SECTION_TABLES)
    d = sc.demand[0]
    r = editing.edit_row(store, "net", "demand", editing.EditOp.PATCH, d.id, {"qty": d.qty + 1})
    assert r.changed and r.version == 2
    assert stored_rows(store.engine) == before + 1  # the new row; the old one is closed
    editing.edit_row(store, "net", "demand", editing.EditOp.DELETE, sc.demand[1].id)
    assert stored_rows(store.engine) == before + 1  # a delete only closes a row
    assert scenario_svc.load_stored(store, "net", 1) == load_scenario(tmp_path / "net.yaml")
    edited = scenario_svc.load_stored(store, "net", 3)
    assert edited.demand[0].qty == d.qty + 1 and len(edited.demand) == len(sc.demand) - 1
    assert audit_trail.verify_audit(store).ok


class Statements:
    """Counts the SQL statements an engine sends (an executemany counts once) while on."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        self.on = False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: object) -> None:
        self.count += self.on

    @contextmanager
    def counting(self) -> Iterator[None]:
        self.count, self.on = 0, True
        try:
            yield
        finally:
            self.on = False


def test_an_import_and_a_one_row_edit_send_as_many_statements_whatever_the_size(
        store: Store, tmp_path: Path) -> None:
    seen = Statements(store.engine)
    imports, edits = [], []
    for size in (4, 24):
        sc = network(size)
        path = tmp_path / f"net{size}.yaml"
        save_scenario(sc, path)
        with seen.counting():  # bulk inserts: a few statements per section, not per row
            scenario_svc.import_scenario(store, path, f"net{size}")
        imports.append(seen.count)
        d = sc.demand[0]
        with seen.counting():
            editing.edit_row(store, f"net{size}", "demand", editing.EditOp.PATCH, d.id,
                             {"qty": d.qty + 1})
        edits.append(seen.count)
    assert imports[0] == imports[1] and edits[0] == edits[1] <= 40, (imports, edits)
    assert audit_trail.verify_audit(store).ok


def test_an_edit_of_a_checked_scenario_checks_only_the_row(store: Store, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """The whole check runs only to say why an edit is refused, and once for a version
    read back from the store (a new engine, as after a restart)."""
    whole: list[str] = []
    def counted(raw: RawTables) -> Scenario:
        whole.append(raw.source)
        return build_scenario(raw)
    monkeypatch.setattr("fabnet.services.editing.build_scenario", counted)
    sc = network(6)
    import_as(store, sc, "net", tmp_path)
    d = sc.demand[0]
    editing.edit_row(store, "net", "demand", editing.EditOp.PATCH, d.id, {"qty": d.qty + 1})
    editing.edit_row(store, "net", "demand", editing.EditOp.DELETE, sc.demand[1].id)
    assert whole == []
    with pytest.raises(ScenarioError, match="unknown item 'NOPE'"):
        editing.edit_row(store, "net", "demand", editing.EditOp.PATCH, d.id, {"item": "NOPE"})
    assert whole == ["net version 3"]  # the refusal's message is the whole check's
    fresh = db_svc.connect(store.engine.url.render_as_string(hide_password=False), "bob")
    try:
        for qty in (7, 8):
            editing.edit_row(fresh, "net", "demand", editing.EditOp.PATCH, d.id, {"qty": qty})
        assert whole == ["net version 3", "net version 3"]  # the read-back version, once
        assert scenario_svc.load_stored(fresh, "net").demand[0].qty == 8
        assert audit_trail.verify_audit(fresh).ok
    finally:
        fresh.engine.dispose()


def test_rows_inserted_at_one_place_until_no_room_is_left_keep_every_version(
        store: Store) -> None:
    """Each insert between the same two rows halves the room left; once none is left the
    section is written anew, and every version still reads back in its order."""
    sc = network(4)
    with store.unit_of_work() as uow:
        uow.scenarios.add_version("net", sc)
        uow.commit()
    versions = [sc.demand]
    demand = sc.demand
    for k in range(20):
        demand = (demand[0], replace(sc.demand[0], id=f"D-IN-{k}"), *demand[1:])
        with store.unit_of_work() as uow:
            uow.scenarios.add_version("net", replace(sc, demand=demand))
            uow.commit()
        versions.append(demand)
    fresh = db_svc.connect(store.engine.url.render_as_string(hide_password=False), "bob")
    try:
        for n, want in enumerate(versions, start=1):
            assert scenario_svc.load_stored(fresh, "net", n).demand == want
        assert audit_trail.verify_audit(fresh).ok
    finally:
        fresh.engine.dispose()


def test_importing_the_same_file_again_shares_every_row(store: Store, tmp_path: Path) -> None:
    sc = network(6)
    import_as(store, sc, "net", tmp_path)
    rows = stored_rows(store.engine)
    scenario_svc.import_scenario(store, tmp_path / "net.yaml", "net")
    fresh = db_svc.connect(store.engine.url.render_as_string(hide_password=False), "bob")
    try:  # a new engine reads the rows, not this process's cache
        assert stored_rows(store.engine) == rows
        assert scenario_svc.load_stored(fresh, "net", 2) == \
            scenario_svc.load_stored(fresh, "net", 1)
        assert audit_trail.verify_audit(fresh).ok
    finally:
        fresh.engine.dispose()


def test_rows_inserted_and_moved_keep_each_version_in_its_order(store: Store,
                                                                 tmp_path: Path) -> None:
    sc = network(5)
    import_as(store, sc, "net", tmp_path)
    extra = replace(sc.demand[0], id="D-NEW", qty=3.0)
    moved = (sc.demand[-1], *sc.demand[1:3], extra, *sc.demand[3:-1], sc.demand[0])
    with store.unit_of_work() as uow:
        uow.scenarios.add_version("net", replace(sc, demand=moved))
        uow.commit()
    url = store.engine.url.render_as_string(hide_password=False)
    fresh = db_svc.connect(url, "bob")
    try:
        assert scenario_svc.load_stored(fresh, "net", 2).demand == moved
        assert scenario_svc.load_stored(fresh, "net", 1).demand == sc.demand
        assert audit_trail.verify_audit(fresh).ok
    finally:
        fresh.engine.dispose()


def test_a_login_goes_through_while_an_import_transaction_is_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    db_svc.init_store(url)
    store = db_svc.connect(url, "admin")
    accounts.create_user(store, "ann", "correct horse battery", Role.PLANNER)
    importing, release = threading.Event(), threading.Event()
    logins: list[accounts.Login | None] = []
    sc = network(8)

    def long_import() -> None:
        with store.unit_of_work() as uow:  # holds SQLite's write lock until released
            uow.scenarios.add_version("big", sc)
            importing.set()
            release.wait(30)
            uow.commit()

    def sign_in() -> None:
        logins.append(accounts.login(store, "ann", "correct horse battery",
                                     timedelta(hours=1)))

    t = threading.Thread(target=long_import)
    t.start()
    try:
        assert importing.wait(30)
        with store.unit_of_work(read_only=True) as uow:  # WAL: readers don't wait
            conn = uow.connection
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert accounts.authenticate(store, "ann", "correct horse battery") is not None
        assert scenario_svc.list_scenarios(store) == []  # the import is not committed yet
        login = threading.Thread(target=sign_in)
        login.start()  # its write queues behind the import's transaction
        release.set()
        login.join(60)
    finally:
        release.set()
        t.join()
    assert len(logins) == 1 and logins[0] is not None and logins[0].user.name == "ann"
    assert [s.name for s in scenario_svc.list_scenarios(store)] == ["big"]
    store.engine.dispose()


def test_upgrading_from_0007_keeps_every_stored_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = make_engine(url)
    upgrade(engine, "0007")
    v1 = load_scenario_text(tmp_path, BASE)
    v2 = replace(v1, demand=tuple(replace(d, qty=d.qty + 5) for d in v1.demand))
    with engine.begin() as conn:  # versions as revision 0007 stored them: rows per version
        conn.execute(sa.text("INSERT INTO scenarios (id, name, created_at, created_by) "
                             "VALUES (1, 'net', '2027-01-04', 'alice')"))
        for n, sc in ((1, v1), (2, v2)):
            h = sc.horizon
            conn.execute(sa.text(
                "INSERT INTO scenario_versions (id, scenario_id, version, title, start, "
                "bucket, buckets, content_sha256, note, created_at, created_by) VALUES "
                "(:n, 1, :n, :t, :s, :b, :k, :h, '', '2027-01-04', 'alice')"),
                {"n": n, "t": sc.name, "s": h.start, "b": h.bucket.value, "k": h.buckets,
                 "h": content_sha256(sc)})
            for section, table in SECTION_TABLES.items():
                if not sa.inspect(conn).has_table(table.name):
                    continue  # a section added after 0007
                old = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
                for i, rec in enumerate(getattr(sc, section)):
                    row = {k: v for k, v in _old_row(section, rec).items() if k in old}
                    cols = ", ".join(f'"{c}"' for c in row)
                    conn.execute(sa.text(
                        f'INSERT INTO "{table.name}" (version_id, seq, {cols}) VALUES '
                        f"(:version_id, :seq, {', '.join(':' + c for c in row)})"),
                        {"version_id": n, "seq": i, **row})
    assert upgrade(engine, "0008") == ("0007", "0008")
    assert upgrade(engine)[1] == head_revision()
    engine.dispose()
    store = Store(make_engine(url), "alice")
    with store.unit_of_work(read_only=True) as uow:
        assert uow.scenarios.get("net", 1) == v1 and uow.scenarios.get("net", 2) == v2
        assert [d.content_sha256 for d in uow.scenarios.stored_digests()] == \
            [content_sha256(v1), content_sha256(v2)]
    assert all(d.content_digest() == d.content_sha256 for d in _digests(store))
    d = v2.demand[0]  # the next edit shares the migrated newest version's rows
    rows = stored_rows(store.engine)
    editing.edit_row(store, "net", "demand", editing.EditOp.PATCH, d.id, {"qty": 1})
    assert stored_rows(store.engine) == rows + 1
    store.engine.dispose()


def _digests(store: Store) -> list[StoredDigest]:
    with store.unit_of_work(read_only=True) as uow:
        return list(uow.scenarios.stored_digests())


def _old_row(section: str, rec: object) -> dict[str, object]:
    """A record as a row of revision 0007 (JSON columns as text)."""
    import json

    from fabnet.store.mapping import record_row
    row = record_row(rec)  # type: ignore[arg-type]
    return {k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()}


def load_scenario_text(tmp_path: Path, text: str) -> Scenario:
    p = tmp_path / "base.yaml"
    p.write_text(text)
    return load_scenario(p)


def test_reads_keep_the_drivers_prepared_statements_and_run_without_jit(
        store: Store) -> None:
    """A read-only unit of work on PostgreSQL ends without a ROLLBACK, at which psycopg
    would forget its prepared statements and every read would plan its statements
    again; and the store's statements run without the JIT compiler, whose compile costs
    more than the short index walks it would speed up. On SQLite a read-only unit of work
    still throws away anything done in it."""
    query = sa.select(sa.func.count()).select_from(sa.table("alembic_version"))
    for _ in range(8):  # psycopg prepares a statement at its fifth run
        with store.unit_of_work(read_only=True) as uow:
            assert uow.connection.execute(query).scalar_one() == 1
    with store.unit_of_work(read_only=True) as uow:
        conn = uow.connection
        if conn.dialect.name == "postgresql":
            assert conn.exec_driver_sql("SHOW jit").scalar_one() == "off"
            prepared = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_prepared_statements "
                "WHERE statement LIKE %s", ("%alembic_version%",)).scalar_one()
            assert prepared >= 1
        else:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'x'")
    with store.unit_of_work(read_only=True) as uow:
        assert uow.connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version").scalar_one() == head_revision()
