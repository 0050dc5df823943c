"""Engineering change orders (ECOs): a design change, reviewed, then released into the plan.

Like a change note pinned to a drawing: "from 5 July, the datalink DL-1 comes out of
RECON-Q and DL-2 goes in". An ECO lists its lines (a BOM line or a routing step added,
removed or changed), says from when it is effective (a date, or a serial number of the
changed item: the units built after it get the new design), and moves draft → in review
→ released (or rejected). Its author never reviews it: another engineer releases or
rejects it. Released, it is applied to the scenario as effectivity-dated lines
(`apply_eco`): the old line ends the day before, the new one starts on the day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from fabnet.model.scenario import BomLine, RoutingStep, Scenario
from fabnet.shop.errors import FloorError, NotPermitted
from fabnet.shop.roles import Caller
from fabnet.store.records import Role


class EcoError(FloorError):
    """An ECO that can't be written, moved or applied as asked; the message says the fix."""


class EcoRefused(NotPermitted):
    """A workflow step the caller may not take on this ECO (its author reviewing it)."""


class EcoStatus(StrEnum):
    """Where an ECO is in its review."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    RELEASED = "released"
    REJECTED = "rejected"


class EcoKind(StrEnum):
    """What an ECO line changes."""

    BOM = "bom"  # parent/component, qty per unit of parent
    ROUTING = "routing"  # item/work-center type, hours per unit


class EcoOp(StrEnum):
    """How an ECO line changes it."""

    ADD = "add"
    REMOVE = "remove"
    CHANGE = "change"


class EcoAction(StrEnum):
    """The ECO verbs, as the roles matrix names them."""

    CREATE = "create"
    SUBMIT = "submit"
    DECIDE = "release or reject"
    IMPACT = "see the impact of"
    RETROFIT = "open a retrofit for"


A, P, Q, E, U = Role.ADMIN, Role.PLANNER, Role.QUALITY, Role.ENGINEERING, Role.AUDITOR

ECO_ROLES: dict[EcoAction, frozenset[Role]] = {
    EcoAction.CREATE: frozenset({A, E}),
    EcoAction.SUBMIT: frozenset({A, E}),
    EcoAction.DECIDE: frozenset({A, E}),
    EcoAction.IMPACT: frozenset({A, P, Q, E, U}),
    EcoAction.RETROFIT: frozenset({A, E}),
}


def check_role(caller: Caller, action: EcoAction) -> None:
    """Refuse (`NotPermitted`) unless the caller's role may take `action` on ECOs."""
    roles = ECO_ROLES[action]
    if caller.role not in roles:
        who = ", ".join(r.value for r in Role if r in roles)
        raise NotPermitted(f"{caller.name} ({caller.role.value}) may not {action.value} an "
                           f"ECO (roles that may: {who}) (fix: ask one of them)")


@dataclass(frozen=True)
class EcoLine:
    """One change: `op` the BOM line `parent`/`component` (qty per unit) or the routing
    step `parent`/`component` (work-center type, hours per unit); `qty` None: removed."""

    kind: EcoKind
    op: EcoOp
    parent: str
    component: str
    qty: float | None = None

    @property
    def label(self) -> str:
        """How the line reads: `change bom RECON-Q/DL-1 = 2`."""
        q = "" if self.qty is None else f" = {self.qty:g}"
        return f"{self.op.value} {self.kind.value} {self.parent}/{self.component}{q}"


_SPEC = re.compile(r"^\s*([^/=\s]+)\s*/\s*([^/=\s]+)\s*(?:=\s*(\S+))?\s*$")


def parse_line(kind: EcoKind, op: EcoOp, text: str) -> EcoLine:
    """An ECO line from `PARENT/COMPONENT=QTY` (`PARENT/COMPONENT` to remove); an
    `EcoError` naming the form otherwise."""
    flag = f"--{op.value}-{'bom' if kind is EcoKind.BOM else 'step'}"
    what = "PARENT/COMPONENT" if kind is EcoKind.BOM else "ITEM/WORK_CENTER"
    form = what if op is EcoOp.REMOVE else f"{what}=" + ("QTY" if kind is EcoKind.BOM
                                                          else "HOURS")
    m = _SPEC.match(text)
    if m is None or (m.group(3) is None) != (op is EcoOp.REMOVE):
        raise EcoError(f"{flag} {text!r}: write {form}")
    qty = None
    if m.group(3) is not None:
        try:
            qty = float(m.group(3))
        except ValueError:
            qty = -1.0
        if not (qty > 0 and qty < float("inf")):
            raise EcoError(f"{flag} {text!r}: {m.group(3)} must be a number > 0 (fix: "
                           f"write {form})")
    return EcoLine(kind, op, m.group(1), m.group(2), qty)


