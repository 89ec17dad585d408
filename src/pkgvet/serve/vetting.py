"""Who scans: threads in the proxy's own process, or Celery workers through a broker.

Both take `FileJob`s and put their results in the shared store; the proxy learns that a
file was vetted by reading the store, never from the vetter, so results from any worker on
any host count. Inline work (a file a client is waiting for) goes before backfill.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any, Protocol

from pkgvet.options import ScanOptions
from pkgvet.store import Store
from pkgvet.worker.jobs import Failure, FileJob, failure_of, run_sandbox, run_static

log = logging.getLogger("pkgvet.serve")

INLINE, BACKFILL = 0, 1
RETRY_FAILED_AFTER = 300.0


class Vetter(Protocol):
    def submit(self, jobs: Sequence[FileJob], priority: int) -> int:
        """Queue what is not queued yet; returns how many were new."""

    def submit_sandbox(self, job: FileJob) -> bool: ...

    def failure(self, sha256: str) -> Failure | None: ...

    def close(self) -> None: ...


class LocalVetter:
    """Scans in this process: `jobs` threads, each scan in a forked, watched child."""

    def __init__(self, store: Store, jobs: int, options: ScanOptions | None = None,
                 sandbox_settings: Any = None, on_done: Any = None) -> None:
        self.store = store
        self.options = options or ScanOptions()
        self.sandbox_settings = sandbox_settings
        self.on_done = on_done
        self._queue: queue.PriorityQueue[tuple[int, int, FileJob | None]] = queue.PriorityQueue()
        self._sandbox: queue.Queue[FileJob | None] = queue.Queue()
        self._pending: set[str] = set()
        self._sandbox_pending: set[str] = set()
        self._failures: dict[str, Failure] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._threads = [threading.Thread(target=self._loop, daemon=True, name=f"vet-{i}")
                         for i in range(max(1, jobs))]
        if sandbox_settings is not None:
            self._threads.append(threading.Thread(target=self._sandbox_loop, daemon=True,
                                                  name="vet-sandbox"))
        for t in self._threads:
            t.start()

    def submit(self, jobs: Sequence[FileJob], priority: int) -> int:
        added = 0
        with self._lock:
            for job in jobs:
                failed = self._failures.get(job.sha256)
                if failed is not None and (failed.hash_mismatch
                                           or time.time() - failed.at < RETRY_FAILED_AFTER):
                    continue
                if job.sha256 in self._pending:
                    continue
                self._pending.add(job.sha256)
                self._queue.put((priority, next(self._seq), job))
                added += 1
        return added

    def submit_sandbox(self, job: FileJob) -> bool:
        if self.sandbox_settings is None:
            return False
        with self._lock:
            if job.sha256 in self._sandbox_pending:
                return False
            self._sandbox_pending.add(job.sha256)
        self._sandbox.put(job)
        return True

    def failure(self, sha256: str) -> Failure | None:
        return self._failures.get(sha256)

    def _loop(self) -> None:
        while True:
            _, _, job = self._queue.get()
            if job is None:
                return
            started = time.perf_counter()
            try:
                record = run_static(job, self.store, self.options)
                self._failures.pop(job.sha256, None)
                if self.on_done is not None:
                    self.on_done(job, record, time.perf_counter() - started)
            except Exception as exc:  # one bad file must not stop the vetter
                failure = failure_of(job, exc)
                self._failures[job.sha256] = failure
                log.warning("cannot vet %s (%s): %s", job.filename, job.sha256, failure.message)
                if self.on_done is not None:
                    self.on_done(job, failure, time.perf_counter() - started)
            finally:
                with self._lock:
                    self._pending.discard(job.sha256)

    def _sandbox_loop(self) -> None:
        while True:
            job = self._sandbox.get()
            if job is None:
                return
            try:
                record = run_sandbox(job, self.store, self.sandbox_settings)
                if record.verdict == "malicious":
                    log.warning("sandbox: %s (%s) is malicious; withdrawn", job.filename,
                                job.sha256)
            except Exception as exc:
                log.warning("sandbox run of %s failed: %s", job.filename, exc)
            finally:
                with self._lock:
                    self._sandbox_pending.discard(job.sha256)

    def close(self) -> None:
        for t in self._threads:
            if t.name == "vet-sandbox":
                self._sandbox.put(None)
            else:
                self._queue.put((99, next(self._seq), None))


class CeleryVetter:
    """Sends jobs to Celery workers (`pkgvet worker`); results arrive in the shared store."""

    def __init__(self, broker: str, store_url: str, sandbox: bool = False) -> None:
        from pkgvet.worker.app import make_app

        self.app = make_app(broker, store_url)
        self.sandbox = sandbox
        self._sent: dict[str, float] = {}
        self._sandbox_sent: set[str] = set()
        self._unsent: dict[str, Failure] = {}
        self._lock = threading.Lock()

    def submit(self, jobs: Sequence[FileJob], priority: int) -> int:
        from pkgvet.worker.tasks import submit_static

        now = time.time()
        fresh: list[FileJob] = []
        with self._lock:
            for job in jobs:
                sent = self._sent.get(job.sha256)
                if sent is not None and now - sent < RETRY_FAILED_AFTER:
                    continue
                self._sent[job.sha256] = now
                fresh.append(job)
        sent = 0
        for job in fresh:
            try:
                submit_static(self.app, job, priority=0 if priority == 0 else 6)
                sent += 1
                self._unsent.pop(job.sha256, None)
            except Exception as exc:  # kombu raises several types for a broker that is down
                log.error("cannot queue %s on the broker (%s: %s); it stays unvetted until "
                          "the broker answers", job.filename, exc.__class__.__name__, exc)
                with self._lock:
                    for unsent in fresh[sent:]:
                        self._sent.pop(unsent.sha256, None)
                        self._unsent[unsent.sha256] = Failure(
                            unsent.sha256, "the scan queue (broker) is unreachable", time.time())
                break
        return sent

    def submit_sandbox(self, job: FileJob) -> bool:
        from pkgvet.worker.tasks import submit_sandbox

        if not self.sandbox:
            return False
        with self._lock:
            if job.sha256 in self._sandbox_sent:
                return False
            self._sandbox_sent.add(job.sha256)
        try:
            submit_sandbox(self.app, job)
        except Exception as exc:
            with self._lock:
                self._sandbox_sent.discard(job.sha256)
            log.error("cannot queue the sandbox run of %s (%s)", job.filename, exc)
            return False
        return True

    def failure(self, sha256: str) -> Failure | None:
        """Only files that could not be queued: a worker's failures are in the store."""
        return self._unsent.get(sha256)

    def close(self) -> None:
        pass
