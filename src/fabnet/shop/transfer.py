"""Transfers: serialized units sent from one site to another, in transit until booked in.

Like a pallet on a lorry between two plants: the sending site's line lead loads it (the
units leave that site's stock and are in transit: nobody can build them into anything,
ship or send them again), the lorry takes the lane's transit, and the receiving site's
line lead books it in (the units are in that site's stock again, with the status they
left with). A transfer is expected on `sent_date` + the lane's transit, in the
scenario's buckets; until it arrives the next plan counts its units as firm supply
arriving at the destination then (`fabnet.services.firm_supply`).

Who may: the sender's site manager sends, the destination's site manager books the
arrival; planners and admins both (`FloorAction.TRANSFER`, at the sending or at the
receiving site).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from fabnet.model.horizon import BucketKind
from fabnet.shop.errors import FloorError
from fabnet.shop.unit import UnitStatus
from fabnet.store.errors import NotFound
from fabnet.store.floor_schema import units
from fabnet.store.repository import Repository, as_utc, now
from fabnet.store.transfer_schema import transfer_units, transfers
from fabnet.store.unit_of_work import Collision

TR, TU, UN = transfers, transfer_units, units


class TransferStatus(StrEnum):
    """Where a transfer is."""

    IN_TRANSIT = "in_transit"
    ARRIVED = "arrived"


class TransferChanged(Collision):  # a Collision: `Store.run` runs the arrival again
    """A transfer booked in by someone else meanwhile: run again."""


@dataclass(frozen=True)
class Transfer:
    """Units `serials` of `item`s sent from `origin` to `destination` on `sent_date`,
    expected on `expected_date` (sent + the lane's transit)."""

    id: int
    scenario: str
    origin: str
    destination: str
    sent_date: date
    expected_date: date
    status: TransferStatus
    serials: tuple[str, ...]
    items: tuple[str, ...]
    sent_at: datetime
    sent_by: str
    arrived_at: datetime | None = None
    arrived_by: str | None = None

    @property
    def code(self) -> str:
        """The transfer as people write it: `TR-7`."""
        return transfer_code(self.id)

    @property
    def lane(self) -> str:
        """The lane it travels: `A>B`."""
        return f"{self.origin}>{self.destination}"


def transfer_code(transfer_id: int) -> str:
    """`TR-<id>`."""
    return f"TR-{transfer_id}"


_CODE = re.compile(r"(?:TR-?)?(\d{1,12})", re.IGNORECASE)


def parse_transfer(text: str) -> int:
    """The id in `TR-7` (or `7`); a `FloorError` naming the form otherwise."""
    m = _CODE.fullmatch(text.strip())
    if m is None:
        raise FloorError(f"{text!r} is not a transfer (fix: write it as TR-7, as `fabnet "
                         "floor transfers` lists them)")
    return int(m.group(1))


def expected_arrival(sent: date, transit: int, bucket: BucketKind) -> date:
    """`sent` + `transit` buckets of kind `bucket` (a month keeps its day, clamped to the
    month's last day)."""
    if bucket is BucketKind.DAY:
        return sent + timedelta(days=transit)
    if bucket is BucketKind.WEEK:
        return sent + timedelta(weeks=transit)
    m = sent.month - 1 + transit
    year, month = sent.year + m // 12, m % 12 + 1
    for day in range(sent.day, 0, -1):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover - day 1 always exists


#: statuses a unit may leave in (it is in its site's stock)
SENDABLE = (UnitStatus.BUILT, UnitStatus.COMPLETE)


class TransferRepository(Repository):
    """Transfers, inside one unit of work."""

    def add(self, scenario_id: int, origin: str, destination: str, sent: date,
            expected: date, unit_ids: dict[int, UnitStatus]) -> int:
        """A transfer in transit with its units, each set in transit if it is still in one
        of `SENDABLE` (a `TransferChanged` otherwise); returns its id."""
        tid = int(self._conn.execute(sa.insert(TR).values(
            scenario_id=scenario_id, origin=origin, destination=destination, sent_date=sent,
            expected_date=expected, status=TransferStatus.IN_TRANSIT.value, sent_at=now(),
            sent_by=self.actor).returning(TR.c.id)).scalar_one())
        moved = self._conn.execute(
            sa.update(UN).where(UN.c.id.in_(list(unit_ids)), UN.c.site == origin,
                                UN.c.status.in_([s.value for s in SENDABLE]))
            .values(status=UnitStatus.IN_TRANSIT.value)).rowcount
        if moved != len(unit_ids):
            raise TransferChanged(f"units changed while sending {transfer_code(tid)}")
        self._conn.execute(sa.insert(TU), [
            {"transfer_id": tid, "unit_id": u, "status_before": s.value}
            for u, s in unit_ids.items()])
        return tid

    def arrive(self, transfer: Transfer) -> None:
        """Book a transfer in: its units at the destination with the status they left with
        (compare-and-set on its status: a `TransferChanged` when it arrived meanwhile)."""
        done = self._conn.execute(
            sa.update(TR).where(TR.c.id == transfer.id,
                                TR.c.status == TransferStatus.IN_TRANSIT.value)
            .values(status=TransferStatus.ARRIVED.value, arrived_at=now(),
                    arrived_by=self.actor)).rowcount
        if done != 1:
            raise TransferChanged(f"{transfer.code} was booked in meanwhile")
        for before in {r.status_before for r in self._lines([transfer.id])}:
            ids = sa.select(TU.c.unit_id).where(TU.c.transfer_id == transfer.id,
                                                TU.c.status_before == before)
            self._conn.execute(sa.update(UN).where(
                UN.c.id.in_(ids), UN.c.status == UnitStatus.IN_TRANSIT.value)
                .values(status=before, site=transfer.destination))

    def get(self, transfer_id: int, scenario: str) -> Transfer:
        """One transfer."""
        found = self.find(scenario, ids=[transfer_id])
        if not found:
            raise NotFound(f"no transfer {transfer_code(transfer_id)} (fix: see `fabnet "
                           "floor transfers`)")
        return found[0]

    def find(self, scenario: str, scenario_id: int | None = None,
             ids: Iterable[int] | None = None, sites: Iterable[str] | None = None,
             status: TransferStatus | None = None) -> list[Transfer]:
        """Transfers by id (all of a scenario, with `scenario_id`), from or to `sites`."""
        q = sa.select(TR).order_by(TR.c.id)
        if ids is not None:
            q = q.where(TR.c.id.in_(list(ids)))
        if scenario_id is not None:
            q = q.where(TR.c.scenario_id == scenario_id)
        if sites is not None:
            s = list(sites)
            q = q.where(sa.or_(TR.c.origin.in_(s), TR.c.destination.in_(s)))
        if status is not None:
            q = q.where(TR.c.status == status.value)
        rows = list(self._conn.execute(q))
        lines: dict[int, list[Any]] = {}
        for r in self._lines([int(r.id) for r in rows]):
            lines.setdefault(int(r.transfer_id), []).append(r)
        return [Transfer(
            int(r.id), scenario, r.origin, r.destination, r.sent_date, r.expected_date,
            TransferStatus(r.status), tuple(x.serial for x in lines.get(int(r.id), [])),
            tuple(x.item for x in lines.get(int(r.id), [])), as_utc(r.sent_at), r.sent_by,
            as_utc(r.arrived_at) if r.arrived_at is not None else None, r.arrived_by)
            for r in rows]

    def _lines(self, ids: list[int]) -> list[Any]:
        if not ids:
            return []
        return list(self._conn.execute(
            sa.select(TU.c.transfer_id, TU.c.status_before, UN.c.serial, UN.c.item)
            .join(UN, UN.c.id == TU.c.unit_id).where(TU.c.transfer_id.in_(ids))
            .order_by(TU.c.transfer_id, UN.c.serial)))
