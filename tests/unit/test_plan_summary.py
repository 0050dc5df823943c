"""What people read about a plan: rounded figures that add up, KPIs in words, dates on axes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fabnet.plan.summary import (
    MonthLine,
    displayed_months,
    kpi_label,
    kpi_summary,
    largest_remainder,
)
from fabnet.services.planning import plan_scenario

ONE_LINE = """\
scenario: one line
horizon: {{start: 2027-01-04, bucket: week, buckets: 10}}
items: [{{id: Q, kind: product}}, {{id: M, kind: component}}]
boms: {{Q: [{{item: M, qty: 3}}]}}
sites: [{{id: HUB, country: FR, makes: [Q]}}]
customers: [{{id: UA, country: UA}}]
lanes: [{{from: HUB, to: UA, transit: 1, cost: 1}}]
inventory: [{{site: HUB, item: M, qty: 1500}}]
demand: {demand}
"""


def test_thirds_of_a_thousand_add_up_to_a_thousand() -> None:
    parts = largest_remainder([1000 / 3] * 3, 1000)
    assert sorted(parts) == [333, 333, 334] and sum(parts) == 1000


def test_rounded_parts_add_up_to_the_rounded_total_at_any_decimals() -> None:
    values = [0.13, 0.14, 0.15, 0.58]
    assert largest_remainder(values) == [0, 0, 0, 1]
    assert largest_remainder(values, decimals=1) == [0.1, 0.1, 0.2, 0.6]
    assert largest_remainder([2.6, 2.6], total=5) == [3, 2]  # fewer than each rounded


def test_each_products_months_add_up_to_its_total_line() -> None:
    lines = [MonthLine("Q", m, 100 / 3, 100 / 3, 10.5) for m in ("2027-01", "2027-02",
                                                                 "2027-03")]
    shown = displayed_months(lines)
    assert [ln.month for ln in shown] == ["2027-01", "2027-02", "2027-03", "total"]
    assert sum(ln.demanded for ln in shown[:3]) == shown[3].demanded == 100
    assert sum(ln.on_time for ln in shown[:3]) == shown[3].on_time == 32


def test_kpis_read_in_words_with_rates_in_percent() -> None:
    lines = dict(kpi_summary({"units_demanded": 10000.0, "units_delivered": 5218.75,
                              "units_late": 4781.2499, "units_lost": 4781.25,
                              "fill_rate": 0.521875, "cost_total": 1234.5,
                              "fill_rate_p2": 0.5}))
    assert lines["units late"] == "4,781"
    assert lines["fill rate"] == "52.2 %"
    assert lines["fill rate, priority 2"] == "50.0 %"
    assert lines["total cost"] == "€1,234"
    # delivered and lost are shown so that they add up to what was demanded
    assert (int(lines["units delivered"].replace(",", "")) +
            int(lines["units lost"].replace(",", ""))) == 10000
    assert kpi_label("units_late") == "units late"


def test_no_demand_reads_no_demand_not_a_full_fill_rate() -> None:
    lines = dict(kpi_summary({"units_demanded": 0.0, "units_delivered": 0.0,
                              "units_lost": 0.0, "note": "no demand"},
                             ["fill_rate", "on_time_rate", "units_demanded"]))
    assert lines == {"fill rate": "no demand", "on-time rate": "no demand",
                     "units demanded": "0"}


@pytest.fixture()
def report(tmp_path: Path) -> str:
    path = tmp_path / "s.yaml"
    path.write_text(ONE_LINE.format(demand="[{id: D1, customer: UA, item: Q, qty: 400, "
                                    "due: 2027-02-01}]"), encoding="utf-8")
    plan_scenario(path, tmp_path / "plan")
    return (tmp_path / "plan" / "report.html").read_text(encoding="utf-8")


def test_report_charts_put_dates_on_every_time_axis(report: str) -> None:
    figures = report.split("Plotly.newPlot(")[1:]
    assert len(figures) == 3
    for fig in figures:
        assert re.search(r'"xaxis":\{"title":\{[^{}]*\},"type":"date"', fig)
        assert '"x":[0,1' not in fig  # no bucket numbers
    assert '"2027-01-04"' in figures[1] and '"2027-02-01"' in figures[0]


def test_report_names_kpis_in_words(report: str) -> None:
    assert "<td>units late</td>" in report and "<td>fill rate</td>" in report
    assert "<code>units_late</code>" in report  # the machine name, for cross-reference
    assert "Every demand is delivered on time." in report


def test_report_of_a_scenario_without_demand_says_no_demand(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(ONE_LINE.format(demand="[]"), encoding="utf-8")
    plan_scenario(path, tmp_path / "plan")
    html = (tmp_path / "plan" / "report.html").read_text(encoding="utf-8")
    assert "<b>no demand</b><span>fill rate</span>" in html
    assert "100.0 %" not in html
    assert "No demand in this scenario" in html
