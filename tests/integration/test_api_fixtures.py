"""What the API tests share: a store with a small two-site scenario and one signed-in
user per role, served by the real app through FastAPI's test client.

Every API test runs against a fresh SQLite file and, when a PostgreSQL server answers at
127.0.0.1:5432 (or `FABNET_TEST_POSTGRES_URL`), against a fresh schema there, dropped
afterwards; without a server that half skips and says why (the store tests' approach).
"""

from __future__ import annotations

import secrets
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from fabnet.api import Settings, create_app

with warnings.catch_warnings():  # Starlette would rather have httpx2; httpx is what we use
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient
from fabnet.services import accounts
from fabnet.services import database as db_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.store import Role, Store
from tests.pgserver import find_pg_server

#: cheap argon2 settings, so making a user per role takes milliseconds
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"

#: two sites in two countries, a supplier, a customer, stock, a slowdown and a risk
NETWORK = """
scenario: Two sites
horizon: {start: 2027-01-04, bucket: week, buckets: 8}
items:
  - {id: RECON-Q, name: Reconnaissance quadcopter, kind: product}
  - {id: FC-H7, name: Flight controller, kind: component, unit_cost: 60, origin: TW}
boms:
  RECON-Q: [{item: FC-H7, qty: 1}]
routings:
  RECON-Q: [{work_center: assembly, hours: 2.5}]
sites:
  - id: FR-LYON
    country: FR
    location: Lyon, Vaise industrial zone
    makes: [RECON-Q]
    work_centers: [{type: assembly, hours: 100}]
  - id: UK-PLANT
    country: GB
    makes: [RECON-Q]
    work_centers: [{type: assembly, hours: 40}]
suppliers:
  - id: SUP-TW
    country: TW
    offers: [{item: FC-H7, price: 58, lead_time: 1, capacity: 30}]
customers:
  - {id: UA-MOD, country: UA, approved: true}
lanes:
  - {from: SUP-TW, to: FR-LYON, transit: 1, cost: 0.8}
  - {from: SUP-TW, to: UK-PLANT, transit: 2, cost: 1.1}
  - {from: FR-LYON, to: UA-MOD, transit: 1, capacity: 5000}
  - {from: UK-PLANT, to: UA-MOD, transit: 2, capacity: 5000}
inventory:
  - {site: FR-LYON, item: FC-H7, qty: 10}
  - {site: UK-PLANT, item: FC-H7, qty: 5}
demand:
  - {id: D1, customer: UA-MOD, item: RECON-Q, qty: 50, due: 2027-02-01, priority: 1}
disruptions:
  - {id: UK-SLOW, target: UK-PLANT, from: 2027-02-15, buckets: 1, capacity: 0.5}
risks:
  - {id: R1, target: FR-LYON, rate: 0.2, duration: 2}
"""

#: one user per role; the site manager leads FR-LYON only
USERS: dict[Role, tuple[str, tuple[str, ...]]] = {
    Role.ADMIN: ("ada", ()),
    Role.PLANNER: ("pat", ()),
    Role.CONTINUITY: ("cody", ()),
    Role.SITE_MANAGER: ("sam", ("FR-LYON",)),
    Role.QUALITY: ("quinn", ()),
    Role.ENGINEERING: ("eve", ()),
    Role.COMPLIANCE: ("cora", ()),
    Role.AUDITOR: ("aud", ()),
}


