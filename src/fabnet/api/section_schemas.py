"""Request and response shapes of the master-data sections, made from the row schemas
of `fabnet.io.records` so the API checks a row exactly as a scenario file is checked.

For each section (`items`, `lanes`, …) there is:

- `XIn`: a whole row (POST, PUT), the file's row schema plus the API's strictness;
- `XPatch`: the same fields, all optional (PATCH changes only those it names);
- `XPublic`: a row as returned; restricted fields are left out for roles not cleared;
- `XQuery`: paging (`limit`, `offset`), what to read (`version` or `branch`) and one
  optional exact-match filter per column, unknown query parameters refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from fabnet.api.policy import RESTRICTED_FIELDS
from fabnet.api.schemas import MAX_INT, NAME, ApiModel, HorizonIn, Name, Note
from fabnet.io.records import SECTIONS as ROW_SCHEMAS
from fabnet.io.records import Row
from fabnet.store.mapping import SECTIONS

#: query parameters every section list takes besides its column filters
LIST_PARAMS = ("limit", "offset", "version", "branch")


@dataclass(frozen=True)
class SectionSchemas:
    """The generated models of one section."""

    section: str
    row: type[Row]
    create: type[BaseModel]
    patch: type[BaseModel]
    public: type[BaseModel]
    query: type[BaseModel]
    columns: tuple[str, ...]


class _PublicBase(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


def _title(section: str) -> str:
    return "".join(p.capitalize() for p in section.split("_"))


def _schemas(section: str) -> SectionSchemas:
    row = ROW_SCHEMAS[section]
    title = _title(section)
    restricted = RESTRICTED_FIELDS.get(section, frozenset())
    create: type[BaseModel] = type(f"{title}In", (ApiModel, row), {
        "__module__": __name__,
        "__doc__": f"A row of {section}, as in the scenario files."})
    patch_fields: dict[str, Any] = {}
    public_fields: dict[str, Any] = {}
    query_fields: dict[str, Any] = {
        "limit": (int, Field(100, ge=1, le=1000, description="rows per page")),
        "offset": (int, Field(0, ge=0, le=MAX_INT, description="rows to skip")),
        "version": (int | None, Field(None, ge=1, le=MAX_INT,
                                      description="a version (default: the newest)")),
        "branch": (str | None, Field(None, pattern=NAME,
                                     description="read this what-if branch instead")),
    }
    columns = []
    for name, f in row.model_fields.items():
        column = f.alias or name
        columns.append(column)
        annotation: Any = f.annotation
        inner: Any = annotation | None
        if f.metadata:
            inner = Annotated[(inner, *f.metadata)]
        patch_fields[name] = (inner, Field(None, alias=f.alias))
        note = " (restricted: shown only to cleared roles)" if column in restricted else ""
        if column in restricted or not f.is_required():
            default = None if column in restricted else f.get_default()
            public_fields[name] = (annotation | None,
                                   Field(default, alias=f.alias, description=note or None))
        else:
            public_fields[name] = (f.annotation, Field(alias=f.alias))
        query_fields[name] = (str | None, Field(
            None, alias=f.alias, max_length=200,
            description=f"only rows whose {column} is this{note}"))
    patch = create_model(f"{title}Patch", __base__=ApiModel,
                         __doc__=f"Fields of a {section} row to change.", **patch_fields)
    public = create_model(f"{title}Public", __base__=_PublicBase,
                          __doc__=f"A row of {section}.", **public_fields)
    query = create_model(f"{title}Query", __config__=ConfigDict(extra="forbid"),
                         **query_fields)
    return SectionSchemas(section, row, create, patch, public, query, tuple(columns))


#: section -> its generated models, for every section of the scenario contract
SECTION_SCHEMAS: dict[str, SectionSchemas] = {s: _schemas(s) for s in SECTIONS}


def scenario_document_model() -> type[BaseModel]:
    """The body of `POST /scenarios`: a name, a note and the whole scenario as rows."""
    fields: dict[str, Any] = {
        "name": (Name, Field(description="store it as the next version of this scenario")),
        "note": (Note, ""),
        "title": (Annotated[str, Field(max_length=200)], ""),
        "horizon": (HorizonIn, ...),
    }
    for s, m in SECTION_SCHEMAS.items():
        fields[s] = (list[m.create], Field(default=[], max_length=200_000))  # type: ignore[name-defined]
    return create_model("ScenarioCreate", __base__=ApiModel,
                        __doc__="A whole scenario: title, horizon and the rows of each "
                        "section, with the columns of the scenario files.", **fields)


def scenario_view_model() -> type[BaseModel]:
    """The response of `GET /scenarios/{scenario}/document`."""
    fields: dict[str, Any] = {
        "scenario": (str, ...), "version": (int, ...), "branch": (str | None, None),
        "title": (str, ...), "horizon": (dict[str, Any], ...),
    }
    for s, m in SECTION_SCHEMAS.items():
        fields[s] = (list[m.public], [])  # type: ignore[name-defined]
    return create_model("ScenarioDocument", __base__=_PublicBase,
                        __doc__="A stored scenario as rows per section (restricted fields "
                        "left out for roles not cleared; site-scoped rows only of your "
                        "sites for a site manager).", **fields)


ScenarioCreate = scenario_document_model()
ScenarioDocument = scenario_view_model()
