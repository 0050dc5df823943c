"""Dates name the bucket that contains them."""

from datetime import date
from pathlib import Path

import pytest

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


def test_a_frozen_horizon_past_the_end_is_refused_by_every_door(tmp_path: Path) -> None:
    """Past the horizon a frozen count would keep nothing more, silently: one line."""
    from fabnet.io import load_scenario
    from fabnet.model.errors import FabnetError
    from fabnet.resilience.montecarlo import stress_test
    from fabnet.services.continuity import whatif_disruptions
    from tests.unit.test_validation import BASE

    p = tmp_path / "s.yaml"
    p.write_text(BASE)
    sc = load_scenario(p)
    sc.horizon.check_frozen(0)
    sc.horizon.check_frozen(sc.horizon.buckets)
    for run in (lambda: sc.horizon.check_frozen(sc.horizon.buckets + 1),
                lambda: sc.horizon.check_frozen(-1),
                lambda: whatif_disruptions(sc, (), frozen=99_999),
                lambda: stress_test(sc, 2, 0, frozen=99_999)):
        with pytest.raises(FabnetError, match=r"^frozen: must be 0 to 8 \(the horizon's "
                                              r"weeks\), got .* \(fix: give the number"):
            run()
