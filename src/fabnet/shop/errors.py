"""What the floor refuses, each error named for the rule it enforces."""

from __future__ import annotations

from fabnet.model.errors import FabnetError


class FloorError(FabnetError):
    """A floor action that can't be done as asked; the message says why and the fix."""


class NotPermitted(FloorError):
    """The caller's role, or their sites, do not allow this floor action."""


class Shortage(FloorError):
    """A build needs more of a component than the site has free (nothing was booked)."""

    def __init__(self, work_order: str, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(f"{work_order}: not enough to build, nothing was booked: "
                         f"{'; '.join(missing)} (fix: receive the missing lots, release "
                         "their holds, or build fewer units)")


class ShipRefused(FloorError):
    """A shipment refused as a whole, with the reason for each unit that can't go."""

    def __init__(self, customer: str, reasons: dict[str, str], general: str = "") -> None:
        self.reasons = reasons
        self.general = general
        parts = ([general] if general else []) + [f"{s}: {r}" for s, r in reasons.items()]
        super().__init__(f"shipment to {customer} refused, nothing shipped: "
                         f"{'; '.join(parts)}")
