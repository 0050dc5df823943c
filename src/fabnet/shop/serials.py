"""Serial numbers for the units of serialized items, from each item's pattern.

The grammar is `fabnet.model.serial_pattern` (the scenario is checked against it); here
a build draws the next numbers of a pattern's scope from a counter kept in the store, so
two builds, even at once, never hand out one serial twice.
"""

from __future__ import annotations

from datetime import date

from fabnet.model.scenario import Item
from fabnet.model.serial_pattern import DEFAULT_PATTERN, SerialPattern


def pattern_of(item: Item) -> SerialPattern:
    """The serial pattern of a serialized item (the default when it names none)."""
    return SerialPattern.parse(item.serial_pattern or DEFAULT_PATTERN)


def serials(pattern: SerialPattern, item: str, site: str, on: date, first: int,
            n: int) -> list[str]:
    """`n` serials of the scope, numbers `first` … `first + n - 1`."""
    return [pattern.render(item, site, on, k) for k in range(first, first + n)]
