"""`fabnet serve`: the HTTP API (FastAPI on uvicorn), with its OpenAPI document at
/openapi.json and interactive docs at /docs.

    fabnet db init && fabnet db user-add alice --role admin
    fabnet serve --port 8000                      # http://127.0.0.1:8000/docs
    fabnet serve --url postgresql://planner@db.internal/fabnet --host 0.0.0.0
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from fabnet.cli.console import err_console


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
    demo: Annotated[bool, typer.Option("--demo", help="Start on a fresh demo store: the "
                                       "Europe example imported and planned, one user per "
                                       "role (passwords printed once).")] = False,
    demo_dir: Annotated[str | None, typer.Option(help="Folder for the --demo store "
                                                 "(default: a new temporary folder).")
                        ] = None,
) -> None:
    """Serve the HTTP API on the shared store (OpenAPI document at /openapi.json)."""
    import dataclasses

    import uvicorn

    from fabnet.api import Settings, create_app
    from fabnet.services.database import connect
    from fabnet.store.engine import check_writable

    if demo:
        url = _demo_store(demo_dir)
    settings = Settings.from_env(url=url)
    if job_workers is not None:
        settings = dataclasses.replace(settings, job_workers=job_workers)
    store = connect(settings.database_url, settings.server_actor)  # checks the schema
    check_writable(store.engine)  # a read-only store is one line, before the banner
    level = log_level.upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    err_console.print(f"fabnet API on http://{host}:{port} (dashboard at /web, docs at "
                      "/docs), store "
                      f"{store.engine.url.render_as_string(hide_password=True)}",
                      markup=False, highlight=False)
    # uvicorn's own access log would print full query strings: fabnet logs each request
    # itself, with restricted values masked
    uvicorn.run(create_app(settings, store), host=host, port=port, access_log=False,
                log_level=log_level.lower(), server_header=False,
                timeout_graceful_shutdown=30)
    store.engine.dispose()


def _demo_store(folder: str | None) -> str:
    """Make the --demo store (in `folder`, or a new temporary one), print its accounts
    once, and return its URL."""
    import tempfile

    from fabnet.services.demo import make_demo_store

    where = folder or tempfile.mkdtemp(prefix="fabnet-demo-")
    err_console.print(f"making the demo store in {where} (import and plan the Europe "
                      "example) …", markup=False, highlight=False)
    made = make_demo_store(where)
    err_console.print("demo accounts (shown once; sign in at /web):", markup=False,
                      highlight=False)
    for name, (role, password) in made.accounts.items():
        err_console.print(f"  {name:<14} {role.value:<13} {password}", markup=False,
                          highlight=False)
    return made.url
