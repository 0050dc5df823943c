"""The genealogy's recursive queries, built once and run with bound parameters.

A trace is one recursive walk of the genealogy, like following a family tree from one
ancestor to every descendant: down from a lot or a unit to every unit that contains it,
up from a unit to everything it is made of. Each walk is a single SQL statement built
here once per process (`functools.cache`), so a trace neither rebuilds it nor pays
SQLAlchemy to compile it again; the values come in as bound parameters (`lots`,
`units`, `roots`, `sites`, `ids`, expanded into `IN` lists).

Each step of a walk down is one lookup on one covering index: a node is a unit's id or
a lot's id negated (`floor_schema.child_node`), so the step joins the node to its live
edges on `ix_genealogy_down` (that expression first) whatever kind of node it is, and
yields the parent as a node the same way. The walk is a UNION, so a node reached twice
at the same depth is walked once; no GROUP BY folds a node reached at two depths into
its shortest, since that costs a sort of every row, and the reader skips the rare
repeat instead. Up, each step finds a node's edges with two outer joins, one per parent
index (`ix_genealogy_parent_unit`, `ix_genealogy_parent_lot`), rather than one join on
`unit = … OR lot = …`, which SQLite may answer by scanning the whole genealogy; a node
is a unit or a lot, so only one of the two joins matches, and a node without edges
drops out.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from fabnet.store.floor_schema import (
    child_node,
    genealogy,
    lots,
    operation_records,
    shipments,
    test_results,
    units,
)

G, L, UN, SH = genealogy, lots, units, shipments
NULL_ID = sa.cast(sa.null(), sa.Integer)


def _ids(name: str) -> Any:
    return sa.bindparam(name, expanding=True)


def _edges(end: str) -> tuple[Any, Any]:
    """Two aliases of the genealogy: one joined on the `end` (parent or child) unit, one
    on the `end` lot."""
    return G.alias(f"g_{end}_unit"), G.alias(f"g_{end}_lot")


def _step(t: Any, by_unit: Any, by_lot: Any, end: str) -> tuple[Any, Any]:
    """The recursive step's FROM and WHERE: the node rows of `t` with their live edges
    (not swapped out in a repair), by unit on one index and by lot on the other; an edge
    matched has exactly one of its two far-end columns set."""
    far = "child" if end == "parent" else "parent"
    j = (t.outerjoin(by_unit, (by_unit.c[f"{end}_unit_id"] == t.c.unit_id)
                     & by_unit.c.removed_at.is_(None))
         .outerjoin(by_lot, (by_lot.c[f"{end}_lot_id"] == t.c.lot_id)
                    & by_lot.c.removed_at.is_(None)))
    live = sa.func.coalesce(by_unit.c[f"{far}_unit_id"], by_lot.c[f"{far}_unit_id"],
                            by_unit.c[f"{far}_lot_id"], by_lot.c[f"{far}_lot_id"]).is_not(None)
    return j, live


@cache
def down_query(scoped: bool, dialect: str = "sqlite", ordered: bool = True) -> sa.Select[Any]:
    """Every unit containing one of the lots (`lots`) or units (`units`) at any depth:
    serial, item, site, status, depth and its latest shipment's id, by depth and serial
    (byte order on both databases: PostgreSQL sorts by `"C"`, as quick as SQLite's
    default and the same order). A unit the walk reaches by paths of different lengths
    (the genealogy is a DAG: a lot in a drone directly and through its pack) has a row
    per length, its shortest first: the reader keeps the first. `scoped`: only the units
    at `sites`, each row also carrying `total`, how many units there are at every site
    (one row of NULLs and `total` when none is visible). Not `ordered`: the rows in the
    order the walk finds them, and on PostgreSQL with the lists bound as arrays, so the
    statement's text is one whatever their lengths (`down_sql`)."""
    arrays = not ordered and dialect == "postgresql"

    def among(col: Any, name: str, type_: Any = sa.Integer) -> Any:
        if arrays:
            return col == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(type_)))
        return col.in_(_ids(name))
    seed = sa.union_all(
        sa.select((-L.c.id).label("node"), sa.literal(0).label("depth"))
        .where(among(L.c.id, "lots")),
        sa.select(UN.c.id.label("node"), sa.literal(0).label("depth"))
        .where(among(UN.c.id, "units")))
    d = sa.select(seed.subquery("seed")).cte("down", recursive=True)
    g = G.alias("g")
    parent = sa.func.coalesce(g.c.parent_unit_id, -g.c.parent_lot_id)
    d = d.union(sa.select(parent, d.c.depth + 1)
                .join_from(d, g, (child_node(g) == d.c.node) & g.c.removed_at.is_(None)))
    below = sa.select(d.c.node, d.c.depth).where(d.c.depth > 0)
    # scoped, it is read twice: made into a table once
    found: Any = below.cte("found") if scoped else below.subquery("found")
    units_found = sa.join(found, UN, UN.c.id == found.c.node)  # lots (< 0) match no unit
    # each unit's latest shipment is a column of the unit (revision 0019): no lookup of
    # its shipments per unit
    rows = (sa.select(UN.c.serial, UN.c.item, UN.c.site, UN.c.status, found.c.depth,
                      UN.c.last_shipment_id.label("shipment")).select_from(units_found))

    def by_serial(col: Any) -> Any:
        return col.collate("C") if dialect == "postgresql" else col
    if not scoped:
        return rows.order_by(found.c.depth, by_serial(UN.c.serial)) if ordered else rows
    seen = rows.where(among(UN.c.site, "sites", sa.String)).subquery("seen")
    total = (sa.select(sa.func.count(sa.distinct(found.c.node)).label("total"))
             .where(found.c.node > 0).subquery("total"))
    both = sa.select(*seen.c, total.c.total).select_from(total.outerjoin(seen, sa.true()))
    return both.order_by(seen.c.depth, by_serial(seen.c.serial)) if ordered else both


