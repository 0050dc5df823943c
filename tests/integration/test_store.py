"""The shared store, on SQLite and on PostgreSQL: lossless import and export, versions,
what-if branches, the hash-chained audit trail, and crash safety.

Every test runs twice: against a fresh SQLite file, and against a fresh schema on the
PostgreSQL server at 127.0.0.1:5432 (or `FABNET_TEST_POSTGRES_URL`), dropped afterwards.
Without a reachable server the PostgreSQL half skips and says why.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from fabnet.cli import app as fabnet_app
from fabnet.cli.store import parse_row
from fabnet.io import load_scenario
from fabnet.io.records import SECTIONS as CONTRACT_SECTIONS
from fabnet.model import Disruption, FabnetError, ScenarioError
from fabnet.services import accounts, audit_trail, editing
from fabnet.services import branches as branch_svc
from fabnet.services import database as db_svc
from fabnet.services import jobs as jobs_svc
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.store import (
    BranchStatus,
    Conflict,
    JobStatus,
    NotFound,
    Role,
    SchemaOutOfDate,
    Store,
    UnitOfWork,
    database_url,
    head_revision,
)
from fabnet.store.audit import read_entries
from fabnet.store.mapping import SECTIONS
from fabnet.store.schema import SECTION_TABLES, metadata
from tests.pgserver import find_pg_server
from tests.unit.test_validation import BASE

ROOT = Path(__file__).resolve().parents[2]
EUROPE = ROOT / "examples" / "europe" / "scenario.yaml"


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a reachable PostgreSQL server, or skip."""
    return find_pg_server()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL nobody else uses: a new SQLite file, or a new PostgreSQL schema."""
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
    """An initialised, empty store, acting as alice."""
    db_svc.init_store(url)
    s = db_svc.connect(url, "alice")
    yield s
    s.engine.dispose()


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(BASE)
    return p


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    out = {}
    with engine.connect() as conn:
        for t in metadata.sorted_tables:
            rows = conn.execute(sa.select(t).order_by(*t.primary_key.columns)).all()
            out[t.name] = [tuple(r) for r in rows]
    return out


def raw_sql(store: Store, *statements: str) -> None:
    """Change the database behind fabnet's back, as a tamperer would."""
    with store.engine.connect() as conn:
        for s in statements:
            conn.execute(sa.text(s))
        conn.commit()


# ---------------------------------------------------------------- schema


def test_migrations_create_exactly_the_tables_the_code_uses(store: Store) -> None:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, metadata) == []
        assert ctx.get_current_revision() == head_revision()


def test_every_section_of_the_scenario_contract_has_a_table() -> None:
    assert set(SECTION_TABLES) == set(CONTRACT_SECTIONS) - {"scenario"} == set(SECTIONS)


def test_init_twice_leaves_the_store_alone_and_upgrade_reports_it_current(url: str) -> None:
    assert db_svc.init_store(url) == (None, head_revision())
    assert db_svc.init_store(url) == (head_revision(), head_revision())
    assert db_svc.upgrade_store(url) == (head_revision(), head_revision())


def test_a_database_without_a_store_asks_for_db_init(url: str, tmp_path: Path) -> None:
    with pytest.raises(SchemaOutOfDate, match="fabnet db init"):
        db_svc.connect(url, "alice")
    assert not (tmp_path / "store.sqlite").exists() or url.startswith("postgresql")


def test_default_url_is_a_sqlite_file_and_postgres_urls_use_psycopg() -> None:
    assert database_url({}) == "sqlite:///fabnet.sqlite"
    assert database_url({"FABNET_DATABASE_URL": "postgresql://u@h/db"}) == \
        "postgresql+psycopg://u@h/db"


# ---------------------------------------------------------------- scenarios


