"""The domain: scenario records and the compiled `Network` every engine shares."""

from fabnet.model.errors import FabnetError, Issue, ScenarioError, Severity
from fabnet.model.horizon import BucketKind, Horizon
from fabnet.model.network import Network, compile_network
from fabnet.model.scenario import (
    BomLine,
    Customer,
    Demand,
    Disruption,
    DurationDist,
    InventoryRecord,
    Item,
    ItemKind,
    Lane,
    NodeKind,
    Offer,
    Recovery,
    Risk,
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
    "DurationDist",
    "FabnetError",
    "Horizon",
    "InventoryRecord",
    "Issue",
    "Item",
    "ItemKind",
    "Lane",
    "Network",
    "NodeKind",
    "Offer",
    "Recovery",
    "Risk",
    "RoutingStep",
    "Scenario",
    "ScenarioError",
    "Severity",
    "Site",
    "Supplier",
    "WorkCenter",
    "compile_network",
]
