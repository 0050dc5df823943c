"""One door in and out for scenarios, whatever their format."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

from fabnet.io.csv_format import read_csv_folder, write_csv_folder
from fabnet.io.safe_write import staged_file, staged_folder
from fabnet.io.tables import RawTables, build_scenario, scenario_tables
from fabnet.io.xlsx_format import read_xlsx, write_xlsx
from fabnet.io.yaml_format import read_yaml, write_yaml
from fabnet.model.errors import FabnetError, Issue, ScenarioError
from fabnet.model.scenario import Scenario


class ScenarioFormat(StrEnum):
    """The forms a scenario can take on disk."""

    YAML = "yaml"
    CSV = "csv"
    XLSX = "xlsx"


def detect_format(path: Path) -> ScenarioFormat:
    """YAML by .yaml/.yml, XLSX by .xlsx, a CSV folder by being a directory (or no suffix)."""
    if path.is_dir() or path.suffix == "":
        return ScenarioFormat.CSV
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return ScenarioFormat.YAML
    if suffix == ".xlsx":
        return ScenarioFormat.XLSX
    raise FabnetError(f"{path}: unknown scenario format {suffix!r} "
                      "(fix: use a .yaml file, a .xlsx workbook or a folder of CSV files)")


def read_raw(path: Path) -> RawTables:
    """Raw tables from any format, without checking them."""
    if not path.exists():
        raise FabnetError(f"{path}: no such file or folder (fix: check the path)")
    fmt = detect_format(path)
    if fmt is not ScenarioFormat.CSV and not path.is_file():
        raise FabnetError(f"{path}: not a regular file (fix: name a .yaml or .xlsx file)")
    if fmt is ScenarioFormat.CSV and not path.is_dir():
        raise FabnetError(f"{path}: not a folder (fix: name a folder of CSV files, a .yaml "
                          "file or a .xlsx workbook)")
    if fmt is ScenarioFormat.YAML:
        return read_yaml(path)
    if fmt is ScenarioFormat.XLSX:
        return read_xlsx(path)
    return read_csv_folder(path)


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario; raise `ScenarioError` listing every problem."""
    raw = read_raw(Path(path))
    return build_scenario(raw)


def validate_path(path: str | Path) -> list[Issue]:
    """Every problem of the scenario at `path` (empty when it is good)."""
    try:
        load_scenario(path)
    except ScenarioError as e:
        return e.issues
    return []


def save_scenario(sc: Scenario, path: str | Path, fmt: ScenarioFormat | None = None, *,
                  force: bool = False, sources: Iterable[str | Path] = ()) -> None:
    """Write a scenario; the file (or folder) appears whole or not at all.

    It never overwrites a file fabnet did not write, nor any of `sources` (see
    `fabnet.io.safe_write`); `force` lets it write its files into a folder it did not make.
    """
    target = Path(path)
    fmt = fmt or detect_format(target) if target.suffix or target.is_dir() else ScenarioFormat.CSV
    tables = scenario_tables(sc)
    srcs = tuple(Path(s) for s in sources)
    if fmt is ScenarioFormat.CSV:
        with staged_folder(target, force=force, sources=srcs) as tmp:
            write_csv_folder(tables, tmp)
        return
    with staged_file(target, force=force, sources=srcs) as tmp:
        if fmt is ScenarioFormat.YAML:
            write_yaml(tables, tmp)
        else:
            write_xlsx(tables, tmp)


def convert(src: str | Path, dst: str | Path, force: bool = False) -> Scenario:
    """Read a scenario in one format and write it in another, losslessly (never over `src`)."""
    sc = load_scenario(src)
    save_scenario(sc, dst, force=force, sources=(src,))
    return sc