@pytest.mark.parametrize("fmt", ["yaml", "xlsx", "csv"])
@pytest.mark.parametrize("which", ["tiny", "europe"])
def test_import_then_export_gives_back_the_same_scenario(store: Store, tiny: Path,
                                                         tmp_path: Path, which: str,
                                                         fmt: str) -> None:
    src = EUROPE if which == "europe" else tiny
    original = load_scenario(src)
    info = scenario_svc.import_scenario(store, src, name=which)
    assert (info.scenario, info.version) == (which, 1)
    target = tmp_path / ("back" if fmt == "csv" else f"back.{fmt}")
    scenario_svc.export_scenario(store, which, target)
    assert load_scenario(target) == original
    assert scenario_svc.load_stored(store, which) == original


def test_default_name_is_the_scenario_title_as_a_slug(store: Store, tiny: Path) -> None:
    assert scenario_svc.import_scenario(store, tiny).scenario == "tiny"
    assert scenario_svc.import_scenario(store, EUROPE).scenario == "europe-ramp-up-2027"


def test_each_import_is_a_new_version_and_old_versions_stay_readable(
        store: Store, tiny: Path, tmp_path: Path) -> None:
    v1 = load_scenario(tiny)
    scenario_svc.import_scenario(store, tiny, "net")
    tiny.write_text(BASE.replace("qty: 50", "qty: 70"))
    v2 = load_scenario(tiny)
    assert scenario_svc.import_scenario(store, tiny, "net", note="more demand").version == 2
    assert scenario_svc.load_stored(store, "net", 1) == v1
    assert scenario_svc.load_stored(store, "net") == v2
    assert [v.note for v in scenario_svc.list_versions(store, "net")] == ["imported from tiny.yaml",
                                                                   "more demand"]
    scenario_svc.export_scenario(store, "net", tmp_path / "v1.yaml", version=1)
    assert load_scenario(tmp_path / "v1.yaml") == v1
    [info] = scenario_svc.list_scenarios(store)
    assert (info.name, info.latest, info.versions, info.updated_by) == ("net", 2, 2, "alice")


