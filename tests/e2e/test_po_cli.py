"""Purchase orders on the command line, end to end on a temporary SQLite store: place a
plan's purchases, receive a lot against one (open, then closed), an over-receipt
refused in one line, a cancel, and the re-plan that buys only what is not on order."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fabnet.cli import app
from tests.integration.test_purchase_orders import NET


def test_purchase_orders_on_the_command_line(tmp_path: Path) -> None:
    run = CliRunner()
    env = {"FABNET_DATABASE_URL": f"sqlite:///{tmp_path / 'f.sqlite'}", "FABNET_USER": "lee"}

    def fab(*args: str, code: int = 0) -> str:
        r = run.invoke(app, list(args), env=env)
        assert r.exit_code == code, r.output
        return r.output

    (tmp_path / "net.yaml").write_text(NET)
    fab("db", "init")
    fab("db", "import", str(tmp_path / "net.yaml"), "--name", "net")
    fab("db", "plan", "net")
    placed = json.loads(fab("floor", "po", "release", "net", "--until", "2027-01-04",
                            "--json"))
    assert placed and {o["order_date"] for o in placed} == {"2027-01-04"}
    cell = next(o for o in placed if o["item"] == "CELL" and o["site"] == "S1")
    assert (cell["code"], cell["qty"], cell["status"]) == (f"PO-{cell['id']}", 16.0, "open")
    assert cell["code"] in fab("floor", "po", "list", "--site", "S1", "--status", "open")
    out = json.loads(fab("floor", "receive", "--po", cell["code"], "--lot", "C-1", "--qty",
                         "6", "--json"))
    assert (out["lot"]["site"], out["lot"]["item"], out["lot"]["supplier"]) == (
        "S1", "CELL", "SUP")
    assert (out["purchase_order"]["status"], out["purchase_order"]["remaining"]) == (
        "open", 10.0)
    refused = fab("floor", "receive", "--po", cell["code"], "--lot", "C-2", "--qty", "11",
                  code=1)
    assert "still to come, not 11" in refused and "Traceback" not in refused
    assert len(refused.strip().splitlines()) <= 3  # one line, wrapped at most
    assert "closed" in fab("floor", "receive", "--po", cell["code"], "--lot", "C-2",
                           "--qty", "10")
    assert "--site and --item" in fab("floor", "receive", "--lot", "X", "--qty", "1", code=1)
    victim = json.loads(fab("floor", "po", "list", "--status", "open", "--json"))[0]
    assert "cancelled" in fab("floor", "po", "cancel", victim["code"], "--reason", "late")
    assert "not a purchase order" in fab("floor", "po", "cancel", "WO-1", "--reason", "x",
                                         code=1)
    fab("db", "plan", "net")
    again = json.loads(fab("floor", "po", "release", "net", "--json"))
    # what is on order is not placed twice; what was cancelled is bought again
    assert not [o for o in again if o["site"] == "S1" and o["item"] == "CELL"]
    assert [o for o in again if (o["site"], o["item"]) == (victim["site"], victim["item"])]
