"""The planning horizon: a start date cut into equal buckets (days, weeks or months).

A date names the bucket that contains it: with weekly buckets from Monday 2027-01-04,
Wednesday 2027-01-13 falls into bucket 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class BucketKind(StrEnum):
    """Length of one planning bucket."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    year, month = d.year + m // 12, m % 12 + 1
    return date(year, month, 1)


@dataclass(frozen=True)
class Horizon:
    """`buckets` buckets of kind `bucket` starting on `start`."""

    start: date
    bucket: BucketKind
    buckets: int

    def check_frozen(self, frozen: int) -> None:
        """A frozen horizon of `frozen` buckets fits in this one (0 to `buckets`), else one
        line saying so: past the end it would freeze nothing more, silently."""
        from fabnet.model.errors import FabnetError

        if not 0 <= frozen <= self.buckets:
            raise FabnetError(f"frozen: must be 0 to {self.buckets} (the horizon's "
                              f"{self.bucket}s), got {frozen} (fix: give the number of first "
                              "buckets to keep)")

    def bucket_start(self, t: int) -> date:
        """First day of bucket `t` (bucket `buckets` is the day after the horizon)."""
        if self.bucket is BucketKind.DAY:
            return self.start + timedelta(days=t)
        if self.bucket is BucketKind.WEEK:
            return self.start + timedelta(weeks=t)
        return self.start if t == 0 else _add_months(self.start, t)

    @property
    def end(self) -> date:
        """The first day after the horizon."""
        return self.bucket_start(self.buckets)

    def bucket_of(self, d: date) -> int:
        """Index of the bucket containing `d`; may be < 0 or >= buckets if outside."""
        if self.bucket is BucketKind.DAY:
            return (d - self.start).days
        if self.bucket is BucketKind.WEEK:
            return (d - self.start).days // 7
        months = (d.year - self.start.year) * 12 + d.month - self.start.month
        return months if d >= self.start else min(months, -1)

    def contains(self, d: date) -> bool:
        """True when `d` falls inside the horizon."""
        return self.start <= d < self.end

    @property
    def days(self) -> int:
        """Length of the horizon in days."""
        return (self.end - self.start).days

    def starts(self) -> list[date]:
        """Start date of every bucket."""
        return [self.bucket_start(t) for t in range(self.buckets)]
