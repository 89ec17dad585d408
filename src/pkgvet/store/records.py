"""The values the shared store keeps: files seen on an index, scan results, decisions, logs.

Every record is an immutable value keyed by the file's sha256, so the proxy, the workers and
the triage console agree on what a file is whatever name or URL it was reached by.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pkgvet.model import ScanResult


class ResultKind(StrEnum):
    """Which analysis produced a result: the static scan, or the sandbox run."""

    STATIC = "static"
    SANDBOX = "sandbox"


class Action(StrEnum):
    ALLOW = "allow"
    BLOCK = "block"


class Scope(StrEnum):
    """What a decision covers: one file (by sha256), or every file of a project's release."""

    FILE = "file"
    RELEASE = "release"


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One file as the upstream index described it, when pkgvet first (or last) saw it."""

    sha256: str
    project: str
    """PEP 503 normalized project name."""
    version: str
    filename: str
    url: str = ""
    upload_time: float | None = None
    """PEP 700 upload time, seconds since the epoch; None when the index did not say."""
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str = ""
    size: int | None = None
    metadata_sha256: str | None = None
    """sha256 of the PEP 658 `.metadata` file, when the index publishes one."""
    first_seen: float = 0.0


@dataclass(frozen=True, slots=True)
class ResultRecord:
    sha256: str
    ruleset: str
    kind: ResultKind
    verdict: str
    """benign | suspicious | malicious (`pkgvet.model.Verdict` values)."""
    partial: bool
    report: dict[str, Any]
    """The file's result as the JSON report writes it (`report.json_format.result_dict`)."""
    created: float


@dataclass(frozen=True, slots=True)
class Decision:
    """A person's decision on a file (scope FILE, `key` = sha256) or a release
    (scope RELEASE, `key` = "project==version")."""

    scope: Scope
    key: str
    action: Action
    reason: str
    who: str
    created: float

    @staticmethod
    def release_key(project: str, version: str) -> str:
        return f"{project}=={version}"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit log: what changed, who changed it, and from what."""

    id: int
    at: float
    who: str
    event: str
    subject: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RequestEntry:
    """One file the proxy listed or hid for a requester, with the reason (the evidence)."""

    at: float
    requester: str
    project: str
    filename: str
    sha256: str
    listed: bool
    reason: str
    verdict: str | None = None


def result_record(result: ScanResult, kind: ResultKind = ResultKind.STATIC) -> ResultRecord:
    """The store's record of a scan result (the JSON report's form of it, under this rule set)."""
    import time

    from pkgvet import RULESET_VERSION
    from pkgvet.report.json_format import result_dict

    return ResultRecord(
        sha256=result.sha256,
        ruleset=RULESET_VERSION,
        kind=kind,
        verdict=result.verdict.value,
        partial=result.partial,
        report=result_dict(result),
        created=time.time(),
    )
