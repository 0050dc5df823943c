"""fabnet never loses a user's file: outputs go to a temporary sibling and move into place,
folders it writes carry a marker, and it refuses destinations it could only write by
deleting or overwriting something it did not write."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.io.safe_write import (
    MARKER,
    OutputKind,
    UnsafeDestination,
    check_destination,
    marked_files,
    write_folder,
)
from fabnet.io.scenario_io import load_scenario
from fabnet.services.planning import plan_scenario
from tests.unit.test_validation import BASE

BIN = Path(sys.executable).parent
PLAN_FILES = {"production.csv", "purchases.csv", "transfers.csv", "deliveries.csv",
              "stock.csv", "load.csv", "shortfalls.csv", "kpis.csv", "plan.json",
              "report.html"}


def fabnet(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "fabnet"), *args], capture_output=True, text=True,
                          timeout=300)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    return p


def one_error_line(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


# ---------------------------------------------------------------- plan folders


def test_a_users_file_survives_plan_out_and_a_replan(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    assert fabnet("plan", str(scenario), "--out", str(out)).returncode == 0
    assert marked_files(out) == PLAN_FILES
    (out / "notes.txt").write_text("call the Lyon plant on Monday")
    r = fabnet("plan", str(scenario), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert (out / "notes.txt").read_text() == "call the Lyon plant on Monday"
    assert {p.name for p in out.iterdir()} == PLAN_FILES | {"notes.txt", MARKER}


def test_plan_into_a_users_folder_is_refused_before_solving(scenario: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    (out / "q3.docx").write_bytes(b"PK\x03\x04 not ours")
    before = snapshot(out)
    line = one_error_line(fabnet("plan", str(scenario), "--out", str(out)))
    assert str(out) in line and "--force" in line
    assert snapshot(out) == before


def test_force_writes_fabnets_files_and_keeps_every_other_file(scenario: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    (out / "q3.docx").write_bytes(b"mine")
    (out / "kpis.csv").write_text("my own kpis\n")
    r = fabnet("plan", str(scenario), "--out", str(out), "--force")
    assert r.returncode == 0, r.stderr
    assert (out / "q3.docx").read_bytes() == b"mine"
    assert (out / "kpis.csv").read_text().startswith("name,value")
    assert marked_files(out) == PLAN_FILES  # the next write needs no --force
    assert fabnet("plan", str(scenario), "--out", str(out)).returncode == 0
    assert (out / "q3.docx").read_bytes() == b"mine"


def test_an_empty_folder_is_written_without_force(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    assert fabnet("plan", str(scenario), "--out", str(out)).returncode == 0
    assert PLAN_FILES <= {p.name for p in out.iterdir()}


def test_out_existing_file_for_a_folder_output_is_refused_even_with_force(
        scenario: Path, tmp_path: Path) -> None:
    book = tmp_path / "existing.xlsx"
    book.write_bytes(b"PK\x03\x04 a workbook")
    for extra in ((), ("--force",)):
        line = one_error_line(fabnet("plan", str(scenario), "--out", str(book), *extra))
        assert "is a file" in line
        assert book.read_bytes() == b"PK\x03\x04 a workbook"


def test_plan_out_the_scenarios_own_folder_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "scenario"
    src.mkdir()
    (src / "s.yaml").write_text(BASE)
    before = snapshot(src)
    line = one_error_line(fabnet("plan", str(src / "s.yaml"), "--out", str(src), "--force"))
    assert "holds the source" in line
    assert snapshot(src) == before


@pytest.mark.parametrize("command", [
    ("whatif", "{s}", "--disrupt", "FR-LYON@2027-01-11+2", "--out", "{o}"),
    ("exposure", "{s}", "--out", "{o}"),
    ("stress", "tts", "{s}", "--out", "{o}"),
])
def test_every_out_folder_keeps_a_users_file(command: tuple[str, ...], scenario: Path,
                                             tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    args = [a.format(s=scenario, o=out) for a in command]
    assert "--force" in one_error_line(fabnet(*args))
    r = fabnet(*args, "--force")
    assert r.returncode == 0, r.stderr
    assert (out / "mine.txt").read_text() == "keep"
    assert fabnet(*args).returncode == 0  # fabnet's folder now: no --force needed
    assert (out / "mine.txt").read_text() == "keep"


# ---------------------------------------------------------------- scenario outputs


def test_convert_into_the_folder_holding_the_source_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "europe"
    home.mkdir()
    src = home / "scenario.yaml"
    src.write_text(BASE)
    before = snapshot(home)
    for extra in ((), ("--force",)):
        line = one_error_line(fabnet("convert", str(src), str(home), *extra))
        assert "holds the source" in line
    assert one_error_line(fabnet("convert", str(src), str(src))).endswith(
        "fabnet never overwrites its input)")
    assert snapshot(home) == before


@pytest.mark.parametrize("name", ["mine.yaml", "mine.xlsx"])
def test_a_users_file_is_not_replaced_by_convert_or_import_unless_forced(
        scenario: Path, tmp_path: Path, name: str) -> None:
    """A single file carries no marker: one that is there already is the user's until
    they say otherwise, by convert and by import willems alike."""
    mine = tmp_path / name
    mine.write_text("my own notes")
    chain = tmp_path / "chain.csv"
    chain.write_text("stage_id,lead_time,c2,c3,c4,ext_demand_mean,c6,c7,up1,q1\n"
                     "Asm,3,,,,10,,,Part_A,2\nPart_A,2,,,,,,,,\n")
    for args in (("convert", str(scenario), str(mine)),
                 ("import", "willems", str(chain), "--out", str(mine))):
        line = one_error_line(fabnet(*args))
        assert line.startswith(f"error: {mine}: exists") and "--force" in line, line
        assert mine.read_text() == "my own notes"
    r = fabnet("convert", str(scenario), str(mine), "--force")
    assert r.returncode == 0, r.stderr
    assert mine.read_bytes() != b"my own notes"


def test_convert_a_csv_folder_into_itself_or_below_it_is_refused(scenario: Path,
                                                                 tmp_path: Path) -> None:
    csv = tmp_path / "csv"
    assert fabnet("convert", str(scenario), str(csv)).returncode == 0
    before = snapshot(csv)
    assert "source" in one_error_line(fabnet("convert", str(csv), str(csv)))
    assert "inside the source" in one_error_line(fabnet("convert", str(csv), str(csv / "x")))
    assert snapshot(csv) == before


def test_convert_over_an_existing_csv_folder_replaces_only_its_own_files(
        scenario: Path, tmp_path: Path) -> None:
    csv = tmp_path / "csv"
    assert fabnet("convert", str(scenario), str(csv)).returncode == 0
    (csv / "README.txt").write_text("how we use this data")
    (csv / "licences.csv").unlink(missing_ok=True)
    assert fabnet("convert", str(scenario), str(csv)).returncode == 0
    assert (csv / "README.txt").read_text() == "how we use this data"
    assert load_scenario(csv) == load_scenario(scenario)


def test_a_file_where_a_folder_is_wanted_and_a_users_folder_are_refused(scenario: Path,
                                                             tmp_path: Path) -> None:
    notes = tmp_path / "notes"  # no suffix: a CSV folder is wanted there
    notes.write_text("mine")
    assert "is a file" in one_error_line(fabnet("convert", str(scenario), str(notes),
                                                "--force"))
    assert notes.read_text() == "mine"
    target = tmp_path / "b.yaml"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    assert "--force" in one_error_line(fabnet("convert", str(scenario), str(target)))
    assert (target / "keep.txt").read_text() == "x"


def test_db_and_branch_export_refuse_a_users_folder_unless_forced(scenario: Path,
                                                                  tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    run = CliRunner().invoke
    assert run(app, ["db", "init", "--url", url]).exit_code == 0
    assert run(app, ["db", "import", str(scenario), "--name", "net", "--url", url]
               ).exit_code == 0
    assert run(app, ["db", "branch", "create", "w", "net", "--url", url]).exit_code == 0
    for cmd in (["db", "export", "net"], ["db", "branch", "export", "w"]):
        out = tmp_path / cmd[-1]
        out.mkdir()
        (out / "mine.txt").write_text("keep")
        r = run(app, [*cmd, "--to", str(out), "--url", url])
        assert r.exit_code == 1 and "--force" in r.output, r.output
        r = run(app, [*cmd, "--to", str(out), "--url", url, "--force"])
        assert r.exit_code == 0, r.output
        assert (out / "mine.txt").read_text() == "keep"
        assert load_scenario(out) == load_scenario(scenario)


# ---------------------------------------------------------------- the rules, directly


def test_rewriting_removes_files_fabnet_no_longer_produces(tmp_path: Path) -> None:
    out = tmp_path / "o"
    write_folder(out, {"a.csv": "1", "b.csv": "2"})
    (out / "user.txt").write_text("u")
    write_folder(out, {"a.csv": "3"})
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a.csv", "user.txt"]
    assert (out / "a.csv").read_text() == "3"


def test_a_name_fabnet_did_not_write_in_its_folder_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "o"
    write_folder(out, {"a.csv": "1"})
    (out / "b.csv").write_text("the user's")
    with pytest.raises(UnsafeDestination, match="b.csv was not written by fabnet"):
        write_folder(out, {"a.csv": "2", "b.csv": "3"})
    assert (out / "a.csv").read_text() == "1" and (out / "b.csv").read_text() == "the user's"
    write_folder(out, {"a.csv": "2", "b.csv": "3"}, force=True)
    assert (out / "b.csv").read_text() == "3"


def test_a_tampered_marker_cannot_make_fabnet_delete_outside_its_folder(tmp_path: Path
                                                                        ) -> None:
    out = tmp_path / "o"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    write_folder(out, {"a.csv": "1"})
    (out / MARKER).write_text("a.csv\n../victim.txt\n/etc/passwd\n")
    write_folder(out, {"a.csv": "2"})
    assert victim.read_text() == "precious"


def test_nothing_is_left_behind_when_a_write_fails(tmp_path: Path) -> None:
    out = tmp_path / "o"
    write_folder(out, {"a.csv": "1"})
    with pytest.raises(TypeError):
        write_folder(out, {"a.csv": "2", "b.csv": 3})  # type: ignore[dict-item]
    assert (out / "a.csv").read_text() == "1" and not (out / "b.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_check_destination_lets_a_new_path_and_a_same_kind_file_through(tmp_path: Path
                                                                        ) -> None:
    check_destination(tmp_path / "new", OutputKind.FOLDER)
    f = tmp_path / "s.yaml"
    f.write_text("x")
    with pytest.raises(UnsafeDestination, match="exists, and fabnet replaces a file only"):
        check_destination(f, OutputKind.FILE)
    check_destination(f, OutputKind.FILE, force=True)
    with pytest.raises(UnsafeDestination, match="is a file"):
        check_destination(f, OutputKind.FOLDER, force=True)
    with pytest.raises(UnsafeDestination, match="is a folder"):
        check_destination(tmp_path, OutputKind.FILE, force=True)


# ---------------------------------------------------------------- killed writes

KILL_AFTER_WRITES = """
import os, signal, sys
from pathlib import Path

