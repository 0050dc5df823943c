"""Transfers between sites: send units (they are in transit), then book them in.

`send` takes serialized units out of their site's stock into a transfer along the lane
to `to_site` (status in transit, expected on the sent day + the lane's transit); `arrive`
books a transfer's units into the destination's stock with the status they left with.
The sender's site manager sends (every unit at one of their sites), the destination's
books the arrival; planners and admins both. Each verb runs in one unit of work and is
audited in it (`floor.transfer`, `floor.transfer.arrive`).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from fabnet.model.scenario import Scenario
from fabnet.services.floor import _latest, _run, _scenario_id
from fabnet.shop.errors import FloorError
from fabnet.shop.repository import FloorRepository
from fabnet.shop.roles import Caller, FloorAction
from fabnet.shop.transfer import (
    SENDABLE,
    Transfer,
    TransferRepository,
    TransferStatus,
    expected_arrival,
)
from fabnet.shop.unit import Unit
from fabnet.store import Action, NotFound, Store, UnitOfWork
from fabnet.store.repository import now
from fabnet.store.schema import scenarios


def _lane_transit(sc: Scenario, origin: str, to_site: str, lane: str | None) -> int:
    """The transit of the lane `origin`>`to_site` (named `lane`, when given)."""
    want = f"{origin}>{to_site}"
    if lane is not None and lane.strip() != want:
        raise FloorError(f"--lane {lane}: the units go {want} (fix: --lane {want}, or send "
                         "units of one site to the lane's destination)")
    for ln in sc.lanes:
        if ln.origin == origin and ln.destination == to_site:
            return ln.transit
    raise FloorError(f"scenario {sc.name!r} has no lane {want}: nothing moves between two "
                     f"sites without one (fix: add lanes: [{{from: {origin}, to: {to_site}, "
                     "transit: N}] to the scenario)")


def _scenario_of(floor: FloorRepository, found: list[Unit]) -> int:
    """The one scenario the units were built in."""
    sids = {floor.scenario_of_unit(u.id)[0] for u in found}
    if len(sids) > 1:
        raise FloorError("the units were built in different scenarios: a transfer is of "
                         "one (fix: send each scenario's units on their own)")
    return sids.pop()


def _name(uow: UnitOfWork, sid: int) -> str:
    return str(uow.connection.execute(sa.select(scenarios.c.name)
                                      .where(scenarios.c.id == sid)).scalar_one())


def send(store: Store, caller: Caller, serial_list: list[str], to_site: str,
         lane: str | None = None, sent: date | None = None,
         scenario: str | None = None, at_once: bool = False) -> Transfer:
    """Send units from their site (all at one site) to `to_site` along its lane: they
    leave the site's stock and are in transit until `arrive` books them in. `at_once`
    books them in at the destination in the same step (a move with no time on the way,
    no lane needed)."""
    caller.check(FloorAction.TRANSFER)
    if not serial_list:
        raise FloorError("name the serials to send (fix: fabnet floor transfer --to SITE "
                         "SERIAL …)")

    def work(uow: UnitOfWork, floor: FloorRepository) -> Transfer:
        found = floor.units_by_serial(serial_list)
        if missing := [s for s in serial_list if s not in found]:
            raise NotFound(f"no unit with serial {missing[0]!r}")
        for u in found.values():
            caller.check(FloorAction.TRANSFER, u.site)
        origins = sorted({u.site for u in found.values()})
        if len(origins) > 1:
            raise FloorError(f"the units are at {len(origins)} sites: a transfer leaves one "
                             "site (fix: send each site's units on their own)")
        origin = origins[0]
        for u in found.values():
            if u.status not in SENDABLE:
                raise FloorError(f"{u.serial} is {u.status.value}: only units in stock "
                                 "(built or complete) are sent")
        sid = _scenario_of(floor, list(found.values()))
        name = _name(uow, sid)
        if scenario is not None and scenario != name:
            raise FloorError(f"the units were built in scenario {name!r}, not {scenario!r} "
                             f"(fix: --scenario {name})")
        _, sc = _latest(uow, name)
        if to_site not in {s.id for s in sc.sites}:
            raise FloorError(f"--to {to_site}: no site {to_site!r} in scenario {name!r}")
        if to_site == origin:
            raise FloorError(f"the units are at {to_site} already")
        transit = 0 if at_once else _lane_transit(sc, origin, to_site, lane)
        day = sent or now().date()
        repo = TransferRepository(uow.connection, uow.audit)
        tid = repo.add(sid, origin, to_site, day,
                       expected_arrival(day, transit, sc.horizon.bucket),
                       {u.id: u.status for u in found.values()})
        t = repo.get(tid, name)
        floor.audit(Action.TRANSFER, f"transfer:{t.code}",
                    {"from": origin, "to": to_site, "serials": list(t.serials),
                     "sent": t.sent_date.isoformat(), "expected": t.expected_date.isoformat()})
        if at_once:
            _book_in(uow, floor, repo, caller, t)
            return repo.get(tid, name)
        return t
    return _run(store, caller, work)


def arrive(store: Store, caller: Caller, transfer_id: int,
           scenario: str | None = None) -> Transfer:
    """Book a transfer in transit into its destination's stock."""
    caller.check(FloorAction.TRANSFER)

    def work(uow: UnitOfWork, floor: FloorRepository) -> Transfer:
        _, name = _scenario_id(uow, scenario)
        repo = TransferRepository(uow.connection, uow.audit)
        t = repo.get(transfer_id, name)
        _book_in(uow, floor, repo, caller, t)
        return repo.get(transfer_id, name)
    return _run(store, caller, work)


def _book_in(uow: UnitOfWork, floor: FloorRepository, repo: TransferRepository,
             caller: Caller, t: Transfer) -> None:
    # the destination's site manager books it in (the refusal names no site)
    caller.check(FloorAction.TRANSFER, t.destination)
    if t.status is not TransferStatus.IN_TRANSIT:
        raise FloorError(f"{t.code} arrived already ({t.arrived_at:%Y-%m-%d %H:%M} by "
                         f"{t.arrived_by})")
    repo.arrive(t)
    floor.audit(Action.TRANSFER_ARRIVE, f"transfer:{t.code}",
                {"from": t.origin, "to": t.destination, "serials": list(t.serials)})


def list_transfers(store: Store, caller: Caller, scenario: str | None = None,
                   status: TransferStatus | None = None) -> list[Transfer]:
    """Transfers of a scenario, from or to the caller's sites only."""
    caller.check(FloorAction.ORDERS)

    def work(uow: UnitOfWork, floor: FloorRepository) -> list[Transfer]:
        sid, name = _scenario_id(uow, scenario)
        return TransferRepository(uow.connection, uow.audit).find(
            name, sid, sites=caller.sites, status=status)
    return _run(store, caller, work, read_only=True)


def move_now(store: Store, caller: Caller, serial_list: list[str], to_site: str) -> int:
    """Send units and book them in at once (no time in transit); the number moved."""
    return len(send(store, caller, serial_list, to_site, at_once=True).serials)
