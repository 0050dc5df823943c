"""Country-of-origin exposure: where each product's parts come from, and what an embargo costs.

For each product, the bill of materials is exploded to the parts bought in (items no
site makes); each part's value (quantity × unit cost) and units are credited to its
country of origin. Items with a single source, and items whose every source sits in one
country, are listed; the embargo what-if re-plans with a whole country stopped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from fabnet.model.scenario import Disruption, ItemKind, Scenario


@dataclass
class Exposure:
    """Shares per product and country, sourcing gaps, and units lost per embargo."""

    value_share: dict[str, dict[str, float]] = field(default_factory=dict)
    unit_share: dict[str, dict[str, float]] = field(default_factory=dict)
    single_sourced: list[str] = field(default_factory=list)
    one_country: dict[str, str] = field(default_factory=dict)
    embargo_lost: dict[str, float] = field(default_factory=dict)
    base_lost: float = 0.0


def bought_parts(sc: Scenario) -> dict[str, dict[str, float]]:
    """Per product: quantity per unit of every part no site makes, through all BOM levels."""
    children: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for b in sc.boms:
        children[b.parent].append((b.item, b.qty))
    made = {m for s in sc.sites for m in s.makes}

    def explode(item: str, qty: float, acc: dict[str, float]) -> None:
        for child, q in children.get(item, ()):
            if child in made and children.get(child):
                explode(child, qty * q, acc)
            else:
                acc[child] += qty * q

    out: dict[str, dict[str, float]] = {}
    for it in sc.items:
        if it.kind is ItemKind.PRODUCT:
            acc: dict[str, float] = defaultdict(float)
            explode(it.id, 1.0, acc)
            out[it.id] = dict(acc)
    return out


def origin_of(sc: Scenario) -> dict[str, str]:
    """Country of origin per item: its `origin`, else its cheapest supplier's country."""
    country = {v.id: v.country for v in sc.suppliers}
    cheapest: dict[str, tuple[float, str]] = {}
    for o in sc.offers:
        if o.item not in cheapest or o.price < cheapest[o.item][0]:
            cheapest[o.item] = (o.price, country[o.supplier])
    out = {}
    for it in sc.items:
        out[it.id] = it.origin or (cheapest[it.id][1] if it.id in cheapest else "unknown")
    return out


def unit_value(sc: Scenario) -> dict[str, float]:
    """Value per unit: `unit_cost`, else the cheapest offer's price, else 0."""
    price: dict[str, float] = {}
    for o in sc.offers:
        price[o.item] = min(price.get(o.item, o.price), o.price)
    return {it.id: it.unit_cost if it.unit_cost is not None else price.get(it.id, 0.0)
            for it in sc.items}


def _shares(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    if total <= 0:
        return {}
    return {k: v / total for k, v in sorted(weights.items(), key=lambda kv: -kv[1])}


def embargo_countries(sc: Scenario) -> list[str]:
    """The countries whose sites and suppliers an embargo what-if stops, one at a time."""
    return sorted({v.country for v in sc.suppliers} | {s.country for s in sc.sites})


def country_exposure(sc: Scenario, embargo_buckets: int = 13,
                     units_lost: Callable[[tuple[Disruption, ...]], float] | None = None,
                     progress: Callable[[int], None] | None = None) -> Exposure:
    """Shares, sourcing gaps and (given a re-planner's `units_lost`) the embargo what-if."""
    ex = Exposure()
    origin, value = origin_of(sc), unit_value(sc)
    for product, parts in bought_parts(sc).items():
        v: dict[str, float] = defaultdict(float)
        u: dict[str, float] = defaultdict(float)
        for item, q in parts.items():
            v[origin[item]] += q * value[item]
            u[origin[item]] += q
        ex.value_share[product] = _shares(v)
        ex.unit_share[product] = _shares(u)
    country = {v.id: v.country for v in sc.suppliers}
    country.update({s.id: s.country for s in sc.sites})
    sources: dict[str, set[str]] = defaultdict(set)
    for o in sc.offers:
        sources[o.item].add(o.supplier)
    for s in sc.sites:
        for m in s.makes:
            sources[m].add(s.id)
    for it in sc.items:
        src = sources.get(it.id, set())
        if len(src) == 1:
            ex.single_sourced.append(it.id)
        elif len(src) > 1 and len({country[x] for x in src}) == 1:
            ex.one_country[it.id] = country[next(iter(src))]
    if units_lost is not None:
        ex.base_lost = units_lost(())
        for c in embargo_countries(sc):
            stop = Disruption(f"embargo-{c}", f"country:{c}", sc.horizon.start, embargo_buckets,
                              0.0)
            ex.embargo_lost[c] = max(units_lost((stop,)) - ex.base_lost, 0.0)
            if progress:
                progress(1)
        ex.embargo_lost = dict(sorted(ex.embargo_lost.items(), key=lambda kv: -kv[1]))
    return ex
