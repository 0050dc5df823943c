"""Importing a Willems chain: bad rows are one line naming row and field, nothing is
written, and what is written passes `fabnet validate`; long chains and BOMs thousands of
levels deep are read without running out of stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from fabnet.io import load_scenario
from fabnet.io.willems import derived_demand, read_stages, willems_scenario
from fabnet.model import ScenarioError
from fabnet.model.errors import FabnetError
from fabnet.services.continuity import import_willems

HEADER = "stage_id,lead_time,c2,c3,c4,ext_demand_mean,c6,c7,up1,q1\n"
GOOD = HEADER + "Asm,3,,,,10,,,Part_A,2\nPart_A,2,,,,,,,,\n"


def chain(tmp_path: Path, text: str | bytes, name: str = "chain.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(("text", "says"), [
    (GOOD.replace("10,,,Part_A", "nan,,,Part_A"), r"row 2 \(Asm\): ext_demand_mean: 'nan'"),
    (GOOD.replace("10,,,Part_A", "-10,,,Part_A"), r"row 2 \(Asm\): ext_demand_mean: '-10'"),
    (GOOD.replace("Part_A,2\n", "Part_A,-2\n"), r"row 2 \(Asm\): upstream quantity: '-2'"),
    (GOOD.replace("Part_A,2\n", "Part_A,0\n"), r"row 2 \(Asm\): upstream quantity: '0'"),
    (GOOD.replace("Asm,3", "Asm,-5"), r"row 2 \(Asm\): lead_time: '-5'"),
    (GOOD.replace("Asm,3", "Asm,inf"), r"row 2 \(Asm\): lead_time: 'inf'"),
    (GOOD + "Asm,3,,,,10,,,Part_A,2\n", r"row 4: stage 'Asm' has a row already"),
])
def test_a_bad_row_is_one_line_and_nothing_is_written(tmp_path: Path, text: str,
                                                      says: str) -> None:
    out = tmp_path / "out.yaml"
    with pytest.raises(FabnetError, match=says) as e:
        import_willems(chain(tmp_path, text), out)
    assert "\n" not in str(e.value) and "(fix:" in str(e.value)
    assert not out.exists()


def test_an_id_no_scenario_can_hold_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"
    with pytest.raises(ScenarioError, match="id contains ';'"):
        import_willems(chain(tmp_path, HEADER + "Part A;x,3,,,,10,,,,\n"), out)
    assert not out.exists()


@pytest.mark.parametrize("options", [{"capacity_factor": float("nan")},
                                     {"ttr": float("inf")}, {"stock_days": float("inf")}])
def test_options_that_are_not_finite_are_refused(tmp_path: Path,
                                                 options: dict[str, float]) -> None:
    with pytest.raises(FabnetError, match="must be a finite number"):
        willems_scenario(chain(tmp_path, GOOD), **options)


def test_a_file_that_is_not_utf8_text_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(FabnetError, match=r"not UTF-8 text .*\(fix: save the chain as a "
                                          r"UTF-8 CSV file\)"):
        read_stages(chain(tmp_path, bytes(range(128, 256)) * 10))
    with pytest.raises(FabnetError, match="not UTF-8 text"):
        read_stages(chain(tmp_path, GOOD.encode("utf-16"), "u16.csv"))


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    stages = read_stages(chain(tmp_path, b"\xef\xbb\xbf" + GOOD.encode()))
    assert [s.id for s in stages] == ["Asm", "Part_A"]


def test_a_chain_longer_than_the_stack_imports_and_validates(tmp_path: Path) -> None:
    n = 3000
    rows = [f"S{i},1,,,,{5 if i == 0 else ''},,,S{i + 1},1" for i in range(n - 1)]
    path = chain(tmp_path, HEADER + "\n".join(rows) + f"\nS{n - 1},1,,,,,,,,\n")
    dd = derived_demand(read_stages(path))
    assert dd["S0"] == 5.0 and dd[f"S{n - 1}"] == 5.0
    out = tmp_path / "long.yaml"
    sc = import_willems(path, out)
    assert len(sc.boms) == n - 1
    assert len(load_scenario(out).sites) == n  # what was written passes every rule


def test_a_cycle_in_the_chain_is_named(tmp_path: Path) -> None:
    text = HEADER + "Asm,3,,,,10,,,Sub,1\nSub,1,,,,,,,Asm,1\n"
    with pytest.raises(FabnetError, match="the chain has a cycle"):
        derived_demand(read_stages(chain(tmp_path, text)))


def test_every_item_below_an_item_is_found_in_a_bom_deeper_than_the_stack(
        tmp_path: Path) -> None:
    from fabnet.model.network import compile_network
    from fabnet.plan.shortfall import bom_explosion

    n = 1200
    rows = [f"S{i},1,,,,{5 if i == 0 else ''},,,S{i + 1},1" for i in range(n - 1)]
    net = compile_network(willems_scenario(
        chain(tmp_path, HEADER + "\n".join(rows) + f"\nS{n - 1},1,,,,,,,,\n")))
    below = bom_explosion(net)
    at = {item: k for k, item in enumerate(net.items)}
    assert below[at["S0"]] == set(range(len(net.items)))
    assert below[at[f"S{n - 1}"]] == {at[f"S{n - 1}"]}
    assert len(below[at["S600"]]) == n - 600
