"""The `design` verb: choose mitigations within a budget and write what they buy.

Writes design.csv (every candidate: chosen or not, its cost, the units it saves alone
where it was re-planned alone, its marginal value by the futures' duals), summary.json
(the set, its cost, units saved by mean and worst 5 %, the method, the bound it proved in
words and in units, what one more budget step buys), risk_matrix.csv (time-to-survive,
time-to-recover and performance impact of every node, before and after the set) and
report.html (the same as a report section).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from fabnet.batch import executor_for
from fabnet.io.plan_io import csv_text, write_folder
from fabnet.io.scenario_io import load_scenario
from fabnet.model.mitigation import apply
from fabnet.model.network import compile_network
from fabnet.model.scenario import Scenario
from fabnet.report import render_page
from fabnet.resilience.design import Design, Objective, Search, design
from fabnet.resilience.tts import NodeRisk, time_to_survive

MATRIX_COLUMNS = ["node", "kind", "ttr_days", "tts_before_days", "tts_after_days",
                  "pi_before_units", "pi_after_units", "exposed_before", "exposed_after"]


@dataclass
class DesignRun:
    """A design and, when asked, the risk matrix before and after its set."""

    scenario: Scenario
    design: Design
    matrix: list[tuple[NodeRisk, NodeRisk | None]]


def summary(d: Design) -> dict[str, object]:
    """The headline numbers of a design, as written to summary.json."""
    return {
        "objective": str(d.objective), "budget_eur": d.budget, "method": str(d.method),
        "bound": d.bound, "bound_units_saved": d.bound_saved,
        "futures": d.before.result.samples, "seed": d.before.result.seed,
        "chosen": list(d.after.chosen), "cost_eur": d.after.cost,
        "units_lost_expected_before": d.before.expected,
        "units_lost_expected_after": d.after.expected,
        "units_saved_expected": d.saved_expected,
        "units_lost_worst5_before": d.before.worst5,
        "units_lost_worst5_after": d.after.worst5, "units_saved_worst5": d.saved_worst5,
        "failed_futures_before": d.before.failed, "failed_futures_after": d.after.failed,
        "sets_replanned": d.evaluations, "lp_solves": d.lp_solves,
        "exact_method_seconds": d.exact_seconds,
        "marginal_budget_eur": d.marginal_step if d.marginal is not None else None,
        "marginal_chosen": list(d.marginal.chosen) if d.marginal is not None else None,
        "marginal_units_saved": d.marginal_saved,
    }


def _rows(d: Design, sc: Scenario) -> list[list[object]]:
    rows: list[list[object]] = []
    for m in sc.mitigations:
        alone = d.singles.get(m.id)
        rows.append([m.id, str(m.kind), m.id in d.after.chosen,
                     m.total_cost(sc.horizon.buckets), m.available_after,
                     "" if alone is None else d.before.expected - alone.expected,
                     "" if alone is None else d.before.worst5 - alone.worst5,
                     d.dual_value.get(m.id, "")])
    return rows


def _matrix(sc: Scenario, chosen: Scenario, workers: int) -> list[tuple[NodeRisk,
                                                                         NodeRisk | None]]:
    before = time_to_survive(compile_network(sc), workers=workers)
    after = {r.node: r for r in time_to_survive(compile_network(chosen), workers=workers)}
    return [(b, after.get(b.node)) for b in before]


def _matrix_rows(matrix: list[tuple[NodeRisk, NodeRisk | None]]) -> list[list[object]]:
    def n(v: float | None) -> object:
        return "" if v is None else v

    return [[b.node, str(b.kind), b.ttr, n(b.tts), n(a.tts if a else None), n(b.pi),
             n(a.pi if a else None), b.exposed, a.exposed if a else ""] for b, a in matrix]


def _section(d: Design, rows: list[list[object]],
             matrix: list[tuple[NodeRisk, NodeRisk | None]]) -> tuple[str, str]:
    """The report section: the headline, the candidates and the exposed nodes."""
    s = summary(d)
    head = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in s.items())
    cand = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows)
    cols = ["mitigation", "kind", "chosen", "cost EUR", "available after", "saved alone",
            "saved alone (worst 5 %)", "marginal value by the duals"]
    mrows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                    for r in _matrix_rows(matrix) if r[7] or r[8])
    body = (f"<table>{head}</table><h3>Candidates</h3><table><tr>"
            + "".join(f"<th>{c}</th>" for c in cols) + f"</tr>{cand}</table>")
    if matrix:
        body += ("<h3>Exposed nodes (TTS &lt; TTR) before and after</h3><table><tr>"
                 + "".join(f"<th>{c}</th>" for c in MATRIX_COLUMNS) + f"</tr>{mrows}</table>")
    return "Redundancy design", body


def run_design(path: str | Path | Scenario, budget: float, futures: int, seed: int,
               objective: Objective = Objective.EXPECTED, workers: int = 1,
               out: Path | None = None, force: bool = False, matrix: bool = True,
               marginal_step: float | None = 1_000_000.0,
               scheduler: str | None = None, search: Search = Search.AUTO) -> DesignRun:
    """Choose the scenario's mitigations within `budget` EUR over `futures` sampled futures
    (`seed`), and write design.csv, summary.json, risk_matrix.csv and report.html to `out`."""
    from fabnet.model.errors import FabnetError

    sc = path if isinstance(path, Scenario) else load_scenario(path)
    if not sc.risks:
        raise FabnetError("risks: the scenario has no risks to design against (fix: add a "
                          "risks: section with id, target, rate, duration)")
    with executor_for(workers, scheduler) as ex:
        d = design(sc, budget, futures, seed, objective, executor=ex,
                   marginal_step=marginal_step, search=search)
    chosen = apply(sc, tuple(m for m in sc.mitigations if m.id in d.after.chosen))
    mx = _matrix(sc, chosen, workers) if matrix else []
    if out is not None:
        rows = _rows(d, sc)
        write_folder(out, {
            "design.csv": csv_text(["mitigation", "kind", "chosen", "cost_eur",
                                    "available_after", "units_saved_alone_expected",
                                    "units_saved_alone_worst5", "dual_value_expected"], rows),
            "summary.json": json.dumps(summary(d), indent=1),
            **({"risk_matrix.csv": csv_text(MATRIX_COLUMNS, _matrix_rows(mx))} if mx else {}),
            "report.html": render_page(f"Redundancy design: {sc.name}",
                                       f"budget {budget:,.0f} EUR, {futures} futures, "
                                       f"seed {seed}", [_section(d, rows, mx)]),
        }, force=force)
    return DesignRun(sc, d, mx)
