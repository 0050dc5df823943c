"""`fabnet serve`: the HTTP API (FastAPI on uvicorn), with its OpenAPI document at
/openapi.json and interactive docs at /docs.

    fabnet db init && fabnet db user-add alice --role admin
    fabnet serve --port 8000                      # http://127.0.0.1:8000/docs
    fabnet serve --url postgresql://planner@db.internal/fabnet --host 0.0.0.0

Wired into `fabnet` with `app.command("serve")(serve_cmd)`; `python -m fabnet.cli_api`
runs it on its own.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer
from rich.console import Console

from fabnet.model.errors import FabnetError

err = Console(stderr=True, soft_wrap=True)


def serve_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every "
                                      "interface; mind the firewall).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    url: Annotated[str | None, typer.Option(
        "--url", envvar="FABNET_DATABASE_URL", show_envvar=True,
        help="Database URL (default sqlite:///fabnet.sqlite in the working directory).")
    ] = None,
    job_workers: Annotated[int | None, typer.Option(
        min=1, max=64, help="Threads running plan and stress jobs (default 2, or "
        "FABNET_API_JOB_WORKERS).")] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Serve the HTTP API on the shared store (OpenAPI document at /openapi.json)."""
    import dataclasses

    import uvicorn

    from fabnet.api import Settings, create_app
    from fabnet.services.store import connect

    try:
        settings = Settings.from_env(url=url)
        if job_workers is not None:
            settings = dataclasses.replace(settings, job_workers=job_workers)
        store = connect(settings.database_url, settings.server_actor)  # checks the schema
    except FabnetError as e:
        err.print(f"error: {e}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    level = log_level.upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    err.print(f"fabnet API on http://{host}:{port} (docs at /docs), store "
              f"{store.engine.url.render_as_string(hide_password=True)}",
              markup=False, highlight=False)
    # uvicorn's own access log would print full query strings: fabnet logs each request
    # itself, with restricted values masked
    uvicorn.run(create_app(settings, store), host=host, port=port, access_log=False,
                log_level=log_level.lower(), server_header=False,
                timeout_graceful_shutdown=30)
    store.engine.dispose()


def main() -> None:
    """`python -m fabnet.cli_api`: the serve command on its own."""
    typer.run(serve_cmd)


if __name__ == "__main__":
    main()
