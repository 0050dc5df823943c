"""Stored scenarios: list them and their versions, import a whole scenario as the next
version, and read a version (or a branch) back whole.

`POST /scenarios` takes the scenario in three forms: the JSON document that
`GET /scenarios/{scenario}/document` returns (posted back as it is), a YAML file as
`fabnet validate` reads it (`Content-Type: application/yaml`), or an XLSX workbook. A
file is read by the same readers as on the command line, limits and zip checks
included, and its problems are the same lines.
"""

from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import Field, create_model

from fabnet.api import policy
from fabnet.api.deps import Anyone, Importer, Principal
from fabnet.api.schemas import MAX_INT, NAME, Name, Page, ScenarioPublic, VersionPublic
from fabnet.api.section_schemas import SECTION_SCHEMAS, ScenarioCreate, ScenarioDocument
from fabnet.io.scenario_io import ScenarioFormat
from fabnet.services import editing, scoping
from fabnet.services import scenarios as scenario_svc
from fabnet.store import VersionInfo

router = APIRouter(prefix="/scenarios", tags=["scenarios"])
ScenarioName = Annotated[str, Path(pattern=NAME)]
Document: Any = ScenarioDocument

#: what the `scenario`, `version` and `branch` of a posted document mean
_READ_FROM = "where the document was read (`GET /scenarios/{scenario}/document`)"
Create: Any = create_model(
    "ScenarioImport", __base__=ScenarioCreate,
    __doc__="A whole scenario: title, horizon and the rows of each section, with the "
    "columns of the scenario files; the document `GET /scenarios/{scenario}/document` "
    "returns is one, as it is.",
    name=(Name | None, Field(None, description="store it as the next version of this "
                             "scenario (default: `scenario`)")),
    scenario=(Name | None, Field(None, description=f"{_READ_FROM}: the scenario, and the "
                                 "name it is stored under unless `name` or `?name=` says "
                                 "otherwise")),
    version=(Annotated[int, Field(ge=1, le=MAX_INT)] | None,
             Field(None, description=f"{_READ_FROM}: not checked")),
    branch=(Annotated[str, Field(pattern=NAME)] | None,
            Field(None, description=f"{_READ_FROM}: not checked; its rows are stored as "
                  "the next version of the scenario")))

YAML_TYPES = frozenset({"application/yaml", "application/x-yaml", "text/yaml",
                        "text/x-yaml"})
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPE = "application/json"
QueryName = Annotated[str | None, Query(
    pattern=NAME, description="store it as the next version of this scenario (default: "
    "the document's `name` or `scenario`; for a file, its title as a slug, as `fabnet db "
    "import` names it)")]
QueryNote = Annotated[str | None, Query(max_length=2000, description="the version's note")]


def _media_type(request: Request) -> str:
    """The request's media type without parameters ("" when none is given)."""
    header = Message()
    header["content-type"] = request.headers.get("content-type", "")
    return header.get_content_type() if request.headers.get("content-type") else ""


def _file_format(media_type: str) -> ScenarioFormat | None:
    """The scenario file a media type carries (None: JSON, or no file)."""
    if media_type in YAML_TYPES:
        return ScenarioFormat.YAML
    return ScenarioFormat.XLSX if media_type == XLSX_TYPE else None


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class ImportRoute(APIRoute):
    """`POST /scenarios`: JSON goes through FastAPI's body validation as any other
    request; a YAML document or an XLSX workbook goes to `import_file` (same sign-in,
    same answer); any other media type is a 415 naming the ones taken."""

    def get_route_handler(self) -> Handler:
        as_json = super().get_route_handler()
        as_file = APIRoute(self.path, import_file, methods=["POST"],
                           response_model=VersionPublic,
                           status_code=status.HTTP_201_CREATED).get_route_handler()

        async def handler(request: Request) -> Response:
            media = _media_type(request)
            if _file_format(media) is not None:
                return await as_file(request)
            if media and media != JSON_TYPE and not media.endswith("+json"):
                return JSONResponse({"detail": f"can't import {media!r} (fix: send JSON, "
                                     f"YAML as application/yaml, or a workbook as "
                                     f"{XLSX_TYPE})"}, status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
            return await as_json(request)
        return handler


def _version(who: Principal, v: VersionInfo) -> VersionPublic:
    """A version as `who` may see it: the hash of their view and a redacted note unless
    they see the whole version."""
    return VersionPublic.of(v, scoping.version_view(who.store, policy.viewer(
        who.sites, who.cleared), v))


@router.get("", response_model=Page[ScenarioPublic])
def list_scenarios(who: Anyone, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0)] = 0,
                   name: Annotated[str | None, Query(max_length=100)] = None,
                   updated_by: Annotated[str | None, Query(max_length=100)] = None
                   ) -> Page[ScenarioPublic]:
    """Stored scenarios with their newest version, by name (filters: `name`, `updated_by`)."""
    found = [s for s in scenario_svc.list_scenarios(who.store)
             if (name is None or s.name == name)
             and (updated_by is None or s.updated_by == updated_by)]
    return Page(data=[ScenarioPublic.of(s) for s in found[offset:offset + limit]],
                count=len(found))


