"""Stored scenarios: list them and their versions, import a whole scenario as the next
version, and read a version (or a branch) back whole."""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from fabnet.api import policy
from fabnet.api.deps import Anyone, Importer, Principal
from fabnet.api.schemas import MAX_INT, NAME, Page, ScenarioPublic, VersionPublic
from fabnet.api.section_schemas import SECTION_SCHEMAS, ScenarioCreate, ScenarioDocument
from fabnet.services import editing, scoping
from fabnet.services import store as store_svc
from fabnet.store import VersionInfo

router = APIRouter(prefix="/scenarios", tags=["scenarios"])
ScenarioName = Annotated[str, Path(pattern=NAME)]
Create: Any = ScenarioCreate
Document: Any = ScenarioDocument


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
    found = [s for s in store_svc.list_scenarios(who.store)
             if (name is None or s.name == name)
             and (updated_by is None or s.updated_by == updated_by)]
    return Page(data=[ScenarioPublic.of(s) for s in found[offset:offset + limit]],
                count=len(found))


@router.post("", response_model=VersionPublic, status_code=status.HTTP_201_CREATED)
def import_scenario(body: Create, who: Importer) -> VersionPublic:
    """Store a whole scenario (title, horizon, rows of each section) as the next version
    of `name`, after checking every row and every cross-record rule."""
    h = body.horizon
    tables: dict[str, list[dict[str, Any]]] = {
        "scenario": [{"scenario": body.title, "start": h.start, "bucket": h.bucket.value,
                      "buckets": h.buckets}]}
    for section in SECTION_SCHEMAS:
        tables[section] = [r.model_dump(by_alias=True) for r in getattr(body, section)]
    return VersionPublic.of(editing.import_tables(who.store, body.name, tables, body.note))


@router.get("/{scenario}", response_model=ScenarioPublic)
def get_scenario(scenario: ScenarioName, who: Anyone) -> ScenarioPublic:
    """One stored scenario and its newest version."""
    found = [s for s in store_svc.list_scenarios(who.store) if s.name == scenario]
    if not found:
        store_svc.list_versions(who.store, scenario)  # raises NotFound with the names
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
    found = [v for v in store_svc.list_versions(who.store, scenario)
             if created_by is None or v.created_by == created_by]
    return Page(data=[_version(who, v) for v in found[offset:offset + limit]],
                count=len(found))


@router.get("/{scenario}/versions/{version}", response_model=VersionPublic)
def get_version(scenario: ScenarioName, version: Annotated[int, Path(ge=1, le=MAX_INT)],
                who: Anyone) -> VersionPublic:
    """One version of a scenario (its hash and note as for the list)."""
    found = [v for v in store_svc.list_versions(who.store, scenario) if v.version == version]
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

