"""`fabnet db …` and `fabnet audit …`: the shared store on the command line.

The store is a SQLite file (`fabnet.sqlite` in the working directory) unless
`--url` or `FABNET_DATABASE_URL` names another, e.g. `postgresql://user@host/db`.
Changes are signed with `--as` or `FABNET_USER` (default: the login name).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from fabnet.model.errors import FabnetError, ScenarioError

if TYPE_CHECKING:
    from fabnet.store import Store

db_app = typer.Typer(no_args_is_help=True, help="The shared store: import and export scenarios, "
                     "versions, what-if branches, stored plans.")
branch_app = typer.Typer(no_args_is_help=True, help="What-if branches of a stored scenario: "
                         "they keep only their changes, and merge back as a new version.")
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit trail of the store.")
db_app.add_typer(branch_app, name="branch")

out = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)


@dataclass(frozen=True)
class _Settings:
    url: str
    actor: str


UrlOpt = Annotated[str | None, typer.Option(
    "--url", envvar="FABNET_DATABASE_URL", show_envvar=True,
    help="Database URL (default sqlite:///fabnet.sqlite in the working directory).")]
ActorOpt = Annotated[str | None, typer.Option(
    "--as", envvar="FABNET_USER", show_envvar=True,
    help="Who signs the changes in the audit trail (default: your login name).")]


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"


def _settings_callback(ctx: typer.Context, url: str | None, actor: str | None) -> None:
    from fabnet.store.engine import database_url, normalize_url

    ctx.obj = _Settings(normalize_url(url) if url else database_url(), actor or _login())


@db_app.callback()
def db_main(ctx: typer.Context, url: UrlOpt = None, actor: ActorOpt = None) -> None:
    """The shared store (SQLite by default, PostgreSQL by URL)."""
    _settings_callback(ctx, url, actor)


@audit_app.callback()
def audit_main(ctx: typer.Context, url: UrlOpt = None) -> None:
    """The audit trail of the store."""
    _settings_callback(ctx, url, None)


def _fail(e: FabnetError) -> None:
    if isinstance(e, ScenarioError):
        n = len(e.issues)
        err.print(f"[red]{n} problem{'s' if n != 1 else ''} found:[/red]")
        for issue in e.issues:
            err.print(f"  {issue}", markup=False, highlight=False)
    else:
        err.print(f"error: {e}", markup=False, highlight=False)
    raise typer.Exit(1)


def _store(ctx: typer.Context) -> Store:
    from fabnet.services.store import connect

    s: _Settings = ctx.obj
    return connect(s.url, s.actor)


def _where(ctx: typer.Context) -> str:
    from fabnet.store.engine import display_url

    return display_url(ctx.obj.url)


# ---------------------------------------------------------------- schema


@db_app.command("init")
def init_cmd(ctx: typer.Context) -> None:
    """Create the store's tables in an empty database (a new SQLite file by default)."""
    from fabnet.services.store import init_store

    try:
        before, after = init_store(ctx.obj.url)
    except FabnetError as e:
        _fail(e)
        return
    if before == after:
        out.print(f"the store at {_where(ctx)} is already initialised (schema {after})")
    else:
        out.print(f"created the store at {_where(ctx)} (schema {after})")


@db_app.command("upgrade")
def upgrade_cmd(ctx: typer.Context) -> None:
    """Migrate the store's tables to this fabnet's schema (creating them if needed)."""
    from fabnet.services.store import upgrade_store

    try:
        before, after = upgrade_store(ctx.obj.url)
    except FabnetError as e:
        _fail(e)
        return
    if before == after:
        out.print(f"the store at {_where(ctx)} is up to date (schema {after})")
    else:
        out.print(f"upgraded the store at {_where(ctx)} from schema {before or 'none'} "
                  f"to {after}")


# ---------------------------------------------------------------- scenarios


@db_app.command("import")
def import_cmd(
    ctx: typer.Context,
    scenario: Annotated[Path, typer.Argument(
        help="Scenario to store: a .yaml file, a .xlsx workbook or a folder of CSV files.")],
    name: Annotated[str | None, typer.Option(
        help="Name to store it under (default: the scenario's title as a slug).")] = None,
    note: Annotated[str, typer.Option(help="A note kept with the version.")] = "",
) -> None:
    """Check a scenario and store it as the next version of NAME."""
    from fabnet.services.store import import_scenario

    try:
        info = import_scenario(_store(ctx), scenario, name, note)
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"stored {scenario} as [bold]{info.scenario}[/bold] version {info.version} "
              f"({info.rows} rows, sha256 {info.content_sha256[:12]}…)")