def test_asking_for_what_is_not_there_names_what_exists(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    with pytest.raises(NotFound, match=r"no scenario 'nope'.*one of: net.*fix:"):
        scenario_svc.load_stored(store, "nope")
    with pytest.raises(NotFound, match=r"no version 7.*1 to 1"):
        scenario_svc.load_stored(store, "net", 7)


def test_an_invalid_scenario_is_refused_before_anything_is_stored(store: Store,
                                                                 tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("item: RECON-Q, qty: 50", "item: NOPE, qty: 50"))
    before = snapshot(store.engine)
    with pytest.raises(ScenarioError, match=r"demand\[D1\]\.item"):
        scenario_svc.import_scenario(store, bad, "net")
    assert snapshot(store.engine) == before


# ---------------------------------------------------------------- unit of work


def test_nothing_is_stored_without_commit(store: Store, tiny: Path) -> None:
    sc = load_scenario(tiny)
    before = snapshot(store.engine)
    with store.unit_of_work() as uow:
        uow.scenarios.add_version("net", sc)
    assert snapshot(store.engine) == before


def test_an_exception_rolls_back_the_change_and_its_audit_entries(store: Store,
                                                                  tiny: Path) -> None:
    sc = load_scenario(tiny)
    before = snapshot(store.engine)
    with pytest.raises(RuntimeError), store.unit_of_work() as uow:
        uow.scenarios.add_version("net", sc)
        raise RuntimeError("boom")
    assert snapshot(store.engine) == before


def test_work_after_a_commit_needs_its_own_commit(store: Store, tiny: Path) -> None:
    sc = load_scenario(tiny)
    with UnitOfWork(store.engine, "bob", audit_keys=store.audit_keys) as uow:
        uow.scenarios.add_version("net", sc)
        uow.commit()
        uow.scenarios.add_version("net", sc)
    assert [v.version for v in scenario_svc.list_versions(store, "net")] == [1]


def test_concurrent_imports_of_one_scenario_get_consecutive_versions(store: Store,
                                                                     tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            scenario_svc.import_scenario(store, tiny, "net")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [v.version for v in scenario_svc.list_versions(store, "net")] == [1, 2, 3, 4, 5]
    assert audit_trail.verify_audit(store).ok


# ---------------------------------------------------------------- what-if branches


def test_a_branch_stores_only_its_changes_and_materialises_the_full_scenario(
        store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    base = load_scenario(tiny)
    rows_before = snapshot(store.engine)
    b = branch_svc.create_branch(store, "strike", "net", disruptions=["FR-LYON@2027-01-18+2"])
    assert [c.key for c in b.changes] == ["whatif-1"]
    after = snapshot(store.engine)
    for t in SECTION_TABLES.values():  # no copy of the base
        assert after[t.name] == rows_before[t.name]
    expected = base.with_disruptions(
        (Disruption("whatif-1", "FR-LYON", base.horizon.bucket_start(2), 2, 0.0),))
    assert branch_svc.materialize(store, "strike") == expected


def test_setting_a_row_changes_only_the_fields_given(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    branch_svc.create_branch(store, "slow", "net")
    editing.put_row(store, "slow", "lanes", {"from": "SUP-TW", "to": "FR-LYON", "transit": 3})
    sc = branch_svc.materialize(store, "slow")
    lane = next(ln for ln in sc.lanes if ln.id == "SUP-TW>FR-LYON")
    assert (lane.transit, lane.cost) == (3, 0.8)
    editing.put_row(store, "slow", "customers", {"id": "PL-ARMY", "country": "PL"})
    assert [c.id for c in branch_svc.materialize(store, "slow").customers] == ["UA-MOD", "PL-ARMY"]


def test_compare_lists_added_changed_and_removed_rows(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    branch_svc.create_branch(store, "w", "net", disruptions=["SUP-TW@2027-01-11+1x0.5"])
    editing.put_row(store, "w", "inventory", {"site": "FR-LYON", "item": "FC-H7", "qty": 40})
    editing.delete_row(store, "w", "lanes", "FR-LYON>UA-MOD")
    editing.put_row(store, "w", "lanes", {"from": "FR-LYON", "to": "UA-MOD", "transit": 2})
    diffs = {(d.kind, d.section, d.key) for d in branch_svc.compare_branch(store, "w").diffs}
    assert diffs == {("added", "disruptions", "whatif-1"),
                     ("changed", "inventory", "FR-LYON/FC-H7"),
                     ("changed", "lanes", "FR-LYON>UA-MOD")}
    inv = next(d for d in branch_svc.compare_branch(store, "w").diffs if d.section == "inventory")
    assert inv.fields_changed() == {"qty": (10.0, 40.0)}


def test_invalid_branch_changes_are_refused_naming_the_row(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    branch_svc.create_branch(store, "w", "net")
    with pytest.raises(ScenarioError, match=r"branch w: inventory\[FR-LYON/FC-H7\]\.qty"):
        editing.put_row(store, "w", "inventory", {"site": "FR-LYON", "item": "FC-H7", "qty": -1})
    with pytest.raises(ScenarioError, match=r"unknown supplier 'SUP-TW'"):
        editing.delete_row(store, "w", "suppliers", "SUP-TW")
    with pytest.raises(NotFound, match=r"lanes\[A>B\]: no such row"):
        editing.delete_row(store, "w", "lanes", "A>B")
    assert branch_svc.get_branch(store, "w").changes == ()


@pytest.mark.parametrize(("spec", "says"), [
    ("FR-LYOM@2027-01-18+2", "target: unknown node 'FR-LYOM' (fix: did you mean FR-LYON?)"),
    ("fr-lyon@2027-01-18+2", "target: unknown node 'fr-lyon' (fix: did you mean FR-LYON?)"),
    ("lane:FOO>BAR@2027-01-18+2", "target: no lane 'FOO>BAR'"),
    ("FR-LYON@2027-02-30+2", "date: 2027-02-30 is not a calendar date"),
    ("FR-LYON@2027-01-18+99999999999", "buckets: 99999999999 is not in 1 .. "),
])
def test_a_branch_disruption_that_names_nothing_is_refused(store: Store, tiny: Path,
                                                           spec: str, says: str) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    branch_svc.create_branch(store, "w", "net")
    with pytest.raises(FabnetError) as e:
        branch_svc.add_disruptions(store, "w", [spec])
    assert str(e.value).startswith(f"branch w: disruption {spec!r}: {says}")
    with pytest.raises(FabnetError):
        branch_svc.create_branch(store, "w2", "net", disruptions=[spec])
    assert branch_svc.get_branch(store, "w").changes == ()
    assert [b.name for b in branch_svc.list_branches(store)] == ["w"]


def test_merge_makes_a_new_version_of_the_parent(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    branch_svc.create_branch(store, "w", "net", disruptions=["FR-LYON@2027-01-18+2"])
    editing.put_row(store, "w", "demand", {"id": "D1", "qty": 60})
    branch_sc = branch_svc.materialize(store, "w")
    info = branch_svc.merge_branch(store, "w")
    assert info.version == 2
    assert scenario_svc.load_stored(store, "net") == branch_sc
    b = branch_svc.get_branch(store, "w")
    assert (b.status, b.merged_version) == (BranchStatus.MERGED, 2)
    with pytest.raises(Conflict, match="already merged"):
        branch_svc.merge_branch(store, "w")


def test_merge_onto_a_moved_parent_keeps_both_sides_changes(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    branch_svc.create_branch(store, "w", "net")
    editing.put_row(store, "w", "demand", {"id": "D1", "qty": 60})
    tiny.write_text(BASE.replace("qty: 10}", "qty: 25}"))  # the parent changes inventory
    scenario_svc.import_scenario(store, tiny, "net")
    assert branch_svc.compare_branch(store, "w").conflicts == []
    branch_svc.merge_branch(store, "w")
    merged = scenario_svc.load_stored(store, "net")
    assert (merged.demand[0].qty, merged.inventory[0].qty) == (60, 25)


def test_merge_refuses_rows_changed_on_both_sides(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    branch_svc.create_branch(store, "w", "net")
    editing.put_row(store, "w", "demand", {"id": "D1", "qty": 60})
    tiny.write_text(BASE.replace("qty: 50", "qty: 55"))
    scenario_svc.import_scenario(store, tiny, "net")
    assert branch_svc.compare_branch(store, "w").conflicts == ["demand[D1]"]
    before = snapshot(store.engine)
    with pytest.raises(Conflict, match=r"demand\[D1\].*fix: create a new branch from version 2"):
        branch_svc.merge_branch(store, "w")
    assert snapshot(store.engine) == before


# ---------------------------------------------------------------- audit trail


def _four_entries(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")          # 1 scenario.create, 2 version.add
    scenario_svc.import_scenario(store, tiny, "net")          # 3 version.add
    branch_svc.create_branch(store, "w", "net")             # 4 branch.create


def test_every_change_is_audited_with_who_what_before_and_after(store: Store,
                                                                tiny: Path) -> None:
    _four_entries(store, tiny)
    other = store.acting_as("bob")
    editing.put_row(other, "w", "demand", {"id": "D1", "qty": 60})
    with store.unit_of_work(read_only=True) as uow:
        entries = list(read_entries(uow.connection))
    assert [(e.seq, e.actor, e.action, e.entity) for e in entries] == [
        (1, "alice", "scenario.create", "scenario:net"),
        (2, "alice", "scenario.version.add", "scenario:net@1"),
        (3, "alice", "scenario.version.add", "scenario:net@2"),
        (4, "alice", "branch.create", "branch:w"),
        (5, "bob", "branch.change", "branch:w/demand[D1]"),
    ]
    assert entries[4].before["qty"] == 50 and entries[4].after["record"]["qty"] == 60
    assert entries[1].after["rows"]["demand"] == 1
    assert all(e.prev_hash == p.hash for p, e in zip(entries, entries[1:], strict=False))
    assert audit_trail.verify_audit(store).ok and audit_trail.verify_audit(store).entries == 5


def test_verify_names_an_edited_entry(store: Store, tiny: Path) -> None:
    _four_entries(store, tiny)
    raw_sql(store, "UPDATE audit SET actor = 'mallory' WHERE seq = 2")
    report = audit_trail.verify_audit(store)
    assert (report.bad_seq, report.entries) == (2, 1)
    assert "entry 2" in report.problem and "edited" in report.problem


def test_verify_names_a_deleted_entry(store: Store, tiny: Path) -> None:
    _four_entries(store, tiny)
    raw_sql(store, "DELETE FROM audit WHERE seq = 2")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 2 and "entry 2 is missing" in report.problem


def test_verify_names_the_first_of_two_swapped_entries(store: Store, tiny: Path) -> None:
    _four_entries(store, tiny)
    raw_sql(store, "UPDATE audit SET seq = -1 WHERE seq = 2",
            "UPDATE audit SET seq = 2 WHERE seq = 3",
            "UPDATE audit SET seq = 3 WHERE seq = -1")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 2 and "re-ordered" in report.problem


def test_verify_notices_a_cut_off_tail(store: Store, tiny: Path) -> None:
    _four_entries(store, tiny)
    raw_sql(store, "DELETE FROM audit WHERE seq = 4")
    report = audit_trail.verify_audit(store)
    assert report.bad_seq == 4 and "entry 4 is missing" in report.problem


def test_verify_notices_a_rewritten_entry_with_a_recomputed_hash(store: Store,
                                                                 tiny: Path) -> None:
    from fabnet.store.audit import entry_hash

    _four_entries(store, tiny)
    with store.unit_of_work(read_only=True) as uow:
        e2 = list(read_entries(uow.connection))[1]
    forged = entry_hash(e2.prev_hash, e2.at, "mallory", e2.action, e2.entity, e2.before,
                        e2.after)
    raw_sql(store, f"UPDATE audit SET actor = 'mallory', hash = '{forged}' WHERE seq = 2")
    report = audit_trail.verify_audit(store)
    if store.audit_keys is None:  # a trail without a key: only the next link breaks
        assert report.bad_seq == 3 and "does not follow entry 2" in report.problem
    else:  # a signed trail: the rewritten entry's MAC no longer matches
        assert report.bad_seq == 2 and "MAC does not match" in report.problem


# ---------------------------------------------------------------- crash safety


def test_an_import_killed_half_way_leaves_the_store_as_it_was(url: str, store: Store,
                                                              tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    before = snapshot(store.engine)
    env = {**os.environ, "FABNET_DATABASE_URL": url}
    hook = Path(__file__).with_name("kill_mid_import.py")  # kills it inside the import
    r = subprocess.run([sys.executable, str(hook), str(EUROPE), "europe"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert snapshot(store.engine) == before
    assert audit_trail.verify_audit(store).ok
    if url.startswith("sqlite"):
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    assert scenario_svc.import_scenario(store, EUROPE, "europe").version == 1
    assert scenario_svc.load_stored(store, "europe") == load_scenario(EUROPE)


# ---------------------------------------------------------------- plans, jobs, accounts


def test_a_stored_plan_keeps_its_kpis_and_tables(store: Store, tiny: Path) -> None:
    scenario_svc.import_scenario(store, tiny, "net")
    run = plan_svc.plan_stored(store, "net")
    assert (run.scenario, run.version, run.branch, run.status) == ("net", 1, None, "optimal")
    again = plan_svc.get_plan_run(store, run.id)
    assert again.kpis["units_demanded"] == 50
    assert set(again.document["tables"]) >= {"production", "deliveries", "shortfalls"}
    branch_svc.create_branch(store, "w", "net", disruptions=["FR-LYON@2027-01-04+8"])
    struck = plan_svc.plan_stored(store, "net", branch="w")
    assert struck.branch == "w" and struck.kpis["units_delivered"] == 0
    assert [r.id for r in plan_svc.list_plan_runs(store, "net")] == [struck.id, run.id]


def test_a_job_moves_from_queued_to_done_and_then_stays_done(store: Store) -> None:
    job = jobs_svc.create_job(store, "stress", {"samples": 10})
    assert (job.status, job.progress) == (JobStatus.QUEUED, 0.0)
    jobs_svc.update_job(store, job.id, JobStatus.RUNNING, 0.5)
    done = jobs_svc.update_job(store, job.id, JobStatus.DONE, 1.0, result={"fill": 0.97})
    assert jobs_svc.get_job(store, job.id) == done and done.result == {"fill": 0.97}
    with pytest.raises(Conflict, match="already done"):
        jobs_svc.update_job(store, job.id, progress=0.1)


def test_accounts_keep_no_secret_in_clear(store: Store) -> None:
    user = accounts.create_user(store, "carol", "correct horse", Role.PLANNER, ("FR-HUB",))
    assert user.password_hash.startswith("$argon2id$") and "correct" not in user.password_hash
    assert accounts.authenticate(store, "carol", "correct horse") == user
    assert accounts.authenticate(store, "carol", "wrong") is None
    token, rec = accounts.issue_token(store, "carol", "ci")
    assert accounts.user_for_token(store, token) == user
    accounts.revoke_token(store, rec.id)
    assert accounts.user_for_token(store, token) is None
    dump = repr(snapshot(store.engine))
    assert token not in dump and "correct horse" not in dump
    assert user.password_hash not in repr(audit_trail.audit_entries(store))


# ---------------------------------------------------------------- command line


def _run(group: str, *args: str) -> Any:
    return CliRunner().invoke(fabnet_app, [group, *args])


def test_cli_round_trip_and_listing(url: str, tiny: Path, tmp_path: Path) -> None:
    r = _run("db", "--url", url, "init")
    assert r.exit_code == 0 and "created the store" in r.output
    r = _run("db", "--url", url, "--as", "dave", "import", str(tiny), "--name", "net")
    assert r.exit_code == 0 and "net version 1" in r.output
    r = _run("db", "--url", url, "export", "net", "--to", str(tmp_path / "o.xlsx"))
    assert r.exit_code == 0 and load_scenario(tmp_path / "o.xlsx") == load_scenario(tiny)
    r = _run("db", "--url", url, "list")
    assert r.exit_code == 0 and "net" in r.output and "dave" in r.output
    r = _run("audit", "--url", url, "verify")
    assert r.exit_code == 0 and "ok: 2 entries" in r.output


def test_cli_errors_are_one_line_with_a_fix_and_exit_1(url: str, tiny: Path,
                                                       tmp_path: Path) -> None:
    r = _run("db", "--url", url, "import", str(tiny))
    assert r.exit_code == 1 and "fabnet db init" in r.output
    _run("db", "--url", url, "init")
    r = _run("db", "--url", url, "export", "nope", "--to", str(tmp_path / "x.yaml"))
    assert r.exit_code == 1 and "no scenario 'nope'" in r.output and "fix:" in r.output
    assert "Traceback" not in r.output


def test_cli_branch_commands(url: str, tiny: Path) -> None:
    _run("db", "--url", url, "init")
    _run("db", "--url", url, "import", str(tiny), "--name", "net")
    r = _run("db", "--url", url, "branch", "create", "w", "net",
             "--disrupt", "FR-LYON@2027-01-18+2")
    assert r.exit_code == 0, r.output
    r = _run("db", "--url", url, "branch", "set", "w", "lanes", "from=SUP-TW",
             "to=FR-LYON", "capacity=5")
    assert r.exit_code == 0 and "2 changes" in r.output
    r = _run("db", "--url", url, "branch", "compare", "w")
    assert r.exit_code == 0 and "SUP-TW>FR-LYON" in r.output and "whatif-1" in r.output
    r = _run("db", "--url", url, "branch", "merge", "w")
    assert r.exit_code == 0 and "net version 2" in r.output


def test_cli_verify_names_the_bad_entry_and_exits_1(url: str, store: Store,
                                                    tiny: Path) -> None:
    _four_entries(store, tiny)
    raw_sql(store, "UPDATE audit SET after = '{}' WHERE seq = 3")
    r = _run("audit", "--url", url, "verify")
    assert r.exit_code == 1
    assert "broken at entry 3" in r.output and "edited" in r.output
    assert "Traceback" not in r.output


def test_row_arguments_read_as_yaml_values_or_json() -> None:
    assert parse_row(["from=A", "to=B", "capacity=0", "name=x y"]) == \
        {"from": "A", "to": "B", "capacity": 0, "name": "x y"}
    assert parse_row(['{"id": "D1", "qty": 5}']) == {"id": "D1", "qty": 5}


def test_a_row_argument_that_is_no_calendar_date_stays_text() -> None:
    assert parse_row(["id=D1", "due=2027-02-30"]) == {"id": "D1", "due": "2027-02-30"}


def test_cli_branch_impossible_dates_are_one_line_naming_the_field(url: str,
                                                                    tiny: Path) -> None:
    _run("db", "--url", url, "init")
    _run("db", "--url", url, "import", str(tiny), "--name", "net")
    _run("db", "--url", url, "branch", "create", "w", "net")
    r = _run("db", "--url", url, "branch", "set", "w", "demand", "id=D1", "due=2027-02-30")
    assert r.exit_code == 1 and "demand[D1].due" in r.output and "Traceback" not in r.output
    r = _run("db", "--url", url, "branch", "disrupt", "w", "FR-LYON@2027-02-30+6")
    assert r.exit_code == 1, r.output
    assert "disruption 'FR-LYON@2027-02-30+6': date: 2027-02-30 is not a calendar date" \
        in r.output and "fix:" in r.output



def test_older_scrypt_password_hashes_still_verify() -> None:
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    dk = hashlib.scrypt(b"letmein-please", salt=salt, n=2**14, r=8, p=1)
    stored = (f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}$"
              f"{base64.b64encode(dk).decode()}")
    assert accounts.verify_password("letmein-please", stored)
    assert not accounts.verify_password("wrong-password", stored)
    assert accounts.verify_password("letmein-please", accounts.hash_password("letmein-please"))


def test_upgrade_keeps_an_idempotency_table_an_older_server_made(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from fabnet.store.migrate import current_revision, upgrade

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    upgrade(engine, "0002")
    with engine.begin() as conn:  # what a server before revision 0003 created on first use
        conn.execute(sa.text("CREATE TABLE api_idempotency_keys (actor VARCHAR(100) NOT NULL,"
                             " key VARCHAR(200) NOT NULL, fingerprint VARCHAR(64) NOT NULL,"
                             " status INTEGER, headers TEXT, body BLOB,"
                             " created_at DATETIME NOT NULL, PRIMARY KEY (actor, key))"))
        conn.execute(sa.text("INSERT INTO api_idempotency_keys VALUES"
                             " ('alice', 'k1', 'f', 201, '[]', x'00', '2027-01-04')"))
    assert upgrade(engine, "0003") == ("0002", "0003")
    assert current_revision(engine) == "0003"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM api_idempotency_keys")).scalar() == 1
    engine.dispose()
