"""Independent solves on a Dask cluster give the numbers of one process and of a local
pool: Monte Carlo futures, time-to-survive node chunks and a batch of what-ifs, on a
`LocalCluster` of two worker processes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from fabnet.batch import InProcess, LocalPool, executor_for
from fabnet.batch import cluster as dask_cluster
from fabnet.batch.cluster import DaskCluster
from fabnet.model import Disruption, Scenario
from fabnet.model.errors import FabnetError
from fabnet.model.network import compile_network
from fabnet.resilience.montecarlo import stress_test
from fabnet.resilience.tts import time_to_survive
from fabnet.resilience.whatif import whatif_batch
from tests.integration.test_montecarlo_shortcuts import RICH, assert_same_numbers
from tests.integration.test_montecarlo_shortcuts import rich as rich  # noqa: F401 (fixture)

distributed = pytest.importorskip("distributed")


def assert_same_json(a: object, b: object) -> None:
    """Two JSON results are the same, numbers to 1e-9."""
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b)
        for k in a:
            assert_same_json(a[k], b[k])
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same_json(x, y)
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, abs=1e-9)
    else:
        assert a == b


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskCluster]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as lc, \
            distributed.Client(lc, set_as_default=False) as client:
        yield DaskCluster(client)


def test_montecarlo_gives_the_same_numbers_on_a_cluster(rich: Scenario,
                                                        cluster: DaskCluster) -> None:
    assert cluster.workers == 2
    one = stress_test(rich, 16, 11)
    pool = stress_test(rich, 16, 11, workers=2)
    dask = stress_test(rich, 16, 11, executor=cluster)
    assert one.routes == dask.routes
    assert_same_numbers(one, pool)
    assert_same_numbers(one, dask)


def test_tts_chunks_give_the_same_numbers_on_a_cluster(rich: Scenario,
                                                       cluster: DaskCluster) -> None:
    net = compile_network(rich)
    one = time_to_survive(net)
    assert len(one) > 4
    assert time_to_survive(net, chunk=2, executor=cluster) == one
    assert time_to_survive(net, chunk=3, executor=LocalPool(2)) == one


def test_whatif_batch_gives_the_same_kpis_on_a_cluster(rich: Scenario,
                                                       cluster: DaskCluster) -> None:
    extras = [(Disruption(f"w{k}", target, date(2027, 1, 18), k + 1),)
              for k, target in enumerate(["UA-PARTNER", "FR-HUB", "SUP-TW", "country:CN",
                                          "lane:FR-HUB>UA-MOD"])]
    here = whatif_batch(rich, extras)
    assert [w.disruptions for w in here] == extras
    assert len({w.kpis["units_lost"] for w in here}) > 1  # the what-ifs differ
    for other in (whatif_batch(rich, extras, LocalPool(2)),
                  whatif_batch(rich, extras, cluster)):
        assert [w.status for w in other] == [w.status for w in here]
        for a, b in zip(here, other, strict=True):
            assert b.kpis == pytest.approx(a.kpis, abs=1e-6)


def test_executor_for_picks_the_named_engine() -> None:
    assert isinstance(executor_for(1), InProcess)
    assert isinstance(executor_for(3), LocalPool) and executor_for(3).workers == 3
    assert isinstance(executor_for(1, "tcp://127.0.0.1:8786"), DaskCluster)
    with pytest.raises(FabnetError, match="workers: must be >= 1"):
        executor_for(0)


def test_a_scheduler_that_does_not_answer_is_one_clear_line(
        monkeypatch: pytest.MonkeyPatch, rich: Scenario) -> None:
    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT_S", 1)
    with pytest.raises(FabnetError, match=r"Dask scheduler 'tcp://127.0.0.1:9': no answer"
                       r".*fix: start one with `dask scheduler`") as e:
        stress_test(rich, 2, 0, executor=executor_for(1, "tcp://127.0.0.1:9"))
    assert "\n" not in str(e.value)
    assert np.isfinite(stress_test(rich, 2, 0).fill).all()


@pytest.mark.parametrize("address", ["not a url", "host:port", "tcp://h:0", "http://h:8786",
                                     "tcp://h:8786/path", "x" * 5000 + ":8786"])
def test_a_malformed_scheduler_address_is_refused_before_connecting(address: str) -> None:
    with pytest.raises(FabnetError, match=r"Dask scheduler '.*': .*fix: give the address") as e:
        executor_for(1, address)
    assert "\n" not in str(e.value) and len(str(e.value)) < 300
    from fabnet.api import Settings

    with pytest.raises(FabnetError, match=r"^FABNET_DASK_SCHEDULER: Dask scheduler"):
        Settings.from_env({"FABNET_DASK_SCHEDULER": address}, url="sqlite:///x.sqlite")


def test_scheduler_addresses_as_dask_writes_them_are_taken() -> None:
    for address in ("tcp://10.0.0.5:8786", "10.0.0.5:8786", "tls://sched.example.org:8786",
                    "tcp://[::1]:8786", "ws://h-1.local:8787"):
        assert DaskCluster(f" {address} ").address == address


def test_jobs_run_on_the_scheduler_of_the_api_settings(
        tmp_path: Path, cluster: DaskCluster) -> None:
    """The server's setting (FABNET_DASK_SCHEDULER) sends a stress-test job's futures and a
    sweep's node chunks to the cluster; the job's results are those of a job without it."""
    from fabnet.api import Settings
    from fabnet.services import database as db_svc
    from fabnet.services import jobs
    from fabnet.services import scenarios as scenario_svc

    address = cluster.address
    settings = Settings.from_env({"FABNET_DASK_SCHEDULER": f" {address} "},
                                 url=f"sqlite:///{tmp_path / 'f.sqlite'}")
    assert settings.dask_scheduler == address
    assert Settings.from_env({}, url="sqlite:///x.sqlite").dask_scheduler is None
    db_svc.init_store(settings.database_url)
    store = db_svc.connect(settings.database_url, "cody")
    try:
        (tmp_path / "rich.yaml").write_text(RICH)
        scenario_svc.import_scenario(store, tmp_path / "rich.yaml", "rich")
        results = {}
        for scheduler in (None, settings.dask_scheduler):
            for kind, params in ((jobs.JobKind.MONTECARLO, {"samples": 12, "seed": 4}),
                                 (jobs.JobKind.TTS, {"kinds": ["site", "lane"]})):
                job = jobs.submit_job(store, kind, {"scenario": "rich", **params})
                done = jobs.run_job(store, job.id, threading.Event(), scheduler=scheduler)
                assert done.status.value == "done", done.error
                results[(kind, scheduler)] = done.result
        for kind in (jobs.JobKind.MONTECARLO, jobs.JobKind.TTS):
            assert_same_json(results[(kind, address)], results[(kind, None)])
    finally:
        store.engine.dispose()
