"""The API under hostile input: malformed JSON, wrong types, unknown fields, numbers
that are not finite, text a database can't hold, bodies over the limit, odd query
values: each gets a 4xx that says why (the property-based run is in test_api_fuzz).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fabnet.store import Role
from tests.integration.test_api_fixtures import Api, Seeded, serve

pytest_plugins = ["tests.integration.test_api_fixtures"]

LIMIT = 64 * 1024  # the body limit of `small`, so the over-limit tests send little


# ---------------------------------------------------------------- malformed requests


@pytest.fixture(scope="module")
def small(module_seeded: Seeded) -> Iterator[Api]:
    """The API with a 64 KiB body limit."""
    yield from serve(module_seeded, max_body_bytes=LIMIT)


def post_raw(api: Api, path: str, content: bytes | Iterator[bytes],
             content_type: str = "application/json", **headers: str) -> Any:
    return api.client.post(path, content=content, headers={
        **api.auth(Role.ADMIN), "Content-Type": content_type, **headers})


def detail(r: Any) -> Any:
    assert 400 <= r.status_code < 500 and r.json()["detail"], r.text
    return r.json()["detail"]


def test_malformed_json_is_a_422_saying_where(small: Api) -> None:
    r = post_raw(small, "/scenarios/net/items", b'{"id": "X",')
    assert r.status_code == 422 and detail(r)[0]["type"] == "json_invalid"


def test_wrong_types_are_422s_naming_each_field(small: Api) -> None:
    r = small.patch("/scenarios/net/lanes/SUP-TW>FR-LYON",
                    json={"transit": "two", "capacity": [1], "cost": {"eur": 1}})
    assert r.status_code == 422
    assert {tuple(d["loc"]) for d in detail(r)} == {("body", "transit"), ("body", "capacity"),
                                                   ("body", "cost")}


@pytest.mark.parametrize(("method", "url", "body", "field"), [
    ("patch", "/scenarios/net/lanes/SUP-TW>FR-LYON", {"transit": True}, "transit"),
    ("patch", "/scenarios/net/lanes/SUP-TW>FR-LYON", {"transit": "4"}, "transit"),
    ("patch", "/scenarios/net/demand/D1", {"qty": "50"}, "qty"),
    ("patch", "/scenarios/net/items/FC-H7", {"serialized": "yes"}, "serialized"),
    ("patch", "/scenarios/net/items/FC-H7", {"serialized": 1}, "serialized"),
    ("post", "/jobs/montecarlo", {"scenario": "net", "samples": True}, "samples"),
    ("post", "/jobs/montecarlo", {"scenario": "net", "samples": "200"}, "samples"),
    ("post", "/jobs/plan", {"scenario": "net", "whole_units": "yes"}, "whole_units"),
])
def test_json_of_the_wrong_type_is_refused_not_converted(
        small: Api, method: str, url: str, body: dict[str, Any], field: str) -> None:
    """`true` for a count, `"4"` for a number or `"yes"` for true or false is a 422 naming
    the field, and nothing is stored or started: JSON says what it means."""
    before = small.get("/scenarios/net/versions").json()["count"]
    jobs = small.get("/jobs").json()["count"]
    r = getattr(small, method)(url, json=body)
    assert r.status_code == 422, r.text
    assert detail(r)[0]["loc"] == ["body", field]
    assert detail(r)[0]["ctx"]["fix"].startswith("send ")
    assert small.get("/scenarios/net/versions").json()["count"] == before
    assert small.get("/jobs").json()["count"] == jobs


def test_json_numbers_and_yes_no_of_the_right_type_are_taken(small: Api) -> None:
    r = small.patch("/scenarios/net/lanes/SUP-TW>FR-LYON", json={"transit": 2, "cost": 1})
    assert r.status_code == 200 and r.json()["row"]["cost"] == 1.0, r.text
    r = small.patch("/scenarios/net/items/FC-H7", json={"serialized": False})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(("method", "url", "body", "field"), [
    ("patch", "/scenarios/net/work_centers/FR-LYON/assembly", {"ramp": [1.0] * 10_001},
     "ramp"),
    ("patch", "/scenarios/net/items/FC-H7", {"name": "x" * 2001}, "name"),
    ("patch", "/scenarios/net/items/FC-H7", {"serial_pattern": "{" * 5000}, "serial_pattern"),
    ("post", "/jobs/tts", {"scenario": "net", "kinds": ["site"] * 5}, "kinds"),
    ("post", "/jobs/tts", {"scenario": "net", "kinds": ["site", "lane", "site"]}, "kinds"),
])
def test_lists_and_texts_past_their_length_are_refused_without_echoing_them(
        small: Api, method: str, url: str, body: dict[str, Any], field: str) -> None:
    r = getattr(small, method)(url, json=body)
    assert r.status_code == 422, r.text
    assert detail(r)[0]["loc"][:2] == ["body", field]
    assert len(r.text) < 2000  # the value sent is not echoed back


def test_every_route_refuses_a_query_parameter_it_does_not_take(small: Api) -> None:
    """A mistyped filter (`/floor/yield?site=…`, which takes none) is a 422 naming it,
    on every GET route, never ignored with the whole list answered."""
    from fastapi.routing import APIRoute

    from fabnet.api.app import api_routers

    gets = sorted({r.path for router in api_routers() for r in router.routes
                   if isinstance(r, APIRoute) and "GET" in r.methods and "{" not in r.path})
    assert "/floor/yield" in gets and len(gets) > 10
    for path in gets:
        r = small.get(path, params={"zz_filter": "x"})
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert detail(r)[0]["loc"] == ["query", "zz_filter"], path
        assert detail(r)[0]["ctx"]["fix"].startswith("use "), path
    assert small.get("/floor/yield").status_code == 200
    assert small.get("/scenarios/net/lanes", params={"transit": "1"}).status_code == 200


def test_unknown_fields_are_refused_by_name(small: Api) -> None:
    r = small.post("/scenarios/net/items", json={"id": "X", "colour": "red"})
    assert r.status_code == 422 and detail(r)[0]["loc"] == ["body", "colour"]
    assert detail(r)[0]["type"] == "extra_forbidden"


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_numbers_that_are_not_finite_are_refused(small: Api, number: bytes) -> None:
    r = post_raw(small, "/scenarios/net/items", b'{"id": "X", "unit_cost": ' + number + b"}")
    assert r.status_code == 422 and detail(r)[0]["loc"] == ["body", "unit_cost"]


@pytest.mark.parametrize("text", [b"nul\\u0000byte", b"lone \\ud800 surrogate"])
def test_text_the_database_cant_hold_is_refused(small: Api, text: bytes) -> None:
    r = post_raw(small, "/scenarios/net/items", b'{"id": "X", "name": "' + text + b'"}')
    assert r.status_code == 422 and detail(r)[0]["loc"] == ["body", "name"]


def test_integers_beyond_32_bits_and_far_dates_are_refused(small: Api) -> None:
    r = small.patch("/scenarios/net/offers/SUP-TW/FC-H7", json={"lead_time": 2**40})
    assert r.status_code == 422 and detail(r)[0]["loc"] == ["body", "lead_time"]
    assert "less than or equal to 100000" in detail(r)[0]["msg"]
    r = small.patch("/scenarios/net/demand/D1", json={"due": "9999-12-31"})
    assert r.status_code == 422 and detail(r)[0]["loc"] == ["body", "due"]


@pytest.mark.parametrize(("url", "body"), [
    ("/scenarios/net/demand/D1", {"qty": 1e300}),
    ("/scenarios/net/lanes/SUP-TW>FR-LYON", {"cost": 1e40}),
    ("/scenarios/net/work_centers/FR-LYON/assembly", {"hours": 1e20}),
])
def test_numbers_beyond_what_a_plan_can_hold_are_refused(small: Api, url: str,
                                                         body: dict[str, float]) -> None:
    """Past 1e12 a quantity, cost or capacity would be lost in rounding or, from 1e20,
    read by the solver as unlimited: refused by field, nothing stored."""
    before = small.get(url).json()
    r = small.patch(url, json=body)
    assert r.status_code == 422, r.text
    assert detail(r)[0]["loc"][-1] == next(iter(body))
    assert small.get(url).json() == before


def test_a_body_over_the_limit_is_413_before_it_is_read(small: Api) -> None:
    r = post_raw(small, "/scenarios/net/items", b"x" * (LIMIT + 1))
    assert r.status_code == 413 and "larger than" in detail(r)


def test_a_streamed_body_over_the_limit_is_413(small: Api) -> None:
    chunks = iter([b"[" + b"0," * (LIMIT // 4)] * 4)  # no Content-Length: counted as it comes
    r = post_raw(small, "/scenarios/net/items", chunks)
    assert r.status_code == 413


@pytest.mark.parametrize("body", [b"[" * 30_000 + b"]" * 30_000,
                                  b'{"id": ' + b"9" * 5000 + b"}"])
def test_deeply_nested_json_is_a_4xx(small: Api, body: bytes) -> None:
    r = post_raw(small, "/scenarios/net/items", body)
    assert 400 <= r.status_code < 500 and detail(r)
    if r.status_code == 400:
        assert "could not be read as JSON" in detail(r) and "(fix:" in detail(r)


def test_an_unknown_route_is_still_a_plain_404(small: Api) -> None:
    r = small.get("/no/such/route")
    assert r.status_code == 404 and detail(r) == "Not Found"


@pytest.mark.parametrize(("url", "body", "media"), [
    ("/scenarios/net/items", b"id=X", "application/x-www-form-urlencoded"),
    ("/scenarios/net/items", b'{"id": "X"}', "text/plain"),
    ("/jobs/plan", b'{"scenario": "net"}', "text/plain"),
])
def test_a_body_that_is_not_json_is_a_415_naming_its_type(small: Api, url: str, body: bytes,
                                                          media: str) -> None:
    jobs = small.get("/jobs").json()["count"]
    r = post_raw(small, url, body, media)
    assert r.status_code == 415, r.text
    assert media in detail(r) and "Content-Type: application/json" in detail(r)
    assert small.get("/jobs").json()["count"] == jobs
    assert small.get("/scenarios/net/items/X").status_code == 404


def test_odd_query_values_are_422s(small: Api) -> None:
    assert small.get("/scenarios/net/items", params={"limit": 10**6}).status_code == 422
    assert small.get("/scenarios/net/items", params={"id": "x" * 201}).status_code == 422
    assert small.get("/scenarios/net/items", params={"version": 2**40}).status_code == 422
    assert small.get("/scenarios/bad name!/items").status_code == 422


def test_a_malformed_idempotency_key_is_refused(small: Api) -> None:
    r = small.post("/jobs/plan", json={"scenario": "net"},
                   headers={"Idempotency-Key": "has spaces"})
    assert r.status_code == 422 and "Idempotency-Key" in detail(r)
