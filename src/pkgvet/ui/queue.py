"""The triage queue: flagged and not-yet-vetted files, worst and newest first, filterable.

Rows come from the store's newest results (a bounded window, `WINDOW`), one row per file (its
newest static result; a malicious sandbox result makes the row malicious), plus the files the
proxy was asked for that have no result yet (its request log says "not vetted"). Decisions
on a file or its release mark the row decided; the default view shows undecided rows only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from packaging.utils import canonicalize_name

from pkgvet.store import Decision, FileRecord, ResultKind, ResultRecord, Store

WINDOW = 5000
PAGE = 50
RANK = {"malicious": 3, "suspicious": 2, "unvetted": 1, "benign": 0}
SINCE = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}


@dataclass(frozen=True, slots=True)
class Row:
    sha256: str
    file: str
    project: str
    version: str
    verdict: str
    partial: bool
    findings: int
    top: str
    rules: frozenset[str]
    created: float
    upload_time: float | None
    decision: Decision | None


@dataclass(frozen=True, slots=True)
class Filters:
    verdict: str = "flagged"
    """flagged (malicious, suspicious, unvetted), malicious, suspicious, unvetted, benign, all"""
    rule: str = ""
    project: str = ""
    since: str = "all"
    state: str = "open"
    """open (no decision), decided, all"""
    sort: str = "worst"
    page: int = 1

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> Filters:
        def pick(key: str, allowed: tuple[str, ...], default: str) -> str:
            value = query.get(key, default)
            return value if value in allowed else default

        try:
            page = max(1, min(10_000, int(query.get("page", "1"))))
        except ValueError:
            page = 1
        return cls(
            verdict=pick("verdict", ("flagged", "malicious", "suspicious", "unvetted", "benign",
                                     "all"), "flagged"),
            rule=query.get("rule", "").strip().upper()[:10],
            project=query.get("project", "").strip()[:100],
            since=pick("since", ("1h", "24h", "7d", "30d", "all"), "all"),
            state=pick("state", ("open", "decided", "all"), "open"),
            sort=pick("sort", ("worst", "newest"), "worst"),
            page=page,
        )

    def query(self, **changes: Any) -> dict[str, str]:
        values = {"verdict": self.verdict, "rule": self.rule, "project": self.project,
                  "since": self.since, "state": self.state, "sort": self.sort,
                  "page": str(self.page)}
        values.update({k: str(v) for k, v in changes.items()})
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True, slots=True)
class Queue:
    rows: tuple[Row, ...]
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    pages: int = 1


def _row(result: ResultRecord, file: FileRecord | None, sandbox_bad: bool) -> Row:
    report = result.report
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    live = [f for f in findings if not f.get("suppressed")]
    top = next((f"{f.get('rule_id')} {f.get('title')}" for f in live), "")
    return Row(
        sha256=result.sha256,
        file=file.filename if file else str(report.get("file") or ""),
        project=file.project if file else str(canonicalize_name(str(report.get("name") or ""))),
        version=file.version if file else str(report.get("version") or ""),
        verdict="malicious" if sandbox_bad else result.verdict,
        partial=result.partial,
        findings=len(findings),
        top=top,
        rules=frozenset(str(f.get("rule_id")) for f in live),
        created=result.created,
        upload_time=file.upload_time if file else None,
        decision=None,
    )


def load(store: Store, filters: Filters, now: float | None = None) -> Queue:
    now = time.time() if now is None else now
    rows: dict[str, Row] = {}
    sandbox_bad: set[str] = set()
    window = store.recent_results(limit=WINDOW)
    for result, _ in window:
        if result.kind is ResultKind.SANDBOX and result.verdict == "malicious":
            sandbox_bad.add(result.sha256)
    for result, file in window:
        if result.kind is not ResultKind.STATIC or result.sha256 in rows:
            continue
        rows[result.sha256] = _row(result, file, result.sha256 in sandbox_bad)
    for entry in store.requests(limit=WINDOW):
        if entry.verdict is not None or entry.sha256 in rows or len(entry.sha256) != 64:
            continue
        file = store.get_file(entry.sha256)
        rows[entry.sha256] = Row(
            sha256=entry.sha256, file=entry.filename, project=entry.project,
            version=file.version if file else "", verdict="unvetted", partial=False,
            findings=0, top=entry.reason, rules=frozenset(), created=entry.at,
            upload_time=file.upload_time if file else None, decision=None,
        )
        if sum(1 for r in rows.values() if r.verdict == "unvetted") >= 500:
            break
    decisions = store.decisions_many([(r.sha256, r.project, r.version) for r in rows.values()])
    every = [
        replace(r, decision=found[0]) if (found := decisions.get(r.sha256)) else r
        for r in rows.values()
    ]
    kept = [r for r in every if _matches(r, filters, now, with_verdict=False)]
    counts = {v: sum(1 for r in kept if r.verdict == v) for v in RANK}
    chosen = [r for r in kept if _verdict_ok(r, filters.verdict)]
    if filters.sort == "newest":
        chosen.sort(key=lambda r: -r.created)
    else:
        chosen.sort(key=lambda r: (-RANK.get(r.verdict, 0), -r.created))
    pages = max(1, -(-len(chosen) // PAGE))
    start = (min(filters.page, pages) - 1) * PAGE
    return Queue(tuple(chosen[start:start + PAGE]), len(chosen), counts, pages)


def _verdict_ok(row: Row, wanted: str) -> bool:
    if wanted == "all":
        return True
    if wanted == "flagged":
        return row.verdict != "benign" or row.partial
    return row.verdict == wanted


def _matches(row: Row, f: Filters, now: float, *, with_verdict: bool) -> bool:
    if with_verdict and not _verdict_ok(row, f.verdict):
        return False
    if f.state == "open" and row.decision is not None:
        return False
    if f.state == "decided" and row.decision is None:
        return False
    if f.rule and f.rule not in row.rules:
        return False
    if f.project and str(canonicalize_name(f.project)) not in row.project:
        return False
    return not (f.since in SINCE and now - row.created > SINCE[f.since])
