"""CRUD of the master-data sections of a stored scenario: one router per section
(`/scenarios/{scenario}/items`, `/scenarios/{scenario}/lanes`, …), made by one factory
so every section behaves the same.

Rows have the columns of the scenario files and are named by their key, as validation
messages name them: the id, `PARENT/ITEM` for BOM lines, `SITE/TYPE` for work centers,
`SUPPLIER/ITEM` for offers, `SITE/ITEM` for inventory, `FROM>TO` for lanes and the
target for recovery. Reads take `version` (default: the newest) or `branch`; an edit
makes the next version of the scenario, or with `?branch=NAME` one more change of that
what-if branch. An edit that breaks a rule of the scenario is refused with 422 naming
section, record and field, and nothing is stored.

Every row read carries an `ETag` (the row's tag, `editing.row_tag`); PUT, PATCH and
DELETE take it back in `If-Match` and answer 412 when the row has changed since, so
two clients that read the same row can't overwrite each other's change. Without
`If-Match` the edit is applied to the row as it is (the last write wins), unless the
server requires the header (`require_if_match`: 428).

(No `from __future__ import annotations` here: the endpoints' annotations are the
generated models, which FastAPI must see as objects, not names.)
"""

import re
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response, status
from pydantic import BaseModel

from fabnet.api import policy
from fabnet.api.deps import AllowEdit, Anyone, Principal, SettingsDep
from fabnet.api.schemas import MAX_INT, NAME, Page
from fabnet.api.section_schemas import SECTION_SCHEMAS, SectionSchemas
from fabnet.services import editing, scoping
from fabnet.services import scenarios as scenario_svc
from fabnet.services.editing import ANY_ROW, EditOp, EditResult, Row, row_key, row_tag

T = TypeVar("T")

ScenarioName = Annotated[str, Path(pattern=NAME, description="the stored scenario")]
RowKey = Annotated[str, Path(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]+$",
                             description="the row's key: ID, PARENT/ITEM, SITE/TYPE, "
                             "SUPPLIER/ITEM, SITE/ITEM, FROM>TO or TARGET")]
VersionQ = Annotated[int | None, Query(ge=1, le=MAX_INT,
                                       description="a version (default: the newest)")]
BranchQ = Annotated[str | None, Query(pattern=NAME, description="a what-if branch of the "
                                      "scenario: read it, or edit it instead of making "
                                      "a new version")]
VERSION_HEADER = "Fabnet-Version"
IfMatchH = Annotated[str | None, Header(
    alias="If-Match", max_length=4000,
    description="the row's ETag as you read it (or `*`: any row there is); a row that "
    "has changed since is a 412 and nothing is stored. Left out: the edit applies to "
    "the row as it is now (the last write wins), unless the server requires it (428)")]
_TAG = re.compile(r'^(W/)?"[\x21\x23-\x7e]*"$')


class Edited(BaseModel, Generic[T]):
    """What an edit did: the version it made (or the branch it changed) and the row."""

    scenario: str
    version: int
    branch: str | None
    section: str
    key: str
    changed: bool
    row: T | None


def matches(value: Any, wanted: str) -> bool:
    """Does a column's value match a filter's text? Numbers compare as numbers, lists
    match when one element does, `null` matches an empty value."""
    if isinstance(value, list):
        return any(matches(v, wanted) for v in value)
    if value is None or value == "":
        return wanted in ("", "null")
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    if isinstance(value, int | float):
        try:
            return float(wanted) == float(value)
        except ValueError:
            return False
    return str(value) == wanted


def _edited(who: Principal, r: EditResult, response: Response) -> dict[str, Any]:
    """The edit's answer; its headers say the version it applied to (`Fabnet-Version`)
    and the row's new tag (`ETag`, for the next `If-Match`)."""
    row = None if r.row is None else who.redact(r.section, r.row)
    response.headers[VERSION_HEADER] = str(r.version)
    if row is not None:
        response.headers["ETag"] = row_tag(row)
    return {"scenario": r.scenario, "version": r.version, "branch": r.branch,
            "section": r.section, "key": r.key, "changed": r.changed, "row": row}


