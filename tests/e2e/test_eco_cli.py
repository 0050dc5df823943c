"""The ECO story on the command line, on a temporary SQLite store: an engineer writes a
change, is refused releasing it with one line, a second engineer reads its impact and
releases it, and the stored scenario gets a version with the new line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fabnet.cli import app
from tests.integration.test_eco import NET


def test_eco_story_on_the_command_line(tmp_path: Path) -> None:
    run = CliRunner()
    env = {"FABNET_DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite'}"}

    def fab(*args: str, who: str = "erin") -> str:
        r = run.invoke(app, list(args), env={**env, "FABNET_USER": who})
        assert r.exit_code == 0, r.output
        return r.output

    (tmp_path / "net.yaml").write_text(NET)
    fab("db", "init")
    fab("db", "import", str(tmp_path / "net.yaml"), "--name", "net")
    made = json.loads(fab("eco", "create", "--description", "FRAME2 after field cracks",
                          "--from", "2027-01-18", "--remove-bom", "DRONE/FRAME",
                          "--add-bom", "DRONE/FRAME2=1", "--json"))
    assert made["status"] == "draft" and made["created_by"] == "erin"
    fab("eco", "submit", "ECO-1")
    r = run.invoke(app, ["eco", "release", "ECO-1"], env={**env, "FABNET_USER": "erin"})
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [
        "error: erin wrote ECO-1 and may not release it (fix: another engineer reviews it)"]
    impact = json.loads(fab("eco", "impact", "ECO-1", "--json", who="ed"))
    assert {(d["item"], d["bucket"]) for d in impact["demand"]
            if d["table"] == "purchases"} == {("FRAME", 2), ("FRAME2", 2)}
    assert "released as version 2" in fab("eco", "release", "ECO-1", who="ed")
    assert "released" in fab("eco", "list")
    r = run.invoke(app, ["eco", "create", "--description", "x", "--from", "2027-01-18",
                         "--add-bom", "DRONE/FRAME3"], env={**env, "FABNET_USER": "erin"})
    assert r.exit_code == 1 and "write PARENT/COMPONENT=QTY" in r.output
