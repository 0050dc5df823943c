"""`fabnet serve --demo` in its own process on a free loopback port, up and answering,
stopped afterwards; the accounts' passwords read from what it prints at start. Used by
the dashboard benchmark and by the browser tests, so both start the demo the same way.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

#: the folder of the running Python's scripts (the venv's `fabnet`)
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Demo:
    """A served demo store: its address and the accounts' passwords."""

    base: str
    passwords: dict[str, str]

    def api(self, user: str) -> httpx.Client:
        """An HTTP API client signed in as `user` (bearer token)."""
        http = httpx.Client(base_url=self.base, timeout=120)
        login = http.post("/auth/login", json={"username": user,
                                               "password": self.passwords[user]})
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['token']}"
        return http


@contextmanager
def serve_demo(folder: Path, env: Mapping[str, str] | None = None,
               wait: float = 600) -> Iterator[Demo]:
    """`fabnet serve --demo` with its store and log (serve.log) in `folder`, on a free
    port, up and answering; `env` adds to the server's environment."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "serve.log"
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen([str(BIN / "fabnet"), "serve", "--demo", "--demo-dir",
                                 str(folder / "store"), "--port", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "FABNET_API_JOB_WORKERS": "1",
                                     **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the demo server stopped:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo server did not come up in {wait:.0f} s")
            time.sleep(0.3)
        accounts = re.findall(r"^\s+(\S+)\s+\S+\s+(\S+)$", log.read_text(), re.M)
        yield Demo(base, dict(accounts))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
