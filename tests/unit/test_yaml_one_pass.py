"""The one-pass YAML reader gives exactly what PyYAML's lenient safe loader gives, for
ordinary scenarios and for every YAML feature it leaves to the careful two-pass reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fabnet.io import yaml_guard

ROOT = Path(__file__).resolve().parents[2]


def _reference(text: str) -> Any:
    """What the careful reader (scan, then PyYAML's lenient safe loader) reads."""
    return yaml_guard._careful(text)


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 and 1.0 and True differ)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) or (a != a and b != b)  # NaN reads as NaN


def test_the_europe_example_reads_the_same() -> None:
    text = (ROOT / "examples/europe/scenario.yaml").read_text()
    assert _same(yaml_guard.load(text), _reference(text))


@pytest.mark.parametrize("text", [
    "a: 1\nb: 1.5\nc: yes\nd: ~\ne: 2027-01-04\nf: 2027-02-30\ng: '12'\nh: 0x1F\ni: 1_000\n",
    "a: .inf\nb: -.Inf\nc: .nan\nd: 1e3\ne: +12\nf: 0o17\ng: 2027-01-04T10:00:00Z\n",
    "a: !!str 12\nb: !!int '7'\nc: !!float '2'\nd: \"x\"\ne: 99999999999999999999999\n",
    "base: &b {x: 1, y: [1, 2]}\nuse: *b\nlist: [*b, *b]\n",
    "base: &b {x: 1}\nmerged: {<<: *b, y: 2}\n",  # a merge key: the careful reader
    "a: !!binary aGVsbG8=\nb: !!set {x, y}\nc: !!omap [{a: 1}]\n",
    "1: int key\n2027-01-04: date key\nnull: null key\nfalse: bool key\n",
    "",
    "# only a comment\n",
    "- 1\n- [2, [3, {x: [4]}]]\n",
    "a: &s [1, *s]\n",  # a list that holds itself
])
def test_every_yaml_feature_reads_as_the_safe_loader_reads_it(text: str) -> None:
    fast = yaml_guard.load(text)
    if "&s [1, *s]" in text:  # a cycle: compare its shape
        assert fast["a"][0] == 1 and fast["a"][1] is fast["a"]
        return
    assert _same(fast, _reference(text))


@pytest.mark.parametrize("text", ["a: [1, 2\n", "a: 1\n---\nb: 2\n", "a: b: c\n",
                                  "a: !!python/object:os.system x\n", "a: *nope\n",
                                  "? [1, 2]\n: unhashable key\n"])
def test_a_broken_document_raises_the_careful_readers_error(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as careful:
        _reference(text)
    with pytest.raises(yaml.YAMLError) as fast:
        yaml_guard.load(text)
    assert str(fast.value) == str(careful.value)


_scalars = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False),
                     st.booleans(), st.none(), st.dates(), st.text(max_size=12))
_docs = st.recursive(_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), kids, max_size=4)),
    max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_docs, st.sampled_from([None, True, False]))
def test_random_documents_read_the_same(doc: Any, flow: bool | None) -> None:
    text = yaml.safe_dump({"doc": doc}, default_flow_style=flow, allow_unicode=True)
    assert _same(yaml_guard.load(text), _reference(text))


def test_a_long_file_goes_to_the_careful_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Over `MAX_FAST_TEXT` the file is scanned before anything is composed."""
    monkeypatch.setattr(yaml_guard, "MAX_FAST_TEXT", 10)
    with pytest.raises(yaml_guard.Refused) as e:
        yaml_guard.load("a: [" + ",".join(["1"] * 200_001) + "]\n")
    assert "more than 200,000 entries" in e.value.why and e.value.mark.column > 0


@pytest.mark.parametrize("text", [
    "scenario: a\nhorizon: {start: 2027-01-04, buckets: 4}\nscenario: b\n",
    "items:\n  - {id: A, name: x, id: B}\n",
    "base: &b {id: A}\nitems:\n  - <<: *b\n    name: x\n    name: y\n",
])
def test_a_key_given_twice_is_refused_by_both_readers(text: str) -> None:
    """YAML would keep the second value and drop the first without a word."""
    for read in (yaml_guard.load, yaml_guard._careful):
        with pytest.raises(yaml_guard.Refused, match="is given twice in one mapping") as e:
            read(text)
        assert e.value.mark is not None


def test_a_merged_key_given_again_is_an_override_not_a_repeat() -> None:
    text = "base: &b {id: A, name: x}\nitems:\n  - <<: *b\n    name: y\n"
    assert yaml_guard.load(text)["items"] == [{"id": "A", "name": "y"}]
