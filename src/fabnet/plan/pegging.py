"""Pegging: for a demand, which production, transfers, purchases and opening stock of
the plan serve it, and how many units of each.

A planner asks "if this order is late, what is it waiting for?"; the answer follows
the plan's own flows back from the demand's deliveries. At every site and item the
units that leave (deliveries, transfers out, components taken by production) are
served by the units that come in (opening stock, production, transfers in, purchases)
first in, first out: every flow is a stretch of the item's running total at the
site, sources ordered by the bucket they are available in, uses by the bucket they
leave in (in one bucket, what arrives is there before what leaves), and a use takes the
stretch of sources that lies under its own stretch. Within one flow the share is
proportional: a production lot that serves a demand with a third of its units draws a
third of each of its components' units. A transfer in transit when the plan starts (a
firm transfers row) only arrives: it takes nothing at its from-site. Units that come in
from something the plan's tables do not show (floor stock beyond the scenario's) are
"other supply". Stock never goes below zero in a plan, so every use is served by
sources available by its bucket. See docs/planner.md, "Pegging".

Everything is arrays: one FIFO matching for all sites and items at once (running
totals laid end to end, cut at every break point, `np.searchsorted`), one sparse matrix
`F` of "units of flow b per unit of flow a" over every flow, and a demand's pegging is
its deliveries pushed back through `F` level by level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from fabnet.model.network import effectivity_mask
from fabnet.model.scenario import Scenario

Row = Mapping[str, Any]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
#: a share below this many units is noise, not a flow that serves the demand
TOL = 1e-6


class FlowKind(StrEnum):
    """What kind of flow of the plan a pegged row is."""

    DELIVERY = "delivery"
    PRODUCTION = "production"
    TRANSFER = "transfer"
    PURCHASE = "purchase"
    STOCK = "stock"  # opening stock
    OTHER = "other"  # supply the plan's tables do not show


@dataclass(frozen=True)
class Flow:
    """One flow of the plan: where (`site`; for a transfer the destination, `origin` its
    start), what, when it is available (`bucket`) and how much (`qty`)."""

    kind: FlowKind
    site: str
    item: str
    bucket: int
    qty: float
    origin: str = ""  # a transfer's from-site, a purchase's supplier, a delivery's customer
    row: int = -1  # the row of its plan table (-1: opening stock, other supply)


@dataclass(frozen=True)
class Peg:
    """`qty` units of `flow` serve the demand, `depth` flows upstream of its delivery."""

    flow: Flow
    qty: float
    depth: int


@dataclass(frozen=True)
class Pegging:
    """The plan's flows and `F`: `F[a, b]` units of flow b go into one unit of flow a."""

    flows: list[Flow]
    matrix: sp.csr_matrix
    deliveries: Mapping[str, list[int]]

    def demand(self, demand: str, max_depth: int = 500) -> list[Peg]:
        """Every flow serving `demand` (its deliveries first), deepest level last."""
        rows = self.deliveries.get(demand, [])
        n = len(self.flows)
        x = np.zeros(n)
        x[rows] = [self.flows[i].qty for i in rows]
        total = x.copy()
        depth = np.full(n, -1, dtype=np.int64)
        depth[rows] = 0
        back = self.matrix.T.tocsr()
        for level in range(1, max_depth + 1):
            x = back @ x
            if not (x > TOL).any():
                break
            depth[(x > TOL) & (depth < 0)] = level
            total += x
        keep = np.flatnonzero(total > TOL)
        order = keep[np.lexsort((keep, depth[keep]))]
        return [Peg(self.flows[i], float(total[i]), int(depth[i])) for i in order]


def _num(rows: Sequence[Row], col: str, dtype: type = float) -> npt.NDArray[Any]:
    return np.array([r[col] for r in rows], dtype=dtype)


