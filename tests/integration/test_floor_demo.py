"""`make demo`'s floor story on the Europe example: a fresh store each time, a failed test
and its retest, two units shipped, a complete unit refused under a licence that expired
yesterday, a held lot that stops the third and traces to the customer, and an ECO's
impact on work orders, units and component demand."""

from __future__ import annotations

from pathlib import Path

from fabnet.services.floor_demo import run_floor_demo

EUROPE = Path(__file__).parents[2] / "examples" / "europe" / "scenario.yaml"


def test_the_floor_story_runs_on_a_fresh_store_and_tells_every_step(tmp_path: Path) -> None:
    db, story = run_floor_demo(EUROPE, tmp_path / "demo-floor")
    text = "\n".join(story.lines)
    assert db.exists() and db.parent.parent == tmp_path / "demo-floor"
    assert len(story.serials) == 3 and "FAILED" in text and "retested" in text
    assert f"refused: on hold: lot {story.held_lot}" in text
    assert "shipped at UA-MOD" in text
    # whichever serialized product the plan's first week builds (optimal plans may differ
    # in which order comes first; the story must hold for each)
    assert story.refused.startswith(f"no valid licence covers {story.item} to FR-DGA")
    assert "L-FR-DEMO expired" in story.refused
    assert f"{story.serials[2]} to FR-DGA refused: {story.refused}" in text
    assert story.eco == "ECO-1" and "sent it to review" in text
    impact = next(ln for ln in story.lines if ln.startswith("ECO-1 impact:"))
    # the open first-week order of the product, its 3 units (2 delivered), and the part
    # whose quantity went up bought more
    assert "1 open work orders build the old design" in impact
    assert "1 units in stock and 2 delivered carry it" in impact
    assert f"{story.part} purchases +" in impact
    again, _ = run_floor_demo(EUROPE, tmp_path / "demo-floor")
    assert again != db and db.exists()  # a new store, the first one left as it was


def test_the_story_measures_inside_and_outside_every_limit_of_the_example() -> None:
    """A good reading passes and a bad one fails for every step with limits, negative
    ones too (a datalink's -90 dBm floor)."""
    from fabnet.io.scenario_io import load_scenario
    from fabnet.services.floor_demo import _value

    plans = [p for p in load_scenario(EUROPE).test_plans
             if p.min is not None or p.max is not None]
    assert any(p.min is not None and p.min < 0 for p in plans)
    for p in plans:
        assert p.judge(True, _value(p, True)), p
        assert not p.judge(True, _value(p, False)), p