def if_match(header: str | None, required: bool) -> frozenset[str] | None:
    """The tags of an `If-Match` header (RFC 9110: `*` or a list of quoted tags, compared
    strongly, so a weak `W/"…"` tag never matches); None when it is left out (428 when the
    server requires it); 422 for one that does not parse."""
    if header is None or not header.strip():
        if required:
            raise HTTPException(status.HTTP_428_PRECONDITION_REQUIRED,
                                "this server takes edits only with If-Match (fix: read the "
                                "row, and send its ETag back in If-Match)")
        return None
    if header.strip() == "*":
        return frozenset({ANY_ROW})
    tags = [t.strip() for t in header.split(",") if t.strip()]
    bad = [t for t in tags if not _TAG.match(t)]
    if bad:
        raise HTTPException(422, f"If-Match: {bad[0][:80]!r} is not an entity tag (fix: send "
                            'the ETag exactly as it came, quotes included, e.g. "3f2a…", '
                            "or *)")
    return frozenset(t for t in tags if not t.startswith("W/"))


def _edit(who: Principal, scenario: str, *args: Any) -> EditResult:
    """`editing.edit_row` for `who`: a 412 that quotes a version's note quotes it as they
    may read it (restricted column names and other sites' ids out), as the version list
    shows it to them."""
    try:
        return editing.edit_row(who.store, scenario, *args)
    except editing.StaleEdit as e:
        viewer = policy.viewer(who.sites, who.cleared)
        if viewer.whole or not e.version:
            raise
        source = scoping.Source.of(scenario_svc.load_stored(who.store, scenario, e.version))
        text = str(e)
        if e.note:
            text = text.replace(f"({e.note})",
                                f"({scoping.redact_note(e.note, viewer, source)})")
        raise editing.StaleEdit(scoping.redact_text(text, viewer, source)) from None


def _guard(who: Principal, section: str) -> editing.Guard:
    """Inside the edit's transaction: a site manager may touch only their sites' rows."""
    def check(before: Row | None, after: Row | None) -> None:
        for row in (before, after):
            if row is not None:
                who.check_site(section, row)
    return check


