"""A Dask (`dask.distributed`) cluster as an executor: chunks of work go to its workers.

Named by the scheduler's address (`--scheduler tcp://HOST:8786`, `FABNET_DASK_SCHEDULER`,
the API's `dask_scheduler` setting) or handed a `distributed.Client` (a test's
`LocalCluster`). The run's context is scattered to every worker once; each chunk is one
task that names it, and results come back by chunk index, so a cluster gives the numbers
one process gives. docs/scale-out.md says what each machine needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fabnet.batch.executor import C, Executor, OnDone, R, T, Task
from fabnet.model.errors import FabnetError

if TYPE_CHECKING:
    from distributed import Client

#: seconds to wait for the scheduler to answer before giving up
CONNECT_TIMEOUT_S = 10

#: the schemes a Dask scheduler listens on (`dask scheduler --protocol`), host and port
_ADDRESS = re.compile(r"(?:(?P<scheme>tcp|tls|ws|wss|ucx)://)?"
                      r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})")


def scheduler_address(text: str) -> str:
    """`text` as a scheduler address (`tcp://HOST:PORT`, `HOST:PORT`, tls/ws/wss/ucx), or
    one line saying how to write one: checked before any connection is tried, since
    dask.distributed leaves a half-made client behind on a malformed address."""
    address = text.strip()
    m = _ADDRESS.fullmatch(address) if len(address) <= 300 else None
    if m is None or not 0 < int(m["port"]) < 65536:
        why = "its port must be 1 to 65535" if m is not None else \
            "not SCHEME://HOST:PORT with scheme tcp, tls, ws, wss or ucx"
        shown = address if len(address) <= 80 else address[:77] + "..."
        raise FabnetError(f"Dask scheduler {shown!r}: {why} (fix: give the address "
                          "`dask scheduler` prints, e.g. tcp://10.0.0.5:8786)")
    return address


def _client_class() -> type[Client]:
    """`distributed.Client`, or one line saying how to install it."""
    try:
        from distributed import Client
    except ImportError:
        raise FabnetError("a Dask scheduler was named, but dask.distributed is not "
                          "installed (fix: pip install 'fabnet[cluster]', or run without "
                          "--scheduler / FABNET_DASK_SCHEDULER)") from None
    return Client


def _dask_call(task: Task[Any, Any, R], context: object, chunk: Sequence[Any]) -> list[R]:
    return task(context, chunk)


class DaskCluster(Executor):
    """Chunks of work as tasks on a Dask cluster; connects on first use."""

    def __init__(self, scheduler: str | Client) -> None:
        self._own = isinstance(scheduler, str)
        self.address = scheduler_address(scheduler) if isinstance(scheduler, str) else str(
            scheduler.scheduler.address if scheduler.scheduler else "")
        self._client: Client | None = None if isinstance(scheduler, str) else scheduler

    @property
    def client(self) -> Client:
        """The connection to the scheduler (opened here the first time)."""
        if self._client is None:
            client_class = _client_class()
            try:
                self._client = client_class(self.address, timeout=CONNECT_TIMEOUT_S,
                                            set_as_default=False)
            except (OSError, TimeoutError, ValueError) as e:
                raise FabnetError(f"Dask scheduler {self.address!r}: no answer ({e}) "
                                  "(fix: start one with `dask scheduler` and workers with "
                                  "`dask worker ADDRESS`, see docs/scale-out.md, or give "
                                  "its address as tcp://HOST:8786)") from None
        return self._client

    @property
    def workers(self) -> int:  # type: ignore[override]
        """Worker threads in the cluster now (at least 1)."""
        return max(1, sum(self.client.nthreads().values()))  # type: ignore[no-untyped-call]

    def describe(self) -> str:
        return f"the Dask cluster at {self.address} ({self.workers} worker threads)"

    def run(self, task: Task[C, T, R], context: C, chunks: Sequence[Sequence[T]],
            on_done: OnDone[R]) -> None:
        if not chunks:
            return
        from distributed import as_completed

        client = self.client
        shared = client.scatter(context, broadcast=True, hash=False)  # type: ignore[no-untyped-call]
        futures = [client.submit(_dask_call, task, shared, list(chunk), pure=False)
                   for chunk in chunks]
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for fut in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
                on_done(index[fut.key], fut.result())
        finally:
            client.cancel([*futures, shared])  # type: ignore[no-untyped-call]

    def close(self) -> None:
        if self._own and self._client is not None:
            self._client.close()  # type: ignore[no-untyped-call]
            self._client = None
