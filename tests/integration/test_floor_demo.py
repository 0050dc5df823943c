"""`make demo`'s floor story on the Europe example: a fresh store each time, a failed test
and its retest, two units shipped, a held lot that stops the third and traces to the
customer."""

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
    again, _ = run_floor_demo(EUROPE, tmp_path / "demo-floor")
    assert again != db and db.exists()  # a new store, the first one left as it was
