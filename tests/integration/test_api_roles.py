"""Every endpoint refuses whom it should, read off the app's own routes table so no
endpoint is forgotten: 401 without a valid token, 403 for every role its documentation
does not list, 403 for a site manager reaching for another site's rows.

The refusals come before any work, so one seeded store serves the whole module.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from fabnet.api import policy
from fabnet.api.app import PUBLIC, ROLES_KEY, api_routers, guards, route_roles
from fabnet.api.deps import AllowEdit
from fabnet.store import Role
from tests.integration.test_api_fixtures import Api

pytest_plugins = ["tests.integration.test_api_fixtures"]

#: path parameter -> a value that names something (or nothing) plausible
PATH_VALUES = {"scenario": "net", "key": "FR-LYON", "name": "pat", "token_id": "1",
               "job_id": "0" * 32, "branch": "b1", "version": "1", "run_id": "1",
               "work_order": "WO-1", "serial": "D-2027-0001", "ref": "C-1", "licence_id": "L-1",
               "eco_id": "ECO-1", "purchase_order": "PO-1", "transfer": "TR-1"}
OPERATIONS = sorted((method, route.path, route) for router in api_routers()
                    for route in router.routes if isinstance(route, APIRoute)
                    for method in route.methods)


def url_of(path: str, **values: str) -> str:
    """A route's path with its parameters filled in."""
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m[1], PATH_VALUES[m[1]]), path)


def call(api: Api, method: str, url: str, headers: dict[str, str], body: Any = None) -> Any:
    send = {} if method in ("GET", "DELETE") else {"json": {} if body is None else body}
    return api.client.request(method, url, headers=headers, **send)


def op_id(op: tuple[str, str, APIRoute]) -> str:
    return f"{op[0]} {op[1]}"


def test_the_routes_table_is_the_openapi_document(shared_api: Api) -> None:
    doc = shared_api.client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == {(m, re.sub(r":\w+\}", "}", p)) for m, p, _ in OPERATIONS}
    for method, path, route in OPERATIONS:
        op = doc["paths"][re.sub(r":\w+\}", "}", path)][method.lower()]
        roles = route_roles(route)
        if (method, path) in PUBLIC:
            assert roles is None and "Public" in op["description"]
            continue
        assert roles, f"{method} {path} checks no role"
        assert set(op[ROLES_KEY]) == {r.value for r in roles}
        assert "**Roles:" in op["description"]


@pytest.mark.parametrize("op", OPERATIONS, ids=op_id)
def test_every_endpoint_refuses_the_unsigned_and_the_wrong_roles(
        shared_api: Api, op: tuple[str, str, APIRoute]) -> None:
    method, path, route = op
    url = url_of(path)
    if (method, path) in PUBLIC:
        return
    assert call(shared_api, method, url, {}).status_code == 401
    bad = call(shared_api, method, url, {"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Bearer")
    allowed = route_roles(route) or frozenset()
    for role in set(Role) - allowed:
        r = call(shared_api, method, url, shared_api.auth(role))
        assert r.status_code == 403, (role, r.text)
        assert f"role {role.value} may not" in r.json()["detail"]


EDITS = [op for op in OPERATIONS
         if any(isinstance(g, AllowEdit) for g in guards(op[2].dependant))]


@pytest.mark.parametrize("op", EDITS, ids=op_id)
def test_what_if_makers_edit_master_data_only_on_branches(
        shared_api: Api, op: tuple[str, str, APIRoute]) -> None:
    method, path, route = op
    edit = next(g for g in guards(route.dependant) if isinstance(g, AllowEdit))
    for role in edit.roles - edit.editors:
        r = call(shared_api, method, url_of(path), shared_api.auth(role))
        assert r.status_code == 403 and "only on what-if branches" in r.json()["detail"]


#: for each site-scoped section: the key of a UK-PLANT row and a whole UK-PLANT row
OTHER_SITE: dict[str, tuple[str, dict[str, Any]]] = {
    "sites": ("UK-PLANT", {"id": "UK-PLANT", "country": "GB", "makes": ["RECON-Q"]}),
    "work_centers": ("UK-PLANT/assembly", {"site": "UK-PLANT", "type": "assembly",
                                           "hours": 1}),
    "inventory": ("UK-PLANT/FC-H7", {"site": "UK-PLANT", "item": "FC-H7", "qty": 1}),
    "disruptions": ("UK-SLOW", {"id": "UK-SLOW", "target": "UK-PLANT", "from": "2027-02-15",
                                "buckets": 1}),
}
SITE_SCOPED = [op for op in OPERATIONS if any(op[1].startswith(f"/scenarios/{{scenario}}/{s}")
                                              for s in policy.SITE_FIELD)]


def test_site_scoping_covers_every_site_scoped_section() -> None:
    assert set(OTHER_SITE) == set(policy.SITE_FIELD)
    assert len(SITE_SCOPED) == 6 * len(policy.SITE_FIELD)


@pytest.mark.parametrize("op", SITE_SCOPED, ids=op_id)
def test_a_site_manager_is_refused_another_sites_rows(
        shared_api: Api, op: tuple[str, str, APIRoute]) -> None:
    method, path, _ = op
    section = path.split("/")[3]
    key, row = OTHER_SITE[section]
    as_sam = shared_api.auth(Role.SITE_MANAGER)
    url = url_of(path, key=key)
    body = {} if method == "PATCH" else row
    if method == "GET" and "{key" not in path:
        field = policy.SITE_FIELD[section]
        everyone = call(shared_api, method, url, shared_api.auth(Role.ADMIN)).json()["data"]
        listed = call(shared_api, method, url, as_sam).json()["data"]
        assert "UK-PLANT" in {r[field] for r in everyone}
        assert listed == [r for r in everyone if r[field] == "FR-LYON"]
        return
    r = call(shared_api, method, url, as_sam, body)
    assert r.status_code == 403, r.text
    assert "not one of your sites (FR-LYON)" in r.json()["detail"]