@db_app.command("export")
def export_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Stored scenario.")],
    to: Annotated[Path, typer.Option("--to", help="Where to write it: .yaml, .xlsx or a "
                                     "folder (CSV).")],
    version: Annotated[int | None, typer.Option(help="Version (default: the newest).")] = None,
) -> None:
    """Write a stored version back to a scenario file, exactly as it was imported."""
    from fabnet.services.store import export_scenario

    try:
        info = export_scenario(_store(ctx), name, to, version)
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"wrote {info.scenario} version {info.version} to {to}")


@db_app.command("list")
def list_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="A scenario, to list its versions.")]
    = None,
) -> None:
    """List the stored scenarios, or the versions of one."""
    from fabnet.services.store import list_scenarios, list_versions

    try:
        store = _store(ctx)
        if name is None:
            rows = [(s.name, str(s.latest), str(s.versions), s.title, _t(s.updated_at),
                     s.updated_by) for s in list_scenarios(store)]
            cols = ("name", "latest", "versions", "title", "updated", "by")
            title = f"Scenarios in {_where(ctx)}"
        else:
            rows = [(str(v.version), v.title, v.content_sha256[:12], _t(v.created_at),
                     v.created_by, v.note) for v in list_versions(store, name)]
            cols = ("version", "title", "sha256", "created", "by", "note")
            title = f"Versions of {name}"
    except FabnetError as e:
        _fail(e)
        return
    if not rows:
        out.print(f"no scenarios in {_where(ctx)} yet (import one with `fabnet db import`)")
        return
    _table(title, cols, rows)


def _t(dt: Any) -> str:
    return str(dt.strftime("%Y-%m-%d %H:%M"))


def _table(title: str, cols: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    t = Table(title=title)
    for c in cols:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*r)
    out.print(t)


@db_app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Stored scenario (or give --branch).")]
    = None,
    version: Annotated[int | None, typer.Option(help="Version (default: the newest).")] = None,
    branch: Annotated[str | None, typer.Option(help="Plan a what-if branch instead.")] = None,
) -> None:
    """Plan a stored version (or branch) and keep the plan, with its KPIs, in the store."""
    from fabnet.services.store import plan_stored

    try:
        if name is None and branch is None:
            raise FabnetError("give a scenario NAME or --branch BRANCH (fix: see --help)")
        with err.status("planning…"):
            run = plan_stored(_store(ctx), name or "", version, branch)
    except FabnetError as e:
        _fail(e)
        return
    what = f"branch {run.branch} of " if run.branch else ""
    rows = [(k, f"{v:,.4g}" if isinstance(v, float) else str(v)) for k, v in run.kpis.items()]
    _table(f"Plan run {run.id}: {what}{run.scenario} version {run.version} ({run.status})",
           ("KPI", "value"), rows)


@db_app.command("runs")
def runs_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only runs of this scenario.")] = None,
) -> None:
    """List stored plan runs, newest first."""
    from fabnet.services.store import list_plan_runs

    try:
        runs = list_plan_runs(_store(ctx), name)
    except FabnetError as e:
        _fail(e)
        return
    _table("Plan runs", ("id", "scenario", "version", "branch", "status", "fill rate",
                         "created", "by"),
           [(str(r.id), r.scenario, str(r.version), r.branch or "", r.status,
             f"{100 * float(r.kpis.get('fill_rate', 0)):.1f} %", _t(r.created_at), r.created_by)
            for r in runs])


# ---------------------------------------------------------------- branches

BranchArg = Annotated[str, typer.Argument(help="Branch name.")]


@branch_app.command("create")
def branch_create_cmd(
    ctx: typer.Context,
    branch: BranchArg,
    scenario: Annotated[str, typer.Argument(help="Stored scenario to branch from.")],
    version: Annotated[int | None, typer.Option(help="Version (default: the newest).")] = None,
    disrupt: Annotated[list[str] | None, typer.Option(
        help="TARGET@DATE+BUCKETS[xFACTOR] to add as a disruption; repeat for several.")]
    = None,
    note: Annotated[str, typer.Option(help="What the what-if is about.")] = "",
) -> None:
    """Start a what-if branch of a stored version."""
    from fabnet.services.store import create_branch

    try:
        b = create_branch(_store(ctx), branch, scenario, version, disrupt or [], note)
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"created branch [bold]{b.name}[/bold] of {b.scenario} version "
              f"{b.base_version} ({len(b.changes)} changes)")


