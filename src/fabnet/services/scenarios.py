"""Stored scenarios: import a scenario file (from disk or as bytes) as the next version
of a name, export a version, list scenarios and their versions.

Files are read, checked and hashed before the write transaction starts and written
after it ends, so the transaction holds the store's write lock only while it writes.
An imported scenario is remembered as checked, so the first edit of it checks only what
the edited row affects.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

from fabnet.io.scenario_io import ScenarioFormat, load_scenario, read_raw, save_scenario
from fabnet.io.tables import build_scenario
from fabnet.model.edit_checks import rule_warnings
from fabnet.model.errors import FabnetError
from fabnet.model.scenario import Scenario
from fabnet.services.sound_scenarios import remember_sound
from fabnet.store import ScenarioInfo, Store, VersionInfo
from fabnet.store.digests import paused_gc, version_digests
from fabnet.store.scenarios import prepare_rows
from fabnet.store.unit_of_work import UnitOfWork

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


def check_name(name: str, what: str, example: str = "--name europe-2027") -> None:
    """Scenario, branch and user names: letters, digits, '.', '_' or '-' (at most 100)."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise FabnetError(f"{what} name {name!r}: use letters, digits, '.', '_' or '-' "
                          f"(fix: e.g. {example})")


def title_slug(title: str) -> str:
    """A scenario title as a store name: `Europe 2027` -> `europe-2027` ("" for none)."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:100].strip("-")


def scenario_name(sc: Scenario, path: Path) -> str:
    """The default name of an imported scenario: its title as a slug, else the file's."""
    stem = path.stem if path.stem.lower() not in ("scenario", "") else path.parent.name
    return title_slug(sc.name or stem) or "scenario"


def import_scenario(store: Store, path: str | Path, name: str | None = None,
                    note: str = "") -> VersionInfo:
    """Read, check and store a scenario file as the next version of `name`."""
    path = Path(path)
    with paused_gc():  # read, check and hash outside the write transaction
        sc = load_scenario(path)
        remember_sound(sc, rule_warnings(sc))
        version_digests(sc)
        prepare_rows(sc)
    name = name or scenario_name(sc, path)
    check_name(name, "scenario")
    with paused_gc(), store.unit_of_work() as uow:  # no collector walk inside the lock
        info = uow.scenarios.add_version(name, sc, note or f"imported from {path.name}")
        uow.commit()
    return info


def read_scenario_bytes(data: bytes, fmt: ScenarioFormat, label: str) -> Scenario:
    """A scenario file sent as bytes (a YAML document, an XLSX workbook), read and checked
    exactly as `fabnet db import` reads that file from disk, problems naming `label` as
    their file. The readers' limits and zip-bomb checks work on a file, so the bytes go
    to one in a private temporary folder (mode 0700), removed before this returns."""
    with tempfile.TemporaryDirectory(prefix="fabnet-upload-") as tmp:
        path = Path(tmp) / f"upload.{fmt.value}"
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            f.write(data)
        raw = read_raw(path)
    where = str(path)
    raw.source = label
    raw.files = {s: f.replace(where, label) for s, f in raw.files.items()}
    raw.issues = [replace(i, file=i.file.replace(where, label),
                          message=i.message.replace(where, label)) for i in raw.issues]
    return build_scenario(raw)


def import_scenario_bytes(store: Store, data: bytes, fmt: ScenarioFormat,
                          name: str | None = None, note: str = "") -> VersionInfo:
    """Read, check and store a scenario file sent as bytes as the next version of `name`
    (default: its title as a slug, as `fabnet db import` names it)."""
    with paused_gc():  # read, check and hash outside the write transaction
        sc = read_scenario_bytes(data, fmt, f"request.{fmt.value}")
        remember_sound(sc, rule_warnings(sc))
        version_digests(sc)
        prepare_rows(sc)
    name = name or title_slug(sc.name)
    if not name:
        raise FabnetError("the scenario has no name (fix: add ?name=NAME, or a title: "
                          "`scenario: Europe 2027` in YAML, the scenario sheet in a workbook)")
    check_name(name, "scenario", "?name=europe-2027")

    def work(uow: UnitOfWork) -> VersionInfo:
        info = uow.scenarios.add_version(name, sc, note or f"imported through the API "
                                         f"from {fmt.value.upper()}")
        uow.commit()
        return info
    with paused_gc():  # no collector walk inside the write transaction
        return store.run(work)  # retried: two first imports of one name collide on it


def export_scenario(store: Store, name: str, to: str | Path, version: int | None = None,
                    force: bool = False) -> VersionInfo:
    """Write a stored version (default: the newest) as YAML, XLSX or a CSV folder."""
    with store.unit_of_work(read_only=True) as uow:
        info = uow.scenarios.info(name, version)
        sc = uow.scenarios.get(name, info.version)
    save_scenario(sc, to, force=force)
    return info


def load_stored(store: Store, name: str, version: int | None = None) -> Scenario:
    """A stored version (default: the newest) as a `Scenario`."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.scenarios.get(name, version)


def list_scenarios(store: Store) -> list[ScenarioInfo]:
    """Every stored scenario with its newest version."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.scenarios.all()


def list_versions(store: Store, name: str) -> list[VersionInfo]:
    """Every version of one scenario, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.scenarios.versions(name)
