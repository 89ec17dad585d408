"""The Celery application: one per broker URL, configured for work that must not be lost.

- `acks_late` + `reject_on_worker_lost`: a message is acknowledged only after its result is
  stored, and one whose worker died is given back to the broker, so a killed worker loses
  no file. Redis hands back a message that no worker acknowledged after `visibility_timeout`
  (`PKGVET_VISIBILITY_TIMEOUT`, default 30 min, above the longest task time limit).
- `worker_prefetch_multiplier=1`: a worker holds one message per slot, so a long scan does
  not hide queued work from idle workers.
- Priorities: files a client waits for (0) go before backfill (6).
- Time limits: `time_limit` per task where the pool enforces it (prefork); under the default
  threads pool each scan is bounded by the watched child's budgets (`pkgvet.guard`).
- No result backend: results go to the shared store (`--store`, `PKGVET_STORE`).
"""

from __future__ import annotations

import os
from functools import cache

from celery import Celery

STATIC_QUEUE = "static"
SANDBOX_QUEUE = "sandbox"
BROKER_ENV = "PKGVET_BROKER"


def visibility_timeout() -> int:
    return int(os.environ.get("PKGVET_VISIBILITY_TIMEOUT", "1800"))


@cache
def make_app(broker: str, store_url: str = "") -> Celery:
    app = Celery("pkgvet", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        task_default_queue=STATIC_QUEUE,
        task_queue_max_priority=10,
        task_default_priority=5,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        # A proxy must not hang on a broker that is down: fail the send fast (the page then
        # lists what is already vetted) and try again on the next request.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2,
                                   "interval_step": 0.5, "interval_max": 1},
        broker_transport_options={
            "visibility_timeout": visibility_timeout(),
            "queue_order_strategy": "priority",
            "priority_steps": list(range(10)),
            "sep": ":",
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        pkgvet_store=store_url,
    )
    from pkgvet.worker import tasks

    tasks.register(app)
    return app
