"""Where many independent solves run: in this process, or in a local pool of processes.

A stress test, a time-to-survive sweep or a batch of what-ifs is a list of chunks of
work that need nothing from each other, only a shared context (the scenario, solver
options). An `Executor` runs `task(context, chunk)` for every chunk and hands each
result back with the chunk's index, so the engine puts it in its place and the numbers
do not depend on which worker ran what, nor in what order. The context travels to each
worker once, not with every chunk, as a print shop hands each press the job ticket once
and then feeds it sheets.

Engines are handed an executor and never make one: `executor_for` (at the edges: the
command line, the API's job settings) picks the in-process one, a local process pool, or
a Dask cluster (`fabnet.batch.cluster`).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

from fabnet.model.errors import FabnetError

C = TypeVar("C")
T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")

#: a task: (shared context, one chunk of work) -> one result per item of the chunk
Task = Callable[[C, Sequence[T]], list[R]]
#: called once per finished chunk: (chunk index, its results)
OnDone = Callable[[int, list[R]], None]


class Executor(ABC):
    """Runs chunks of independent work; a result comes back with its chunk's index."""

    #: how many chunks can run at once (engines size their chunks by it)
    workers: int = 1

    @abstractmethod
    def run(self, task: Task[C, T, R], context: C, chunks: Sequence[Sequence[T]],
            on_done: OnDone[R]) -> None:
        """Call `task(context, chunk)` for every chunk and `on_done(index, result)` as each
        ends. An exception from a task or from `on_done` (a cancelled job) stops the work
        still queued and propagates."""

    def describe(self) -> str:
        """Where the work runs, in words (for progress lines and benchmark tables)."""
        return "this process"

    def close(self) -> None:  # noqa: B027 - most executors hold nothing
        """Let go of what the executor holds (a cluster connection); idempotent."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InProcess(Executor):
    """Every chunk in the calling thread, one after the other."""

    def run(self, task: Task[C, T, R], context: C, chunks: Sequence[Sequence[T]],
            on_done: OnDone[R]) -> None:
        for i, chunk in enumerate(chunks):
            on_done(i, task(context, chunk))


_POOL_CONTEXT: dict[str, Any] = {}


def _pool_init(context: object) -> None:
    _POOL_CONTEXT["context"] = context


def _pool_call(task: Task[Any, Any, R], chunk: Sequence[Any]) -> list[R]:
    return task(_POOL_CONTEXT["context"], chunk)


class LocalPool(Executor):
    """A pool of `workers` processes on this machine, started for each run.

    The context goes to each process once, through the pool's initializer; tasks must be
    module-level functions (they are sent by name).
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise FabnetError(f"workers: must be >= 1, got {workers} (fix: give 1 or more)")
        self.workers = workers

    def describe(self) -> str:
        return f"a local pool of {self.workers} processes"

    def run(self, task: Task[C, T, R], context: C, chunks: Sequence[Sequence[T]],
            on_done: OnDone[R]) -> None:
        if not chunks:
            return
        pool = ProcessPoolExecutor(min(self.workers, len(chunks)), initializer=_pool_init,
                                   initargs=(context,))
        try:
            pending: dict[Future[list[R]], int] = {
                pool.submit(_pool_call, task, chunk): i for i, chunk in enumerate(chunks)}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=pending.__getitem__):
                    on_done(pending.pop(fut), fut.result())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def executor_for(workers: int = 1, scheduler: str | None = None) -> Executor:
    """The executor a user asked for: a Dask cluster at `scheduler` (its address, e.g.
    tcp://10.0.0.5:8786), else a local pool of `workers` processes, else this process."""
    if scheduler:
        from fabnet.batch.cluster import DaskCluster

        return DaskCluster(scheduler)
    if workers > 1:
        return LocalPool(workers)
    if workers < 1:
        raise FabnetError(f"workers: must be >= 1, got {workers} (fix: give 1 or more)")
    return InProcess()


def chunked(items: Sequence[T], executor: Executor, per_worker: int = 8,
            most: int | None = None) -> list[Sequence[T]]:
    """`items` cut into consecutive chunks: about `per_worker` chunks per worker (so a
    slow chunk does not hold the others up), at most `most` items each."""
    if not items:
        return []
    size = max(1, -(-len(items) // (per_worker * max(executor.workers, 1))))
    if most is not None:
        size = min(size, most)
    return [items[k:k + size] for k in range(0, len(items), size)]


_LOCAL = threading.local()
#: contexts a worker thread keeps built state for (one per recent run)
KEEP = 2


def worker_state(key: str, build: Callable[[], S]) -> S:
    """State a worker builds once per run and thread (a re-planner with its HiGHS model),
    found again by `key` for the run's later chunks; the oldest is dropped after `KEEP`.

    Per thread, because a Dask worker may run several tasks at once in threads, and a
    HiGHS model can serve only one solve at a time.
    """
    cache: OrderedDict[str, Any] | None = getattr(_LOCAL, "cache", None)
    if cache is None:
        cache = _LOCAL.cache = OrderedDict()
    if key in cache:
        cache.move_to_end(key)
        return cache[key]  # type: ignore[no-any-return]
    value = build()
    cache[key] = value
    while len(cache) > KEEP:
        cache.popitem(last=False)
    return value
