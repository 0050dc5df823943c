"""Transfers between sites (revision 0016): units sent from one site to another, in
transit until they are booked at the destination.

A transfer belongs to a stored scenario (its sites are the scenario's ids) and remembers
the lane it travels (`origin` > `destination`), the day it was sent and the day it is
expected (sent + the lane's transit), and who sent and who booked its arrival. Its
units are listed in `transfer_units` with the status each had when it left (built or
complete), which it gets back when it arrives.
"""

from __future__ import annotations

import sqlalchemy as sa

from fabnet.store.schema import Stamp, metadata

transfers = sa.Table(
    "transfers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("scenario_id", sa.ForeignKey("scenarios.id"), nullable=False),
    sa.Column("origin", sa.String, nullable=False),
    sa.Column("destination", sa.String, nullable=False),
    sa.Column("sent_date", sa.Date, nullable=False),
    sa.Column("expected_date", sa.Date, nullable=False),  # sent + the lane's transit
    sa.Column("status", sa.String, nullable=False),  # in_transit | arrived
    sa.Column("sent_at", Stamp, nullable=False),
    sa.Column("sent_by", sa.String, nullable=False),
    sa.Column("arrived_at", Stamp, nullable=True),
    sa.Column("arrived_by", sa.String, nullable=True),
    sa.CheckConstraint("origin <> destination", name="two_sites"),
    sa.Index("ix_transfers_queue", "scenario_id", "status", "destination"),
)

#: the units of a transfer, with the status each left with
transfer_units = sa.Table(
    "transfer_units", metadata,
    sa.Column("transfer_id", sa.ForeignKey("transfers.id"), primary_key=True),
    sa.Column("unit_id", sa.ForeignKey("units.id"), primary_key=True, index=True),
    sa.Column("status_before", sa.String, nullable=False),
)

TRANSFER_TABLES = (transfers, transfer_units)
