"""One unit of vetting work: a file named by its sha256 -> a result in the shared store.

The same functions run in-process (the proxy's thread pool, `scan` without a broker) and in
a Celery worker, so both paths store identical records. A job is idempotent: a file whose
result for this rule set is already stored is not scanned again, so a task delivered twice
(a worker killed mid-task, a retry) costs one look-up.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pkgvet import RULESET_VERSION
from pkgvet.errors import PkgvetError
from pkgvet.model import ArtifactKind, Report, ScanResult
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact
from pkgvet.store import ResultKind, ResultRecord, Store, result_record


@dataclass(frozen=True, slots=True)
class FileJob:
    """What a worker needs to get and scan one file, wherever it runs."""

    sha256: str
    filename: str
    url: str
    kind: str
    project: str = ""
    version: str = ""
    path: str = ""
    """A local copy the submitter already verified (used when the worker can see it)."""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileJob:
        return cls(**{k: str(data.get(k) or "") for k in cls.__dataclass_fields__})

    @classmethod
    def from_artifact(cls, artifact: Artifact) -> FileJob:
        return cls(sha256=artifact.sha256, filename=artifact.path.name, url=artifact.source,
                   kind=artifact.kind.value, project=artifact.name or "",
                   version=artifact.version or "", path=str(artifact.path))


def artifact_of(job: FileJob) -> Artifact:
    """The job's file on local disk, verified against its sha256 (downloaded if needed)."""
    from pkgvet import fetch
    from pkgvet.sources.local import sha256_file

    kind = ArtifactKind(job.kind)
    if job.path:
        local = Path(job.path)
        if local.is_file() and sha256_file(local) == job.sha256:
            return Artifact(path=local, kind=kind, sha256=job.sha256,
                            name=job.project or None, version=job.version or None,
                            source=job.url)
    index_file = fetch.IndexFile(filename=job.filename, url=job.url, sha256=job.sha256,
                                 kind=kind)
    return fetch.download(index_file, name=job.project or None, version=job.version or None)


def scan_static(artifact: Artifact, options: ScanOptions) -> ScanResult:
    """The static scan of one file in a watched child, as `pkgvet scan` runs it."""
    from pkgvet import guard
    from pkgvet.pipeline import scan_artifact

    return guard.isolated(scan_artifact, artifact, options)


def run_static(job: FileJob, store: Store, options: ScanOptions | None = None) -> ResultRecord:
    """The stored static result of the job's file, scanning it only if none is stored.

    Raises PkgvetError when the file cannot be fetched or opened (hash mismatch, corrupt)."""
    existing = store.get_result(job.sha256, RULESET_VERSION, ResultKind.STATIC)
    if existing is not None:
        return existing
    result = scan_static(artifact_of(job), options or ScanOptions())
    record = result_record(result, ResultKind.STATIC)
    store.put_result(record)
    return record


def run_sandbox(job: FileJob, store: Store, settings: Any = None) -> ResultRecord:
    """Install and import the file in the sandbox; store the combined verdict as the
    file's sandbox result (a malicious one withdraws the file from the proxy)."""
    existing = store.get_result(job.sha256, RULESET_VERSION, ResultKind.SANDBOX)
    if existing is not None:
        return existing
    from pkgvet import sandbox
    from pkgvet.store.records import ResultKind as Kind

    settings = settings or sandbox.SandboxSettings()
    artifact = artifact_of(job)
    static = scan_static(artifact, ScanOptions())
    report = sandbox.apply(Report(results=(static,)), [artifact], settings, 1)
    record = result_record(report.results[0], Kind.SANDBOX)
    store.put_result(record)
    return record


@dataclass(frozen=True, slots=True)
class Failure:
    """A job that could not produce a result: the file is not vetted, and why."""

    sha256: str
    message: str
    at: float
    hash_mismatch: bool = False


def failure_of(job: FileJob, exc: Exception) -> Failure:
    from pkgvet.errors import HashMismatch

    if isinstance(exc, PkgvetError):
        return Failure(job.sha256, str(exc), time.time(), isinstance(exc, HashMismatch))
    return Failure(job.sha256, f"internal error while scanning ({exc.__class__.__name__}: "
                   f"{exc}); please report it with the file's sha256", time.time())