real = Path.write_text
count = 0

def dying_write_text(self, *a, **k):
    global count
    count += 1
    if count > int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, *a, **k)

Path.write_text = dying_write_text
from fabnet.cli import app
app(sys.argv[2:])
"""

KILL_AFTER_RENAMES = """
import os, signal, sys

real = os.replace
count = 0

def dying_replace(a, b):
    global count
    real(a, b)
    count += 1
    if count >= int(sys.argv[1]) and not str(b).endswith(".fabnet-output"):
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = dying_replace
from fabnet.cli import app
app(sys.argv[2:])
"""


def test_a_plan_killed_while_writing_leaves_the_previous_output_intact(
        scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    plan_scenario(scenario, out)
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    r = subprocess.run([sys.executable, "-c", KILL_AFTER_WRITES, "3", "plan", str(scenario),
                        "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == -signal.SIGKILL, r.stderr
    staged = [p for p in tmp_path.iterdir() if p.name.startswith(".plan.fabnet-")]
    assert len(staged) == 1 and len(list(staged[0].iterdir())) == 3  # killed mid-write
    assert snapshot(out) == before
    assert fabnet("plan", str(scenario), "--out", str(out)).returncode == 0


def test_a_plan_killed_while_moving_files_in_is_finished_by_the_next_write(
        scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "plan"
    plan_scenario(scenario, out)
    (out / "notes.txt").write_text("mine")
    r = subprocess.run([sys.executable, "-c", KILL_AFTER_RENAMES, "3", "plan", str(scenario),
                        "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == -signal.SIGKILL, r.stderr
    assert (out / "notes.txt").read_text() == "mine"
    r = fabnet("plan", str(scenario), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert marked_files(out) == PLAN_FILES and (out / "notes.txt").read_text() == "mine"


def test_staging_folders_have_the_users_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_folder(tmp_path / "o", {"a.csv": "1"})
    finally:
        os.umask(old)
    assert (tmp_path / "o").stat().st_mode & 0o777 == 0o755
