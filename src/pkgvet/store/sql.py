"""The SQL both backends share: one schema, one set of queries, two connection styles.

SQLite and PostgreSQL agree on everything used here (`ON CONFLICT ... DO UPDATE`, text,
integers, double precision); the backends differ only in how they connect, their
placeholder and the key type of the append-only tables.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from pkgvet.store.records import (
    Action,
    AuditEntry,
    Decision,
    FileRecord,
    RequestEntry,
    ResultKind,
    ResultRecord,
    Scope,
)

SCHEMA_VERSION = 1


def schema(serial: str, real: str) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS files (
            sha256 TEXT PRIMARY KEY,
            project TEXT NOT NULL,
            version TEXT NOT NULL,
            filename TEXT NOT NULL,
            url TEXT NOT NULL,
            upload_time {real},
            requires_python TEXT,
            yanked INTEGER NOT NULL,
            yanked_reason TEXT NOT NULL,
            size BIGINT,
            metadata_sha256 TEXT,
            first_seen {real} NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS files_project ON files (project)",
        f"""CREATE TABLE IF NOT EXISTS scan_results (
            sha256 TEXT NOT NULL,
            ruleset TEXT NOT NULL,
            kind TEXT NOT NULL,
            verdict TEXT NOT NULL,
            partial INTEGER NOT NULL,
            report TEXT NOT NULL,
            created {real} NOT NULL,
            PRIMARY KEY (sha256, ruleset, kind)
        )""",
        "CREATE INDEX IF NOT EXISTS scan_results_created ON scan_results (created)",
        f"""CREATE TABLE IF NOT EXISTS decisions (
            scope TEXT NOT NULL,
            key TEXT NOT NULL,
            action TEXT NOT NULL,
            reason TEXT NOT NULL,
            who TEXT NOT NULL,
            created {real} NOT NULL,
            PRIMARY KEY (scope, key)
        )""",
        f"""CREATE TABLE IF NOT EXISTS audit_log (
            id {serial},
            at {real} NOT NULL,
            who TEXT NOT NULL,
            event TEXT NOT NULL,
            subject TEXT NOT NULL,
            detail TEXT NOT NULL
        )""",
        f"""CREATE TABLE IF NOT EXISTS requests (
            id {serial},
            at {real} NOT NULL,
            requester TEXT NOT NULL,
            project TEXT NOT NULL,
            filename TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            listed INTEGER NOT NULL,
            reason TEXT NOT NULL,
            verdict TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS requests_sha256 ON requests (sha256)",
        """CREATE TABLE IF NOT EXISTS state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )""",
    ]


_FILE_COLS = (
    "sha256, project, version, filename, url, upload_time, requires_python, yanked, "
    "yanked_reason, size, metadata_sha256, first_seen"
)


def _file(row: Sequence[Any]) -> FileRecord:
    return FileRecord(
        sha256=row[0], project=row[1], version=row[2], filename=row[3], url=row[4],
        upload_time=row[5], requires_python=row[6], yanked=bool(row[7]),
        yanked_reason=row[8], size=row[9], metadata_sha256=row[10], first_seen=row[11],
    )


def _result(row: Sequence[Any]) -> ResultRecord:
    return ResultRecord(
        sha256=row[0], ruleset=row[1], kind=ResultKind(row[2]), verdict=row[3],
        partial=bool(row[4]), report=json.loads(row[5]), created=row[6],
    )


def _decision(row: Sequence[Any]) -> Decision:
    return Decision(
        scope=Scope(row[0]), key=row[1], action=Action(row[2]), reason=row[3], who=row[4],
        created=row[5],
    )


def _decision_dict(d: Decision | None) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"scope": d.scope.value, "key": d.key, "action": d.action.value, "reason": d.reason,
            "who": d.who, "created": d.created}


