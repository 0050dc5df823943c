"""`fabnet serve` as a team runs it: a real server in its own process on a loopback port,
driven over HTTP from sign-in to a plan's tables."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from fabnet.io import load_scenario
from fabnet.io.tables import scenario_tables
from tests.unit.test_validation import BASE

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve_command() -> list[str]:
    """`fabnet serve`, as a user starts it."""
    return [str(BIN / "fabnet"), "serve"]


def scenario_body(path: Path, name: str) -> dict[str, Any]:
    """A scenario file as the body of POST /scenarios."""
    tables = scenario_tables(load_scenario(path))
    head = tables.pop("scenario")[0]
    body: dict[str, Any] = {"name": name, "title": head["scenario"],
                            "horizon": {"start": head["start"], "bucket": head["bucket"],
                                        "buckets": head["buckets"]}, **tables}
    text = json.dumps(body, default=lambda v: v.isoformat() if isinstance(v, date) else v)
    out: dict[str, Any] = json.loads(text)
    return out


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A served store with one planner, alice; the base URL and the process."""
    url = f"sqlite:///{tmp_path / 'team.sqlite'}"
    env = {**os.environ, "FABNET_DATABASE_URL": url, "FABNET_NEW_PASSWORD": "alice's secret"}
    for args in (["db", "init"], ["db", "user-add", "alice", "--role", "planner"]):
        done = subprocess.run([str(BIN / "fabnet"), *args], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    port = free_port()
    proc = subprocess.Popen([*serve_command(), "--host", "127.0.0.1", "--port", str(port),
                             "--url", url], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not come up in 60 s"
            time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_sign_in_import_plan_and_fetch_the_result_over_http(
        server: tuple[str, subprocess.Popen[str]], tmp_path: Path) -> None:
    base, proc = server
    with httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/openapi.json").json()["info"]["title"] == "fabnet"
        login = http.post("/auth/login", json={"username": "alice",
                                               "password": "alice's secret"})
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['token']}"

        scenario = tmp_path / "tiny.yaml"
        scenario.write_text(BASE)
        imported = http.post("/scenarios", json=scenario_body(scenario, "tiny"),
                             headers={"Idempotency-Key": "import-tiny"})
        assert imported.status_code == 201, imported.text
        assert imported.json()["version"] == 1 and imported.json()["created_by"] == "alice"

        job = http.post("/jobs/plan", json={"scenario": "tiny"})
        assert job.status_code == 202
        status = job.json()
        deadline = time.monotonic() + 120
        ended = ("done", "failed", "cancelled")
        while status["status"] not in ended and time.monotonic() < deadline:
            time.sleep(0.1)
            status = http.get(f"/jobs/{status['id']}").json()
        assert status["status"] == "done", status

        result = http.get(f"/jobs/{status['id']}/result").json()["result"]
        assert result["kpis"]["units_demanded"] == 50
        assert result["kpis"]["fill_rate"] == pytest.approx(1)  # full precision
        assert {r["demand"] for r in result["plan"]["tables"]["deliveries"]} == {"D1"}
        trail = http.get("/audit")
        assert trail.status_code == 403  # a planner doesn't read the audit trail

    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "POST /jobs/plan 202" in out and "user=alice" in out
