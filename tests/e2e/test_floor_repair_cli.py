"""Repairs, service, line-downs and qualified operators on the command line, end to end on a
temporary SQLite store: a shipped drone comes back, gets a new frame, is retested and ships
again; a line down reaches the next plan; a site that requires qualified operators."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fabnet.cli import app
from fabnet.services import database as db_svc
from fabnet.services import plan_runs as plan_svc
from tests.integration.test_floor import TINY


def test_repair_line_down_and_skills_on_the_command_line(tmp_path: Path) -> None:
    run = CliRunner()
    env = {"FABNET_DATABASE_URL": f"sqlite:///{tmp_path / 'f.sqlite'}", "FABNET_USER": "lee"}

    def fab(*args: str) -> str:
        r = run.invoke(app, list(args), env=env)
        assert r.exit_code == 0, r.output
        return r.output

    def refused(*args: str) -> str:
        r = run.invoke(app, list(args), env=env)
        assert r.exit_code == 1 and r.output.count("\n") == 1, r.output
        return r.output

    (tmp_path / "tiny.yaml").write_text(TINY)
    fab("db", "init")
    fab("db", "import", str(tmp_path / "tiny.yaml"), "--name", "tiny")
    fab("db", "plan", "tiny")
    orders = json.loads(fab("floor", "release", "tiny", "--json"))
    pack = next(o["id"] for o in orders if o["item"] == "PACK" and o["site"] == "S1")
    drone = next(o["id"] for o in orders if o["item"] == "DRONE" and o["site"] == "S1")
    fab("floor", "receive", "--site", "S1", "--item", "CELL", "--lot", "C-1", "--qty", "4")
    fab("floor", "receive", "--site", "S1", "--item", "FRAME", "--lot", "F-1", "--qty", "1")
    fab("floor", "receive", "--site", "S1", "--item", "FRAME", "--lot", "F-2", "--qty", "1")
    fab("floor", "build", f"WO-{pack}", "--qty", "1")
    serial = json.loads(fab("floor", "build", f"WO-{drone}", "--qty", "1", "--use",
                            "FRAME=F-1", "--json"))["serials"][0]
    fab("floor", "test", serial, "--step", "flight", "--pass")
    fab("floor", "test", serial, "--step", "volts", "--pass", "--value", "24")
    fab("floor", "ship", serial, "--customer", "OK")

    # it comes back, gets a new frame, must be tested again, ships again
    assert "RO-" in fab("floor", "return", serial, "--reason", "frame cracked")
    assert "not shippable" in refused("floor", "ship", serial, "--customer", "OK")
    assert "ITEM=LOT_OR_SERIAL" in refused("floor", "repair", serial, "--replace", "FRAME")
    done = json.loads(fab("floor", "repair", serial, "--replace", "FRAME=F-2", "--json"))
    assert done["swaps"][0]["removed"] == [{"lot": "F-1", "serial": None, "qty": 1.0}]
    assert sorted(done["retest"]) == ["flight", "volts"]
    assert "incomplete" in refused("floor", "ship", serial, "--customer", "OK")
    fab("floor", "test", serial, "--step", "flight", "--pass")
    fab("floor", "test", serial, "--step", "volts", "--pass", "--value", "23")
    fab("floor", "ship", serial, "--customer", "OK")
    assert "F-2" in fab("trace", serial, "--up") and "F-1" not in fab("trace", serial, "--up")
    fab("floor", "service", serial, "--note", "50 h check", "--hours", "1.5")
    hist = json.loads(fab("floor", "history", serial, "--json"))
    assert [s["note"] for s in hist["services"]] == ["50 h check"]
    assert [r["status"] for r in hist["repairs"]] == ["closed"]
    assert "removed FRAME" in fab("floor", "history", serial)

    # a line down is a new version, and the next stored plan cuts that work center
    ld = json.loads(fab("floor", "line-down", "S1", "assembly", "--from", "2027-01-04",
                        "--until", "2027-01-10", "--capacity", "0.5", "--json"))
    assert (ld["version"], ld["disruption"]["work_center"]) == (2, "assembly")
    assert "not a date" in refused("floor", "line-down", "S1", "assembly", "--from", "soon")
    fab("db", "plan", "tiny")
    store = db_svc.connect(env["FABNET_DATABASE_URL"], "lee")
    latest = plan_svc.list_plan_runs(store, "tiny")[0]
    store.engine.dispose()
    assert latest.version == 2
    assert {(r["bucket"], r["hours_available"]) for r in latest.document["tables"]["load"]
            if r["site"] == "S1" and r["work_center"] == "assembly"} >= {(0, 50.0)}

    # qualified operators
    fab("floor", "qualify", "olga", "assembly", "--until", "2099-12-31", "--site", "S1")
    assert "required" not in fab("floor", "skills")
    fab("floor", "require-qualification", "S1", "on")
    skills = json.loads(fab("floor", "skills", "--site", "S1", "--json"))
    counts = {(c["kind"], c["name"]): c["now"] for c in skills["counts"]}
    assert counts[("work_center", "assembly")] == 1 and skills["rules"] == {"S1": True}
    assert "olga" in fab("floor", "qualifications")
    assert "not qualified" in refused("floor", "test", serial, "--step", "flight", "--pass")
