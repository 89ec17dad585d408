"""The shared store: what pkgvet knows about files, shared by the proxy, workers and console.

`Store` is the one interface; `open_store(url)` picks the backend:

- no URL: an embedded SQLite file under the user data folder (`sqlite://` + a path, e.g.
  `sqlite:///srv/pkgvet/store.sqlite`, puts it elsewhere), the default for one machine
  (`pkgvet serve`, `pkgvet ui`, in-process scans);
- `postgresql://user@host/db`: PostgreSQL through psycopg 3, for many hosts (several
  `pkgvet serve` replicas and Celery workers writing to one place).

The URL comes from `--store`, else `PKGVET_STORE`. Nothing is cached in memory: every read
goes to the database, so a decision taken in the console applies to the next request the
proxy answers, on every replica.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from pkgvet.errors import UsageError
from pkgvet.store.records import (
    Action,
    AuditEntry,
    Decision,
    FileRecord,
    RequestEntry,
    ResultKind,
    ResultRecord,
    Scope,
    result_record,
)

STORE_ENV = "PKGVET_STORE"

__all__ = [
    "STORE_ENV",
    "Action",
    "AuditEntry",
    "Decision",
    "FileRecord",
    "RequestEntry",
    "ResultKind",
    "ResultRecord",
    "Scope",
    "Store",
    "default_sqlite_path",
    "open_store",
    "result_record",
]


@runtime_checkable
class Store(Protocol):
    """What the proxy, the workers and the console read and write. Implementations are safe
    to share between threads; each call is one transaction."""

    url: str
    """Where the store is, without a password (for messages and `/metrics`)."""

    # files
    def put_file(self, record: FileRecord) -> None:
        """Insert or refresh what the index says about a file (first_seen is kept)."""

    def put_files(self, records: Sequence[FileRecord]) -> None:
        """`put_file` for many, in one transaction (a whole project page)."""

    def get_file(self, sha256: str) -> FileRecord | None: ...

    def files_of(self, project: str) -> list[FileRecord]:
        """Every known file of a project, newest upload first."""

    # results
    def put_result(self, record: ResultRecord) -> None:
        """Insert or replace the result of (sha256, ruleset, kind)."""

    def get_result(
        self, sha256: str, ruleset: str, kind: ResultKind = ResultKind.STATIC
    ) -> ResultRecord | None: ...

    def results_for(
        self, sha256s: Sequence[str], ruleset: str
    ) -> dict[str, dict[ResultKind, ResultRecord]]:
        """Results of many files at once (one query for a whole project page)."""

    def recent_results(
        self, limit: int = 100, offset: int = 0, verdicts: Iterable[str] = ()
    ) -> list[tuple[ResultRecord, FileRecord | None]]:
        """Newest results first (every rule set), optionally only these verdicts."""

    # decisions
    def decide(self, decision: Decision) -> Decision | None:
        """Record a decision; returns the one it replaced. Writes the audit log too."""

    def revoke(self, scope: Scope, key: str, who: str, reason: str) -> Decision | None:
        """Remove a decision (the file goes back to its verdict); logged like a decision."""

    def decisions_for(self, sha256: str, project: str, version: str) -> list[Decision]:
        """Decisions that apply to one file: its own, then its release's."""

    def decisions_many(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> dict[str, list[Decision]]:
        """`decisions_for` for many (sha256, project, version) at once, keyed by sha256."""

    def all_decisions(self) -> list[Decision]: ...

    def audit_log(self, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        """Newest first. The log is append-only: nothing in pkgvet updates or deletes it."""

    def append_audit(self, who: str, event: str, subject: str, detail: dict[str, object]) -> None:
        ...

    # requests
    def log_requests(self, entries: Sequence[RequestEntry]) -> None: ...

    def requests(self, limit: int = 100, sha256: str | None = None) -> list[RequestEntry]: ...

    # small state (watch positions)
    def get_state(self, key: str) -> str | None: ...

    def set_state(self, key: str, value: str) -> None: ...

    def ping(self) -> None:
        """Raise StoreUnavailable if the database cannot be reached."""


def default_sqlite_path() -> Path:
    from pkgvet.cache import data_dir

    return data_dir() / "store.sqlite"


def open_store(url: str | None = None) -> Store:
    """The store at `url`, else `$PKGVET_STORE`, else the embedded SQLite default."""
    url = (url or os.environ.get(STORE_ENV) or "").strip()
    if not url:
        from pkgvet.store.sqlite import SqliteStore

        return SqliteStore(default_sqlite_path())
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from pkgvet.store.sqlite import SqliteStore

        path = url.split("://", 1)[1] if "://" in url else ""
        if not path:
            raise UsageError(f"store URL '{url}' names no file; write sqlite:///abs/path.sqlite")
        return SqliteStore(Path(path))
    if scheme in ("postgresql", "postgres"):
        from pkgvet.store.postgres import PostgresStore

        return PostgresStore(url)
    raise UsageError(
        f"unknown store URL '{url.split('@')[-1]}'; use sqlite:////path/store.sqlite or "
        "postgresql://user@host/database"
    )
