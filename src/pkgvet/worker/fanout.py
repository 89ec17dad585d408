"""`scan`/`audit --broker`: send every file of a batch to the workers, gather the results.

The submitter has already resolved and downloaded the files (verified by sha256); a worker
on the same host scans that copy, a worker elsewhere downloads the same file from the same
URL and checks the same hash. Results are read back from the shared store, so the store
given here must be the one the workers write to (`--store` / `PKGVET_STORE`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from celery import Celery

from pkgvet import RULESET_VERSION
from pkgvet.errors import UsageError
from pkgvet.model import ArtifactKind, ScanResult, TargetError
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact
from pkgvet.store import ResultKind, Store, open_store
from pkgvet.worker.jobs import FileJob

Backend = Callable[[Sequence[Artifact], ScanOptions], Iterator[ScanResult | TargetError]]
POLL_SECONDS = 0.25


def backend(broker: str, store_url: str | None = None, timeout: float = 6 * 3600) -> Backend:
    """A scan backend for `pipeline.scan_artifacts` that runs each file on a Celery worker."""
    from pkgvet.worker.app import make_app

    app = make_app(broker, store_url or "")
    store = open_store(store_url)

    def run(artifacts: Sequence[Artifact], options: ScanOptions) -> Iterator[ScanResult |
                                                                              TargetError]:
        if options.extra_rules or options.disabled:
            raise UsageError("--rules and --skip apply to local scans only; drop them or "
                             "drop --broker")
        yield from gather(app, store, artifacts, timeout)

    return run


def gather(app: Celery, store: Store, artifacts: Sequence[Artifact],
           timeout: float) -> Iterator[ScanResult | TargetError]:
    from pkgvet.worker.tasks import failure_key, submit_static

    waiting: dict[str, list[Artifact]] = {}
    for artifact in artifacts:
        if artifact.kind is ArtifactKind.FOLDER or not artifact.sha256:
            yield TargetError(str(artifact.path), "folders are scanned locally only; scan it "
                              "without --broker")
            continue
        if artifact.sha256 not in waiting:
            submit_static(app, FileJob.from_artifact(artifact), priority=3)
        waiting.setdefault(artifact.sha256, []).append(artifact)
    deadline = time.monotonic() + timeout
    while waiting:
        found = store.results_for(sorted(waiting), RULESET_VERSION)
        for sha, kinds in found.items():
            record = kinds.get(ResultKind.STATIC)
            if record is None:
                continue
            for artifact in waiting.pop(sha):
                yield _result(record.report, artifact)
        for sha in list(waiting):
            note = store.get_state(failure_key(sha))
            if note is not None:
                message = json.loads(note).get("message", "the worker could not scan it")
                for artifact in waiting.pop(sha):
                    yield TargetError(artifact.source or str(artifact.path), message)
        if not waiting:
            return
        if time.monotonic() > deadline:
            for arts in waiting.values():
                for artifact in arts:
                    yield TargetError(artifact.source or str(artifact.path),
                                      "no worker answered in time; check `pkgvet worker` "
                                      "is running on the same broker and store")
            return
        time.sleep(POLL_SECONDS)


def _result(report: dict[str, object], artifact: Artifact) -> ScanResult:
    from pkgvet.cache import result_from_dict

    result = result_from_dict(report)
    return replace(result, file=artifact.path.name, source=artifact.source,
                   yanked=artifact.yanked, yanked_reason=artifact.yanked_reason)
