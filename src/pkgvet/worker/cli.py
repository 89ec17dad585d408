"""`pkgvet worker`: options -> a Celery worker on the static and/or sandbox queue."""

from __future__ import annotations

from pkgvet.errors import UsageError
from pkgvet.worker.app import SANDBOX_QUEUE, STATIC_QUEUE


def worker_command(*, queues: str, broker: str | None, store: str | None,
                   concurrency: int | None, hostname: str | None) -> None:
    from pkgvet.pipeline import default_jobs
    from pkgvet.worker.tasks import run_worker

    if not broker:
        raise UsageError("a worker needs a broker: pass --broker redis://host:6379/0 or set "
                         "PKGVET_BROKER")
    wanted = [q.strip() for q in queues.split(",") if q.strip()]
    unknown = [q for q in wanted if q not in (STATIC_QUEUE, SANDBOX_QUEUE)]
    if not wanted or unknown:
        raise UsageError(f"unknown queue(s) {', '.join(unknown) or '(none)'}; use static, "
                         "sandbox or static,sandbox")
    if SANDBOX_QUEUE in wanted:
        from pkgvet.sandbox import SandboxSettings, check_ready

        check_ready(SandboxSettings())
    run_worker(broker, store or "", wanted, concurrency or default_jobs(), hostname=hostname)
