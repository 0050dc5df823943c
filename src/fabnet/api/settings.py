"""The API's settings, read once at the edge (`fabnet serve`, or a test) and passed in.

Every setting has a default and an environment variable:

| setting | variable | default |
| --- | --- | --- |
| database_url | FABNET_DATABASE_URL | sqlite:///fabnet.sqlite |
| max_body_bytes | FABNET_API_MAX_BODY_BYTES | 5 MiB |
| job_workers | FABNET_API_JOB_WORKERS | 2 |
| token_hours | FABNET_API_TOKEN_HOURS | 12 (tokens from a login) |
| max_samples | FABNET_API_MAX_SAMPLES | 5000 (Monte Carlo futures per job) |
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
        )
