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
from itertools import compress, count
from operator import is_not
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
# per record type, the section joined last and its records' texts, to splice the next from
_last_texts: dict[type, tuple[tuple[SectionRecord, ...], list[str]]] = {}
#: the most records between the shared ends that a splice re-encodes
SPLICE_AT_MOST = 1024
_section_hashes: OrderedDict[int, tuple[tuple[SectionRecord, ...], str]] = OrderedDict()
# id(scenario) -> (the scenario, its digests): a version's hashes, made before its write
# transaction, are taken again inside it
_version_digests: OrderedDict[int, tuple[Scenario, tuple[str, dict[str, str]]]] = OrderedDict()
MAX_VERSION_DIGESTS = 4

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
    text = join_texts(_record_texts_of(records))
    if len(records) > 8:  # small sections are cheap to rebuild
        with _lock:
            _section_texts[id(records)] = (records, text)
            while len(_section_texts) > MAX_SECTION_TEXTS:
                _section_texts.popitem(last=False)
    return text


def _record_texts_of(records: tuple[SectionRecord, ...]) -> list[str]:
    """The texts of a section's records; when the section last joined of this kind holds
    the very same objects at both ends (an edit's section), its texts there are reused."""
    if not records:
        return []
    kind = type(records[0])
    last = _last_texts.get(kind)
    texts: list[str] | None = None
    if last is not None:
        prev, prev_texts = last
        head, tail = common_ends(prev, records)
        if len(records) - head - tail <= SPLICE_AT_MOST:
            texts = [*prev_texts[:head],
                     *(record_text(r) for r in records[head:len(records) - tail]),
                     *prev_texts[len(prev) - tail:]]
    if texts is None:
        texts = [record_text(r) for r in records]
    with _lock:
        _last_texts[kind] = (records, texts)
    return texts


def common_ends(old: tuple[Any, ...], new: tuple[Any, ...]) -> tuple[int, int]:
    """How many items at the start and at the end of `new` are the very objects of `old`
    at the same places (compared by identity, in C: a one-row edit of a section of tens
    of thousands of rows costs a millisecond)."""
    n = min(len(old), len(new))
    head = next(compress(count(), map(is_not, old, new)), n)
    tail = next(compress(count(), map(is_not, reversed(old), reversed(new))), n)
    return head, min(tail, n - head)


def join_texts(texts: list[str]) -> str:
    """The canonical JSON of a list, from its elements' canonical JSON."""
    return "[" + ",".join(texts) + "]"


def sha256_text(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def section_sha256(records: tuple[SectionRecord, ...]) -> str:
    """The SHA-256 of a section's canonical JSON (kept while the section lives)."""
    hit = _section_hashes.get(id(records))
    if hit is not None and hit[0] is records:
        return hit[1]
    digest = sha256_text(section_text(records))
    with _lock:
        _section_hashes[id(records)] = (records, digest)
        while len(_section_hashes) > MAX_SECTION_TEXTS:
            _section_hashes.popitem(last=False)
    return digest


def version_digests(sc: Scenario) -> tuple[str, dict[str, str]]:
    """The content hash of `sc` (equal to `mapping.content_sha256`) and the hash of each
    non-empty section (equal to `scenarios.sections_sha256`); computed once per scenario
    object while it is among the newest few."""
    hit = _version_digests.get(id(sc))
    if hit is not None and hit[0] is sc:
        return hit[1]
    texts = {s: section_text(section_records(sc, s)) for s in SECTIONS}
    h = sc.horizon
    horizon = {"start": h.start.isoformat(), "bucket": h.bucket.value, "buckets": h.buckets}
    got = content_sha256_of(sc.name, horizon, texts, {s for s in SECTIONS
                                                     if section_records(sc, s)}), \
        {s: section_sha256(section_records(sc, s)) for s in SECTIONS if section_records(sc, s)}
    with _lock:
        _version_digests[id(sc)] = (sc, got)
        while len(_version_digests) > MAX_VERSION_DIGESTS:
            _version_digests.popitem(last=False)
    return got[0], dict(got[1])


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
