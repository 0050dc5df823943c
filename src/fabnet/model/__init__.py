"""The domain: scenario records and the compiled `Network` every engine shares."""

from fabnet.model.errors import FabnetError, Issue, ScenarioError
from fabnet.model.horizon import BucketKind, Horizon
from fabnet.model.network import Network, compile_network
from fabnet.model.scenario import (
    BomLine,
    Customer,
    Demand,
    Disruption,
    InventoryRecord,
    Item,
    ItemKind,
    Lane,
    Offer,
    RoutingStep,
    Scenario,
    Site,
    Supplier,
    WorkCenter,
)

__all__ = [
    "BomLine",
    "BucketKind",
    "Customer",
    "Demand",
    "Disruption",
    "FabnetError",
    "Horizon",
    "InventoryRecord",
    "Issue",
    "Item",
    "ItemKind",
    "Lane",
    "Network",
    "Offer",
    "RoutingStep",
    "Scenario",
    "ScenarioError",
    "Site",
    "Supplier",
    "WorkCenter",
    "compile_network",
]