def import_scenario(body: Create, who: Importer, name: QueryName = None,
                    note: QueryNote = None) -> VersionPublic:
    """Store a whole scenario as the next version, after checking every row and every
    cross-record rule. The body is the JSON document (`GET /scenarios/{scenario}/document`
    returns one: post it back as it is), a YAML file (`Content-Type: application/yaml`)
    or an XLSX workbook, as `fabnet db import` reads them. The name is `?name=`, else the
    document's `name` or `scenario`, else (a file) its title as a slug."""
    target = name or body.name or body.scenario
    if target is None:
        raise HTTPException(422, "name the scenario (fix: add ?name=NAME, or \"name\" to "
                            "the document)")
    h = body.horizon
    tables: dict[str, list[dict[str, Any]]] = {
        "scenario": [{"scenario": body.title, "start": h.start, "bucket": h.bucket.value,
                      "buckets": h.buckets}]}
    for section in SECTION_SCHEMAS:
        tables[section] = [r.model_dump(by_alias=True) for r in getattr(body, section)]
    return VersionPublic.of(editing.import_tables(who.store, target, tables,
                                                  note if note is not None else body.note))


async def _body(request: Request) -> bytes:
    """The request body (the body limit has been checked by the middleware)."""
    return await request.body()


def import_file(request: Request, who: Importer, data: Annotated[bytes, Depends(_body)],
                name: QueryName = None, note: QueryNote = None) -> VersionPublic:
    """A YAML document or an XLSX workbook, read as `fabnet db import` reads the file."""
    fmt = _file_format(_media_type(request))
    assert fmt is not None  # ImportRoute sends only files here
    return VersionPublic.of(scenario_svc.import_scenario_bytes(who.store, data, fmt, name,
                                                            note or ""))


router.add_api_route(
    "", import_scenario, methods=["POST"], response_model=VersionPublic,
    status_code=status.HTTP_201_CREATED, route_class_override=ImportRoute,
    openapi_extra={"requestBody": {"content": {
        "application/yaml": {"schema": {"type": "string", "description": "a scenario "
                                        "file as `fabnet validate` reads it"}},
        XLSX_TYPE: {"schema": {"type": "string", "format": "binary",
                               "description": "a scenario workbook"}}}}})


@router.get("/{scenario}", response_model=ScenarioPublic)
def get_scenario(scenario: ScenarioName, who: Anyone) -> ScenarioPublic:
    """One stored scenario and its newest version."""
    found = [s for s in scenario_svc.list_scenarios(who.store) if s.name == scenario]
    if not found:
        scenario_svc.list_versions(who.store, scenario)  # raises NotFound with the names
    return ScenarioPublic.of(found[0])


@router.get("/{scenario}/versions", response_model=Page[VersionPublic])
def list_versions(scenario: ScenarioName, who: Anyone,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                  offset: Annotated[int, Query(ge=0)] = 0,
                  created_by: Annotated[str | None, Query(max_length=100)] = None
                  ) -> Page[VersionPublic]:
    """Every version of a scenario, oldest first (filter: `created_by`). Roles that may
    not see a whole version get the hash of what they may see (`hash_of: "your view"`)
    and notes without restricted field names or other sites' ids."""
    found = [v for v in scenario_svc.list_versions(who.store, scenario)
             if created_by is None or v.created_by == created_by]
    return Page(data=[_version(who, v) for v in found[offset:offset + limit]],
                count=len(found))


@router.get("/{scenario}/versions/{version}", response_model=VersionPublic)
def get_version(scenario: ScenarioName, version: Annotated[int, Path(ge=1, le=MAX_INT)],
                who: Anyone) -> VersionPublic:
    """One version of a scenario (its hash and note as for the list)."""
    found = [v for v in scenario_svc.list_versions(who.store, scenario) if v.version == version]
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"scenario {scenario!r} has no version {version} (fix: list "
                            f"its versions at /scenarios/{scenario}/versions)")
    return _version(who, found[0])


@router.get("/{scenario}/document", response_model=Document,
            response_model_exclude_unset=True)
def get_document(scenario: ScenarioName, who: Anyone, response: Response,
                 version: Annotated[int | None, Query(ge=1, le=MAX_INT)] = None,
                 branch: Annotated[str | None, Query(pattern=NAME)] = None) -> Any:
    """A whole version (default: the newest) or branch, as rows per section: the body
    `POST /scenarios` takes, so a scenario round-trips. Restricted fields are left out
    for roles not cleared for them; a site manager gets only their sites' rows of the
    site-scoped sections. The `ETag` is the tag of this document as sent, and
    `Fabnet-Version` the version it was read at."""
    if version is not None and branch is not None:
        raise HTTPException(422, "give version or branch, not both")
    view = editing.read_scenario(who.store, scenario, version, branch)
    head = view.tables["scenario"][0]
    doc: dict[str, Any] = {
        "scenario": scenario, "version": view.version, "branch": branch,
        "title": head["scenario"],
        "horizon": {"start": head["start"].isoformat(), "bucket": head["bucket"],
                    "buckets": head["buckets"]}}
    for section in SECTION_SCHEMAS:
        doc[section] = [who.redact(section, r) for r in view.rows(section)
                        if who.may_see(section, r)]
    response.headers["ETag"] = editing.entity_tag(doc)
    response.headers["Fabnet-Version"] = str(view.version)
    return doc

