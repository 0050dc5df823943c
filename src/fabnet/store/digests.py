"""Content hashes of scenario versions, computed from cached canonical texts of their rows.

A version's content hash is the SHA-256 of the canonical JSON of the whole scenario
(`mapping.content_sha256`). Rebuilding that text record by record costs seconds for a
large scenario, so each record's text and each section's text are kept while their
objects live: a one-row edit re-joins texts that are already made and hashes them,
like a typesetter who resets one line and keeps the rest of the page standing. The
result is the same hash, byte for byte (a test checks it against `content_sha256`).
"""

from __future__ import annotations

import gc
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fabnet.model.scenario import Scenario
from fabnet.store.mapping import (
    LATER_SECTIONS,
    SECTIONS,
    canonical_json,
    hashed_json,
    section_records,
)
from fabnet.store.records import SectionRecord

#: how many record and section texts are kept (the newest; about one large scenario's)
MAX_RECORD_TEXTS = 400_000
MAX_SECTION_TEXTS = 256

_lock = threading.Lock()
# id(object) -> (the object, kept alive so the id stays its own; its canonical text)
_record_texts: OrderedDict[int, tuple[SectionRecord, str]] = OrderedDict()
_section_texts: OrderedDict[int, tuple[tuple[SectionRecord, ...], str]] = OrderedDict()

_gc_lock = threading.Lock()
_gc_pauses = 0


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large batch of records is built or read:
    the records hold no cycles, and each collection walks every object made so far, which
    makes building tens of thousands of them several times slower. Nests and is shared
    by threads; the collector runs again when the last pause ends."""
    global _gc_pauses
    with _gc_lock:
        _gc_pauses += 1
        if _gc_pauses == 1:
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0:
                gc.enable()


def record_text(rec: SectionRecord) -> str:
    """A record's canonical JSON as content hashes see it (`hashed_json`)."""
    hit = _record_texts.get(id(rec))
    if hit is not None and hit[0] is rec:
        return hit[1]
    text = canonical_json(hashed_json(rec))
    with _lock:
        _record_texts[id(rec)] = (rec, text)
        while len(_record_texts) > MAX_RECORD_TEXTS:
            _record_texts.popitem(last=False)
    return text


def section_text(records: tuple[SectionRecord, ...]) -> str:
    """A section's canonical JSON: the list of its records' texts."""
    hit = _section_texts.get(id(records))
    if hit is not None and hit[0] is records:
        return hit[1]
    text = join_texts([record_text(r) for r in records])
    if len(records) > 8:  # small sections are cheap to rebuild
        with _lock:
            _section_texts[id(records)] = (records, text)
            while len(_section_texts) > MAX_SECTION_TEXTS:
                _section_texts.popitem(last=False)
    return text


def join_texts(texts: list[str]) -> str:
    """The canonical JSON of a list, from its elements' canonical JSON."""
    return "[" + ",".join(texts) + "]"


def sha256_text(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def version_digests(sc: Scenario) -> tuple[str, dict[str, str]]:
    """The content hash of `sc` (equal to `mapping.content_sha256`) and the hash of each
    non-empty section (equal to `scenarios.sections_sha256`)."""
    texts = {s: section_text(section_records(sc, s)) for s in SECTIONS}
    h = sc.horizon
    horizon = {"start": h.start.isoformat(), "bucket": h.bucket.value, "buckets": h.buckets}
    return content_sha256_of(sc.name, horizon, texts, {s for s in SECTIONS
                                                      if section_records(sc, s)}), \
        {s: sha256_text(t) for s, t in texts.items() if section_records(sc, s)}


def content_sha256_of(name: str, horizon: Mapping[str, Any], texts: Mapping[str, str],
                      non_empty: set[str]) -> str:
    """The content hash from a version's title, horizon (JSON) and section texts: the
    canonical JSON of `mapping.scenario_json`, assembled without re-encoding the rows."""
    parts: dict[str, str] = {"name": canonical_json(name), "horizon": canonical_json(horizon)}
    for s in SECTIONS:
        if s in non_empty or s not in LATER_SECTIONS:
            parts[s] = texts.get(s, "[]")
    body = ",".join(f"{canonical_json(k)}:{parts[k]}" for k in sorted(parts))
    return sha256_text("{" + body + "}")
