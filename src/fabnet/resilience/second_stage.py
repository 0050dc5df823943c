"""The second stage of redundancy design as one LP switched by the first stage's choices.

Every candidate is applied at once (`apply(sc, sc.mitigations)`) and the planning LP of
that network is built once. What each candidate adds is then switched by a 0/1 value
`y[j]`, so that the LP with `y` is the LP of the scenario with exactly the chosen set:

- a capacity row (work-center hours, supplier shipments, lane loads) a candidate adds or
  grows has upper bound `off + (on - off) * y[j]`, where `on` is its capacity with every
  candidate and `off` without this one (0 for a new offer, lane or line; the old hours,
  under the same future's disruptions, for hours added to a work center);
- a buffer's stock balance row in bucket 0 has right-hand side `open - qty * (1 - y[j])`
  (buffers of one item at one site add up: one term each);
- production of a pair only a candidate makes possible has upper bound `M * y[j]`.

An unlimited capacity (`on` infinite) is replaced by `M`, the item's gross requirement
(every demand exploded through every BOM line): some optimal plan never moves more of an
item than all demand needs, so `M` cuts no optimum.

The second stage's value is the most units delivered (all priority classes together),
so units lost `D - delivered` is at most the lexicographic re-plan's loss: with one
priority class the two are equal; with several the LP's is a lower bound (the re-plan
serves class 1 first, which can only deliver fewer in total).

Each future's capacities come from compiling the all-candidates scenario with the
future's disruptions; disruptions multiply capacities, so a candidate's `off` under a
future is its `on` under that future times the no-future ratio `off / on`.

A candidate's effect is found by applying it alone: a row, column or stock a second
candidate also changes is not supported (`SecondStageError`), and the design falls back
to re-planning sets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fabnet.model.errors import FabnetError
from fabnet.model.mitigation import apply
from fabnet.model.network import FloatArray, IntArray, Network, compile_network
from fabnet.model.scenario import Disruption, Scenario
from fabnet.plan.lp import PlanningLP, build_lp, capacity_rows
from fabnet.plan.plan import shortfall_tolerance


class SecondStageError(FabnetError):
    """Candidates whose effects overlap, so they can't be switched one by one."""


def _cap_keys(net: Network, lp: PlanningLP) -> list[tuple[object, ...]]:
    """A name for each capacity row of `capacity_rows` (work, supply, lane; by bucket)."""
    T = net.buckets
    keys: list[tuple[object, ...]] = []
    for w in range(net.wc_site.size):
        keys += [("w", net.sites[int(net.wc_site[w])], net.wc_type[w], t) for t in range(T)]
    for o in range(net.offer_item.size):
        sup, item = net.suppliers[int(net.offer_supplier[o])], net.items[int(net.offer_item[o])]
        keys += [("s", sup, item, t) for t in range(T)]
    for a, b in zip(net.lane_from, net.lane_to, strict=True):
        keys += [("l", a, b, t) for t in range(T)]
    assert len(keys) == capacity_rows(net, lp)[0].size
    return keys


def _caps_by_key(sc: Scenario) -> tuple[dict[tuple[object, ...], float],
                                        dict[tuple[str, str], float], set[tuple[str, str]]]:
    """Capacities, opening stock and make pairs of a scenario, by name."""
    net = compile_network(sc)
    lp = build_lp(net)
    caps = dict(zip(_cap_keys(net, lp), capacity_rows(net, lp)[1].tolist(), strict=True))
    stock = {(net.sites[int(s)], net.items[int(i)]): float(q) for s, i, q in
             zip(net.stock_site, net.stock_item, net.stock_open, strict=True)}
    makes = {(net.sites[int(s)], net.items[int(i)])
             for s, i in zip(net.make_site, net.make_item, strict=True)}
    return caps, stock, makes


def gross_requirement(net: Network) -> FloatArray:
    """Units of each item all demand needs, through every BOM line (an upper bound)."""
    req = np.bincount(net.demand_item, weights=net.demand_qty, minlength=len(net.items))
    total = req.copy()
    level = req
    for _ in range(len(net.items)):
        level = np.bincount(net.bom_child, weights=net.bom_qty * level[net.bom_parent],
                            minlength=len(net.items))
        if not level.any():
            break
        total += level
    out: FloatArray = np.asarray(total, dtype=np.float64) + 1.0
    return out


