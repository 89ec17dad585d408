"""target -> artifacts -> package -> analyzers -> findings -> verdict, in parallel over files.

Resolution (index look-ups and downloads) runs in threads; scanning runs in watched worker
processes (`pkgvet.workers`), one artifact per task, so a batch of hundreds of packages uses
every core. A failing analyzer marks its result partial and the others go on; a target that
cannot be fetched or opened becomes a `TargetError` and the batch goes on. Cached results
are looked up before the scan and new ones written in one transaction after it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from pkgvet import RULESET_VERSION, __version__, crosscheck, guard, heap, workers
from pkgvet.analyzer import Analyzer, BlobAnalyzer, create_all
from pkgvet.cache import ResultCache
from pkgvet.errors import PkgvetError
from pkgvet.model import Finding, Report, ScanResult, ScanStats, TargetError
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact, Package, load
from pkgvet.sources import resolve
from pkgvet.verdict import decide

if TYPE_CHECKING:
    from pkgvet.sandbox.runner import SandboxSettings
    from pkgvet.trust import TrustSettings

DEFAULT_OPTIONS = ScanOptions()
ResultHook = Callable[[ScanResult | TargetError], None]
Backend = Callable[[Sequence[Artifact], ScanOptions], Iterable[ScanResult | TargetError]]
"""Scans files elsewhere (`pkgvet.worker.fanout`: Celery workers) instead of the local pool."""


@dataclass(frozen=True, slots=True)
class ResolveOptions:
    index_url: str | None = None
    all_files: bool = False


def default_jobs() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


@lru_cache(maxsize=4)
def _analyzers(options: ScanOptions) -> tuple[Analyzer, ...]:
    """Analyzers are built once per process: YARA rules compile once, not once per file."""
    return tuple(create_all(options))


def warm(options: ScanOptions) -> None:
    """Build the analyzers of `options` in this process (a worker, or the forkserver)."""
    _analyzers(options)


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str | None, int | None, str]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.rule_id, f.path, f.line, f.snippet if f.line is None else "")
        if key not in seen:
            seen.add(key)
            out.append(f)
    return sorted(out, key=Finding.sort_key)


def scan_artifact(artifact: Artifact, options: ScanOptions = DEFAULT_OPTIONS,
                  carry: bool = False) -> ScanResult:
    """Scan one artifact. Raises PkgvetError only if the file cannot be opened at all.
    `carry`: keep the texts the sdist/wheel cross-check reads (`crosscheck.carry`) on the
    result, for a batch that holds the counterpart (`crosscheck.worth_carrying`)."""
    started = time.perf_counter()
    analyzers = _analyzers(options)
    scanners = [a.scan_blob for a in analyzers if isinstance(a, BlobAnalyzer)]
    watch = guard.watch()  # a watchdog in an isolated child; a no-op otherwise
    watch.begin(guard.LOADING,
                lambda: _result(artifact, Package(artifact), [], [], started, carry),
                plan=[a.name for a in analyzers])
    with heap.scan_heap():
        pkg = load(artifact, scanners, options.limits)
        try:
            findings: list[Finding] = list(pkg.findings)
            errors: list[str] = list(pkg.errors)
            for analyzer in analyzers:
                watch.begin(analyzer.name,
                            lambda: _result(artifact, pkg, findings, errors, started, carry))
                found, failed = guard.run_analyzer(analyzer, pkg)
                findings.extend(found)
                errors.extend(failed)
            return _result(artifact, pkg, findings, errors, started, carry)
        finally:
            pkg.release()


@dataclass(frozen=True, slots=True)
class _BatchScan:
    """`scan_artifact` for the files of one batch: those in `carry` carry their texts."""

    carry: frozenset[tuple[str, str]]

    def __call__(self, artifact: Artifact, options: ScanOptions) -> ScanResult:
        return scan_artifact(artifact, options,
                             carry=(artifact.path.name, artifact.sha256) in self.carry)


def _result(
    artifact: Artifact, pkg: Package, findings: list[Finding], errors: list[str], started: float,
    carry: bool = False,
) -> ScanResult:
    final = _dedupe(findings)
    stats = ScanStats(
        files=len(pkg.files),
        bytes=sum(f.size for f in pkg.files),
        python_files=sum(1 for f in pkg.files if f.is_python),
        seconds=round(time.perf_counter() - started, 4),
    )
    name = pkg.name or artifact.path.name
    return ScanResult(
        file=artifact.path.name,
        kind=artifact.kind,
        name=name,
        version=pkg.version,
        sha256=artifact.sha256,
        verdict=decide(final),
        findings=tuple(final),
        errors=tuple(errors),
        source=artifact.source,
        yanked=artifact.yanked,
        yanked_reason=artifact.yanked_reason,
        upload_time=artifact.upload_time,
        stats=stats,
        files=pkg.entries(),
        carried=crosscheck.carry(pkg) if carry else (),
    )


def _target_error(artifact: Artifact, outcome: BaseException) -> TargetError:
    if isinstance(outcome, PkgvetError):
        return TargetError(artifact.source or str(artifact.path), str(outcome))
    return TargetError(  # a crash on one file must not lose the batch
        artifact.source or str(artifact.path),
        f"internal error while scanning ({outcome.__class__.__name__}: {outcome}); "
        "please report it with the file's sha256",
    )


def _scan_task(artifact: Artifact, options: ScanOptions) -> ScanResult | TargetError:
    """One file in one forked, watched child (`guard.isolated`): for single-threaded callers
    such as tests and the fuzz oracle; batches use `scan_artifacts`."""
    try:
        _analyzers(options)  # built before the fork, so each child inherits compiled rules
        return guard.isolated(scan_artifact, artifact, options)
    except Exception as exc:
        return _target_error(artifact, exc)


def _resolve_task(target: str, ropts: ResolveOptions) -> list[Artifact] | TargetError:
    try:
        return resolve(target, index_url=ropts.index_url, all_files=ropts.all_files)
    except PkgvetError as exc:
        return TargetError(target, str(exc))


def resolve_all(
    targets: Sequence[str], ropts: ResolveOptions, jobs: int
) -> tuple[list[Artifact], list[TargetError]]:
    artifacts: list[Artifact] = []
    errors: list[TargetError] = []
    with ThreadPoolExecutor(max_workers=max(1, min(8, jobs * 2, len(targets) or 1))) as pool:
        for outcome in pool.map(lambda t: _resolve_task(t, ropts), targets):
            if isinstance(outcome, TargetError):
                errors.append(outcome)
            else:
                artifacts.extend(outcome)
    return artifacts, errors


def scan_artifacts(
    artifacts: Sequence[Artifact],
    options: ScanOptions,
    jobs: int,
    on_result: ResultHook | None = None,
    cache: ResultCache | None = None,
    backend: Backend | None = None,
) -> tuple[list[ScanResult], list[TargetError]]:
    """Scan artifacts in parallel; with a cache, files already scanned under this rule set
    are answered from it and only the rest are scanned (and stored after the scan, in one
    transaction, so the cache never holds up a scan). Results come back in input order."""
    results: dict[int, ScanResult] = {}
    errors: list[TargetError] = []
    hits = cache.get_many(artifacts, options) if cache is not None else {}
    todo: list[Artifact] = []
    for i, artifact in enumerate(artifacts):
        hit = hits.get(i)
        if hit is None:
            todo.append(artifact)
            continue
        results[i] = hit
        if on_result is not None:
            on_result(hit)
    positions = [i for i in range(len(artifacts)) if i not in results]
    fresh: list[ScanResult] = []
    scan = _BatchScan(crosscheck.worth_carrying(artifacts))

    def collect(index: int, outcome: ScanResult | TargetError | BaseException) -> None:
        reported: ScanResult | TargetError
        if isinstance(outcome, ScanResult):
            results[positions[index]] = reported = outcome
            fresh.append(outcome)
        elif isinstance(outcome, TargetError):
            errors.append(reported := outcome)
        else:
            errors.append(reported := _target_error(todo[index], outcome))
        if on_result is not None:
            on_result(reported)

    if backend is not None:  # workers elsewhere (Celery): answers come in any order
        left = list(range(len(todo)))
        for answer in backend(todo, options):
            collect(_position(todo, left, answer), answer)
    elif not options.isolate or workers.start_method() is None:
        for index, artifact in enumerate(todo):  # in this process: debugging, Windows
            try:
                collect(index, scan(artifact, options))
            except Exception as exc:
                collect(index, exc)
    elif todo:
        size = max(1, min(jobs, len(todo)))
        with workers.ScanPool(scan, warm, options, size) as pool:
            for index, outcome in pool.run(todo):
                collect(index, outcome)
    if cache is not None and fresh:
        cache.put_many(fresh, options)
    return [results[i] for i in sorted(results)], errors


def _position(todo: Sequence[Artifact], left: list[int], outcome: ScanResult | TargetError) -> int:
    """Which artifact of `todo` an out-of-order answer belongs to (each is taken once)."""
    for k, i in enumerate(left):
        artifact = todo[i]
        if isinstance(outcome, ScanResult):
            same = outcome.sha256 == artifact.sha256 and outcome.file == artifact.path.name
        else:
            same = outcome.target in (artifact.source, str(artifact.path))
        if same:
            return left.pop(k)
    return left.pop(0)


def scan_targets(
    targets: Sequence[str],
    options: ScanOptions = DEFAULT_OPTIONS,
    ropts: ResolveOptions = ResolveOptions(),
    jobs: int | None = None,
    on_result: ResultHook | None = None,
    cache: ResultCache | None = None,
    sandbox: SandboxSettings | None = None,
    trust: TrustSettings | None = None,
    backend: Backend | None = None,
) -> Report:
    """Resolve, scan statically, (with `sandbox`) add what each file did in the sandbox, and
    (with `trust`) add release age, known-malicious records and provenance."""
    started = time.perf_counter()
    jobs = jobs or default_jobs()
    if options.isolate:
        workers.warm_up()  # the workers' server preloads while targets are resolved
    artifacts, resolve_errors = resolve_all(targets, ropts, jobs)
    results, scan_errors = scan_artifacts(artifacts, options, jobs, on_result, cache, backend)
    results = crosscheck.apply(results, artifacts)  # sdist vs wheel of one release
    report = Report(
        results=tuple(results),
        errors=tuple(resolve_errors + scan_errors),
        tool_version=__version__,
        ruleset_version=RULESET_VERSION,
    )
    if sandbox is not None:
        from pkgvet import sandbox as sandbox_mod

        report = sandbox_mod.apply(report, artifacts, sandbox, jobs)
    if trust is not None:
        from pkgvet import trust as trust_mod

        report = trust_mod.apply(report, artifacts, trust)
    return replace(report, seconds=round(time.perf_counter() - started, 3))


def with_findings(result: ScanResult, extra: Iterable[Finding]) -> ScanResult:
    """A copy of `result` with more findings and the verdict decided again."""
    findings = _dedupe([*result.findings, *extra])
    return replace(result, findings=tuple(findings), verdict=decide(findings))