class SqlStore(ABC):
    """The queries; subclasses say how to connect and which placeholder to use."""

    url: str
    placeholder = "?"

    @abstractmethod
    def _transaction(self) -> AbstractContextManager[Any]:
        """A cursor inside one transaction: committed on exit, rolled back on error."""

    def _q(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._transaction() as cur:
            cur.execute(self._q(sql), tuple(params))
            return list(cur.fetchall()) if cur.description else []

    # --- files -----------------------------------------------------------------------------

    def put_file(self, record: FileRecord) -> None:
        self.put_files([record])

    def put_files(self, records: Sequence[FileRecord]) -> None:
        if not records:
            return
        now = time.time()
        sql = self._q(
            f"INSERT INTO files ({_FILE_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (sha256) DO UPDATE SET project=excluded.project, "
            "version=excluded.version, filename=excluded.filename, url=excluded.url, "
            "upload_time=excluded.upload_time, requires_python=excluded.requires_python, "
            "yanked=excluded.yanked, yanked_reason=excluded.yanked_reason, "
            "size=excluded.size, metadata_sha256=excluded.metadata_sha256"
        )
        with self._transaction() as cur:
            for r in records:
                cur.execute(sql, (
                    r.sha256, r.project, r.version, r.filename, r.url, r.upload_time,
                    r.requires_python, int(r.yanked), r.yanked_reason, r.size,
                    r.metadata_sha256, r.first_seen or now,
                ))

    def get_file(self, sha256: str) -> FileRecord | None:
        rows = self._run(f"SELECT {_FILE_COLS} FROM files WHERE sha256=?", (sha256,))
        return _file(rows[0]) if rows else None

    def files_of(self, project: str) -> list[FileRecord]:
        rows = self._run(
            f"SELECT {_FILE_COLS} FROM files WHERE project=? "
            "ORDER BY COALESCE(upload_time, first_seen) DESC",
            (project,),
        )
        return [_file(r) for r in rows]

    # --- results ---------------------------------------------------------------------------

    def put_result(self, record: ResultRecord) -> None:
        self._run(
            "INSERT INTO scan_results (sha256, ruleset, kind, verdict, partial, report, created) "
            "VALUES (?,?,?,?,?,?,?) ON CONFLICT (sha256, ruleset, kind) DO UPDATE SET "
            "verdict=excluded.verdict, partial=excluded.partial, report=excluded.report, "
            "created=excluded.created",
            (record.sha256, record.ruleset, record.kind.value, record.verdict,
             int(record.partial), json.dumps(record.report), record.created),
        )

    def get_result(
        self, sha256: str, ruleset: str, kind: ResultKind = ResultKind.STATIC
    ) -> ResultRecord | None:
        rows = self._run(
            "SELECT sha256, ruleset, kind, verdict, partial, report, created FROM scan_results "
            "WHERE sha256=? AND ruleset=? AND kind=?",
            (sha256, ruleset, kind.value),
        )
        return _result(rows[0]) if rows else None

    def results_for(
        self, sha256s: Sequence[str], ruleset: str
    ) -> dict[str, dict[ResultKind, ResultRecord]]:
        out: dict[str, dict[ResultKind, ResultRecord]] = {}
        for chunk in _chunks(list(sha256s), 500):
            marks = ",".join("?" * len(chunk))
            rows = self._run(
                "SELECT sha256, ruleset, kind, verdict, partial, report, created "
                f"FROM scan_results WHERE ruleset=? AND sha256 IN ({marks})",
                (ruleset, *chunk),
            )
            for row in rows:
                rec = _result(row)
                out.setdefault(rec.sha256, {})[rec.kind] = rec
        return out

    def recent_results(
        self, limit: int = 100, offset: int = 0, verdicts: Iterable[str] = ()
    ) -> list[tuple[ResultRecord, FileRecord | None]]:
        wanted = list(verdicts)
        where = f"WHERE r.verdict IN ({','.join('?' * len(wanted))})" if wanted else ""
        cols = ", ".join(f"f.{c.strip()}" for c in _FILE_COLS.split(","))
        rows = self._run(
            "SELECT r.sha256, r.ruleset, r.kind, r.verdict, r.partial, r.report, r.created, "
            f"{cols} FROM scan_results r LEFT JOIN files f ON f.sha256 = r.sha256 {where} "
            "ORDER BY r.created DESC LIMIT ? OFFSET ?",
            (*wanted, int(limit), int(offset)),
        )
        return [(_result(r[:7]), _file(r[7:]) if r[7] is not None else None) for r in rows]

    # --- decisions -------------------------------------------------------------------------

    def _current(self, cur: Any, scope: Scope, key: str) -> Decision | None:
        cur.execute(
            self._q("SELECT scope, key, action, reason, who, created FROM decisions "
                    "WHERE scope=? AND key=?"),
            (scope.value, key),
        )
        row = cur.fetchone()
        return _decision(row) if row else None

    def _audit(self, cur: Any, who: str, event: str, subject: str, detail: dict[str, Any]) -> None:
        cur.execute(
            self._q("INSERT INTO audit_log (at, who, event, subject, detail) VALUES (?,?,?,?,?)"),
            (time.time(), who, event, subject, json.dumps(detail, sort_keys=True)),
        )

    def decide(self, decision: Decision) -> Decision | None:
        with self._transaction() as cur:
            previous = self._current(cur, decision.scope, decision.key)
            cur.execute(
                self._q(
                    "INSERT INTO decisions (scope, key, action, reason, who, created) "
                    "VALUES (?,?,?,?,?,?) ON CONFLICT (scope, key) DO UPDATE SET "
                    "action=excluded.action, reason=excluded.reason, who=excluded.who, "
                    "created=excluded.created"
                ),
                (decision.scope.value, decision.key, decision.action.value, decision.reason,
                 decision.who, decision.created),
            )
            self._audit(cur, decision.who, f"decision.{decision.action.value}",
                        f"{decision.scope.value}:{decision.key}",
                        {"reason": decision.reason, "previous": _decision_dict(previous)})
        return previous

    def revoke(self, scope: Scope, key: str, who: str, reason: str) -> Decision | None:
        with self._transaction() as cur:
            previous = self._current(cur, scope, key)
            cur.execute(self._q("DELETE FROM decisions WHERE scope=? AND key=?"),
                        (scope.value, key))
            self._audit(cur, who, "decision.revoke", f"{scope.value}:{key}",
                        {"reason": reason, "previous": _decision_dict(previous)})
        return previous

    def decisions_for(self, sha256: str, project: str, version: str) -> list[Decision]:
        return self.decisions_many([(sha256, project, version)]).get(sha256, [])

    def decisions_many(
        self, keys: Sequence[tuple[str, str, str]]
    ) -> dict[str, list[Decision]]:
        out: dict[str, list[Decision]] = {}
        if not keys:
            return out
        file_keys = {sha for sha, _, _ in keys}
        release_keys = {Decision.release_key(p, v) for _, p, v in keys}
        found: dict[tuple[Scope, str], Decision] = {}
        for scope, wanted in ((Scope.FILE, file_keys), (Scope.RELEASE, release_keys)):
            for chunk in _chunks(sorted(wanted), 500):
                rows = self._run(
                    "SELECT scope, key, action, reason, who, created FROM decisions "
                    f"WHERE scope=? AND key IN ({','.join('?' * len(chunk))})",
                    (scope.value, *chunk),
                )
                for row in rows:
                    d = _decision(row)
                    found[(d.scope, d.key)] = d
        for sha, project, version in keys:
            ds = [d for d in (found.get((Scope.FILE, sha)),
                              found.get((Scope.RELEASE, Decision.release_key(project, version))))
                  if d is not None]
            if ds:
                out[sha] = ds
        return out

    def all_decisions(self) -> list[Decision]:
        rows = self._run("SELECT scope, key, action, reason, who, created FROM decisions "
                         "ORDER BY created DESC")
        return [_decision(r) for r in rows]

    def audit_log(self, limit: int = 100, subject: str | None = None) -> list[AuditEntry]:
        where, params = ("WHERE subject=?", [subject]) if subject else ("", [])
        rows = self._run(
            f"SELECT id, at, who, event, subject, detail FROM audit_log {where} "
            "ORDER BY id DESC LIMIT ?",
            (*params, int(limit)),
        )
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]

    def append_audit(self, who: str, event: str, subject: str, detail: dict[str, object]) -> None:
        with self._transaction() as cur:
            self._audit(cur, who, event, subject, dict(detail))

    # --- requests --------------------------------------------------------------------------

    def log_requests(self, entries: Sequence[RequestEntry]) -> None:
        if not entries:
            return
        sql = self._q("INSERT INTO requests (at, requester, project, filename, sha256, listed, "
                      "reason, verdict) VALUES (?,?,?,?,?,?,?,?)")
        with self._transaction() as cur:
            for e in entries:
                cur.execute(sql, (e.at, e.requester, e.project, e.filename, e.sha256,
                                  int(e.listed), e.reason, e.verdict))

    def requests(self, limit: int = 100, sha256: str | None = None) -> list[RequestEntry]:
        where, params = ("WHERE sha256=?", [sha256]) if sha256 else ("", [])
        rows = self._run(
            "SELECT at, requester, project, filename, sha256, listed, reason, verdict "
            f"FROM requests {where} ORDER BY id DESC LIMIT ?",
            (*params, int(limit)),
        )
        return [RequestEntry(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7]) for r in rows]

    # --- state -----------------------------------------------------------------------------

    def get_state(self, key: str) -> str | None:
        rows = self._run("SELECT value FROM state WHERE key=?", (key,))
        return str(rows[0][0]) if rows else None

    def set_state(self, key: str, value: str) -> None:
        self._run("INSERT INTO state (key, value) VALUES (?,?) "
                  "ON CONFLICT (key) DO UPDATE SET value=excluded.value", (key, value))

    def ping(self) -> None:
        self._run("SELECT 1")


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
