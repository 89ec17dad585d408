"""Result cache: an embedded SQLite store keyed by file sha256 and rule-set version.

A file's sha256 fixes its content and RULESET_VERSION fixes what pkgvet looks for, so a result
for the pair stays true: re-auditing an unchanged lock file answers from here, and a new rule
set re-scans. WAL mode and a busy timeout let several pkgvet processes share one store.
Folders (no sha256) are never cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass, replace
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
    """Only what changes findings: extra rule files (by content) and disabled analyzers."""
    digest = hashlib.sha256()
    for path in sorted(options.extra_rules):
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for f in files:
            if f.is_file():
                digest.update(f.name.encode() + f.read_bytes())
    digest.update(",".join(sorted(options.disabled)).encode())
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


@dataclass
class ResultCache:
    path: Path

    @classmethod
    def default(cls) -> ResultCache:
        return cls(data_dir() / "results.sqlite")

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA busy_timeout=30000")
        _enable_wal(conn)
        conn.execute(SCHEMA)
        return conn

    def get(self, artifact: Artifact, options: ScanOptions) -> ScanResult | None:
        if not artifact.sha256:
            return None
        with self._connect() as conn:
            row = conn.execute(
                "SELECT result FROM results WHERE sha256=? AND ruleset=? AND options=?",
                (artifact.sha256, RULESET_VERSION, options_key(options)),
            ).fetchone()
        if row is None:
            return None
        cached = result_from_dict(json.loads(row[0]))
        # Same bytes, maybe another name or place: report where it came from this time.
        return replace(
            cached,
            file=artifact.path.name,
            source=artifact.source,
            yanked=artifact.yanked,
            yanked_reason=artifact.yanked_reason,
            upload_time=artifact.upload_time,
        )

    def put(self, result: ScanResult, options: ScanOptions) -> None:
        if not result.sha256 or result.partial or result.sandbox is not None:
            return  # partial results are not facts about the file; re-scan next time
        with self._connect() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
                (
                    result.sha256,
                    RULESET_VERSION,
                    options_key(options),
                    time.time(),
                    json.dumps(result_dict(result)),
                ),
            )

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
