"""Licences, revisions and effectivity dates: read, checked and written back exactly."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from fabnet.io import load_scenario, save_scenario
from fabnet.model import Licence, LicenceStatus
from fabnet.model.scenario import in_effect
from tests.unit.test_validation import BASE, base, problems, write

CHANGED = BASE.replace(
    "  RECON-Q: [{item: FC-H7, qty: 1}]\n",
    "  RECON-Q:\n"
    "    - {item: FC-H7, qty: 1, until: 2027-01-31}\n"
    "    - {item: FC-H7, qty: 2, from: 2027-02-01}\n",
).replace(
    "  RECON-Q: [{work_center: assembly, hours: 2.5}]\n",
    "  RECON-Q: [{work_center: assembly, hours: 2.5, from: 2027-01-04}]\n",
).replace(
    "kind: product}", "kind: product, revision: B}",
) + """licences:
  - {id: L-UA-07, customer: UA-MOD, country: UA, items: [RECON-Q, FC-H7], qty: 500,
     from: 2027-01-04, until: 2027-06-30, euc: EUC-2027-113, status: valid,
     authority: SGDSN}
  - {id: L-UA-08, customer: UA-MOD, country: UA, items: [RECON-Q], qty: 20,
     from: 2027-02-01, until: 2027-12-31, status: pending}
