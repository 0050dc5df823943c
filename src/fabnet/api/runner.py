"""The server's job runner: a small thread pool that runs submitted jobs one per thread,
and the cancel flags that let a client stop them.

Created when the server starts and shut down when it stops (never at import). Each job
runs with the store acting as the user who submitted it.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from fabnet.api.logsafe import printable
from fabnet.services import jobs
from fabnet.store import Job, Store

log = logging.getLogger("fabnet.api")


class JobRunner:
    """Runs jobs on `workers` threads; `cancel` stops one at its next step."""

    def __init__(self, store: Store, workers: int, scheduler: str | None = None) -> None:
        self._store = store
        self._scheduler = scheduler
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="fabnet-job")
        self._flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def submit(self, job: Job) -> Future[Job]:
        """Queue a recorded job; it runs as its creator."""
        flag = threading.Event()
        with self._lock:
            self._flags[job.id] = flag
        return self._pool.submit(self._run, job, flag)

    def _run(self, job: Job, flag: threading.Event) -> Job:
        try:
            return jobs.run_job(self._store.acting_as(job.created_by), job.id, flag,
                                scheduler=self._scheduler)
        except Exception:
            log.exception("job %s could not be run to its end", printable(job.id))
            raise
        finally:
            with self._lock:
                self._flags.pop(job.id, None)

    def cancel(self, job_id: str) -> None:
        """Ask a queued or running job to stop (a no-op for one that is not here)."""
        with self._lock:
            flag = self._flags.get(job_id)
        if flag is not None:
            flag.set()

    def shutdown(self) -> None:
        """Stop taking jobs, ask running ones to stop, and wait for the threads."""
        with self._lock:
            for flag in self._flags.values():
                flag.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