@branch_app.command("disrupt")
def branch_disrupt_cmd(
    ctx: typer.Context,
    branch: BranchArg,
    spec: Annotated[list[str], typer.Argument(help="TARGET@DATE+BUCKETS[xFACTOR], one or "
                                              "more.")],
) -> None:
    """Add disruptions to a branch."""
    from fabnet.services.store import add_disruptions

    try:
        b = add_disruptions(_store(ctx), branch, spec)
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"branch {b.name}: {len(b.changes)} changes")


def parse_row(fields: list[str]) -> dict[str, Any]:
    """A row from `FIELD=VALUE` arguments (values read as YAML scalars) or one JSON object."""
    if len(fields) == 1 and fields[0].lstrip().startswith("{"):
        try:
            row = json.loads(fields[0])
        except json.JSONDecodeError as e:
            raise FabnetError(f"row {fields[0]!r}: not valid JSON ({e}) (fix: quote it, e.g. "
                              "'{\"id\": \"X\", \"qty\": 5}')") from None
        if not isinstance(row, dict):
            raise FabnetError("row: expected a JSON object (fix: {\"field\": value, …})")
        return row
    out_row: dict[str, Any] = {}
    for f in fields:
        name, sep, value = f.partition("=")
        if not sep or not name.strip():
            raise FabnetError(f"row field {f!r}: expected FIELD=VALUE (fix: e.g. capacity=0)")
        try:
            out_row[name.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            out_row[name.strip()] = value
    return out_row


@branch_app.command("set")
def branch_set_cmd(
    ctx: typer.Context,
    branch: BranchArg,
    section: Annotated[str, typer.Argument(help="Section: items, lanes, offers, sites, …")],
    fields: Annotated[list[str], typer.Argument(
        help="FIELD=VALUE … with the row's key fields (e.g. from=A to=B capacity=0), or one "
             "JSON object. Fields left out keep their value.")],
) -> None:
    """Add a row to a branch, or change fields of an existing one."""
    from fabnet.services.store import put_row

    try:
        b = put_row(_store(ctx), branch, section, parse_row(fields))
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"branch {b.name}: {len(b.changes)} changes")


@branch_app.command("delete")
def branch_delete_cmd(
    ctx: typer.Context,
    branch: BranchArg,
    section: Annotated[str, typer.Argument(help="Section: items, lanes, offers, sites, …")],
    key: Annotated[str, typer.Argument(help="The row's key: its id, SUPPLIER/ITEM, A>B, …")],
) -> None:
    """Delete a row in a branch (refused if other rows still refer to it)."""
    from fabnet.services.store import delete_row

    try:
        b = delete_row(_store(ctx), branch, section, key)
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"branch {b.name}: {len(b.changes)} changes")


@branch_app.command("compare")
def branch_compare_cmd(ctx: typer.Context, branch: BranchArg,
                       json_: Annotated[bool, typer.Option("--json", help="Print as JSON.")]
                       = False) -> None:
    """List the rows a branch adds, removes or changes against its parent version."""
    from fabnet.services.store import compare_branch
    from fabnet.store.mapping import record_json

    try:
        c = compare_branch(_store(ctx), branch)
    except FabnetError as e:
        _fail(e)
        return
    b = c.branch
    if json_:
        sys.stdout.write(json.dumps({
            "branch": b.name, "scenario": b.scenario, "base_version": b.base_version,
            "parent_latest": c.parent_latest, "conflicts": c.conflicts,
            "changes": [{"kind": d.kind, "section": d.section, "key": d.key,
                         "before": None if d.before is None else record_json(d.before),
                         "after": None if d.after is None else record_json(d.after)}
                        for d in c.diffs]}, indent=1) + "\n")
        return
    rows = []
    for d in c.diffs:
        what = ", ".join(f"{k}: {v[0]} → {v[1]}" for k, v in d.fields_changed().items())
        rows.append((d.kind, d.section, d.key, what))
    _table(f"Branch {b.name} against {b.scenario} version {b.base_version} ({b.status})",
           ("change", "section", "key", "fields"), rows)
    if c.parent_latest != b.base_version:
        out.print(f"{b.scenario} is now at version {c.parent_latest}; "
                  + (f"[red]a merge would conflict on {', '.join(c.conflicts)}[/red]"
                     if c.conflicts else "the branch merges onto it without conflicts"))


