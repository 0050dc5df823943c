"""Running many independent solves: in this process, a local process pool, or a Dask
cluster when one is named. Engines are handed an `Executor` and never make one."""

from __future__ import annotations

from fabnet.batch.executor import (
    Executor,
    InProcess,
    LocalPool,
    chunked,
    executor_for,
    worker_state,
)

#: the environment variable that names a Dask scheduler for the command line and the API
SCHEDULER_ENV = "FABNET_DASK_SCHEDULER"

__all__ = ["SCHEDULER_ENV", "Executor", "InProcess", "LocalPool", "chunked", "executor_for",
           "worker_state"]
