"""Sign-in throttling, in the server's memory: how many password hashes run at once, and
how many sign-ins a user name or a client address may try per time window.

A password check with argon2 takes 64 MiB and tens of milliseconds, on purpose; a
flood of wrong logins would otherwise take the server's memory with it. `HashGate` is
a turnstile: a few checks run at once, the rest wait a bounded time and are then told
to come back (503). `SlidingWindow` counts attempts per key over the last `window`
seconds and says how long to wait once the limit is reached (429). Both live in one
process, which is enough because fabnet runs one server process per store.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fabnet.api.settings import Settings


class Busy(Exception):
    """Too many sign-ins at once or in a row: try again after `retry_after` seconds."""

    def __init__(self, what: str, retry_after: int, status: int = 429) -> None:
        super().__init__(what)
        self.what, self.retry_after, self.status = what, retry_after, status


class HashGate:
    """At most `concurrency` password checks at once; a caller waits up to `wait` seconds
    for a turn, then gets `Busy`."""

    def __init__(self, concurrency: int, wait: float) -> None:
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self.wait = wait

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold one of the slots for the body of the `with` block."""
        if not self._slots.acquire(timeout=self.wait):
            raise Busy("too many sign-ins are being checked at once (fix: try again in a "
                       "moment)", max(1, math.ceil(self.wait)), 503)
        try:
            yield
        finally:
            self._slots.release()


@dataclass
class SlidingWindow:
    """At most `limit` hits per key in any `window` seconds (a log of hit times per key;
    keys whose hits have all aged out are dropped, so memory follows recent traffic)."""

    limit: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _sweep_at: float = 0.0

    def hit(self, key: str) -> int | None:
        """Count a hit of `key`; None if within the limit, else the seconds until one
        of the counted hits ages out (the hit is then not counted)."""
        t = self.clock()
        with self._lock:
            if t >= self._sweep_at:
                self._sweep(t)
            log = self._hits.setdefault(key, deque())
            while log and log[0] <= t - self.window:
                log.popleft()
            if len(log) >= self.limit:
                return max(1, math.ceil(log[0] + self.window - t))
            log.append(t)
            return None

    def _sweep(self, t: float) -> None:
        """Drop the keys with no hit inside the window."""
        for key in [k for k, log in self._hits.items() if not log or log[-1] <= t - self.window]:
            del self._hits[key]
        self._sweep_at = t + self.window


class LoginGuard:
    """What a sign-in passes before its password is checked: the per-client and per-user
    windows, then the hashing turnstile (built from the server's settings)."""

    def __init__(self, settings: Settings) -> None:
        window = settings.login_window_seconds
        self.per_client = SlidingWindow(max(1, settings.login_per_client), window)
        self.per_user = SlidingWindow(max(1, settings.login_per_user), window)
        self.gate = HashGate(settings.login_hashing, settings.login_wait_seconds)

    def admit(self, client: str, user: str) -> None:
        """Raise `Busy` when this client address or this user name tried too often."""
        wait = self.per_client.hit(f"client:{client}")
        if wait is not None:
            raise Busy("too many sign-in attempts from your address (fix: wait "
                       f"{wait} s, then try again)", wait)
        wait = self.per_user.hit(f"user:{user}")
        if wait is not None:
            raise Busy(f"too many sign-in attempts for this user (fix: wait {wait} s, then "
                       "try again)", wait)
