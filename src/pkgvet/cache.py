"""Result cache: an embedded SQLite store keyed by file sha256 and rule-set version.

A file's sha256 fixes its content and RULESET_VERSION fixes what pkgvet looks for, so a result
for the pair stays true: re-auditing an unchanged lock file answers from here, and a new rule
set re-scans. WAL mode and a busy timeout let several pkgvet processes share one store.
Folders (no sha256) are never cached.

The cache never slows a scan down or stops it: the pipeline reads every hit in one query
before the scan and writes the new results in one transaction after it; a store that cannot
be opened or written (read-only home, full disk, locked) prints one warning and the scan
goes on without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from pkgvet import RULESET_VERSION
from pkgvet.model import (
    ArtifactKind,
    Category,
    Confidence,
    Context,
    Finding,
    Phase,
    ScanResult,
    ScanStats,
    Severity,
    Verdict,
)
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact
from pkgvet.report.json_format import result_dict

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    sha256 TEXT NOT NULL,
    ruleset TEXT NOT NULL,
    options TEXT NOT NULL,
    created REAL NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (sha256, ruleset, options)
)
"""


def data_dir() -> Path:
    return Path(os.environ.get("PKGVET_DATA_DIR") or user_data_dir("pkgvet", appauthor=False))


def options_key(options: ScanOptions) -> str:
    """Only what changes findings: extra rule files (by content), disabled and test
    analyzers."""
    digest = hashlib.sha256()
    for path in sorted(options.extra_rules):
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for f in files:
            if f.is_file():
                digest.update(f.name.encode() + f.read_bytes())
    digest.update(",".join(sorted(options.disabled)).encode())
    if options.extra_analyzers:
        digest.update(("|" + ",".join(options.extra_analyzers)).encode())
    return digest.hexdigest()[:16]


def _finding(d: dict[str, Any]) -> Finding:
    return Finding(
        rule_id=d["rule_id"],
        title=d["title"],
        severity=Severity[d["severity"].upper()],
        confidence=Confidence[d["confidence"].upper()],
        category=Category(d["category"]),
        phase=Phase(d["phase"]),
        path=d["path"],
        line=d["line"],
        snippet=d["snippet"],
        explanation=d["explanation"],
        analyzer=d["analyzer"],
        column=d["column"],
        context=Context(d["context"]),
        suppressed=d["suppressed"],
        suppression_reason=d["suppression_reason"],
    )


def result_from_dict(d: dict[str, Any]) -> ScanResult:
    """The inverse of `report.json_format.result_dict` (sandbox sections are not cached)."""
    stats = d["stats"]
    return ScanResult(
        file=d["file"],
        kind=ArtifactKind(d["kind"]),
        name=d["name"],
        version=d["version"],
        sha256=d["sha256"],
        verdict=Verdict(d["verdict"]),
        findings=tuple(_finding(f) for f in d["findings"]),
        errors=tuple(d["errors"]),
        source=d["source"],
        yanked=d["yanked"],
        yanked_reason=d["yanked_reason"],
        stats=ScanStats(stats["files"], stats["bytes"], stats["python_files"], stats["seconds"]),
    )


def _served(stored: str, artifact: Artifact) -> ScanResult:
    """A stored result as this artifact's: same bytes, maybe another name or place, so it
    reports where the file came from this time."""
    cached = result_from_dict(json.loads(stored))
    return replace(
        cached,
        file=artifact.path.name,
        source=artifact.source,
        yanked=artifact.yanked,
        yanked_reason=artifact.yanked_reason,
        upload_time=artifact.upload_time,
    )


def _enable_wal(conn: sqlite3.Connection, attempts: int = 200) -> None:
    """Switch the store to WAL once. SQLite answers "database is locked" at once (without
    the busy handler) when several processes switch a new store at the same moment, so
    retry briefly; once the store is in WAL mode the switch is a no-op."""
    for attempt in range(attempts):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05)


BUSY_MS = 2000
"""How long a read or the batched write waits for another pkgvet holding the store."""


@dataclass
class ResultCache:
    path: Path
    warned: list[str] = field(default_factory=list)

    @classmethod
    def default(cls) -> ResultCache:
        return cls(data_dir() / "results.sqlite")

    def _warn(self, doing: str, exc: BaseException) -> None:
        """One line on stderr, once per cache: the scan goes on without the cache."""
        if not self.warned:
            sys.stderr.write(
                f"warning: result cache {self.path} could not be {doing} ({exc}); "
                "scanning without it (set PKGVET_DATA_DIR to a writable folder, or pass "
                "--no-cache)\n"
            )
        self.warned.append(f"{doing}: {exc}")

    def get_many(
        self, artifacts: Sequence[Artifact], options: ScanOptions
    ) -> dict[int, ScanResult]:
        """Cached results by position in `artifacts`, in one connection; {} if the cache
        cannot be read."""
        wanted = [(i, a) for i, a in enumerate(artifacts) if a.sha256]
        if not wanted or not self.path.exists():
            return {}
        key = options_key(options)
        rows: dict[str, str] = {}
        try:
            conn = self._connect(timeout_ms=BUSY_MS)
            try:
                shas = sorted({a.sha256 for _, a in wanted})
                for start in range(0, len(shas), 500):
                    chunk = shas[start:start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows.update(conn.execute(
                        f"SELECT sha256, result FROM results WHERE ruleset=? AND options=? "
                        f"AND sha256 IN ({marks})",
                        (RULESET_VERSION, key, *chunk),
                    ).fetchall())
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as exc:
            self._warn("read", exc)
            return {}
        return {i: _served(rows[a.sha256], a) for i, a in wanted if a.sha256 in rows}

    def put_many(self, results: Sequence[ScanResult], options: ScanOptions) -> None:
        """Store complete results in one transaction; warn (never raise) on failure."""
        rows = [
            (r.sha256, RULESET_VERSION, options_key(options), time.time(),
             json.dumps(result_dict(r)))
            for r in results
            if r.sha256 and not r.partial and r.sandbox is None
        ]
        if not rows:
            return
        try:
            conn = self._connect(timeout_ms=BUSY_MS)
            try:
                with conn:
                    conn.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
                                     rows)
            finally:
                conn.close()
        except (sqlite3.Error, OSError) as exc:
            self._warn("written", exc)

    def _connect(self, timeout_ms: int = 30000) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=timeout_ms / 1000)
        try:
            conn.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
            _enable_wal(conn)
            conn.execute(SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def get(self, artifact: Artifact, options: ScanOptions) -> ScanResult | None:
        return self.get_many([artifact], options).get(0)

    def put(self, result: ScanResult, options: ScanOptions) -> None:
        """Partial results are not facts about the file, so they are not stored."""
        self.put_many([result], options)

    def info(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"path": str(self.path), "entries": 0, "current": 0, "bytes": 0}
        with self._connect() as conn:
            total = conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            current = conn.execute(
                "SELECT COUNT(*) FROM results WHERE ruleset=?", (RULESET_VERSION,)
            ).fetchone()[0]
        return {
            "path": str(self.path),
            "entries": total,
            "current": current,
            "bytes": self.path.stat().st_size,
        }

    def clear(self) -> int:
        if not self.path.exists():
            return 0
        with self._connect() as conn:
            removed = conn.execute("DELETE FROM results").rowcount
        with self._connect() as conn:
            conn.execute("VACUUM")
        return int(removed)
