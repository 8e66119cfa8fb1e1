"""A bounded pool for the slow part of a command, so that Slack's acknowledgement never waits.

Bolt gives each listener a thread from a small shared pool and holds the HTTP answer until `ack()`.
Listeners here only parse, acknowledge and hand the WhatConverts work to this pool.
"""

import enum
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)


class Admission(enum.Enum):
    STARTED = "started"  # a worker is free: the answer follows at once
    QUEUED = "queued"  # every worker is busy: tell the user it is coming
    REFUSED = "refused"  # the queue is full too: tell the user to try again


class WorkPool:
    def __init__(self, workers: int, queue_limit: int):
        self._workers = workers
        self._capacity = workers + queue_limit
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="profiles")
        self._lock = threading.Lock()
        self._admitted = 0
        self._closed = False

    def submit(self, job, *args) -> Admission:
        with self._lock:
            if self._closed or self._admitted >= self._capacity:
                return Admission.REFUSED
            self._admitted += 1
            admission = Admission.STARTED if self._admitted <= self._workers else Admission.QUEUED

        try:
            self._executor.submit(self._run, job, args)
        except RuntimeError:  # the executor shut down between the check above and now
            with self._lock:
                self._admitted -= 1
            return Admission.REFUSED
        return admission

    def close(self, wait: bool = True) -> None:
        """Take no more work; with `wait`, return when what was admitted has finished."""
        with self._lock:
            self._closed = True
        self._executor.shutdown(wait=wait)

    def _run(self, job, args) -> None:
        try:
            job(*args)
        except Exception:
            logger.exception("unhandled error in %s", getattr(job, "__name__", job))
        finally:
            with self._lock:
                self._admitted -= 1
