"""Why a demand is late or lost, in terms a planner can act on.

A shortfall's reason is read from the LP, not guessed: the binding rows with a non-zero
dual at the level that decided the demand (its priority class for lost units, the
lateness level for late ones), restricted to the rows that can touch the demand (work
centers making its item or components, offers of those items, lanes carrying them).
Where no such row binds, the limit is time: the earliest any unit could arrive.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import numpy as np

from fabnet.model.consistency import cannot_make
from fabnet.model.network import FloatArray, IntArray, Network
from fabnet.plan.lp import PlanningLP
from fabnet.plan.solve import PlanResult

DUAL_TOL = 1e-7
SLACK_TOL = 1e-5


def bom_explosion(net: Network) -> list[set[int]]:
    """For each item, itself and every item below it in the BOM."""
    children: dict[int, list[int]] = defaultdict(list)
    for p, c in zip(net.bom_parent.tolist(), net.bom_child.tolist(), strict=True):
        children[p].append(c)
    memo: dict[int, set[int]] = {}
    opened: set[int] = set()  # items whose components are being worked out
    for root in range(len(net.items)):
        # depth first on a stack of its own (a BOM thousands of levels deep is fine): an
        # item's set is made after all its components' sets
        todo = [(root, False)]
        while todo:
            i, ready = todo.pop()
            if i in memo:
                continue
            if ready:
                got = {i}
                for c in children.get(i, ()):
                    got |= memo.get(c, {c})
                memo[i] = got
                opened.discard(i)
            elif i not in opened:  # (an item already open is a cycle: not followed)
                opened.add(i)
                todo.append((i, True))
                todo.extend((c, False) for c in children.get(i, ()) if c not in memo)
    return [memo[i] for i in range(len(net.items))]


def earliest_arrival(net: Network) -> IntArray:
    """Earliest bucket each demand could arrive, ignoring capacity (a lead-time bound).

    Production and transfers pass their earliest buckets on, key after key, until
    nothing moves (at most one round per item and site, and one more); the rounds go over
    plain lists, each key updated in place as it is reached.
    """
    T = net.buckets
    big = 10 * T + 10**6
    key = {(s, i): k for k, (s, i) in
           enumerate(zip(net.stock_site.tolist(), net.stock_item.tolist(), strict=True))}
    e = np.full(net.stock_site.size, big, dtype=np.int64)
    e[net.stock_open > 0] = 0
    if net.pur_offer.size:
        bought = [key[(s, i)] for s, i in zip(net.pur_site.tolist(),
                                              net.offer_item[net.pur_offer].tolist(),
                                              strict=True)]
        np.minimum.at(e, bought, net.offer_lead[net.pur_offer] + net.lane_transit[net.pur_lane])
    comps: dict[int, list[int]] = defaultdict(list)
    for p, c in zip(net.bom_parent.tolist(), net.bom_child.tolist(), strict=True):
        comps[p].append(c)
    first_open = np.full(net.make_site.size, 0, dtype=np.int64)
    if net.use_make.size:
        running = net.wc_hours > 0
        opens = np.where(running.any(axis=1), running.argmax(axis=1), big)
        np.maximum.at(first_open, net.use_make, opens[net.use_wc])
    # (own key, component keys, first bucket its work centers run) per make pair, and
    # (from key, to key, transit) per transfer arc
    makes = [(key[(s, i)], [key[(s, c)] for c in comps.get(i, [])], f)
             for s, i, f in zip(net.make_site.tolist(), net.make_item.tolist(),
                                first_open.tolist(), strict=True)]
    moves = [(key[(a, i)], key[(b, i)], t) for a, b, i, t in
             zip(net.tr_from.tolist(), net.tr_to.tolist(), net.tr_item.tolist(),
                 net.lane_transit[net.tr_lane].tolist(), strict=True)]
    el: list[int] = e.tolist()
    for _ in range(len(net.items) + len(net.sites) + 1):
        before = el.copy()
        for k, ck, f in makes:
            ready = max([el[c] for c in ck] + [0])
            el[k] = min(el[k], max(ready, f))
        for ka, kb, t in moves:
            el[kb] = min(el[kb], el[ka] + t)
        if el == before:
            break
    e = np.array(el, dtype=np.int64)
    out = np.full(net.demand_qty.size, big, dtype=np.int64)
    if net.del_demand.size:
        src = [key[(s, i)] for s, i in zip(net.del_site.tolist(),
                                           net.demand_item[net.del_demand].tolist(),
                                           strict=True)]
        np.minimum.at(out, net.del_demand, e[src] + net.lane_transit[net.del_lane])
    return out


def _qty(q: float) -> str:
    """A quantity as people write it: 500, not 500.0."""
    return str(int(q)) if float(q).is_integer() else f"{q}"


def _span(ts: list[int], starts: list[date]) -> str:
    """Buckets `ts` as a span, with the start dates of its first and last."""
    lo, hi = min(ts), max(ts)
    if lo == hi:
        return f"bucket {lo} ({starts[lo]})"
    return f"buckets {lo}-{hi} ({starts[lo]} to {starts[hi]})"


class ShortfallExplainer:
    """Maps binding rows to the demands they can touch and words the top one."""

    def __init__(self, net: Network, lp: PlanningLP, result: PlanResult) -> None:
        self.net, self.lp, self.result = net, lp, result
        self.below = bom_explosion(net)
        self.earliest = earliest_arrival(net)
        self.slack = np.minimum(np.abs(lp.row_upper - result.row_activity),
                                np.abs(result.row_activity - lp.row_lower))
        self.starts = net.scenario.horizon.starts()
        self.item_pos = {x: i for i, x in enumerate(net.items)}
        self.licences = {x.id: x for x in net.scenario.licences}
        #: per (duals, row block): the binding rows, as `_binding` gives them
        self._hits: dict[tuple[int, str], tuple[FloatArray, np.ndarray]] = {}
        self._buckets: dict[tuple[int, str], tuple[FloatArray, dict[int, list[int]]]] = {}
        #: per work center and bucket: no nominal hours, and some (lists, read per bucket)
        self._nominal = list(zip((net.wc_nominal <= 0).tolist(), (net.wc_nominal > 0).tolist(),
                                 strict=True))
        #: per item: the rows that can touch a demand for it (see `_touching`)
        self._touch: dict[int, tuple[list[int], list[int], set[int]]] = {}

    def _binding(self, duals: FloatArray, block: str, count: int) -> np.ndarray:
        """Rows of `block` binding with a non-zero dual, as (entity, bucket); worked out
        once per level's duals and block, since every demand of that level asks."""
        kept = self._hits.get((id(duals), block))
        if kept is not None and kept[0] is duals:
            return kept[1]
        b = self.lp.rows[block]
        sl = slice(b.offset, b.offset + b.size)
        hit = (np.abs(duals[sl]) > DUAL_TOL) & (self.slack[sl] < SLACK_TOL)
        out = hit.reshape(count, b.per) if count else np.zeros((0, b.per), dtype=bool)
        self._hits[(id(duals), block)] = (duals, out)
        return out

    def _binding_buckets(self, duals: FloatArray, block: str, count: int
                         ) -> dict[int, list[int]]:
        """`_binding` as lists: per entity with a binding row, its buckets in order."""
        kept = self._buckets.get((id(duals), block))
        if kept is not None and kept[0] is duals:
            return kept[1]
        ent, ts = np.nonzero(self._binding(duals, block, count))
        out: dict[int, list[int]] = {}
        for e, t in zip(ent.tolist(), ts.tolist(), strict=True):
            out.setdefault(e, []).append(t)
        self._buckets[(id(duals), block)] = (duals, out)
        return out

    def _touching(self, item: int) -> tuple[list[int], list[int], set[int]]:
        """For a demand of `item`: the work centers that make it or a component at a
        site that makes one (sorted), the offers of them, and the lanes that carry them
        in transfers or purchases; once per item."""
        kept = self._touch.get(item)
        if kept is not None:
            return kept
        net = self.net
        items = np.array(sorted(self.below[item]), dtype=np.int64)
        mine = np.nonzero(np.isin(net.make_item, items))[0]
        makers = set(net.make_site[mine].tolist())
        wcs_used = set(net.use_wc[np.isin(net.use_make, mine)].tolist())
        wcs = [w for w in sorted(wcs_used) if int(net.wc_site[w]) in makers]
        offers = np.nonzero(np.isin(net.offer_item, items))[0].tolist()
        lanes = set(net.tr_lane[np.isin(net.tr_item, items)].tolist())
        lanes |= set(net.pur_lane[np.isin(net.offer_item[net.pur_offer], items)].tolist())
        self._touch[item] = (wcs, offers, lanes)
        return self._touch[item]

    def _disruption_note(self, node: str, ts: list[int], lane: int | None = None) -> str:
        net = self.net
        if lane is not None:
            ids = net.lane_disrupted_by.get(lane, [])
            return f"; cut by disruption {', '.join(sorted(set(ids)))}" if ids else ""
        f = net.node_factor.get(node)
        if f is not None and (f[ts] < 1).any():
            ids = net.node_disrupted_by.get(node, [])
            return f"; cut by disruption {', '.join(sorted(set(ids)))}"
        return ""

    def cannot_make_notes(self, d: int) -> list[str]:
        """Sites that list demand `d`'s item, or one of its components, but lack a work
        center its routing needs (so they make none of it)."""
        net, pos = self.net, self.item_pos
        items = self.below[int(net.demand_item[d])]
        return [cannot_make(site, item, missing) for site, item, missing in net.unroutable
                if pos.get(item) in items]

    def reasons(self, d: int, duals: FloatArray, upto: int) -> list[tuple[float, str]]:
        """Scored reasons for demand `d` from rows binding in buckets up to `upto`."""
        net, starts = self.net, self.starts
        wcs, offers, item_lanes = self._touching(int(net.demand_item[d]))
        found: list[tuple[float, str]] = []
        b = self.lp.rows["work"]
        hits = self._binding_buckets(duals, "work", net.wc_site.size)
        for w in [w for w in wcs if w in hits]:
            ts = [t for t in hits[w] if t <= upto]
            if not ts:
                continue
            site = net.sites[int(net.wc_site[w])]
            name = f"{site}/{net.wc_type[w]}"
            score = float(np.abs(duals[b.at(w, np.array(ts))]).sum())
            no_hours, hours = self._nominal[w]
            shut = [t for t in ts if no_hours[t]]
            full = [t for t in ts if hours[t]]
            if full:
                found.append((score, f"work center {name} at capacity in {_span(full, starts)}"
                                     + self._disruption_note(site, full)))
            if shut:
                opens = np.nonzero(net.wc_nominal[w] > 0)[0]
                when = "has no hours in the horizon"
                if opens.size:
                    first = int(opens[0])
                    when = f"opens in bucket {first} ({starts[first]})"
                found.append((score, f"work center {name} not yet running in "
                                     f"{_span(shut, starts)}: it {when}"))
        b = self.lp.rows["supply"]
        hits = self._binding_buckets(duals, "supply", net.offer_item.size)
        for o in [o for o in offers if o in hits]:
            ts = [t for t in hits[o] if t <= upto]
            if ts:
                sup = net.suppliers[int(net.offer_supplier[o])]
                score = float(np.abs(duals[b.at(o, np.array(ts))]).sum())
                found.append((score, f"supplier {sup} at capacity for "
                                     f"{net.items[int(net.offer_item[o])]} in {_span(ts, starts)}"
                                     + self._disruption_note(sup, ts)))
        b = self.lp.rows["lane"]
        hits = self._binding_buckets(duals, "lane", len(net.lane_from))
        lanes = set(net.del_lane[net.del_demand == d].tolist()) | item_lanes
        for ln in sorted(lanes & hits.keys()):
            ts = [t for t in hits[ln] if t <= upto]
            if ts:
                score = float(np.abs(duals[b.at(ln, np.array(ts))]).sum())
                name = f"{net.lane_from[ln]}>{net.lane_to[ln]}"
                found.append((score, f"lane {name} at capacity in {_span(ts, starts)}"
                                     + self._disruption_note(name, ts, ln)))
        found += self.licence_reasons(d, duals, upto)
        return sorted(found, key=lambda x: -x[0])

    def licence_reasons(self, d: int, duals: FloatArray, upto: int) -> list[tuple[float, str]]:
        """Licences of demand `d`'s customer and item used up (their quantity row binds),
        and buckets up to `upto` where no licence for them is open (their cover rows bind)."""
        net, lic = self.net, self.net.licence_arrays
        k = self._cover_key(d)
        if k < 0:
            return []
        item = net.items[int(net.demand_item[d])]
        sc_lic = self.licences
        found: list[tuple[float, str]] = []
        mine = lic.draw_lic[lic.draw_cover == k]
        if len(lic.ids):
            hit = self._binding(duals, "licence", len(lic.ids))[:, 0]
            b = self.lp.rows["licence"]
            for n in mine[hit[mine]].tolist():
                x = sc_lic[lic.ids[n]]
                found.append((float(abs(duals[b.at(n, 0)])),
                              f"licence {x.id} allows {_qty(x.qty)} more {item} until "
                              f"{x.until}"))
        hit = self._binding(duals, "cover", lic.cover_item.size)[k]
        opened = lic.open[mine].any(axis=0) if mine.size else np.zeros(net.buckets, dtype=bool)
        ts = [t for t in np.nonzero(hit & ~opened)[0].tolist() if t <= upto]
        if ts:
            b = self.lp.rows["cover"]
            cust = net.customers[int(net.demand_customer[d])]
            found.append((float(np.abs(duals[b.at(k, np.array(ts))]).sum()),
                          f"no licence for {item} to {cust} is open in {_span(ts, self.starts)}"))
        return found

    def _cover_key(self, d: int) -> int:
        """The licence cover key of demand `d` (-1: its customer is not under licence)."""
        lic = self.net.licence_arrays
        hit = np.nonzero((lic.cover_customer == self.net.demand_customer[d])
                         & (lic.cover_item == self.net.demand_item[d]))[0]
        return int(hit[0]) if hit.size else -1

    def unlicensed(self, d: int) -> str | None:
        """Why no licence can ever cover demand `d` (None: one can, or none is needed)."""
        net, lic = self.net, self.net.licence_arrays
        k = self._cover_key(d)
        if k < 0 or (lic.draw_cover == k).any():
            return None
        cust = net.customers[int(net.demand_customer[d])]
        item = net.items[int(net.demand_item[d])]
        country = next(c.country for c in net.scenario.customers if c.id == cust)
        mine = [x for x in net.scenario.licences if x.customer == cust and item in x.items]
        why = [f"{x.id} {x.status}" if not x.status.counts else
               f"{x.id} for {x.country}" if x.country != country else
               f"{x.id} not open in the horizon" for x in mine]
        return (f"no licence lets {item} go to {cust} (export compliance)"
                + (f": {', '.join(why)}" if why else ""))

    def explain(self, d: int, late: float, lost: float) -> str:
        """One line: why demand `d` has `late` late and `lost` lost units."""
        net = self.net
        T = net.buckets
        cust = net.customers[int(net.demand_customer[d])]
        item = net.items[int(net.demand_item[d])]
        if not net.demand_approved[d]:
            return (f"customer {cust} is not approved: nothing may be delivered to it "
                    "(export compliance)")
        if (no_licence := self.unlicensed(d)) is not None:
            return no_licence
        notes = self.cannot_make_notes(d)
        if not (net.del_demand == d).any():
            return "; ".join(notes + [f"no lane from a site that can make or hold {item} "
                                      f"to customer {cust}"])
        due = int(net.demand_due[d])
        earliest = int(self.earliest[d])
        starts = self.starts
        if earliest >= T:
            return "; ".join([f"lead time: no unit of {item} can reach {cust} inside the "
                              "horizon (supplier lead times + transit + production)"] + notes)
        level = f"delivered_p{int(net.demand_priority[d])}" if lost > 0 else "lateness"
        duals = next((lv.duals for lv in self.result.levels if lv.name == level), None)
        parts: list[str] = []
        if duals is not None:
            upto = T - 1 if lost > 0 else due
            found = self.reasons(d, duals, upto)
            parts = [r for _, r in found[:2]]
        if earliest > due:
            parts.insert(0, f"lead time: earliest possible arrival is bucket {earliest} "
                            f"({starts[earliest]}), after due bucket {due}")
        if not parts:
            higher = "units went to more urgent or earlier orders on shared capacity"
            parts.append(f"stock and capacity in time for it are taken: {higher}")
        return "; ".join(parts[:2] + notes)


def explain_shortfalls(net: Network, lp: PlanningLP, result: PlanResult,
                       late: FloatArray, lost: FloatArray) -> list[tuple[str, float, float, str]]:
    """(demand, qty_late, qty_lost, reason) for every demand with a shortfall."""
    ex = ShortfallExplainer(net, lp, result)
    out = []
    for d in np.nonzero((late > 0) | (lost > 0))[0].tolist():
        out.append((net.demand_ids[d], float(late[d]), float(lost[d]),
                    ex.explain(d, float(late[d]), float(lost[d]))))
    return out