@dataclass(frozen=True)
class Eco:
    """A stored ECO: its lines, effectivity, and who wrote, submitted and decided it."""

    id: int
    scenario: str
    description: str
    effective: date | None
    effective_serial: str | None
    status: EcoStatus
    lines: tuple[EcoLine, ...]
    created_at: datetime
    created_by: str
    submitted_by: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    version: int | None = None  # the scenario version its release made
    applied_on: date | None = None

    @property
    def code(self) -> str:
        """How people name it: `ECO-3`."""
        return eco_code(self.id)

    @property
    def parents(self) -> tuple[str, ...]:
        """The items whose design it changes, in order."""
        return tuple(dict.fromkeys(ln.parent for ln in self.lines))

    def retired(self) -> set[tuple[str, str]]:
        """(parent, component) of the BOM lines it removes or changes: the parts a unit
        built before it carries that the new design does not (or not as much)."""
        return {(ln.parent, ln.component) for ln in self.lines
                if ln.kind is EcoKind.BOM and ln.op is not EcoOp.ADD}

    def check_step(self, actor: str, to: EcoStatus) -> None:
        """Refuse a move to `to` that the workflow does not allow from here, or that the
        author makes on their own ECO's review."""
        allowed = {EcoStatus.IN_REVIEW: EcoStatus.DRAFT, EcoStatus.RELEASED: EcoStatus.IN_REVIEW,
                   EcoStatus.REJECTED: EcoStatus.IN_REVIEW}
        if allowed.get(to) is not self.status:
            raise EcoError(f"{self.code} is {self.status.value}: it can't become {to.value} "
                           f"(fix: only a draft goes to review, and only an ECO in review is "
                           "released or rejected)")
        if to is not EcoStatus.IN_REVIEW and actor == self.created_by:
            raise EcoRefused(f"{actor} wrote {self.code} and may not {_verb(to)} it (fix: "
                             "another engineer reviews it)")


def _verb(to: EcoStatus) -> str:
    return "release" if to is EcoStatus.RELEASED else "reject"


def eco_code(eco_id: int) -> str:
    """`ECO-<id>`."""
    return f"ECO-{eco_id}"


_CODE = re.compile(r"(?:ECO-?)?(\d{1,12})", re.IGNORECASE)


def parse_eco(text: str) -> int:
    """The id in `ECO-3` (or `3`); an `EcoError` naming the form otherwise."""
    m = _CODE.fullmatch(text.strip())
    if m is None:
        raise EcoError(f"{text!r}: not an ECO (fix: write ECO-3 or 3)")
    return int(m.group(1))


def next_revision(rev: str | None) -> str:
    """The revision after `rev`: A → B, Z → AA; none yet (the first design, A) → B."""
    if not rev:
        return "B"
    if rev.isalpha() and rev.isupper():
        if rev[-1] != "Z":
            return rev[:-1] + chr(ord(rev[-1]) + 1)
        return next_revision(rev[:-1]) + "A" if len(rev) > 1 else "AA"
    if rev.isdigit():
        return str(int(rev) + 1)
    return rev + "+"


Line = BomLine | RoutingStep


def _key(x: Line) -> tuple[str, str]:
    return (x.parent, x.item) if isinstance(x, BomLine) else (x.item, x.work_center)


def _retime(lines: tuple[Line, ...], key: tuple[str, str], on: date, what: str,
            must: bool) -> tuple[list[Line], Line | None]:
    """The lines with those of `key` in effect on or after `on` ended the day before (or
    dropped, if they start on or after it); the last one found, if any."""
    out: list[Line] = []
    found: Line | None = None
    for x in lines:
        if _key(x) != key or (x.until is not None and x.until < on):
            out.append(x)
            continue
        found = x
        if x.start is None or x.start < on:
            out.append(replace(x, until=on - timedelta(days=1)))
    if must and found is None:
        raise EcoError(f"{what} {key[0]}/{key[1]}: no such line in effect on or after {on} "
                       "(fix: name a line of the scenario, or add it instead)")
    if not must and found is not None:
        raise EcoError(f"{what} {key[0]}/{key[1]}: is in the design on or after {on} "
                       "already (fix: change it instead of adding it)")
    return out, found


def apply_eco(sc: Scenario, lines: tuple[EcoLine, ...], on: date) -> Scenario:
    """The scenario with the ECO's lines in effect from `on`: each removed or changed
    line ends the day before (a later-starting one is dropped), each added or changed
    one starts on `on`, and each changed item's revision moves on. The input is never
    mutated; the caller validates the result."""
    boms: tuple[Line, ...] = sc.boms
    routings: tuple[Line, ...] = sc.routings
    for ln in lines:
        key = (ln.parent, ln.component)
        is_bom = ln.kind is EcoKind.BOM
        current = boms if is_bom else routings
        what = f"{ln.op.value} {'bom' if is_bom else 'step'}"
        kept, _ = _retime(current, key, on, what, must=ln.op is not EcoOp.ADD)
        if ln.op is not EcoOp.REMOVE:
            assert ln.qty is not None
            kept.append(BomLine(ln.parent, ln.component, ln.qty, start=on) if is_bom
                        else RoutingStep(ln.parent, ln.component, ln.qty, start=on))
        if is_bom:
            boms = tuple(kept)
        else:
            routings = tuple(kept)
    changed = {ln.parent for ln in lines}
    items = tuple(replace(i, revision=next_revision(i.revision)) if i.id in changed else i
                  for i in sc.items)
    return replace(sc, items=items, boms=tuple(b for b in boms if isinstance(b, BomLine)),
                   routings=tuple(r for r in routings if isinstance(r, RoutingStep)))
