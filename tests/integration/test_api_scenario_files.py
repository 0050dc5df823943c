"""`POST /scenarios` takes the scenario as the files are: a YAML document, an XLSX
workbook as `fabnet convert` writes it, or the JSON document that
`GET /scenarios/{scenario}/document` returns, posted back unchanged. A broken file is a
422 with the lines `fabnet validate` prints for it.

Each test runs on SQLite and on PostgreSQL (see test_api_fixtures).
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from fabnet.io import load_scenario, save_scenario
from fabnet.io.scenario_io import validate_path
from fabnet.store import Role
from tests.integration.test_api_fixtures import NETWORK, Api, Seeded, serve

pytest_plugins = ["tests.integration.test_api_fixtures"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YAML = "application/yaml"


def post_file(api: Api, data: bytes, media_type: str, role: Role = Role.PLANNER,
              **params: str) -> Any:
    return api.post("/scenarios", role, content=data, params=params,
                    headers={"Content-Type": media_type})


def hash_of(api: Api, scenario: str, version: int = 1) -> str:
    found: str = api.get(f"/scenarios/{scenario}/versions/{version}").json()["content_sha256"]
    return found


def uploads() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("fabnet-upload-*"))


def workbook(tmp_path: Path, text: str = NETWORK) -> bytes:
    src = tmp_path / "net.yaml"
    src.write_text(text)
    save_scenario(load_scenario(src), tmp_path / "net.xlsx", force=True)
    return (tmp_path / "net.xlsx").read_bytes()


def test_a_yaml_file_as_it_is_becomes_the_next_version(api: Api) -> None:
    before = uploads()
    r = post_file(api, NETWORK.encode(), YAML, name="copy", note="from the file")
    assert r.status_code == 201, r.text
    assert r.json()["scenario"] == "copy" and r.json()["note"] == "from the file"
    assert hash_of(api, "copy") == hash_of(api, "net")  # the same scenario as the CLI's
    assert uploads() == before  # the temporary file is gone


def test_a_yaml_file_without_a_name_is_named_after_its_title(api: Api) -> None:
    r = post_file(api, NETWORK.encode(), "text/yaml; charset=utf-8")
    assert r.status_code == 201, r.text
    assert r.json()["scenario"] == "two-sites"  # `scenario: Two sites`, as `db import` does


def test_an_xlsx_workbook_fabnet_wrote_is_imported_whole(api: Api, tmp_path: Path) -> None:
    before = uploads()
    r = post_file(api, workbook(tmp_path), XLSX, name="from-excel")
    assert r.status_code == 201, r.text
    assert hash_of(api, "from-excel") == hash_of(api, "net")
    assert uploads() == before


def test_the_document_the_api_returns_posts_back_unchanged(api: Api) -> None:
    doc = api.get("/scenarios/net/document").json()
    again = api.post("/scenarios", Role.PLANNER, json=doc)
    assert again.status_code == 201, again.text
    assert (again.json()["scenario"], again.json()["version"]) == ("net", 2)
    assert hash_of(api, "net", 2) == hash_of(api, "net", 1)
    copy = api.post("/scenarios", Role.PLANNER, json=doc, params={"name": "copy"})
    assert copy.status_code == 201 and copy.json()["scenario"] == "copy"
    assert api.get("/scenarios/copy/document").json()["sites"] == doc["sites"]


def test_a_branch_document_posts_back_as_the_next_version(api: Api) -> None:
    made = api.post("/branches", Role.PLANNER, json={
        "name": "strike", "scenario": "net", "disruptions": ["FR-LYON@2027-01-11+2"]})
    assert made.status_code == 201, made.text
    doc = api.get("/scenarios/net/document", params={"branch": "strike"}).json()
    r = api.post("/scenarios", Role.PLANNER, json=doc)
    assert r.status_code == 201, r.text
    stored = api.get("/scenarios/net/document").json()
    assert stored["disruptions"] == doc["disruptions"] and stored["version"] == 2


def test_a_broken_yaml_file_is_a_422_with_the_lines_validate_prints(api: Api,
                                                                    tmp_path: Path) -> None:
    broken = NETWORK.replace("qty: 50", "qty: -50").replace("RECON-Q: [{item: FC-H7",
                                                            "RECON-Q: [{item: FC-H9")
    r = post_file(api, broken.encode(), YAML, name="broken")
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    (tmp_path / "request.yaml").write_text(broken)
    expected = [str(i).replace(str(tmp_path / "request.yaml"), "request.yaml")
                for i in validate_path(tmp_path / "request.yaml") if not i.is_warning]
    assert [d["line"] for d in detail] == expected and len(expected) == 2
    assert {tuple(d["loc"]) for d in detail} == {("demand", "D1", "qty"),
                                                 ("boms", "RECON-Q/FC-H9", "item")}
    assert "request.yaml: demand[D1].qty: " in detail[0]["line"] + detail[1]["line"]
    assert api.get("/scenarios", params={"name": "broken"}).json()["count"] == 0


def test_a_broken_workbook_names_sheet_record_and_field(api: Api, tmp_path: Path) -> None:
    workbook(tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "net.xlsx")
    wb["offers"]["E2"] = -30  # capacity
    wb.save(tmp_path / "broken.xlsx")
    r = post_file(api, (tmp_path / "broken.xlsx").read_bytes(), XLSX, name="broken")
    assert r.status_code == 422, r.text
    (line,) = [d["line"] for d in r.json()["detail"]]
    assert line.startswith("request.xlsx sheet offers: offers[row 2].capacity: ")
    assert ">= 0" in line


def test_a_yaml_bomb_is_refused_in_one_line(api: Api) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True))
    r = post_file(api, bomb.encode(), YAML, name="bomb")
    assert r.status_code == 422
    assert "aliases expand to more than" in r.json()["detail"][0]["line"]


def test_a_zip_bomb_workbook_is_refused_and_its_file_removed(api: Api) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 << 20))
    before = uploads()
    r = post_file(api, buf.getvalue(), XLSX, name="bomb")
    assert r.status_code == 422
    (d,) = r.json()["detail"]
    assert d["line"].startswith("request.xlsx: workbook: refused: part ")
    assert "zip bomb" in d["line"]
    assert uploads() == before


def test_a_file_that_is_no_workbook_is_a_422(api: Api) -> None:
    r = post_file(api, b"not a zip at all", XLSX, name="junk")
    assert r.status_code == 422
    assert "request.xlsx: workbook: refused: not an .xlsx file" in r.json()["detail"][0]["line"]


@pytest.fixture
def small(seeded: Seeded) -> Iterator[Api]:
    """The API with a 4 KiB body limit."""
    yield from serve(seeded, max_body_bytes=4096)


def test_a_file_over_the_body_limit_is_413(small: Api) -> None:
    padded = NETWORK + "#" * 5000 + "\n"
    r = post_file(small, padded.encode(), YAML, name="big")
    assert r.status_code == 413 and "larger than 4096 bytes" in r.json()["detail"]


def test_only_importers_post_files(api: Api) -> None:
    assert post_file(api, NETWORK.encode(), YAML, Role.QUALITY).status_code == 403
    r = api.client.post("/scenarios", content=NETWORK.encode(),
                        headers={"Content-Type": YAML})
    assert r.status_code == 401


def test_another_media_type_is_a_415_naming_those_taken(api: Api) -> None:
    r = post_file(api, NETWORK.encode(), "text/plain", name="x")
    assert r.status_code == 415 and "application/yaml" in r.json()["detail"]


def test_a_document_with_no_name_is_a_422_saying_how(api: Api) -> None:
    doc = api.get("/scenarios/net/document").json()
    del doc["scenario"]
    r = api.post("/scenarios", Role.PLANNER, json=doc)
    assert r.status_code == 422 and "?name=" in r.json()["detail"]


def test_the_openapi_document_lists_the_three_forms(api: Api) -> None:
    body = api.get("/openapi.json").json()["paths"]["/scenarios"]["post"]["requestBody"]
    assert {"application/json", YAML, XLSX} <= set(body["content"])