"""


@pytest.fixture
def changed(tmp_path: Path) -> Path:
    p = tmp_path / "changed.yaml"
    p.write_text(CHANGED)
    return p


def test_licences_revision_and_effectivity_are_read(changed: Path) -> None:
    sc = load_scenario(changed)
    assert sc.licences[0] == Licence("L-UA-07", "UA-MOD", "UA", ("RECON-Q", "FC-H7"), 500,
                                     date(2027, 1, 4), date(2027, 6, 30), "EUC-2027-113",
                                     LicenceStatus.VALID, "SGDSN")
    assert sc.licences[1].status is LicenceStatus.PENDING
    assert sc.items[0].revision == "B"
    assert [(b.qty, b.start, b.until) for b in sc.boms] == [
        (1, None, date(2027, 1, 31)), (2, date(2027, 2, 1), None)]
    assert sc.routings[0].start == date(2027, 1, 4)


@pytest.mark.parametrize("target", ["x.xlsx", "csvdir", "y.yaml"])
def test_licences_and_effectivity_survive_every_format(changed: Path, tmp_path: Path,
                                                       target: str) -> None:
    sc = load_scenario(changed)
    save_scenario(sc, tmp_path / target)
    assert load_scenario(tmp_path / target) == sc


def test_scenario_without_the_new_fields_means_always_and_no_licences(tmp_path: Path) -> None:
    sc = load_scenario(write(tmp_path, base()))
    assert sc.licences == ()
    assert (sc.boms[0].start, sc.boms[0].until, sc.items[0].revision) == (None, None, None)


def test_a_licence_opens_on_its_first_day_and_never_when_expired_or_revoked() -> None:
    lic = Licence("L1", "UA-MOD", "UA", ("RECON-Q",), 10, date(2027, 2, 1),
                  date(2027, 3, 31), status=LicenceStatus.PENDING)
    assert not lic.covers("RECON-Q", "UA", date(2027, 1, 31))
    assert lic.covers("RECON-Q", "UA", date(2027, 2, 1))
    assert lic.covers("RECON-Q", "UA", date(2027, 3, 31))
    assert not lic.covers("RECON-Q", "UA", date(2027, 4, 1))
    assert not lic.covers("RECON-Q", "PL", date(2027, 3, 1))
    assert not lic.covers("FC-H7", "UA", date(2027, 3, 1))
    for status in (LicenceStatus.EXPIRED, LicenceStatus.REVOKED):
        lic_off = Licence("L1", "UA-MOD", "UA", ("RECON-Q",), 10, date(2027, 2, 1),
                          date(2027, 3, 31), status=status)
        assert not lic_off.is_open(date(2027, 3, 1))
    # a whole week inside the window, or not
    assert lic.open_over(date(2027, 2, 1), date(2027, 2, 8))
    assert not lic.open_over(date(2027, 3, 29), date(2027, 4, 5))


def test_effectivity_includes_both_days() -> None:
    assert in_effect(date(2027, 2, 1), date(2027, 2, 7), date(2027, 2, 7))
    assert not in_effect(date(2027, 2, 1), date(2027, 2, 7), date(2027, 2, 8))
    assert in_effect(None, None, date(1, 1, 1))


def _licence(**over: object) -> dict[str, object]:
    lic: dict[str, object] = {"id": "L1", "customer": "UA-MOD", "country": "UA",
                              "items": ["RECON-Q"], "qty": 10, "from": "2027-01-04",
                              "until": "2027-06-30"}
    lic.update(over)
    return lic


def test_licence_naming_unknown_customer_or_item_is_refused(tmp_path: Path) -> None:
    doc = base()
    doc["licences"] = [_licence(customer="UA-NOPE", items=["RECON-Q", "NOPE"])]
    got = problems(tmp_path, doc)
    assert any("licences[L1].customer: unknown customer 'UA-NOPE'" in p for p in got)
    assert any("licences[L1].items: unknown item 'NOPE'" in p for p in got)


def test_licence_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    doc = base()
    doc["licences"] = [_licence(until="2027-01-01")]
    assert any("licences[L1].until: 2027-01-01 is before from 2027-01-04" in p
               for p in problems(tmp_path, doc))


def test_duplicate_licence_ids_are_refused(tmp_path: Path) -> None:
    doc = base()
    doc["licences"] = [_licence(), _licence(qty=5)]
    assert any("licences[L1].id: duplicate id 'L1'" in p for p in problems(tmp_path, doc))


def test_licence_with_unknown_status_is_refused(tmp_path: Path) -> None:
    doc = base()
    doc["licences"] = [_licence(status="granted")]
    assert any("licences[L1].status" in p for p in problems(tmp_path, doc))


def test_licence_for_another_country_is_a_warning(tmp_path: Path) -> None:
    doc = base()
    doc["licences"] = [_licence(country="PL")]
    sc = load_scenario(write(tmp_path, doc))
    assert any("licences[L1].country: licence is for PL, but customer UA-MOD is in UA"
               in str(w) for w in sc.warnings)


def test_bom_lines_of_one_key_with_overlapping_windows_are_refused(tmp_path: Path) -> None:
    doc = base()
    doc["boms"]["RECON-Q"] = [{"item": "FC-H7", "qty": 1, "until": "2027-02-01"},
                              {"item": "FC-H7", "qty": 2, "from": "2027-02-01"}]
    got = problems(tmp_path, doc)
    assert any("boms[RECON-Q/FC-H7].item: duplicate item: 2 lines for RECON-Q/FC-H7 and two "
               "are in effect at once (…..2027-02-01 and 2027-02-01..…)" in p for p in got)


def test_bom_lines_of_one_key_one_after_the_other_are_valid(tmp_path: Path) -> None:
    doc = base()
    doc["boms"]["RECON-Q"] = [{"item": "FC-H7", "qty": 1, "until": "2027-01-31"},
                              {"item": "FC-H7", "qty": 2, "from": "2027-02-01"}]
    assert len(load_scenario(write(tmp_path, doc)).boms) == 2


def test_two_routing_steps_without_dates_are_still_duplicates(tmp_path: Path) -> None:
    doc = base()
    doc["routings"]["RECON-Q"] = [{"work_center": "assembly", "hours": 1},
                                  {"work_center": "assembly", "hours": 2}]
    assert any("routings[RECON-Q/assembly].work_center: duplicate work_center" in p
               for p in problems(tmp_path, doc))


def test_effectivity_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    doc = base()
    doc["routings"]["RECON-Q"] = [{"work_center": "assembly", "hours": 1,
                                   "from": "2027-03-01", "until": "2027-02-01"}]
    assert any("routings[RECON-Q/assembly].until: 2027-02-01 is before from 2027-03-01" in p
               for p in problems(tmp_path, doc))
