"""Limits on what a scenario file may hold, so a hostile or broken file is refused fast.

Each limit is far above any real drone network (hundreds of suppliers, thousands of
demand lines) and far below what would take minutes or gigabytes to read. The readers
check them before parsing or validating; docs/scenario.md ("Limits") lists them.
"""

from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

MiB = 1024 * 1024

MAX_FILE_BYTES = 64 * MiB
"""Largest YAML file, or CSV file per section, that is read."""

MAX_RECORDS = 200_000
"""Most records in one section (rows of a CSV file or sheet, items of a YAML list)."""

MAX_DEPTH = 64
"""Deepest nesting of lists and mappings in a YAML file (a scenario needs 5)."""

MAX_ALIAS_NODES = 100_000
"""Most YAML nodes that aliases (`*name`) may stand for, counted as expanded."""

MAX_UNPACKED_BYTES = 256 * MiB
"""Most bytes an XLSX workbook may unpack to (it is a zip of XML files)."""

MAX_COMPRESSION_RATIO = 200
"""Highest unpacked/packed ratio of a workbook part over 1 MiB (a zip bomb is ~1000)."""

MAX_COLUMNS = 256
"""Most columns read from a CSV file or sheet; cells past them are ignored."""

MAX_ID_LENGTH = 64
"""Longest id of an item, site, supplier, customer, demand, disruption or risk."""

MAX_AMOUNT = 1e12
"""Largest quantity, capacity, cost, count or factor in a scenario: far above any
network's, far below the 1e20 at which HiGHS takes a bound as infinite, so no value is
quietly read as unlimited or lost in rounding."""

MAX_BUCKETS = 10_000
"""Most buckets a horizon has, and so most entries of a per-bucket list (a ramp)."""

MAX_TEXT_LENGTH = 2000
"""Longest name, location or other free text of a record."""

MAX_BUCKET_COUNT = 100_000
"""Most buckets a lead time, transit, duration or delay may span (a horizon has at most
10,000)."""

MAX_TARGET_LENGTH = 2 * MAX_ID_LENGTH + 8
"""Longest disruption, recovery or risk target (`lane:A>B` holds two ids)."""

_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxdict, _repr.maxlist, _repr.maxtuple = 2, 4, 4, 4
_repr.maxstring, _repr.maxother = 80, 80


def short_repr(value: Any, limit: int = 80) -> str:
    """`repr` of a value cut to about `limit` characters, never expanding a big structure."""
    text = _repr.repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def short_text(value: Any, limit: int = 80) -> str:
    """A value as a short label (`str` for scalars), cut to about `limit` characters."""
    text = str(value) if isinstance(value, str | int | float) else short_repr(value, limit)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def read_limited(path: Path) -> bytes | None:
    """A file's bytes, or None when it holds more than `MAX_FILE_BYTES` (read no further)."""
    with path.open("rb") as f:
        data = f.read(MAX_FILE_BYTES + 1)
    return None if len(data) > MAX_FILE_BYTES else data


def too_large(path: Path) -> str:
    """The message for a file over `MAX_FILE_BYTES`."""
    size = path.stat().st_size
    return (f"file is {size / MiB:,.0f} MiB, over the limit of {MAX_FILE_BYTES // MiB} MiB"
            if size > MAX_FILE_BYTES else
            f"file is over the limit of {MAX_FILE_BYTES // MiB} MiB")