@cache
def down_sql(scoped: bool) -> tuple[str, dict[str, Any]]:
    """`down_query` unordered for PostgreSQL as the driver's text (`%(name)s`
    placeholders, `lots`, `units` and, `scoped`, `sites` as arrays) and the values of
    its literals: a trace down streams its rows with psycopg, which SQLAlchemy's
    execution does not."""
    from sqlalchemy.dialects.postgresql import psycopg as pg_psycopg

    compiled = down_query(scoped, "postgresql", ordered=False).compile(
        dialect=pg_psycopg.dialect())  # type: ignore[no-untyped-call]
    fixed = {k: v for k, v in compiled.params.items() if k not in ("lots", "units", "sites")}
    return str(compiled), fixed


@cache
def shipments_query() -> sa.Select[Any]:
    """Customer and time of the shipments `ids`."""
    return sa.select(SH.c.id, SH.c.customer, SH.c.shipped_at).where(SH.c.id.in_(_ids("ids")))


@cache
def tree_up(with_edges: bool) -> Any:
    """A recursive CTE of every node (unit or lot) in the trees of the units `roots`
    (with `with_edges`, of the unit `serial`): root, unit_id, lot_id, depth (and, with
    `with_edges`, the edge into each node; the root's item on its own row)."""
    cols: list[Any] = [UN.c.id.label("root"), UN.c.id.label("unit_id"),
                       NULL_ID.label("lot_id"), sa.literal(0).label("depth")]
    if with_edges:
        cols += [NULL_ID.label("parent_unit_id"), NULL_ID.label("parent_lot_id"),
                 UN.c.item.label("item"), sa.cast(sa.null(), sa.Double).label("qty"),
                 sa.cast(sa.null(), sa.DateTime(timezone=True)).label("added_at")]
    anchor = (UN.c.serial == sa.bindparam("serial") if with_edges
              else UN.c.id.in_(_ids("roots")))
    t = sa.select(*cols).where(anchor).cte("tree", recursive=True)
    by_unit, by_lot = _edges("parent")

    def either(col: str) -> Any:
        return sa.func.coalesce(by_unit.c[col], by_lot.c[col])
    step: list[Any] = [t.c.root, either("child_unit_id"), either("child_lot_id"),
                       t.c.depth + 1]
    if with_edges:
        step += [either(c) for c in ("parent_unit_id", "parent_lot_id", "item", "qty",
                                     "added_at")]
    frm, live = _step(t, by_unit, by_lot, "parent")
    return t.union_all(sa.select(*step).select_from(frm).where(live))


