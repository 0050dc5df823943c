"""One `fabnet serve --demo` and one Chromium for every browser test of the session
(tests/e2e/test_web*.py): the demo takes minutes to start, so it is started once, on
first use, and stopped at the end.

The tests change the demo's store as they go (a capacity edited, a line down recorded, a
lot held and released, an ECO released, more plan runs); each one asserts only on what
it made itself or on what the demo starts with and no other test changes (plan run 1,
the floor story's units and licences), so they pass in any order against one server.
All of them sign in from one address, more often than the sign-in throttle lets one
client in a minute; the server's limits are raised for that (the throttle itself is
tested in tests/integration/test_api_hardening.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from benchmarks.demo_server import Demo, serve_demo

from tests.e2e.web_server import ARGS, CHROMIUM

#: sign-in limits of the shared server: every test signs in from 127.0.0.1
LIMITS = {"FABNET_API_LOGIN_PER_CLIENT": "1000", "FABNET_API_LOGIN_PER_USER": "1000"}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo server shared by the session's browser tests, started on first use."""
    with serve_demo(tmp_path_factory.mktemp("web-demo"), env=LIMITS) as d:
        yield d


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, started once for the session."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()
