"""Guarded YAML parsing: a scenario document read in one pass, within the input limits.

The fast path composes the document in libyaml while a resolver hook, which libyaml
calls for every node, counts nodes and list entries; a walk of the composed nodes then
builds the data, checking the depth, sharing aliased nodes and counting what aliases
would expand to.
Anything that path would not read exactly as PyYAML's safe loader does, anything near a
limit (`MAX_DEPTH`, `MAX_RECORDS`, `MAX_ALIAS_NODES`, `MAX_FAST_VALUES`) and any file longer
than `MAX_FAST_TEXT` is read the careful way: its parse events scanned for the limits
first, so a hostile file is refused in moments, naming the line where the scan stopped.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from fabnet.io import limits

MAX_FAST_TEXT = 16 * 1024 * 1024
"""Characters up to which a file is read in one pass; a longer one is scanned first, so
that a huge hostile list is refused before any of it is composed."""

MAX_FAST_VALUES = 2_000_000
"""Values the one-pass reader composes before it leaves the file to the careful reader:
bounds what is composed before every limit is checked (about 0.7 GB at most)."""

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader (libyaml's when present) with lenient dates and integers, refusing
    a key given twice in one mapping."""

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for k_node, _ in node.value:
            if isinstance(k_node, yaml.ScalarNode) and k_node.tag != _MERGE:
                key = self.construct_object(k_node, deep=deep)
                if key in seen:
                    raise twice(key, k_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


def twice(key: Any, mark: Any) -> Refused:
    """A key given twice in one mapping: YAML would keep the second and drop the first."""
    return Refused(f"key {str(key)[:60]!r} is given twice in one mapping",
                   "keep one of them: the second would silently replace the first", mark)


def _lenient(build: Any) -> Any:
    """A constructor that leaves a scalar as text when it can't be built (`2027-02-30`)."""
    def construct(loader: Any, node: yaml.ScalarNode) -> Any:
        try:
            return build(loader, node)
        except ValueError:
            return loader.construct_scalar(node)
    return construct


_Loader.add_constructor("tag:yaml.org,2002:timestamp",
                        _lenient(SafeConstructor.construct_yaml_timestamp))
_Loader.add_constructor("tag:yaml.org,2002:int", _lenient(SafeConstructor.construct_yaml_int))


class Refused(Exception):
    """A document over one of the limits, with where the scan stopped."""

    def __init__(self, why: str, fix: str, mark: Any) -> None:
        super().__init__(why)
        self.why, self.fix, self.mark = why, fix, mark


def scan(text: str) -> None:
    """Walk the parse events once, refusing deep nesting, huge lists and alias bombs.

    `size` counts nodes as they would be after expanding aliases; an anchor's subtree size
    is what an alias to it adds. Written as one tight loop: it sees every event."""
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    seq_start, map_start = yaml.SequenceStartEvent, yaml.MappingStartEvent
    seq_end, map_end = yaml.SequenceEndEvent, yaml.MappingEndEvent
    records, depth_limit, alias_limit = limits.MAX_RECORDS, limits.MAX_DEPTH, \
        limits.MAX_ALIAS_NODES
    stack: list[tuple[int, int, int, str | None]] = []  # outer (count, cap, size, anchor)
    anchors: dict[str, int] = {}
    count, cap, size, expanded = 0, records, 0, 0  # documents: the loader says
    ev: Any
    for ev in yaml.parse(text, Loader=_BaseLoader):
        t = type(ev)
        if t is scalar:
            size += 1
            count += 1
            if ev.anchor is not None:
                anchors[ev.anchor] = 1
        elif t is map_start or t is seq_start:
            count += 1
            if count > cap:
                raise Refused(f"a list or mapping with more than {records:,} entries",
                               "split the scenario or remove records", ev.start_mark)
            stack.append((count, cap, size, ev.anchor))
            if len(stack) > depth_limit:
                raise Refused(f"nested deeper than {depth_limit} levels",
                               "a scenario nests sections, records and lists only", ev.start_mark)
            count, cap = 0, records if t is seq_start else 2 * max(records, 1_000)
            size += 1
            continue
        elif t is map_end or t is seq_end:
            count, cap, first, anchor = stack.pop()
            if anchor is not None:
                anchors[anchor] = size - first
        elif t is alias:
            nodes = anchors.get(ev.anchor or "", 1)
            size += nodes
            expanded += nodes
            count += 1
            if expanded > alias_limit:
                raise Refused(f"aliases expand to more than {alias_limit:,} values",
                               "write the records out instead of using *aliases",
                               ev.start_mark)
        else:
            continue
        if count > cap:
            raise Refused(f"a list or mapping with more than {records:,} entries",
                           "split the scenario or remove records", ev.start_mark)


class _Over(Exception):
    """The one-pass reader met something it leaves to the careful reader."""


_TAG = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP, _MERGE = _TAG + "str", _TAG + "seq", _TAG + "map", _TAG + "merge"
_SCALARS = frozenset(_TAG + t for t in ("int", "float", "bool", "null", "timestamp"))


class _Counted(_Loader):
    """The lenient safe loader, counting in libyaml's resolver calls: nodes composed and
    the entry index in a list, stopping over a limit. Tags of plain scalars are resolved
    once per value (a C-level cache), and climbing out of a node costs nothing: the
    walk checks the depth."""

    ascend_resolver = staticmethod(tuple)  # a no-op called from C without a Python frame

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.values = 0
        self.resolve = lru_cache(maxsize=None)(super().resolve)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        self.values += 1
        if self.values > MAX_FAST_VALUES or (type(current_index) is int
                                             and current_index >= limits.MAX_RECORDS):
            raise _Over

    def close(self) -> None:
        """Free the parser and the tag cache (which refers back to this loader)."""
        self.dispose()
        del self.resolve


def _build(loader: _Counted, root: Any) -> Any:
    """The data of a composed document, as the safe loader builds it; aliased nodes are
    built once and shared. Raises `_Over` for what it leaves to the careful reader:
    nesting deeper than `MAX_DEPTH`, or aliases standing for more than `MAX_ALIAS_NODES`
    values."""
    built: dict[int, Any] = {}
    sizes: dict[int, int] = {}  # an aliased collection's size with its aliases expanded
    scalars: dict[tuple[str, str], Any] = {}
    constructors = loader.yaml_constructors
    scalar_node, seq_node, map_node = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
    busy = object()
    deepest, alias_limit = limits.MAX_DEPTH, limits.MAX_ALIAS_NODES
    aliased = 0  # values that aliases to collections stand for

    def size(node: Any) -> int:
        """Values in `node` with its aliases expanded (built nodes only: no cycles)."""
        if type(node) is scalar_node:
            return 1
        nid = id(node)
        if nid not in sizes:
            kids = node.value if type(node) is seq_node else [n for kv in node.value for n in kv]
            sizes[nid] = 1 + sum(size(k) for k in kids)
            if sizes[nid] > alias_limit:
                raise _Over
        return sizes[nid]

    def build(node: Any, depth: int) -> Any:
        nonlocal aliased
        t = type(node)
        if t is scalar_node:
            tag = node.tag
            if tag == _STR:
                return node.value
            if tag not in _SCALARS:
                raise _Over
            key = (tag, node.value)
            if key not in scalars:
                scalars[key] = constructors[tag](loader, node)
            return scalars[key]
        nid = id(node)
        hit = built.get(nid)
        if hit is busy:  # a collection that holds itself
            raise _Over
        if hit is not None:  # an alias
            aliased += size(node)
            if aliased > alias_limit:
                raise _Over
            return hit
        if depth > deepest:
            raise _Over
        built[nid] = busy
        inner = depth + 1
        if t is seq_node and node.tag == _SEQ:
            out: Any = [build(child, inner) for child in node.value]
        elif t is map_node and node.tag == _MAP:
            out = {}
            for k_node, v_node in node.value:
                if k_node.tag == _MERGE:
                    raise _Over
                k = build(k_node, inner)
                if isinstance(k, (list, dict)):
                    raise _Over
                if k in out:
                    raise twice(k, k_node.start_mark)
                out[k] = build(v_node, inner)
        else:
            raise _Over
        built[nid] = out
        return out

    return build(root, 1)


def load(text: str) -> Any:
    """The one document of `text`, as PyYAML's lenient safe loader reads it; raises
    `Refused` over a limit and PyYAML's errors for a broken document."""
    if len(text) > MAX_FAST_TEXT:
        return _careful(text)
    loader = _Counted(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _build(loader, node)
    except (_Over, yaml.YAMLError, ValueError, TypeError, RecursionError):
        pass  # the careful reader says exactly what is wrong, or reads it
    finally:
        loader.close()
    return _careful(text)


def _careful(text: str) -> Any:
    """Scan the parse events for the limits, then load: two passes, exact messages."""
    scan(text)
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
