"""Export licences: which end user may receive which items, how many, where and when.

A licence is granted by an export authority to one end user (`customer`) in one
destination country for a list of items, up to `qty` units over its life, valid from
`start` to `until` (both days included), against an end-user certificate (`euc`).
Like a visa in a passport, it opens on its first day and closes after its last; a
`pending` licence opens on its first day too (it is expected to be granted by then),
while an `expired` or `revoked` one never opens again.

The planner reads the records of a scenario; the shipping gate reads the same record
with a remaining quantity from the store. Both ask the record the same questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class LicenceStatus(StrEnum):
    """Where a licence stands with its authority."""

    PENDING = "pending"  # applied for: counts from its first day
    VALID = "valid"
    EXPIRED = "expired"  # never counts, whatever its dates say
    REVOKED = "revoked"  # never counts, whatever its dates say

    @property
    def counts(self) -> bool:
        """Whether a licence in this status may cover a delivery inside its window."""
        return self in (LicenceStatus.PENDING, LicenceStatus.VALID)


@dataclass(frozen=True)
class Licence:
    """Up to `qty` units of `items` to end user `customer` in `country`, from `start` to
    `until` (days included), under end-user certificate `euc` issued by `authority`."""

    id: str
    customer: str
    country: str
    items: tuple[str, ...]
    qty: float
    start: date
    until: date
    euc: str = ""
    status: LicenceStatus = LicenceStatus.VALID
    authority: str = ""

    def is_open(self, on: date) -> bool:
        """Whether the licence may cover a delivery arriving on day `on`."""
        return self.status.counts and self.start <= on <= self.until

    def covers(self, item: str, country: str, on: date) -> bool:
        """Whether the licence may cover `item` arriving in `country` on day `on`
        (its remaining quantity aside: that is the store's or the plan's to count)."""
        return item in self.items and country == self.country and self.is_open(on)

    def open_over(self, first: date, end: date) -> bool:
        """Whether the licence is open on every day from `first` to before `end` (a whole
        planning bucket: the plan can't tell on which of its days a delivery arrives)."""
        return self.is_open(first) and self.is_open(end - timedelta(days=1))
