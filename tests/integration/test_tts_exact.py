"""Every TTS and PI of the Willems chains equals an independent LP's optimum.

The reference (`tests.integration.tts_reference`) is built from the Network's arrays in
totals form with scipy and solved cold per node, each answer checked against its own
duals. fabnet solves the rate form warm, folded or not; both must agree to 1e-6
relative. Chains of up to 300 stages are checked on every stage; larger chains on 20
stages drawn with a fixed seed. The chains are read as `fabnet stress tts --willems`
reads them (`willems_scenario` with its defaults, sites only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fabnet.io.willems import read_stages, willems_scenario
from fabnet.model import compile_network
from fabnet.model.network import Network
from fabnet.model.scenario import NodeKind
from fabnet.plan.solve import PlanStatus
from fabnet.resilience.tts import NodeRisk, recovery_days, served_rate, time_to_survive
from fabnet.services.continuity import tts as tts_service
from tests.integration.tts_reference import reference_tts_pi, totals_lp

WILLEMS = Path(__file__).resolve().parents[3] / "shared" / "data" / "willems"
CHAINS = sorted(WILLEMS.glob("willems_[0-9][0-9].csv"))
SMALL = [p for p in CHAINS if len(read_stages(p)) <= 300]
LARGE = [p for p in CHAINS if len(read_stages(p)) > 300]
SAMPLE, SEED = 20, 2027
REL = 1e-6

pytestmark = pytest.mark.skipif(not CHAINS, reason="../shared/data/willems not present")


def _network(path: Path) -> Network:
    return compile_network(willems_scenario(path))


def _assert_matches(net: Network, nodes: list[str]) -> None:
    """fabnet's TTS and PI, folded and not, equal the reference for each node."""
    lp = totals_lp(net)
    # Willems chains have capacity to spare: the served rate is the demand rate
    assert float(served_rate(net).sum()) == pytest.approx(lp.total_rate, rel=1e-12)
    ref = {n: reference_tts_pi(lp, n, recovery_days(net.scenario, n, NodeKind.SITE))
           for n in nodes}
    for fold in (True, False):
        got = {r.node: r for r in time_to_survive(net, nodes=nodes, fold=fold)}
        assert set(got) == set(nodes)
        for n in nodes:
            r, (tts, pi) = got[n], ref[n]
            where = f"{net.scenario.name} {n} fold={fold}"
            assert r.status is PlanStatus.OPTIMAL, where
            assert r.tts == pytest.approx(tts, rel=REL, abs=1e-6), where
            assert r.pi == pytest.approx(pi, rel=REL, abs=1e-6), where


@pytest.mark.parametrize("path", SMALL, ids=[p.stem for p in SMALL])
def test_every_stage_equals_an_independent_cold_solve(path: Path) -> None:
    net = _network(path)
    _assert_matches(net, list(net.sites))


@pytest.mark.parametrize("path", LARGE, ids=[p.stem for p in LARGE])
def test_sampled_stages_of_large_chains_equal_an_independent_cold_solve(path: Path) -> None:
    net = _network(path)
    rng = np.random.default_rng(SEED)
    nodes = [net.sites[int(i)] for i in rng.choice(len(net.sites), SAMPLE, replace=False)]
    _assert_matches(net, nodes)


def test_dist_0001_of_chain_22_survives_202_days_folded_or_not() -> None:
    path = WILLEMS / "willems_22.csv"
    risks: list[NodeRisk] = tts_service(willems=path)  # what `fabnet stress tts` runs
    dist = next(r for r in risks if r.node == "Dist_0001")
    assert dist.status is PlanStatus.OPTIMAL
    assert dist.tts == pytest.approx(202.067584, abs=1e-6)
    net = _network(path)
    full = time_to_survive(net, nodes=["Dist_0001"], fold=False)[0]
    assert full.tts == pytest.approx(202.067584, abs=1e-6)
    lp = totals_lp(net)
    assert reference_tts_pi(lp, "Dist_0001", 28.0)[0] == pytest.approx(202.067584, abs=1e-6)


def test_certificate_rejects_the_unscaled_warm_answer_of_dist_0001() -> None:
    """On the unscaled model HiGHS calls a wrong warm answer optimal; the check doesn't."""
    import dataclasses

    from fabnet.resilience.tts import MIN_DAYS, AggregateSolver, build_aggregate

    net = _network(WILLEMS / "willems_22.csv")
    m = build_aggregate(net, served_rate(net))
    m = dataclasses.replace(m, row_scale=np.ones_like(m.row_scale),
                            col_scale=np.ones_like(m.col_scale))
    s = AggregateSolver(m, {"primal_feasibility_tolerance": 1e-7,
                            "dual_feasibility_tolerance": 1e-7})  # HiGHS' defaults
    cost = np.zeros(m.matrix.shape[1])
    cost[m.tau_col] = 1.0
    s.set_cost(cost)
    s.set_bounds(m.lost_cols, 0.0, 0.0)
    s.set_bounds(np.array([m.tau_col]), 1.0 / m.horizon_days, 1.0 / MIN_DAYS)
    s.h.run()
    base = s.h.getBasis()
    node = next(i for i, (nid, _) in enumerate(m.nodes) if nid == "Dist_0001")
    s.set_bounds(m.node_cols[node], 0.0, 0.0)
    s.h.setBasis(base)
    s.h.run()
    cert = s.certificate(1.0 / m.horizon_days)
    assert 1.0 / cert.objective != pytest.approx(202.067584, abs=1.0)  # the wrong answer
    assert not cert.ok and cert.bound < cert.objective
    status, good = s.solve(base, 1.0 / m.horizon_days)  # certified: re-solved cold
    assert status is PlanStatus.OPTIMAL and good is not None
    assert 1.0 / good.objective == pytest.approx(202.067584, abs=1e-6)
