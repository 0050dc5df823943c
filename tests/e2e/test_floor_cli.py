"""The floor story on the command line, end to end on a temporary SQLite store: release,
receive, build, a failed test and a retest, a hold that blocks a shipment, trace."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fabnet.cli import app
from tests.integration.test_floor import TINY


def test_floor_story_on_the_command_line(tmp_path: Path) -> None:
    run = CliRunner()
    env = {"FABNET_DATABASE_URL": f"sqlite:///{tmp_path / 'f.sqlite'}", "FABNET_USER": "lee"}

    def fab(*args: str) -> str:
        r = run.invoke(app, list(args), env=env)
        assert r.exit_code == 0, r.output
        return r.output

    (tmp_path / "tiny.yaml").write_text(TINY)
    fab("db", "init")
    fab("db", "import", str(tmp_path / "tiny.yaml"), "--name", "tiny")
    fab("db", "plan", "tiny")
    orders = json.loads(fab("floor", "release", "tiny", "--json"))
    pack = next(o["id"] for o in orders if o["item"] == "PACK" and o["site"] == "S1")
    drone = next(o["id"] for o in orders if o["item"] == "DRONE" and o["site"] == "S1")
    assert "WO-" in fab("floor", "orders", "--site", "S1")
    fab("floor", "receive", "--site", "S1", "--item", "CELL", "--lot", "C-7", "--qty", "4",
        "--supplier", "SUP")
    fab("floor", "receive", "--site", "S1", "--item", "FRAME", "--lot", "F-1", "--qty", "1")
    fab("floor", "build", f"WO-{pack}", "--qty", "1", "--use", "CELL=C-7")
    serial = json.loads(fab("floor", "build", f"WO-{drone}", "--qty", "1", "--json"))[
        "serials"][0]
    fab("floor", "test", serial, "--step", "flight", "--pass")
    assert "FAIL" in fab("floor", "test", serial, "--step", "volts", "--pass", "--value", "30")
    assert "complete" in fab("floor", "test", serial, "--step", "volts", "--pass",
                             "--value", "24")
    fab("floor", "hold", "C-7", "--reason", "cells swell")
    r = run.invoke(app, ["floor", "ship", serial, "--customer", "OK"], env=env)
    assert r.exit_code == 1 and "lot C-7 (cells swell)" in r.output
    assert serial in fab("trace", "C-7", "--down")
    fab("floor", "release-hold", "C-7")
    fab("floor", "ship", serial, "--customer", "OK")
    down = json.loads(fab("trace", "C-7", "--down", "--json"))
    assert {u["customer"] for u in down["units"] if u["serial"] == serial} == {"OK"}
    assert "C-7" in fab("trace", serial, "--up")
    assert "volts" in fab("floor", "yield")
