"""The tasks: `pkgvet.static` (queue `static`) and `pkgvet.sandbox` (queue `sandbox`).

Each task takes a `FileJob` as a dict and is idempotent by sha256 and rule-set version: it
first looks for a stored result and returns at once if there is one. A file that cannot be
vetted (hash mismatch, not an archive) leaves a failure note in the store
(`failure:<sha256>`) instead of a result, so whoever waits can stop waiting; a store or index
that is down is retried with backoff.
"""

from __future__ import annotations

import json
import logging
import time
from functools import cache
from typing import Any

from celery import Celery

from pkgvet import RULESET_VERSION
from pkgvet.errors import IndexUnreachable, StoreUnavailable
from pkgvet.store import Store, open_store
from pkgvet.worker.app import SANDBOX_QUEUE, STATIC_QUEUE
from pkgvet.worker.jobs import FileJob, failure_of, run_sandbox, run_static

log = logging.getLogger("pkgvet.worker")
STATIC_TIME_LIMIT = 900
SANDBOX_TIME_LIMIT = 1800
RETRYABLE = (StoreUnavailable, IndexUnreachable, ConnectionError)


@cache
def _store(url: str) -> Store:
    return open_store(url or None)


def failure_key(sha256: str) -> str:
    return f"failure:{sha256}:{RULESET_VERSION}"


def _note_failure(store: Store, job: FileJob, exc: Exception) -> dict[str, Any]:
    failure = failure_of(job, exc)
    store.set_state(failure_key(job.sha256), json.dumps(
        {"message": failure.message, "at": failure.at, "hash_mismatch": failure.hash_mismatch}))
    log.warning("cannot vet %s (%s): %s", job.filename, job.sha256, failure.message)
    return {"sha256": job.sha256, "error": failure.message}


def register(app: Celery) -> None:
    store_url = str(app.conf.get("pkgvet_store") or "")

    def static(self: Any, job: dict[str, Any]) -> dict[str, Any]:
        file_job = FileJob.from_dict(job)
        store = _store(store_url)
        started = time.perf_counter()
        try:
            record = run_static(file_job, store)
        except RETRYABLE:
            raise
        except Exception as exc:
            return _note_failure(store, file_job, exc)
        log.info("vetted %s (%s): %s in %.2f s", file_job.filename, file_job.sha256,
                 record.verdict, time.perf_counter() - started)
        return {"sha256": file_job.sha256, "verdict": record.verdict}

    def sandbox(self: Any, job: dict[str, Any]) -> dict[str, Any]:
        file_job = FileJob.from_dict(job)
        store = _store(store_url)
        try:
            record = run_sandbox(file_job, store)
        except RETRYABLE:
            raise
        except Exception as exc:
            log.warning("sandbox run of %s failed: %s", file_job.filename, exc)
            return {"sha256": file_job.sha256, "error": str(exc)}
        return {"sha256": file_job.sha256, "verdict": record.verdict}

    app.task(name="pkgvet.static", bind=True, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=RETRYABLE, retry_backoff=2, retry_backoff_max=60, max_retries=8,
             time_limit=STATIC_TIME_LIMIT, soft_time_limit=STATIC_TIME_LIMIT - 30)(static)
    app.task(name="pkgvet.sandbox", bind=True, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=RETRYABLE, retry_backoff=5, max_retries=5,
             time_limit=SANDBOX_TIME_LIMIT, soft_time_limit=SANDBOX_TIME_LIMIT - 60)(sandbox)


def submit_static(app: Celery, job: FileJob, priority: int = 5) -> None:
    app.send_task("pkgvet.static", args=[job.to_dict()], queue=STATIC_QUEUE, priority=priority)


def submit_sandbox(app: Celery, job: FileJob) -> None:
    app.send_task("pkgvet.sandbox", args=[job.to_dict()], queue=SANDBOX_QUEUE)


def run_worker(broker: str, store_url: str, queues: list[str], concurrency: int,
               pool: str = "threads", loglevel: str = "INFO", hostname: str | None = None) -> None:
    """Start a worker in this process (blocks until it is stopped)."""
    from pkgvet.worker.app import make_app

    app = make_app(broker, store_url)
    argv = ["worker", f"--queues={','.join(queues)}", f"--concurrency={concurrency}",
            f"--pool={pool}", f"--loglevel={loglevel}", "--without-gossip", "--without-mingle",
            "--without-heartbeat"]
    if hostname:
        argv.append(f"--hostname={hostname}")
    app.worker_main(argv)
