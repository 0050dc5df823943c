"""`fabnet db …`: the shared store on the command line.

The store is a SQLite file (`fabnet.sqlite` in the working directory) unless
`--url` or `FABNET_DATABASE_URL` names another, e.g. `postgresql://user@host/db`.
Changes are signed with `--as` or `FABNET_USER` (default: the login name). Both options
are taken on the group (`fabnet db --url X list`) or on the command (`fabnet db list
--url X`); the command's wins.
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
from rich.table import Table

from fabnet.cli.console import err_console, out_console
from fabnet.cli.outputs import ForceOpt
from fabnet.model.errors import FabnetError

if TYPE_CHECKING:
    from fabnet.services.editing import EditResult
    from fabnet.store import Store

db_app = typer.Typer(no_args_is_help=True, help="The shared store: import and export scenarios, "
                     "versions, what-if branches, stored plans.")
branch_app = typer.Typer(no_args_is_help=True, help="What-if branches of a stored scenario: "
                         "they keep only their changes, and merge back as a new version.")
db_app.add_typer(branch_app, name="branch")


@dataclass(frozen=True)
class StoreSettings:
    """Which store a command talks to, and who signs its changes."""

    url: str
    actor: str


_URL_HELP = "Database URL (default sqlite:///fabnet.sqlite in the working directory)."
_AS_HELP = "Who signs the changes in the audit trail (default: your login name)."

#: on a group: also read from the environment
UrlOpt = Annotated[str | None, typer.Option(
    "--url", envvar="FABNET_DATABASE_URL", show_envvar=True, help=_URL_HELP)]
ActorOpt = Annotated[str | None, typer.Option(
    "--as", envvar="FABNET_USER", show_envvar=True, help=_AS_HELP)]
#: on a command: only when typed there, so that it overrides the group's and the environment's
UrlHere = Annotated[str | None, typer.Option("--url", help=_URL_HELP)]
ActorHere = Annotated[str | None, typer.Option("--as", help=_AS_HELP)]


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"


def settings_callback(ctx: typer.Context, url: str | None, actor: str | None) -> None:
    """Keep the group's options (or the environment's); commands resolve them when run."""
    ctx.obj = (url, actor)


@db_app.callback()
def db_main(ctx: typer.Context, url: UrlOpt = None, actor: ActorOpt = None) -> None:
    """The shared store (SQLite by default, PostgreSQL by URL)."""
    settings_callback(ctx, url, actor)


def settings(ctx: typer.Context, url: str | None, actor: str | None) -> StoreSettings:
    """The command's own --url / --as, else the group's or the environment's, else defaults."""
    from fabnet.store.engine import database_url, normalize_url

    group_url, group_actor = ctx.obj if isinstance(ctx.obj, tuple) else (None, None)
    url = url or group_url
    return StoreSettings(normalize_url(url) if url else database_url(),
                         actor or group_actor or _login())


def open_store(ctx: typer.Context, url: str | None = None, actor: str | None = None) -> Store:
    """The store a command works on."""
    from fabnet.services.database import connect

    s = settings(ctx, url, actor)
    return connect(s.url, s.actor)


def where(ctx: typer.Context, url: str | None = None) -> str:
    """The store's URL without its password, for messages."""
    from fabnet.store.engine import display_url

    return display_url(settings(ctx, url, None).url)


# ---------------------------------------------------------------- schema


@db_app.command("init")
def init_cmd(ctx: typer.Context, url: UrlHere = None, actor: ActorHere = None) -> None:
    """Create the store's tables in an empty database (a new SQLite file by default)."""
    from fabnet.services.database import init_store

    before, after = init_store(settings(ctx, url, actor).url)
    if before == after:
        out_console.print(f"the store at {where(ctx, url)} is already initialised (schema {after})")
    else:
        out_console.print(f"created the store at {where(ctx, url)} (schema {after})")


