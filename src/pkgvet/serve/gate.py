"""The gate: which files of an upstream project page a client sees, and why.

For each page request: record the files in the store, read their results and decisions
fresh, send what is not vetted to the vetter (the newest release inline, older ones as
backfill), wait for the inline part within the budget, then apply the policy. Files without
a sha256 are never listed: nothing could show that what a client gets is what was vetted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from packaging.version import InvalidVersion, Version

from pkgvet import RULESET_VERSION
from pkgvet.policy import Outcome, PolicySettings, Reason, evaluate
from pkgvet.serve.metrics import Metrics
from pkgvet.serve.upstream import UpstreamFile, UpstreamPage
from pkgvet.serve.vetting import BACKFILL, INLINE, Vetter
from pkgvet.store import Decision, FileRecord, RequestEntry, ResultKind, ResultRecord, Store
from pkgvet.worker.jobs import FileJob

log = logging.getLogger("pkgvet.serve")
POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class GateSettings:
    policy: PolicySettings = field(default_factory=PolicySettings)
    budget: float = 5.0
    """Seconds a project page may wait for inline scans."""
    backfill: int = 10
    """Releases vetted in the background after a page request, beyond those vetted inline
    (newest first); 0: all."""
    sandbox: bool = False


@dataclass(frozen=True, slots=True)
class Verdicts:
    file: UpstreamFile
    outcome: Outcome


def record_of(project: str, f: UpstreamFile) -> FileRecord:
    return FileRecord(
        sha256=f.sha256, project=project, version=f.version, filename=f.filename, url=f.url,
        upload_time=f.upload_timestamp, requires_python=f.requires_python,
        yanked=bool(f.yanked), yanked_reason=f.yanked if isinstance(f.yanked, str) else "",
        size=f.size, metadata_sha256=f.metadata_sha256,
    )


def job_of(project: str, f: UpstreamFile) -> FileJob:
    return FileJob(sha256=f.sha256, filename=f.filename, url=f.url, kind=f.kind,
                   project=project, version=f.version)


def _version(f: UpstreamFile) -> Version:
    try:
        return Version(f.version)
    except InvalidVersion:
        return Version("0")


def plan(files: Sequence[UpstreamFile]) -> list[list[UpstreamFile]]:
    """Releases in the order a resolver wants them: final releases that are not yanked,
    newest first, then pre-releases, then yanked ones (sorted() is stable)."""
    by_version: dict[Version, list[UpstreamFile]] = {}
    for f in files:
        by_version.setdefault(_version(f), []).append(f)
    newest_first = sorted(by_version, reverse=True)
    ordered = sorted(newest_first, key=lambda v: (all(f.yanked for f in by_version[v]),
                                                  v.is_prerelease))
    return [by_version[v] for v in ordered]


class Gate:
    def __init__(self, store: Store, vetter: Vetter, settings: GateSettings,
                 metrics: Metrics) -> None:
        self.store = store
        self.vetter = vetter
        self.settings = settings
        self.metrics = metrics

    async def listing(self, project: str, page: UpstreamPage, fresh_page: bool,
                      requester: str) -> list[Verdicts]:
        files = [f for f in page.files if f.sha256]
        no_hash = [f for f in page.files if not f.sha256]
        if no_hash:
            self.metrics.hidden.labels("no-sha256").inc(len(no_hash))
        if fresh_page:
            await asyncio.to_thread(self.store.put_files, [record_of(project, f) for f in files])
        shas = [f.sha256 for f in files]
        results = await asyncio.to_thread(self.store.results_for, shas, RULESET_VERSION)
        decisions = await asyncio.to_thread(
            self.store.decisions_many, [(f.sha256, project, f.version) for f in files])
        unvetted = [f for f in files if ResultKind.STATIC not in results.get(f.sha256, {})
                    and f.sha256 not in decisions]
        if unvetted:
            results = await self._vet(project, files, unvetted, decisions)
        now = time.time()
        out: list[Verdicts] = []
        hidden: list[RequestEntry] = []
        for f in files:
            got = results.get(f.sha256, {})
            outcome = evaluate(record_of(project, f), got.get(ResultKind.STATIC),
                               got.get(ResultKind.SANDBOX), decisions.get(f.sha256, []),
                               self.settings.policy, now)
            failure = self.vetter.failure(f.sha256)
            if outcome.reason is Reason.UNVETTED and failure is not None:
                outcome = Outcome(False, Reason.UNVETTED, f"could not be vetted: "
                                  f"{failure.message}")
            if outcome.listed:
                self.metrics.listed.inc()
                static = got.get(ResultKind.STATIC)
                if (self.settings.sandbox and static is not None
                        and ResultKind.SANDBOX not in got
                        and self.vetter.submit_sandbox(job_of(project, f))):
                    self.metrics.scans.labels("sandbox", "background").inc()
            else:
                self.metrics.hidden.labels(outcome.reason.value).inc()
                hidden.append(RequestEntry(now, requester, project, f.filename, f.sha256, False,
                                           f"{outcome.reason.value}: {outcome.detail}",
                                           outcome.verdict))
            out.append(Verdicts(f, outcome))
        if hidden:
            await asyncio.to_thread(self.store.log_requests, hidden)
        return out

    async def _vet(self, project: str, files: Sequence[UpstreamFile],
                   unvetted: Sequence[UpstreamFile], decisions: dict[str, list[Decision]]
                   ) -> dict[str, dict[ResultKind, ResultRecord]]:
        """Vet releases in resolver order, inline, until one has a file the policy lists (a
        malicious or too-new release sends the resolver to the one before) or the budget is
        spent; queue the next `backfill` releases in the background."""
        pending = {f.sha256 for f in unvetted}
        releases = plan(files)
        started = time.perf_counter()
        deadline = started + self.settings.budget
        waited = False
        position = 0
        while position < len(releases) and time.perf_counter() < deadline:
            release = releases[position]
            position += 1
            todo = [f for f in release if f.sha256 in pending]
            if todo:
                waited = True
                n = self.vetter.submit([job_of(project, f) for f in todo], INLINE)
                self.metrics.scans.labels("static", "inline").inc(n)
                await self._wait({f.sha256 for f in todo}, deadline)
            got = await asyncio.to_thread(self.store.results_for,
                                          [f.sha256 for f in release], RULESET_VERSION)
            now = time.time()
            if any(evaluate(record_of(project, f), got.get(f.sha256, {}).get(ResultKind.STATIC),
                            None, decisions.get(f.sha256, []), self.settings.policy, now).listed
                   for f in release):
                break
        later = releases[position:]
        if self.settings.backfill > 0:
            later = later[: self.settings.backfill]
        n = self.vetter.submit([job_of(project, f) for r in later for f in r
                                if f.sha256 in pending], BACKFILL)
        self.metrics.scans.labels("static", "background").inc(n)
        if waited:
            self.metrics.inline_wait.observe(time.perf_counter() - started)
        return await asyncio.to_thread(self.store.results_for, [f.sha256 for f in files],
                                       RULESET_VERSION)

    async def _wait(self, waiting: set[str], deadline: float) -> None:
        while waiting and time.perf_counter() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            waiting = {s for s in waiting if self.vetter.failure(s) is None}
            got = await asyncio.to_thread(self.store.results_for, sorted(waiting),
                                          RULESET_VERSION)
            waiting -= {s for s, kinds in got.items() if ResultKind.STATIC in kinds}
        if waiting:
            log.info("%d file(s) not vetted within the %.1f s budget", len(waiting),
                     self.settings.budget)
