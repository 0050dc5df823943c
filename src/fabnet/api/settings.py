"""The API's settings, read once at the edge (`fabnet serve`, or a test) and passed in.

Every setting has a default and an environment variable:

| setting | variable | default |
| --- | --- | --- |
| database_url | FABNET_DATABASE_URL | sqlite:///fabnet.sqlite |
| max_body_bytes | FABNET_API_MAX_BODY_BYTES | 5 MiB |
| job_workers | FABNET_API_JOB_WORKERS | 2 |
| token_hours | FABNET_API_TOKEN_HOURS | 12 (tokens from a login) |
| max_samples | FABNET_API_MAX_SAMPLES | 5000 (Monte Carlo futures per job) |
| login_hashing | FABNET_API_LOGIN_HASHING | 2 (password checks at once, 64 MiB each) |
| login_wait_seconds | FABNET_API_LOGIN_WAIT_SECONDS | 3 (wait for a turn, then 503) |
| login_per_user | FABNET_API_LOGIN_PER_USER | 10 (sign-ins per user name per window) |
| login_per_client | FABNET_API_LOGIN_PER_CLIENT | 30 (sign-ins per client address per window) |
| login_window_seconds | FABNET_API_LOGIN_WINDOW_SECONDS | 60 |
| lockout_failures | FABNET_API_LOCKOUT_FAILURES | 5 (wrong passwords in a row lock an account) |
| lockout_minutes | FABNET_API_LOCKOUT_MINUTES | 15 (how long it stays locked) |
| require_if_match | FABNET_API_REQUIRE_IF_MATCH | false (true: edits need If-Match, else 428) |
| dask_scheduler | FABNET_DASK_SCHEDULER | none (jobs' futures and node chunks run in the server) |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from fabnet.model.errors import FabnetError
from fabnet.store.engine import database_url, normalize_url


@dataclass(frozen=True)
class Settings:
    """How the API server runs."""

    database_url: str
    max_body_bytes: int = 5 * 2**20
    job_workers: int = 2
    token_hours: float = 12.0
    max_samples: int = 5000
    login_hashing: int = 2
    login_wait_seconds: float = 3.0
    login_per_user: int = 10
    login_per_client: int = 30
    login_window_seconds: float = 60.0
    lockout_failures: int = 5
    lockout_minutes: float = 15.0
    #: refuse PUT, PATCH and DELETE of a row without If-Match (428), so no client can
    #: overwrite a change it has not seen
    require_if_match: bool = False
    #: a Dask scheduler's address: stress-test futures and TTS node chunks of jobs run on
    #: its workers (docs/scale-out.md); None runs them in the job's own thread
    dask_scheduler: str | None = None
    #: who the server itself acts as in the audit trail (e.g. when it ends stale jobs)
    server_actor: str = "fabnet-server"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, url: str | None = None
                 ) -> Settings:
        """Settings from the environment; `url` (e.g. `--url`) wins over the variable."""
        env = os.environ if env is None else env

        def number(name: str, default: float) -> float:
            raw = env.get(name)
            try:
                value = float(raw) if raw else default
            except ValueError:
                raise FabnetError(f"{name}={raw!r}: not a number (fix: e.g. {default:g})"
                                  ) from None
            if value <= 0:
                raise FabnetError(f"{name}={raw!r}: must be > 0 (fix: e.g. {default:g})")
            return value

        return cls(
            database_url=normalize_url(url) if url else database_url(env),
            max_body_bytes=int(number("FABNET_API_MAX_BODY_BYTES", cls.max_body_bytes)),
            job_workers=int(number("FABNET_API_JOB_WORKERS", cls.job_workers)),
            token_hours=number("FABNET_API_TOKEN_HOURS", cls.token_hours),
            max_samples=int(number("FABNET_API_MAX_SAMPLES", cls.max_samples)),
            login_hashing=int(number("FABNET_API_LOGIN_HASHING", cls.login_hashing)),
            login_wait_seconds=number("FABNET_API_LOGIN_WAIT_SECONDS",
                                      cls.login_wait_seconds),
            login_per_user=int(number("FABNET_API_LOGIN_PER_USER", cls.login_per_user)),
            login_per_client=int(number("FABNET_API_LOGIN_PER_CLIENT", cls.login_per_client)),
            login_window_seconds=number("FABNET_API_LOGIN_WINDOW_SECONDS",
                                        cls.login_window_seconds),
            lockout_failures=int(number("FABNET_API_LOCKOUT_FAILURES", cls.lockout_failures)),
            lockout_minutes=number("FABNET_API_LOCKOUT_MINUTES", cls.lockout_minutes),
            require_if_match=env.get("FABNET_API_REQUIRE_IF_MATCH", "").strip().lower()
            in ("1", "true", "yes", "on"),
            dask_scheduler=_scheduler(env.get("FABNET_DASK_SCHEDULER", "")),
        )


def _scheduler(raw: str) -> str | None:
    """FABNET_DASK_SCHEDULER checked as a scheduler's address (empty: none), so a server
    with a malformed one says so at start, not in its first job."""
    if not raw.strip():
        return None
    from fabnet.batch.cluster import scheduler_address

    try:
        return scheduler_address(raw)
    except FabnetError as e:
        raise FabnetError(f"FABNET_DASK_SCHEDULER: {e}") from None