def peg_plan(sc: Scenario, tables: Mapping[str, Sequence[Row]]) -> Pegging:
    """The pegging of a whole plan (its contract tables) of scenario `sc`."""
    flows: list[Flow] = []
    prod = [r for r in tables.get("production", []) if float(r["qty"]) > TOL]
    trans = [r for r in tables.get("transfers", []) if float(r["qty"]) > TOL]
    buys = [r for r in tables.get("purchases", []) if float(r["qty"]) > TOL]
    dels = [r for r in tables.get("deliveries", []) if float(r["qty"]) > TOL]
    stock = [i for i in sc.inventory if i.qty > TOL]
    flows += [Flow(FlowKind.PRODUCTION, str(r["site"]), str(r["item"]), int(r["bucket"]),
                   float(r["qty"]), row=k) for k, r in enumerate(prod)]
    flows += [Flow(FlowKind.TRANSFER, str(r["to"]), str(r["item"]), int(r["arrival_bucket"]),
                   float(r["qty"]), str(r["from"]), k) for k, r in enumerate(trans)]
    flows += [Flow(FlowKind.PURCHASE, str(r["site"]), str(r["item"]),
                   int(r["arrival_bucket"]), float(r["qty"]), str(r["supplier"]), k)
              for k, r in enumerate(buys)]
    flows += [Flow(FlowKind.STOCK, i.site, i.item, 0, i.qty) for i in stock]
    p0, t0, d0 = 0, len(prod), len(flows)
    flows += [Flow(FlowKind.DELIVERY, str(r["site"]), str(r["item"]), int(r["depart_bucket"]),
                   float(r["qty"]), str(r["customer"]), k) for k, r in enumerate(dels)]
    deliveries: dict[str, list[int]] = {}
    for k, r in enumerate(dels):
        deliveries.setdefault(str(r["demand"]), []).append(d0 + k)

    # sources: every flow that brings units in, available at 2 * bucket (stock: -1)
    src = [f for f in flows[:d0]]
    node_of: dict[tuple[str, str], int] = {}

    def node(site: str, item: str) -> int:
        return node_of.setdefault((site, item), len(node_of))

    s_node = np.array([node(f.site, f.item) for f in src], dtype=np.int64)
    s_key = np.array([-1 if f.kind is FlowKind.STOCK else 2 * f.bucket for f in src],
                     dtype=np.int64)
    s_qty = np.array([f.qty for f in src])
    s_flow = np.arange(len(src), dtype=np.int64)

    # uses: deliveries and transfers leave at 2 * bucket + 1; production takes components
    u_node = [node(f.site, f.item) for f in flows[d0:]]
    u_key = [2 * f.bucket + 1 for f in flows[d0:]]
    u_qty = [f.qty for f in flows[d0:]]
    u_owner = list(range(d0, len(flows)))
    # (a firm transfer is in transit when the plan starts: it only arrives)
    leaving = [k for k, r in enumerate(trans) if not float(r.get("firm", 0.0)) > 0]
    u_node += [node(str(trans[k]["from"]), str(trans[k]["item"])) for k in leaving]
    u_key += [2 * int(trans[k]["depart_bucket"]) + 1 for k in leaving]
    u_qty += [float(trans[k]["qty"]) for k in leaving]
    u_owner += [t0 + k for k in leaving]
    if prod and sc.boms:
        on = effectivity_mask(sc, [(b.start, b.until) for b in sc.boms])  # (lines, T)
        lines: dict[str, list[int]] = {}
        for j, b in enumerate(sc.boms):
            lines.setdefault(b.parent, []).append(j)
        p_item = [str(r["item"]) for r in prod]
        pj = np.array([k for k, it in enumerate(p_item) for _ in lines.get(it, [])],
                      dtype=np.int64)
        lj = np.array([j for it in p_item for j in lines.get(it, [])], dtype=np.int64)
        if pj.size:
            pb = np.clip(_num(prod, "bucket", np.int64)[pj], 0, on.shape[1] - 1)
            live = on[lj, pb]
            pj, lj = pj[live], lj[live]
            qty = _num(prod, "qty")[pj] * np.array([sc.boms[j].qty for j in lj])
            u_node += [node(str(prod[k]["site"]), sc.boms[j].item) for k, j in zip(
                pj.tolist(), lj.tolist(), strict=True)]
            u_key += (2 * _num(prod, "bucket", np.int64)[pj] + 1).tolist()
            u_qty += qty.tolist()
            u_owner += (p0 + pj).tolist()
    nodes = len(node_of)
    other = [Flow(FlowKind.OTHER, site, item, 0, 0.0) for (site, item) in node_of]
    o0 = len(flows)
    flows += other
    per_unit = np.array([f.qty for f in flows])  # a use's share is per unit of its owner
    matrix = _fifo(nodes, s_node, s_key, s_qty, s_flow, np.array(u_node, dtype=np.int64),
                   np.array(u_key, dtype=np.int64), np.array(u_qty, dtype=float),
                   np.array(u_owner, dtype=np.int64), per_unit, o0)
    # other supply's quantity: what the uses took from it
    taken = np.asarray(matrix[:, o0:].multiply(
        per_unit[:, None]).sum(axis=0)).ravel()
    for k, q in enumerate(taken):
        f = flows[o0 + k]
        flows[o0 + k] = Flow(f.kind, f.site, f.item, 0, float(q))
    return Pegging(flows, matrix, deliveries)