@branch_app.command("merge")
def branch_merge_cmd(ctx: typer.Context, branch: BranchArg,
                     note: Annotated[str, typer.Option(help="Note for the new version.")] = ""
                     ) -> None:
    """Apply a branch's changes to its scenario's newest version, as a new version."""
    from fabnet.services.store import merge_branch

    try:
        info = merge_branch(_store(ctx), branch, note)
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"merged branch {branch} into [bold]{info.scenario}[/bold] version {info.version}")


@branch_app.command("export")
def branch_export_cmd(
    ctx: typer.Context, branch: BranchArg,
    to: Annotated[Path, typer.Option("--to", help="Where to write it: .yaml, .xlsx or a "
                                     "folder (CSV).")],
) -> None:
    """Write the full scenario a branch stands for (base plus changes)."""
    from fabnet.services.store import export_branch

    try:
        export_branch(_store(ctx), branch, to)
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"wrote branch {branch} to {to}")


@branch_app.command("list")
def branch_list_cmd(ctx: typer.Context) -> None:
    """List the branches."""
    from fabnet.services.store import list_branches

    try:
        bs = list_branches(_store(ctx))
    except FabnetError as e:
        _fail(e)
        return
    _table("Branches", ("branch", "scenario", "from version", "changes", "status", "by"),
           [(b.name, b.scenario, str(b.base_version), str(len(b.changes)),
             f"{b.status}" + (f" → v{b.merged_version}" if b.merged_version else ""),
             b.created_by) for b in bs])


# ---------------------------------------------------------------- accounts


@db_app.command("user-add")
def user_add_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="admin, planner, continuity, site_manager, "
                                      "quality, engineering, compliance or auditor.")],
    site: Annotated[list[str] | None, typer.Option(
        help="A site the user may act on; repeat for several (default: all).")] = None,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          envvar="FABNET_NEW_PASSWORD")] = "",
) -> None:
    """Add an account (the password is asked for, or read from FABNET_NEW_PASSWORD)."""
    from fabnet.services.store import add_user
    from fabnet.store import Role

    try:
        try:
            r = Role(role)
        except ValueError:
            raise FabnetError(f"role {role!r} is unknown (fix: use one of "
                              f"{', '.join(x.value for x in Role)})") from None
        u = add_user(_store(ctx), name, password, r, tuple(site or ()))
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"added user {u.name} ({u.role})")


@db_app.command("token-issue")
def token_issue_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User the token acts for.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
) -> None:
    """Issue an API token; it is printed once, the store keeps only its hash."""
    from fabnet.services.store import issue_token

    try:
        token, rec = issue_token(_store(ctx), name, label)
    except FabnetError as e:
        _fail(e)
        return
    err.print(f"token {rec.id} for {rec.user} (shown once, keep it safe):")
    sys.stdout.write(token + "\n")


# ---------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify_cmd(ctx: typer.Context) -> None:
    """Recompute the hash chain; name the first entry that was edited, deleted or moved."""
    from fabnet.services.store import verify_audit

    try:
        report = verify_audit(_store(ctx))
        if not report.ok:
            raise FabnetError(f"audit trail of {_where(ctx)} is broken at entry "
                              f"{report.bad_seq}: {report.problem} (fix: restore the database "
                              f"from a backup; entries 1..{report.entries} are sound)")
    except FabnetError as e:
        _fail(e)
        return
    out.print(f"ok: {report.entries} entries (head {report.head_hash})")


@audit_app.command("log")
def audit_log_cmd(
    ctx: typer.Context,
    since: Annotated[int, typer.Option(help="Show entries after this one.")] = 0,
    limit: Annotated[int, typer.Option(help="How many entries.")] = 50,
) -> None:
    """Show audit entries: when, who, what, which entity."""
    from fabnet.services.store import audit_entries

    try:
        entries = audit_entries(_store(ctx), since, limit)
    except FabnetError as e:
        _fail(e)
        return
    _table("Audit trail", ("#", "at", "who", "action", "entity"),
           [(str(e.seq), e.at[:19].replace("T", " "), e.actor, e.action, e.entity)
            for e in entries])
