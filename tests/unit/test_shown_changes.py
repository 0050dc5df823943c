"""A what-if's headline shows changes as they round: solver noise is never a "-0"."""

from fabnet.cli.planning import _change


def test_noise_below_the_shown_digit_reads_as_no_change() -> None:
    assert _change((1320.0, 1319.9999998)) == "+0"
    assert _change((0.95, 0.9499999), 100, 1) == "+0.0"


def test_real_changes_keep_their_sign_and_thousands() -> None:
    assert _change((0.0, 1320.4)) == "+1,320"
    assert _change((24_144.0, 0.0)) == "-24,144"
    assert _change((0.95, 0.907), 100, 1) == "-4.3"
