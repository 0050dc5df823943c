"""The `fabnet` command as a user runs it: exit codes, messages, files written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_validation import BASE


def fabnet(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "fabnet"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)


def test_validate_ok(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    r = fabnet("validate", str(p))
    assert r.returncode == 0, r.stderr
    assert "ok" in r.stdout


def test_validate_lists_problems_without_traceback(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("item: RECON-Q, qty: 50", "item: NOPE, qty: 50")
                 .replace("item: FC-H7, qty: 10", "item: FC-H7, qty: -10"))
    r = fabnet("validate", str(p))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr + r.stdout
    assert "demand[D1].item" in r.stderr and "inventory[FR-LYON/FC-H7].qty" in r.stderr
    assert "s.yaml" in r.stderr


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    r = fabnet("plan", str(tmp_path / "nope.yaml"))
    assert r.returncode == 1
    assert "no such file" in r.stderr and "Traceback" not in r.stderr


def test_plan_writes_contract_tables_and_report(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    out = tmp_path / "out"
    r = fabnet("plan", str(p), "--out", str(out))
    assert r.returncode == 0, r.stderr
    for name in ("production", "purchases", "transfers", "deliveries", "stock", "load",
                 "shortfalls", "kpis"):
        assert (out / f"{name}.csv").exists()
    doc = json.loads((out / "plan.json").read_text())
    assert doc["buckets"][1] == {"bucket": 1, "start": "2027-01-11"}
    assert doc["kpis"]["units_demanded"] == 50
    html = (out / "report.html").read_text()
    assert "<html" in html and "Plotly" in html
    assert "units planned vs demanded" in r.stdout


def test_plan_json_prints_kpis(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    r = fabnet("plan", str(p), "--json")
    assert r.returncode == 0, r.stderr
    kpis = json.loads(r.stdout)
    # full precision: the later levels may give up the hold slack (~1e-7 units)
    assert kpis["fill_rate"] == pytest.approx(1.0) and kpis["units_delivered"] == pytest.approx(50)


def test_convert_between_formats(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    assert fabnet("convert", str(p), str(tmp_path / "s.xlsx")).returncode == 0
    assert fabnet("convert", str(tmp_path / "s.xlsx"), str(tmp_path / "csv")).returncode == 0
    r = fabnet("plan", str(tmp_path / "csv"), "--json")
    assert json.loads(r.stdout)["units_delivered"] == pytest.approx(50)


def test_unwritable_output_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = fabnet("plan", str(p), "--out", str(blocker / "out"))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and "error:" in r.stderr


def test_binary_garbage_scenario_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "s.yaml"
    p.write_bytes(b"\xff\xfe\x00garbage")
    r = fabnet("validate", str(p))
    assert r.returncode == 1 and "UTF-8" in r.stderr and "Traceback" not in r.stderr
    d = tmp_path / "csv"
    d.mkdir()
    (d / "scenario.csv").write_bytes(b"scenario,start\n\xff\xfe")
    r = fabnet("validate", str(d))
    assert r.returncode == 1 and "scenario.csv" in r.stderr and "Traceback" not in r.stderr