@dataclass
class Api:
    """The test client, the store behind it, and a bearer token per role."""

    client: TestClient
    store: Store
    tokens: dict[Role, str] = field(default_factory=dict)

    def auth(self, role: Role) -> dict[str, str]:
        """Headers that sign a request in as the user of `role`."""
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: Role = Role.ADMIN, **kw: Any) -> Any:
        return self.client.get(path, headers={**self.auth(role), **kw.pop("headers", {})},
                               **kw)

    def post(self, path: str, role: Role = Role.ADMIN, **kw: Any) -> Any:
        return self.client.post(path, headers={**self.auth(role), **kw.pop("headers", {})},
                                **kw)

    def patch(self, path: str, role: Role = Role.ADMIN, **kw: Any) -> Any:
        return self.client.patch(path, headers={**self.auth(role), **kw.pop("headers", {})},
                                 **kw)

    def put(self, path: str, role: Role = Role.ADMIN, **kw: Any) -> Any:
        return self.client.put(path, headers={**self.auth(role), **kw.pop("headers", {})},
                               **kw)

    def delete(self, path: str, role: Role = Role.ADMIN, **kw: Any) -> Any:
        return self.client.delete(path, headers={**self.auth(role), **kw.pop("headers", {})},
                                  **kw)

    def wait(self, job_id: str, role: Role = Role.ADMIN, timeout: float = 60.0
             ) -> dict[str, Any]:
        """Poll a job until it has ended (the timeout guards the suite, it is no check)."""
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.get(f"/jobs/{job_id}", role).json()
            if job["status"] in ("done", "failed", "cancelled") or time.monotonic() > deadline:
                return job
            time.sleep(0.05)


# ---------------------------------------------------------------- databases


@dataclass(frozen=True)
class Seeded:
    """A seeded store's URL and the bearer token of each role's user."""

    url: str
    tokens: dict[Role, str]


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of a reachable PostgreSQL server, or skip."""
    return find_pg_server()


def seed(url: str, folder: Path) -> dict[Role, str]:
    """Initialise the store, import the network as `net`, add a user per role; their
    tokens."""
    db_svc.init_store(url)
    store = db_svc.connect(url, "setup")
    try:
        scenario = folder / "net.yaml"
        scenario.write_text(NETWORK)
        scenario_svc.import_scenario(store, scenario, "net")
        tokens = {}
        with store.unit_of_work() as uow:
            for role, (name, sites) in USERS.items():
                uow.users.add(name, accounts.hash_password(PASSWORD, FAST_HASHER), role, sites)
                tokens[role] = secrets.token_urlsafe(32)
                uow.tokens.add(name, accounts.token_sha256(tokens[role]), "tests")
            uow.commit()
        return tokens
    finally:
        store.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """A seeded SQLite store to copy (copying a file is quicker than seeding one)."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "store.sqlite"
    return Seeded(str(path), seed(f"sqlite:///{path}", folder))


def _seeded(kind: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[Seeded]:
    """A seeded store nobody else uses: a copied SQLite file, or a new PostgreSQL schema."""
    if kind == "sqlite":
        template: Seeded = request.getfixturevalue("sqlite_template")
        shutil.copy(template.url, folder / "store.sqlite")
        shutil.copy(template.url + ".audit-key", folder / "store.sqlite.audit-key")
        yield Seeded(f"sqlite:///{folder / 'store.sqlite'}", template.tokens)
        return
    server: str = request.getfixturevalue("pg_server")
    schema = f"fabnet_api_{secrets.token_hex(6)}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{server}?options=-csearch_path%3D{schema}"
        yield Seeded(url, seed(url, folder))
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Seeded]:
    """A fresh seeded store for one test, SQLite and PostgreSQL in turn."""
    yield from _seeded(request.param, tmp_path, request)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_seeded(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A seeded store shared by one test module, SQLite and PostgreSQL in turn."""
    yield from _seeded(request.param, tmp_path_factory.mktemp("api"), request)


# ---------------------------------------------------------------- the served app


def serve(seeded: Seeded, **settings: Any) -> Iterator[Api]:
    """The app on a seeded store, running (lifespan included) for as long as the test."""
    app = create_app(Settings(database_url=seeded.url, **settings))
    with TestClient(app) as client:
        yield Api(client, app.state.store, seeded.tokens)


@pytest.fixture
def api(seeded: Seeded) -> Iterator[Api]:
    """The API on a fresh, seeded store, for one test."""
    yield from serve(seeded)


@pytest.fixture(scope="module")
def shared_api(module_seeded: Seeded) -> Iterator[Api]:
    """The API on a seeded store shared by a module's tests: for tests that only read,
    or whose writes no other test looks at."""
    yield from serve(module_seeded)


def test_the_seeded_store_has_a_user_per_role_and_the_network(api: Api) -> None:
    assert {u["role"] for u in api.get("/users").json()["data"]} == {r.value for r in Role}
    assert api.get("/scenarios/net/sites").json()["count"] == 2
