"""Writing outputs without ever losing a user's file.

Every output fabnet writes (a plan folder, a scenario file or CSV folder, a report) is
first written into a temporary sibling and then moved into place, so a reader never sees
half of it and a write killed half-way leaves the previous output as it was.

A folder fabnet writes holds a marker, `.fabnet-output`, listing the files it wrote.
Writing that folder again replaces those files (each by a rename), removes the ones it
no longer produces, and leaves every other file alone: a planner's notes.txt next to the
plan tables survives every re-plan. fabnet refuses, in one line naming the path and the fix:

- a file where a folder is wanted, or a folder where a file is wanted (even with force:
  replacing one by the other would delete what is there);
- a file that is there already, unless `force` (a single file carries no marker, so
  fabnet can't tell a scenario it wrote from the user's own file of that name);
- a non-empty folder without the marker, or a file in a marked folder that has one of
  fabnet's names but that fabnet did not write, unless `force` (then fabnet writes its own
  file names there and keeps every other file);
- a destination that is the source it reads, holds it, or lies inside it (even with force).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path

from fabnet.model.errors import FabnetError

#: the file in a folder fabnet wrote that lists the files it wrote there
MARKER = ".fabnet-output"

_MARKER_HEAD = ("# written by fabnet: the files below are replaced or removed when fabnet "
                "writes this folder again; other files are left alone\n")


class OutputKind(StrEnum):
    """What a destination is to hold."""

    FILE = "file"
    FOLDER = "folder"


class UnsafeDestination(FabnetError):
    """A destination fabnet refuses, because writing there could lose a file it did not write."""


def marked_files(folder: Path) -> set[str] | None:
    """The files fabnet wrote into `folder` last time, or None if it holds no marker."""
    try:
        text = (folder / MARKER).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    names = {ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")}
    return {n for n in names if _plain_name(n)}


def _plain_name(name: str) -> bool:
    """A bare file name (a marker can't make fabnet touch anything outside its folder)."""
    return name not in ("", ".", "..", MARKER) and Path(name).name == name and "/" not in name


def _within(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def _check_sources(dst: Path, sources: Iterable[Path]) -> None:
    d = dst.resolve()
    for src in sources:
        s = Path(src).resolve()
        if d == s:
            raise UnsafeDestination(f"{dst}: is the source being read (fix: write to another "
                                    "path; fabnet never overwrites its input)")
        if _within(s, d):
            raise UnsafeDestination(f"{dst}: holds the source {src} (fix: write to a folder "
                                    "that does not contain the input)")
        if _within(d, s):
            raise UnsafeDestination(f"{dst}: lies inside the source {src} (fix: write "
                                    "outside the input folder)")


def check_destination(dst: Path, kind: OutputKind, *, force: bool = False,
                      sources: Iterable[Path] = (), names: Iterable[str] = ()) -> None:
    """Refuse a destination where writing `kind` (with file `names`) could lose a file.

    Commands call it before any long work, so a refusal comes before the solve, not after.
    """
    _check_sources(dst, sources)
    if not dst.exists() and not dst.is_symlink():
        return
    if kind is OutputKind.FILE:
        if dst.is_dir():
            raise UnsafeDestination(f"{dst}: is a folder, and a file is to be written there "
                                    "(fix: give a file path, e.g. with .yaml or .xlsx, or a "
                                    "path that does not exist yet)")
        if not dst.is_file():
            raise UnsafeDestination(f"{dst}: is not a regular file (fix: give a file path "
                                    "that does not exist yet)")
        if not force:
            raise UnsafeDestination(f"{dst}: exists, and fabnet replaces a file only when "
                                    "told to, since it can't tell who wrote it (fix: give a "
                                    "path that does not exist yet, or add --force to "
                                    "replace it)")
        return
    if not dst.is_dir():
        raise UnsafeDestination(f"{dst}: is a file, and a folder is to be written there "
                                "(fix: give a folder path; fabnet does not replace a file "
                                "with a folder)")
    present = {p.name for p in dst.iterdir()} - {MARKER}
    if not present:
        return
    marked = marked_files(dst)
    if marked is None:
        if not force:
            raise UnsafeDestination(
                f"{dst}: is a folder fabnet did not write and holds {len(present)} file(s) "
                "(fix: give a new or empty folder, or add --force to write fabnet's files "
                "into it and keep the others)")
        return
    clash = sorted(n for n in names if n in present and n not in marked)
    if clash and not force:
        raise UnsafeDestination(f"{dst}: {', '.join(clash[:5])} was not written by fabnet and "
                                "would be replaced (fix: move it away, or add --force to "
                                "replace it)")


def _new_sibling(path: Path) -> Path:
    """A new, empty, hidden folder next to `path` (made with the user's usual permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.name}.fabnet-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
        except FileExistsError:
            continue
        return tmp


def _write_marker(folder: Path, names: Iterable[str]) -> None:
    tmp = folder / f"{MARKER}.{secrets.token_hex(4)}"
    tmp.write_text(_MARKER_HEAD + "".join(f"{n}\n" for n in sorted(names)), encoding="utf-8")
    os.replace(tmp, folder / MARKER)


def _publish_folder(staged: Path, out: Path, force: bool, sources: Iterable[Path]) -> None:
    """Move the files of `staged` into `out`: the folder whole if new, else file by file."""
    names = {p.name for p in staged.iterdir()}
    bad = [n for n in names if not _plain_name(n) or not (staged / n).is_file()]
    if bad:
        raise ValueError(f"only plain files can be written into a folder, got {bad}")
    check_destination(out, OutputKind.FOLDER, force=force, sources=sources, names=names)
    if not out.exists():
        _write_marker(staged, names)
        os.replace(staged, out)
        return
    old = marked_files(out) or set()
    _write_marker(out, old | names)  # a kill from here on leaves nothing unaccounted for
    for n in sorted(names):
        os.replace(staged / n, out / n)
    for n in sorted(old - names):
        stale = out / n
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
    _write_marker(out, names)


@contextmanager
def staged_folder(out: Path, *, force: bool = False,
                  sources: Iterable[Path] = ()) -> Iterator[Path]:
    """A temporary sibling folder to fill; on success its files are published into `out`."""
    sources = tuple(sources)
    check_destination(out, OutputKind.FOLDER, force=force, sources=sources)
    staged = _new_sibling(out)
    try:
        yield staged
        _publish_folder(staged, out, force, sources)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


@contextmanager
def staged_file(out: Path, *, force: bool = False,
                sources: Iterable[Path] = ()) -> Iterator[Path]:
    """A temporary path to write; on success it replaces `out` in one rename."""
    sources = tuple(sources)
    check_destination(out, OutputKind.FILE, force=force, sources=sources)
    tmpdir = _new_sibling(out)
    try:
        tmp = tmpdir / out.name
        yield tmp
        check_destination(out, OutputKind.FILE, force=force, sources=sources)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def write_folder(out: Path, files: Mapping[str, str | bytes], *, force: bool = False,
                 sources: Iterable[Path] = ()) -> None:
    """Write text (or bytes) files into `out`, keeping every file fabnet did not write."""
    with staged_folder(out, force=force, sources=sources) as tmp:
        for name, body in files.items():
            if isinstance(body, bytes):
                (tmp / name).write_bytes(body)
            else:
                (tmp / name).write_text(body, encoding="utf-8")