def _fifo(nodes: int, s_node: IntArray, s_key: IntArray, s_qty: FloatArray,
          s_flow: IntArray, u_node: IntArray, u_key: IntArray, u_qty: FloatArray,
          u_owner: IntArray, per_unit: FloatArray, other0: int) -> sp.csr_matrix:
    """`F` from first-in-first-out matching of uses to sources at every node at once.

    Each node's sources and uses are laid out as running totals on one line, node after
    node, each node padded to the same length on both sides (the sources' pad is the
    node's other supply, the uses' pad its closing stock), then cut at every end of a
    flow: each piece belongs to one source and one use."""
    s_tot = np.bincount(s_node, s_qty, nodes)
    u_tot = np.bincount(u_node, u_qty, nodes)
    band = np.maximum(s_tot, u_tot)
    offset = np.concatenate([[0.0], np.cumsum(band)[:-1]])
    pad = np.arange(nodes, dtype=np.int64)
    big = np.iinfo(np.int64).max
    s_node = np.concatenate([s_node, pad])
    s_key = np.concatenate([s_key, np.full(nodes, big)])
    s_qty = np.concatenate([s_qty, band - s_tot])
    s_flow = np.concatenate([s_flow, other0 + pad])
    u_node = np.concatenate([u_node, pad])
    u_key = np.concatenate([u_key, np.full(nodes, big)])
    u_qty = np.concatenate([u_qty, band - u_tot])
    u_owner = np.concatenate([u_owner, np.full(nodes, -1, dtype=np.int64)])
    so = np.lexsort((s_key, s_node))
    uo = np.lexsort((u_key, u_node))
    s_end = _ends(s_node[so], s_qty[so], offset)
    u_end = _ends(u_node[uo], u_qty[uo], offset)
    cuts = np.unique(np.concatenate([[0.0], s_end, u_end]))
    length = np.diff(cuts)
    mid = cuts[:-1] + length / 2
    live = length > 1e-12
    mid, length = mid[live], length[live]
    si = so[np.minimum(np.searchsorted(s_end, mid), so.size - 1)]
    ui = uo[np.minimum(np.searchsorted(u_end, mid), uo.size - 1)]
    owner = u_owner[ui]
    real = owner >= 0
    share = length[real] / per_unit[owner[real]]
    n = other0 + nodes
    return sp.csr_matrix((share, (owner[real], s_flow[si[real]])), shape=(n, n))


def _ends(node: IntArray, qty: FloatArray, offset: FloatArray) -> FloatArray:
    """Where each flow's stretch ends on the line: its node's offset plus the running
    total of that node's flows up to and including it (flows sorted by node)."""
    run = np.cumsum(qty)
    first = np.concatenate([[True], node[1:] != node[:-1]])
    start = np.maximum.accumulate(np.where(first, np.arange(node.size), 0))
    before = np.where(start > 0, run[start - 1], 0.0)
    return np.asarray(offset[node] + run - before, dtype=float)

