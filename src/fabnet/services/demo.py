"""A demonstration store: a fresh SQLite file with the built-in Europe example imported
and planned, and one account per role, for `fabnet serve --demo`.

Everything goes through the same services a team uses (`init_store`, `import_scenario`,
`create_user`, `plan_stored`), so the demo shows what the product does, not a mock-up.
The passwords are random and handed back once, for the caller to print; the store
keeps only their argon2 hashes. A `history` hook lets the floor's own services add a
short floor history (work orders, lots, tests) once they exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import fabnet
from fabnet.model.errors import FabnetError
from fabnet.services import accounts
from fabnet.services import database as db_svc
from fabnet.services import plan_runs as plan_svc
from fabnet.services import scenarios as scenario_svc
from fabnet.services.floor_demo import floor_story
from fabnet.store import Role, Store

#: the built-in example, next to the source tree
EUROPE = Path(fabnet.__file__).resolve().parents[2] / "examples" / "europe" / "scenario.yaml"
#: the name the example is stored under
SCENARIO = "europe"
#: the file of the demo store inside its folder
DB_FILE = "fabnet-demo.sqlite"
#: the site the demo's site manager is assigned to (when the scenario has it)
MANAGED_SITE = "UA-PARTNER"

#: adds a floor history to the demo store: (store acting as the demo, scenario name)
History = Callable[[Store, str], None]


@dataclass(frozen=True)
class DemoStore:
    """What `make_demo_store` made: where, the scenario, its first plan run, and each
    account's role and password (shown once)."""

    url: str
    path: Path
    scenario: str
    plan_run: int
    accounts: dict[str, tuple[Role, str]]


def user_name(role: Role) -> str:
    """The demo account of a role: `site_manager` -> `site-manager`."""
    return role.value.replace("_", "-")


def make_demo_store(folder: str | Path, scenario: str | Path | None = None,
                    history: History | None = None) -> DemoStore:
    """A fresh demo store in `folder` (made if missing; a store already there is
    refused): the scenario (default: the Europe example) imported and planned, and one
    account per role with a random password."""
    src = Path(scenario) if scenario is not None else EUROPE
    if not src.exists():
        raise FabnetError(f"{src}: the demo scenario is missing (fix: run from a fabnet "
                          "source checkout, or give the scenario file to use)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / DB_FILE
    if db.exists():
        raise FabnetError(f"{db}: a demo store is already there (fix: give an empty folder, "
                          "or remove the file to start afresh)")
    url = f"sqlite:///{db}"
    db_svc.init_store(url)
    store = db_svc.connect(url, "fabnet-demo")
    try:
        scenario_svc.import_scenario(store, src, SCENARIO, note="the demo's example")
        sites = {s.id for s in scenario_svc.load_stored(store, SCENARIO).sites}
        managed = (MANAGED_SITE,) if MANAGED_SITE in sites else tuple(sorted(sites)[:1])
        made: dict[str, tuple[Role, str]] = {}
        for role in Role:
            name, password = user_name(role), secrets.token_urlsafe(12)
            accounts.create_user(store, name, password, role,
                                 managed if role is Role.SITE_MANAGER else ())
            made[name] = (role, password)
        run = plan_svc.plan_stored(store.acting_as(user_name(Role.PLANNER)), SCENARIO)
        (history or floor_story)(store, SCENARIO)  # the floor's first week, by default
    finally:
        store.engine.dispose()
    return DemoStore(url, db, SCENARIO, run.id, made)
