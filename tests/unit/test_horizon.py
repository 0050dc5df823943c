"""Dates name the bucket that contains them."""

from datetime import date

from fabnet.model import BucketKind, Horizon


def test_week_buckets() -> None:
    h = Horizon(date(2027, 1, 4), BucketKind.WEEK, 52)
    assert h.bucket_of(date(2027, 1, 13)) == 1
    assert h.bucket_start(1) == date(2027, 1, 11)
    assert h.bucket_of(date(2027, 1, 3)) == -1
    assert h.end == date(2028, 1, 3)


def test_month_buckets() -> None:
    h = Horizon(date(2027, 1, 1), BucketKind.MONTH, 12)
    assert h.bucket_of(date(2027, 3, 31)) == 2
    assert h.bucket_start(11) == date(2027, 12, 1)
    assert not h.contains(date(2028, 1, 1))


def test_day_buckets() -> None:
    h = Horizon(date(2027, 1, 1), BucketKind.DAY, 10)
    assert h.bucket_of(date(2027, 1, 10)) == 9
    assert h.days == 10
