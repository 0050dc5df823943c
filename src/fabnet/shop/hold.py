"""Holds: quality stops a lot or a unit until it is cleared.

A held lot is not consumed, and every unit built from it is held with it (found through
the genealogy when it is checked, so a hold placed after the build still reaches it). A
held unit does not ship. Releasing a hold lifts it; the hold and its release stay on
record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Hold:
    """A hold on a lot (`lot`, at `site`) or a unit (`serial`), with why and by whom."""

    id: int
    reason: str
    placed_at: datetime
    placed_by: str
    lot: str | None = None
    serial: str | None = None
    site: str = ""
    item: str = ""
    released_at: datetime | None = None
    released_by: str | None = None

    @property
    def target(self) -> str:
        """The held lot code or serial."""
        return self.serial or self.lot or ""

    @property
    def active(self) -> bool:
        """True until it is released."""
        return self.released_at is None