@dataclass
class SecondStage:
    """The all-candidates LP and how each candidate's 0/1 value switches it."""

    scenario: Scenario  # every candidate applied
    network: Network
    lp: PlanningLP
    ids: tuple[str, ...]
    cap_rows: IntArray  # LP rows of capacity_rows, in its order
    #: positions in cap_rows a candidate switches, the candidate, and off / on (no future)
    gate_pos: IntArray
    gate_of: IntArray
    gate_ratio: FloatArray
    gate_m: FloatArray  # the stand-in for an unlimited `on`
    buf_rows: IntArray
    buf_of: IntArray
    buf_qty: FloatArray
    col_gate: IntArray
    col_of: IntArray
    col_m: FloatArray
    demanded: float
    #: per future, the LP's loss may sit this far above the re-plan's (settled losses)
    slack: float

    @property
    def objective(self) -> FloatArray:
        """Minimised: minus units delivered (units lost = demanded + this)."""
        out: FloatArray = -self.lp.delivered
        return out

    def caps(self, future: tuple[Disruption, ...]) -> FloatArray:
        """Capacity rows' upper bounds with every candidate, under `future`."""
        return capacity_rows(compile_network(self.scenario, future), self.lp)[1]

    def on_off(self, caps: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Switched rows' bounds with (`on`, unlimited as M) and without (`off`) their
        candidate, from the future's capacities `caps`."""
        raw = caps[self.gate_pos]
        on = np.where(np.isinf(raw), self.gate_m, raw)
        off = np.where(np.isinf(raw), 0.0, raw) * self.gate_ratio
        return on, off

    def bounds(self, caps: FloatArray, y: FloatArray
               ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Row lower, row upper and column upper bounds of the LP at choice `y`."""
        lo, up = self.lp.row_lower.copy(), self.lp.row_upper.copy()
        up[self.cap_rows] = caps
        on, off = self.on_off(caps)
        up[self.cap_rows[self.gate_pos]] = off + (on - off) * y[self.gate_of]
        shift = self.buf_qty * (1.0 - y[self.buf_of])
        np.subtract.at(lo, self.buf_rows, shift)  # buffers of one stock add up
        np.subtract.at(up, self.buf_rows, shift)
        cu = self.lp.col_upper.copy()
        cu[self.col_gate] = np.minimum(cu[self.col_gate], self.col_m * y[self.col_of])
        return lo, up, cu


def build_second_stage(sc: Scenario) -> SecondStage:
    """The switched LP of `sc`'s candidates (raises `SecondStageError` where they overlap)."""
    ms = sc.mitigations
    full = apply(sc, ms)
    net = compile_network(full)
    lp = build_lp(net)
    rows, caps_all = capacity_rows(net, lp)
    keys = _cap_keys(net, lp)
    none_caps, none_stock, none_makes = _caps_by_key(sc)
    singles = [_caps_by_key(apply(sc, (m,))) for m in ms]
    # capacity rows a candidate changes
    none_v = np.array([none_caps.get(k, 0.0) for k in keys])
    changed = np.zeros((len(ms), len(keys)), dtype=bool)
    for j, (c, _, _) in enumerate(singles):
        v = np.array([c.get(k, 0.0) for k in keys])
        changed[j] = ~((v == none_v) | (np.isinf(v) & np.isinf(none_v)))
    differs = ~((caps_all == none_v) | (np.isinf(caps_all) & np.isinf(none_v)))
    pos = np.nonzero(differs)[0]
    count = changed[:, pos].sum(axis=0)
    if np.any(count != 1):
        k = keys[int(pos[np.nonzero(count != 1)[0][0]])]
        raise SecondStageError(f"capacity {k[:3]} is changed by {int(count.max())} "
                               "candidates together or only jointly")
    gate_of = np.argmax(changed[:, pos], axis=0).astype(np.int64)
    a, b = caps_all[pos], none_v[pos]
    if np.any(np.isinf(a) & (b != 0)) or np.any(np.isinf(b)) or np.any((a <= 0) & (b > 0)):
        raise SecondStageError("a candidate changes an unlimited capacity")
    ratio = np.where(np.isinf(a) | (a <= 0), 0.0, b / np.where(a > 0, a, 1.0))
    req = gross_requirement(net)
    m_row = np.full(len(keys), float(req.sum()))
    off = net.wc_site.size * net.buckets  # hours are never unlimited: lanes' M stands
    for o in range(net.offer_item.size):
        m_row[off:off + net.buckets] = req[int(net.offer_item[o])]
        off += net.buckets
    # buffers: opening stock a candidate adds
    key_name = [(net.sites[int(s)], net.items[int(i)])
                for s, i in zip(net.stock_site, net.stock_item, strict=True)]
    buf_rows, buf_of, buf_qty = [], [], []
    for s, name in enumerate(key_name):
        extra = float(net.stock_open[s]) - none_stock.get(name, 0.0)
        if abs(extra) <= 1e-12:
            continue
        adds = [(j, st.get(name, 0.0) - none_stock.get(name, 0.0))
                for j, (_, st, _) in enumerate(singles)]
        adds = [(j, q) for j, q in adds if abs(q) > 1e-12]
        if abs(sum(q for _, q in adds) - extra) > 1e-9 * (1.0 + abs(extra)):
            raise SecondStageError(f"opening stock of {name} is not the sum of its "
                                   "candidates' buffers")
        for j, q in adds:  # buffers of one stock add up
            buf_rows.append(int(lp.rows["balance"].at(s, 0)))
            buf_of.append(j)
            buf_qty.append(q)
    # production a candidate makes possible
    col_gate, col_of, col_m = [], [], []
    prod = lp.cols["produce"]
    for p in range(net.make_site.size):
        name = (net.sites[int(net.make_site[p])], net.items[int(net.make_item[p])])
        if name in none_makes:
            continue
        who = [j for j, (_, _, mk) in enumerate(singles) if name in mk]
        if len(who) != 1:
            raise SecondStageError(f"making {name} needs {len(who)} candidates")
        cols = prod.at(p, np.arange(net.buckets))
        col_gate += cols.tolist()
        col_of += [who[0]] * cols.size
        col_m += [float(req[int(net.make_item[p])])] * cols.size
    return SecondStage(
        full, net, lp, tuple(m.id for m in ms), rows, pos.astype(np.int64), gate_of, ratio,
        m_row[pos], np.array(buf_rows, dtype=np.int64), np.array(buf_of, dtype=np.int64),
        np.array(buf_qty), np.array(col_gate, dtype=np.int64),
        np.array(col_of, dtype=np.int64), np.array(col_m), float(net.demand_qty.sum()),
        float(net.demand_qty.size * shortfall_tolerance(net)))
