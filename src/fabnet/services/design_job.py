"""Redundancy design as a job of the store's scenarios, and how its result is scoped.

`fabnet.services.jobs` runs a job by its kind's runner (`RUNNERS`) and
`fabnet.services.scoping` cuts a result by its kind's scoper (`SCOPERS`); importing this
module registers both for `JobKind.DESIGN` (the API's design route imports it).

A result is network-wide: the chosen set (suppliers, sites and lanes anywhere), units
saved over every demand. A viewer who sees only some sites gets the method and its
counts, the candidates that touch only their sites, and the risk matrix rows of nodes
that touch one; the chosen set, costs and units are withheld.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fabnet.model.errors import FabnetError
from fabnet.model.mitigation import Mitigation
from fabnet.model.scenario import Scenario
from fabnet.resilience.design import Objective, Search
from fabnet.services import scoping
from fabnet.services.design import DesignRun, run_design, summary
from fabnet.services.jobs import _MONTECARLO, RUNNERS, JobKind, Ticker, _target, create_job
from fabnet.store import Job, Store

#: summary keys a partial viewer keeps: how the design ran, no units or set
SCOPED_SUMMARY = ("objective", "method", "futures", "seed", "sets_replanned", "lp_solves")


def check_design(sc: Scenario, name: str) -> None:
    """A design needs risks to sample and candidates to choose from (one line each)."""
    if not sc.risks:
        raise FabnetError(f"scenario {name!r}: risks: the scenario has no risks to design "
                          "against (fix: add rows to its risks section)")
    if not sc.mitigations:
        raise FabnetError(f"scenario {name!r}: mitigations: the scenario lists no candidates "
                          "(fix: add rows to its mitigations section)")


def submit_design(store: Store, params: dict[str, Any]) -> Job:
    """Check that the scenario exists and can be designed for, then queue the job."""
    sc, _ = _target(store, params)
    check_design(sc, params["scenario"])
    return create_job(store, JobKind.DESIGN.value, params)


def nodes_of(m: Mitigation) -> list[str]:
    """The nodes a candidate names (its site, supplier, lane ends)."""
    return [n for n in (m.site, m.supplier, m.origin, m.destination) if n]


def result_of(run: DesignRun, version: int) -> dict[str, Any]:
    """A design as a job's plain result: the summary, every candidate, the risk matrix."""
    d, sc = run.design, run.scenario
    buckets = sc.horizon.buckets
    candidates = []
    for m in sc.mitigations:
        alone = d.singles.get(m.id)
        candidates.append({
            "id": m.id, "kind": str(m.kind), "chosen": m.id in d.after.chosen,
            "cost_eur": m.total_cost(buckets), "available_after": m.available_after,
            "nodes": nodes_of(m),
            "units_saved_alone_expected": None if alone is None
            else d.before.expected - alone.expected,
            "dual_value_expected": d.dual_value.get(m.id)})
    matrix = [{"node": b.node, "kind": str(b.kind), "ttr_days": b.ttr,
               "tts_before_days": b.tts, "tts_after_days": a.tts if a else None,
               "pi_before_units": b.pi, "pi_after_units": a.pi if a else None,
               "exposed_before": b.exposed, "exposed_after": a.exposed if a else None}
              for b, a in run.matrix]
    return {"version": version, "summary": summary(d), "candidates": candidates,
            "risk_matrix": matrix}


def _design(store: Store, params: dict[str, Any], tick: Ticker) -> dict[str, Any]:
    sc, version = _target(store, params)
    check_design(sc, params["scenario"])
    tick.expect(1)
    tick.check()
    with _MONTECARLO:  # its stress tests take the Monte Carlo engine's turn
        run = run_design(sc, float(params["budget"]), int(params.get("futures") or 50),
                         int(params.get("seed") or 0),
                         Objective(params.get("objective") or Objective.EXPECTED),
                         matrix=bool(params.get("matrix", True)),
                         marginal_step=params.get("marginal_step", 1_000_000.0) or None,
                         scheduler=tick.scheduler,
                         search=Search(params.get("method") or Search.AUTO))
    tick()
    return result_of(run, version)


def _scope(result: Mapping[str, Any], viewer: scoping.Viewer, source: scoping.Source
           ) -> scoping.Scoped:
    """What a viewer of some sites keeps of a design (see the module docstring)."""
    out: dict[str, Any] = {k: result[k] for k in ("version",) if k in result}
    s: Mapping[str, Any] = result.get("summary") or {}
    out["summary"] = {k: s[k] for k in SCOPED_SUMMARY if k in s}
    out["candidates"] = [
        {k: c.get(k) for k in ("id", "kind", "available_after")}
        for c in result.get("candidates") or []
        if c.get("nodes") and all(source.node_visible(str(n), viewer) for n in c["nodes"])]
    out["risk_matrix"] = [r for r in result.get("risk_matrix") or []
                          if source.node_visible(str(r.get("node")), viewer)]
    withheld = [f"summary.{k}" for k in s if k not in out["summary"]]
    withheld += ["candidates.chosen", "candidates.cost_eur", "candidates.units"]
    return scoping.Scoped(out, withheld + [k for k in result if k not in out])


RUNNERS[JobKind.DESIGN] = _design
scoping.SCOPERS[JobKind.DESIGN.value] = _scope