@db_app.command("upgrade")
def upgrade_cmd(ctx: typer.Context, url: UrlHere = None, actor: ActorHere = None) -> None:
    """Migrate the store's tables to this fabnet's schema (creating them if needed)."""
    from fabnet.services.database import upgrade_store

    before, after = upgrade_store(settings(ctx, url, actor).url)
    if before == after:
        out_console.print(f"the store at {where(ctx, url)} is up to date (schema {after})")
    else:
        out_console.print(f"upgraded the store at {where(ctx, url)} from schema {before or 'none'} "
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
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Check a scenario and store it as the next version of NAME."""
    from fabnet.services.scenarios import import_scenario

    info = import_scenario(open_store(ctx, url, actor), scenario, name, note)
    out_console.print(f"stored {scenario} as [bold]{info.scenario}[/bold] version {info.version} "
              f"({info.rows} rows, sha256 {info.content_sha256[:12]}…)")


@db_app.command("export")
def export_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Stored scenario.")],
    to: Annotated[Path, typer.Option("--to", help="Where to write it: .yaml, .xlsx or a "
                                     "folder (CSV).")],
    version: Annotated[int | None, typer.Option(min=1, help="Version (default: newest).")] = None,
    force: ForceOpt = False,
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Write a stored version back to a scenario file, exactly as it was imported."""
    from fabnet.services.scenarios import export_scenario

    info = export_scenario(open_store(ctx, url, actor), name, to, version, force=force)
    out_console.print(f"wrote {info.scenario} version {info.version} to {to}")


@db_app.command("list")
def list_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="A scenario, to list its versions.")]
    = None,
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """List the stored scenarios, or the versions of one."""
    from fabnet.services.scenarios import list_scenarios, list_versions

    store = open_store(ctx, url, actor)
    if name is None:
        rows = [(s.name, str(s.latest), str(s.versions), s.title, _t(s.updated_at),
                 s.updated_by) for s in list_scenarios(store)]
        cols = ("name", "latest", "versions", "title", "updated", "by")
        title = f"Scenarios in {where(ctx, url)}"
    else:
        rows = [(str(v.version), v.title, v.content_sha256[:12], _t(v.created_at),
                 v.created_by, v.note) for v in list_versions(store, name)]
        cols = ("version", "title", "sha256", "created", "by", "note")
        title = f"Versions of {name}"
    if not rows:
        out_console.print(f"no scenarios in {where(ctx, url)} yet (import one with "
                          "`fabnet db import`)")
        return
    print_table(title, cols, rows)


def _t(dt: Any) -> str:
    return str(dt.strftime("%Y-%m-%d %H:%M"))


def print_table(title: str, cols: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    t = Table(title=title)
    for c in cols:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*r)
    out_console.print(t)


@db_app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Stored scenario (or give --branch).")]
    = None,
    version: Annotated[int | None, typer.Option(min=1, help="Version (default: newest).")] = None,
    branch: Annotated[str | None, typer.Option(help="Plan a what-if branch instead.")] = None,
    actual_rates: Annotated[bool, typer.Option(
        "--actual-rates", help="Routing hours as the floor recorded them (db actuals).")]
    = False,
    whole_units: Annotated[bool, typer.Option(
        "--whole-units", help="Plan in whole units with order sizes (moq, multiple, "
        "batch): a MIP, no reference level.")] = False,
    mip_time_limit: Annotated[float | None, typer.Option(
        "--mip-time-limit", metavar="SECONDS", help="Time limit of the whole-unit MIP, "
        "all levels together (default 60).")] = None,
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Plan a stored version (or branch) and keep the plan, with its KPIs, in the store."""
    from fabnet.services.plan_runs import plan_stored

    if name is None and branch is None:
        raise FabnetError("give a scenario NAME or --branch BRANCH (fix: see --help)")
    with err_console.status("planning…"):
        run = plan_stored(open_store(ctx, url, actor), name or "", version, branch,
                          actual_rates=actual_rates, whole_units=whole_units,
                          mip_time_limit=mip_time_limit)
    what = f"branch {run.branch} of " if run.branch else ""
    rows = [(k, f"{v:,.4g}" if isinstance(v, float) else str(v)) for k, v in run.kpis.items()]
    print_table(f"Plan run {run.id}: {what}{run.scenario} version {run.version} ({run.status})",
           ("KPI", "value"), rows)
    for note in run.document.get("notes", []):  # firm supply moved or left out
        err_console.print(f"note: {note}", markup=False, highlight=False)


@db_app.command("actuals")
def actuals_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Stored scenario whose floor recorded times.")],
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Actual hours per unit from recorded operation times against the routing's hours,
    per site, item and work center, so a planner can correct the routing."""
    from fabnet.services.actuals import actual_rates

    rows = [(r.site, r.item, r.work_center, f"{r.units:g}", f"{r.actual_hours:.4g}",
             f"{r.routing_hours:.4g}", "-" if r.ratio is None else f"{r.ratio:.0%}")
            for r in actual_rates(open_store(ctx, url, actor), name)]
    print_table(f"Actual vs routing hours per unit: {name}",
                ("site", "item", "work center", "units", "actual h", "routing h",
                 "actual/routing"), rows)


