"""`/docs` and `/redoc` work on an air-gapped plant network: every script, style sheet and
icon they load comes from fabnet itself, not from a CDN."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fabnet.api import Settings, create_app

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what we use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

#: the URLs a page's <script src>, <link href> and <img src> tags load
ASSET = re.compile(r"<(?:script|link|img)\b[^>]*?\b(?:src|href)=[\"']([^\"']+)[\"']", re.I)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app without its lifespan: the docs pages need no store."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('docs')) / 'none.sqlite'}"
    yield TestClient(create_app(Settings(database_url=url)))


def assets(page: str) -> list[str]:
    found = ASSET.findall(page)
    assert found, "the page loads nothing?"
    return found


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_nothing_from_another_host(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    for url in assets(r.text):
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{page} loads {url} from elsewhere"
    assert not re.search(r"https?://", r.text), "a URL to another host in the page"
    assert "fonts.googleapis" not in r.text


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_assets_the_docs_name_are_served_by_fabnet(client: TestClient, page: str) -> None:
    kinds = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for url in assets(client.get(page).text):
        r = client.get(url)
        assert r.status_code == 200, url
        kind = next(v for k, v in kinds.items() if url.endswith(k))
        assert kind in r.headers["content-type"] and len(r.content) > 1000, url


def test_swagger_ui_is_one_that_renders_openapi_3_1(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    page = client.get("/docs").text
    js = next(u for u in assets(page) if u.endswith("swagger-ui-bundle.js"))
    assert b"isOAS31" in client.get(js).content  # Swagger UI 5: 4.x shows 3.1 as an error
    assert '"validatorUrl": null' in page  # no badge fetched from the online validator
    assert "url: '/openapi.json'" in page