@cache
def up_all_query() -> Any:
    """The unit `serial`, everything it is made of, and the operation records and test
    results of it and of the units among its parts, in one statement (one round trip):
    `kind` 0 rows the unit and its parts, by depth, item, serial and lot; `kind` 1
    rows operation records, by serial and step; `kind` 2 rows test results, in the order
    they were recorded. Columns: kind, depth, parent, item, qty, serial, lot, supplier,
    site, held, added_at, n (step or result id), what (work center or test step),
    operator, at, ended_at, passed, value, station."""
    R, TR = operation_records, test_results
    t = tree_up(True)
    pu, cu = UN.alias("pu"), UN.alias("cu")
    pl, cl = L.alias("pl"), L.alias("cl")

    def none(type_: Any) -> Any:
        return sa.cast(sa.null(), type_)
    s, i, f, b, ts = sa.String, sa.Integer, sa.Double, sa.Boolean, sa.DateTime(timezone=True)
    parts = (sa.select(sa.literal(0).label("kind"), t.c.depth,
                       sa.func.coalesce(pu.c.serial, pl.c.code).label("parent"), t.c.item,
                       t.c.qty, cu.c.serial.label("serial"), cl.c.code.label("lot"),
                       cl.c.supplier, sa.func.coalesce(cu.c.site, cl.c.site).label("site"),
                       sa.func.coalesce(cu.c.held, cl.c.held).label("held"), t.c.added_at,
                       none(i).label("n"), none(s).label("what"),
                       none(s).label("operator"), none(ts).label("at"),
                       none(ts).label("ended_at"), none(b).label("passed"),
                       none(f).label("value"), none(s).label("station"),
                       cu.c.serial.label("sort"))
             .select_from(t).outerjoin(pu, pu.c.id == t.c.parent_unit_id)
             .outerjoin(pl, pl.c.id == t.c.parent_lot_id)
             .outerjoin(cu, cu.c.id == t.c.unit_id).outerjoin(cl, cl.c.id == t.c.lot_id))
    in_tree = sa.select(t.c.unit_id).where(t.c.unit_id.is_not(None))
    ops = (sa.select(sa.literal(1), none(i), none(s), none(s), none(f), UN.c.serial,
                     none(s), none(s), none(s), none(b), none(ts), R.c.seq,
                     R.c.work_center, R.c.operator, R.c.started_at, R.c.ended_at, none(b),
                     none(f), none(s), UN.c.serial)
           .join_from(R, UN, UN.c.id == R.c.unit_id).where(R.c.unit_id.in_(in_tree)))
    tests = (sa.select(sa.literal(2), none(i), none(s), none(s), none(f), UN.c.serial,
                       none(s), none(s), none(s), none(b), none(ts), TR.c.id,
                       TR.c.step, TR.c.operator, TR.c.at, none(ts), TR.c.passed, TR.c.value,
                       TR.c.station, none(s))
             .join_from(TR, UN, UN.c.id == TR.c.unit_id).where(TR.c.unit_id.in_(in_tree)))
    every = sa.union_all(parts, ops, tests).subquery("every")
    c = every.c
    return (sa.select(*[col for col in c if col.name != "sort"])
            .order_by(c.kind, c.depth, c.item, c.sort, c.lot, c.n))