@db_app.command("runs")
def runs_cmd(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="Only runs of this scenario.")] = None,
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """List stored plan runs, newest first."""
    from fabnet.plan.summary import format_kpi
    from fabnet.services.plan_runs import list_plan_runs

    runs = list_plan_runs(open_store(ctx, url, actor), name)
    print_table("Plan runs", ("id", "scenario", "version", "branch", "status", "fill rate",
                         "created", "by"),
           [(str(r.id), r.scenario, str(r.version), r.branch or "", r.status,
             (format_kpi("fill_rate", r.kpis["fill_rate"]) if "fill_rate" in r.kpis
              else str(r.kpis.get("note", "n/a"))), _t(r.created_at), r.created_by)
            for r in runs])


# ---------------------------------------------------------------- branches

BranchArg = Annotated[str, typer.Argument(help="Branch name.")]


@branch_app.command("create")
def branch_create_cmd(
    ctx: typer.Context,
    branch: BranchArg,
    scenario: Annotated[str, typer.Argument(help="Stored scenario to branch from.")],
    version: Annotated[int | None, typer.Option(min=1, help="Version (default: newest).")] = None,
    disrupt: Annotated[list[str] | None, typer.Option(
        help="TARGET@DATE+BUCKETS[xFACTOR] to add as a disruption; repeat for several.")]
    = None,
    note: Annotated[str, typer.Option(help="What the what-if is about.")] = "",
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Start a what-if branch of a stored version."""
    from fabnet.services.branches import create_branch

    b = create_branch(open_store(ctx, url, actor), branch, scenario, version, disrupt or [], note)
    out_console.print(f"created branch [bold]{b.name}[/bold] of {b.scenario} version "
              f"{b.base_version} ({len(b.changes)} changes)")


@branch_app.command("disrupt")
def branch_disrupt_cmd(
    ctx: typer.Context,
    branch: BranchArg,
    spec: Annotated[list[str], typer.Argument(help="TARGET@DATE+BUCKETS[xFACTOR], one or "
                                              "more.")],
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Add disruptions to a branch."""
    from fabnet.services.branches import add_disruptions

    b = add_disruptions(open_store(ctx, url, actor), branch, spec)
    out_console.print(f"branch {b.name}: {len(b.changes)} changes")


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
        except (yaml.YAMLError, ValueError):  # ValueError: a date like 2027-02-30
            out_row[name.strip()] = value  # left as text, for the section's check to name
    return out_row


IfMatchOpt = Annotated[str | None, typer.Option(
    "--if-match", help="Change the row only if it still has this tag (as an earlier command "
    "or the API's ETag gave it); refused in one line if someone changed it since.")]


def _edited_line(r: EditResult) -> str:
    """What a branch edit did, on one line: the row, the fields changed, the row's tag."""
    what = f"{r.section}[{r.key}]"
    if not r.changed:
        done = f"{what} already so, nothing changed"
    elif r.row is None:
        done = f"deleted {what}"
    elif r.before is None:
        done = f"added {what}"
    else:
        fields = [c for c in r.row if r.before.get(c) != r.row[c]]
        done = f"{what} changed ({', '.join(fields)})"
    tag = f"; row tag {r.tag}" if r.tag else ""
    return f"branch {r.branch}: {done}, {r.revision} changes{tag}"


def _expected(seen: dict[str, Any] | None, if_match: str | None) -> list[str] | None:
    """The tag an edit must still find: the one given, else that of the row as read."""
    from fabnet.services.editing import row_tag

    if if_match is not None:  # the quotes may be left out: 5f0c… means "5f0c…"
        tag = if_match.strip()
        return [tag if tag.startswith('"') or tag == "*" else f'"{tag}"']
    return None if seen is None else [row_tag(seen)]


@branch_app.command("set")
def branch_set_cmd(
    ctx: typer.Context,
    branch: BranchArg,
    section: Annotated[str, typer.Argument(help="Section: items, lanes, offers, sites, …")],
    fields: Annotated[list[str], typer.Argument(
        help="FIELD=VALUE … with the row's key fields (e.g. from=A to=B capacity=0), or one "
             "JSON object. Fields left out keep their value.")],
    if_match: IfMatchOpt = None,
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Add a row to a branch, or change fields of an existing one. The row is read first;
    if someone changes it (or adds it) before this edit is stored, the edit is refused."""
    from fabnet.services import editing
    from fabnet.services.editing import row_key

    store = open_store(ctx, url, actor)
    row = parse_row(fields)
    key = row_key(editing.check_section(section), row)
    read = editing.read_scenario(store, None, branch=branch)
    seen = read.row(section, key)
    if seen is None and if_match is None:  # new: refused (409) if someone adds it first
        r = editing.edit_row(store, None, section, editing.EditOp.CREATE, row=row,
                             branch=branch)
    else:
        r = editing.edit_row(store, None, section, editing.EditOp.PATCH, key, row, branch,
                             if_match=_expected(seen, if_match))
    out_console.print(_edited_line(r), highlight=False)


@branch_app.command("delete")
def branch_delete_cmd(
    ctx: typer.Context,
    branch: BranchArg,
    section: Annotated[str, typer.Argument(help="Section: items, lanes, offers, sites, …")],
    key: Annotated[str, typer.Argument(help="The row's key: its id, SUPPLIER/ITEM, A>B, …")],
    if_match: IfMatchOpt = None,
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Delete a row in a branch (refused if other rows still refer to it, or if someone
    changed the row after this command read it)."""
    from fabnet.services import editing

    store = open_store(ctx, url, actor)
    read = editing.read_scenario(store, None, branch=branch)
    seen = read.row(editing.check_section(section), key)
    r = editing.edit_row(store, None, section, editing.EditOp.DELETE, key, None, branch,
                         if_match=_expected(seen, if_match))
    out_console.print(_edited_line(r), highlight=False)


@branch_app.command("compare")
def branch_compare_cmd(ctx: typer.Context, branch: BranchArg,
                       json_: Annotated[bool, typer.Option("--json", help="Print as JSON.")]
                       = False, url: UrlHere = None, actor: ActorHere = None) -> None:
    """List the rows a branch adds, removes or changes against its parent version."""
    from fabnet.services.branches import compare_branch
    from fabnet.store.mapping import record_json

    c = compare_branch(open_store(ctx, url, actor), branch)
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
    print_table(f"Branch {b.name} against {b.scenario} version {b.base_version} ({b.status})",
           ("change", "section", "key", "fields"), rows)
    if c.parent_latest != b.base_version:
        out_console.print(f"{b.scenario} is now at version {c.parent_latest}; "
                          + (f"[red]a merge would conflict on {', '.join(c.conflicts)}[/red]"
                             if c.conflicts else "the branch merges onto it without conflicts"))


@branch_app.command("merge")
def branch_merge_cmd(ctx: typer.Context, branch: BranchArg,
                     note: Annotated[str, typer.Option(help="Note for the new version.")]
                     = "", url: UrlHere = None, actor: ActorHere = None) -> None:
    """Apply a branch's changes to its scenario's newest version, as a new version."""
    from fabnet.services.branches import merge_branch

    info = merge_branch(open_store(ctx, url, actor), branch, note)
    out_console.print(f"merged branch {branch} into [bold]{info.scenario}[/bold] "
                      f"version {info.version}")


@branch_app.command("export")
def branch_export_cmd(
    ctx: typer.Context, branch: BranchArg,
    to: Annotated[Path, typer.Option("--to", help="Where to write it: .yaml, .xlsx or a "
                                     "folder (CSV).")],
    force: ForceOpt = False,
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Write the full scenario a branch stands for (base plus changes)."""
    from fabnet.services.branches import export_branch

    export_branch(open_store(ctx, url, actor), branch, to, force=force)
    out_console.print(f"wrote branch {branch} to {to}")


@branch_app.command("list")
def branch_list_cmd(ctx: typer.Context, url: UrlHere = None,
                    actor: ActorHere = None) -> None:
    """List the branches."""
    from fabnet.services.branches import list_branches

    bs = list_branches(open_store(ctx, url, actor))
    print_table("Branches", ("branch", "scenario", "from version", "changes", "status", "by"),
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
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Add an account (the password is asked for, or read from FABNET_NEW_PASSWORD)."""
    from fabnet.services.accounts import create_user
    from fabnet.store import Role

    try:
        r = Role(role)
    except ValueError:
        raise FabnetError(f"role {role!r} is unknown (fix: use one of "
                          f"{', '.join(x.value for x in Role)})") from None
    u = create_user(open_store(ctx, url, actor), name, password, r, tuple(site or ()))
    out_console.print(f"added user {u.name} ({u.role})")


@db_app.command("token-issue")
def token_issue_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User the token acts for.")],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "",
    url: UrlHere = None,
    actor: ActorHere = None,
) -> None:
    """Issue an API token; it is printed once, the store keeps only its hash."""
    from fabnet.services.accounts import issue_token

    token, rec = issue_token(open_store(ctx, url, actor), name, label)
    err_console.print(f"token {rec.id} for {rec.user} (shown once, keep it safe):")
    sys.stdout.write(token + "\n")