def section_router(section: str) -> APIRouter:
    """The router of one section: list, read, create, replace, patch and delete rows."""
    m: SectionSchemas = SECTION_SCHEMAS[section]
    create_model: Any = m.create
    patch_model: Any = m.patch
    public_model: Any = m.public
    query_model: Any = m.query
    Editor: Any = Annotated[Principal, Depends(AllowEdit(section))]  # noqa: N806 - an alias
    hidden = policy.RESTRICTED_FIELDS.get(section, frozenset())
    scoped = f" A site manager works only on the rows of their sites (by `" \
        f"{policy.SITE_FIELD[section]}`)." if section in policy.SITE_FIELD else ""
    restricted = f" Restricted, shown only to {policy.roles_text(policy.CLEARED)}: " \
        f"{', '.join(sorted(hidden))}." if hidden else ""
    router = APIRouter(prefix=f"/scenarios/{{scenario}}/{section}", tags=[section])
    fields = {f.alias or name: name for name, f in m.row.model_fields.items()}

    @router.get("", response_model=Page[public_model], response_model_exclude_unset=True,
                summary=f"List {section}",
                description=f"Rows of {section}, a page at a time (`limit`, `offset`; `count` "
                f"is how many match), filtered by any column (`?column=value`, exact; "
                f"numbers compare as numbers).{scoped}{restricted}")
    def list_rows(scenario: ScenarioName, q: Annotated[query_model, Query()], who: Anyone,
                  response: Response) -> Any:
        if q.version is not None and q.branch is not None:
            raise HTTPException(422, "give version or branch, not both")
        wanted = {col: v for col, name in fields.items()
                  if (v := getattr(q, name)) is not None}
        if hidden & wanted.keys() and not who.cleared:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"{section}: filtering on restricted fields "
                                f"({', '.join(sorted(hidden & wanted.keys()))}) is for "
                                f"{policy.roles_text(policy.CLEARED)}")
        view = editing.read_scenario(who.store, scenario, q.version, q.branch)
        rows = [r for r in view.rows(section) if who.may_see(section, r)
                and all(matches(r.get(c), v) for c, v in wanted.items())]
        response.headers[VERSION_HEADER] = str(view.version)
        page = rows[q.offset:q.offset + q.limit]
        return {"data": [who.redact(section, r) for r in page], "count": len(rows)}

    @router.get("/{key:path}", response_model=public_model, response_model_exclude_unset=True,
                summary=f"Read one row of {section}",
                description=f"One row of {section} by its key.{scoped}{restricted}")
    def get_row(scenario: ScenarioName, key: RowKey, who: Anyone, response: Response,
                version: VersionQ = None, branch: BranchQ = None) -> Any:
        if version is not None and branch is not None:
            raise HTTPException(422, "give version or branch, not both")
        view = editing.read_scenario(who.store, scenario, version, branch)
        row = next((r for r in view.rows(section) if row_key(section, r) == key), None)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"{section}[{key}]: no such row in {scenario} version "
                                f"{view.version}{f' branch {branch}' if branch else ''} "
                                "(fix: check the key; list the rows to see them)")
        who.check_site(section, row)
        shown = who.redact(section, row)
        response.headers[VERSION_HEADER] = str(view.version)
        response.headers["ETag"] = row_tag(shown)
        return shown

    edit_doc = (" The edit makes the next version of the scenario (or, with `branch`, one "
                "more change of that branch) after checking the whole scenario; a broken "
                "rule is a 422 naming section, record and field." + scoped)
    cas_doc = (" Send the row's `ETag` in `If-Match`: if the row has changed since you read "
               "it, the answer is 412 and nothing is stored (read it again and redo the "
               "change). The answer's `ETag` is the row's new tag.")

    @router.post("", response_model=Edited[public_model], response_model_exclude_unset=True,
                 status_code=status.HTTP_201_CREATED, summary=f"Add a row to {section}",
                 description=f"Add a row with a new key to {section}.{edit_doc}")
    def create_row(scenario: ScenarioName, body: create_model, who: Editor,
                   response: Response, branch: BranchQ = None) -> Any:
        row = body.model_dump(by_alias=True)
        return _edited(who, _edit(who, scenario, section, EditOp.CREATE, None, row, branch,
                                  _guard(who, section)), response)

    @router.put("/{key:path}", response_model=Edited[public_model],
                response_model_exclude_unset=True, summary=f"Replace a row of {section}",
                description=f"Replace the row with this key by the row given (its key "
                f"fields must name the same row).{edit_doc}{cas_doc}")
    def replace_row(scenario: ScenarioName, key: RowKey, body: create_model, who: Editor,
                    settings: SettingsDep, response: Response, branch: BranchQ = None,
                    tags: IfMatchH = None) -> Any:
        row = body.model_dump(by_alias=True)
        expected = if_match(tags, settings.require_if_match)
        return _edited(who, _edit(who, scenario, section, EditOp.REPLACE, key, row, branch,
                                  _guard(who, section), expected), response)

    @router.patch("/{key:path}", response_model=Edited[public_model],
                  response_model_exclude_unset=True, summary=f"Change fields of a {section} row",
                  description=f"Change only the fields given; the others keep their "
                  f"values.{edit_doc}{cas_doc}")
    def patch_row(scenario: ScenarioName, key: RowKey, body: patch_model, who: Editor,
                  settings: SettingsDep, response: Response, branch: BranchQ = None,
                  tags: IfMatchH = None) -> Any:
        row = body.model_dump(by_alias=True, exclude_unset=True)
        expected = if_match(tags, settings.require_if_match)
        return _edited(who, _edit(who, scenario, section, EditOp.PATCH, key, row, branch,
                                  _guard(who, section), expected), response)

    @router.delete("/{key:path}", response_model=Edited[public_model],
                   response_model_exclude_unset=True, summary=f"Delete a row of {section}",
                   description=f"Delete the row with this key (refused while other rows "
                   f"refer to it).{edit_doc}{cas_doc}")
    def delete_row(scenario: ScenarioName, key: RowKey, who: Editor, settings: SettingsDep,
                   response: Response, branch: BranchQ = None, tags: IfMatchH = None) -> Any:
        expected = if_match(tags, settings.require_if_match)
        return _edited(who, _edit(who, scenario, section, EditOp.DELETE, key, None, branch,
                                  _guard(who, section), expected), response)

    return router


def section_routers() -> list[APIRouter]:
    """A router for every section of the scenario contract."""
    return [section_router(s) for s in SECTION_SCHEMAS]
