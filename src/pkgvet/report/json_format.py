"""JSON report: a stable, versioned contract for other tools (schema in docs/json-schema.md).

`schema_version` changes only when a field is removed or changes meaning; new fields may be
added at any time, so consumers must ignore fields they do not know.
"""

from __future__ import annotations

import json
from typing import Any

from pkgvet.model import Finding, Report, SandboxEvent, SandboxReport, ScanResult

SCHEMA_VERSION = 1


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "title": f.title,
        "severity": f.severity.label,
        "confidence": f.confidence.label,
        "category": f.category.value,
        "phase": f.phase.value,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "snippet": f.snippet,
        "explanation": f.explanation,
        "analyzer": f.analyzer,
        "context": f.context.value,
        "suppressed": f.suppressed,
        "suppression_reason": f.suppression_reason,
    }


def _event(e: SandboxEvent) -> dict[str, Any]:
    return {"kind": e.kind, "phase": e.phase.value, "detail": e.detail, "argv": list(e.argv),
            "expected": e.expected}


def sandbox_dict(s: SandboxReport) -> dict[str, Any]:
    return {
        "image": s.image,
        "exit_code": s.exit_code,
        "timed_out": s.timed_out,
        "phase": s.phase.value,
        "installable": s.installable,
        "seconds": s.seconds,
        "processes": [_event(e) for e in s.processes],
        "network": [_event(e) for e in s.network],
        "sensitive_reads": [_event(e) for e in s.sensitive_reads],
        "writes": [_event(e) for e in s.writes],
        "log_tail": s.log_tail,
        "modules": list(s.modules),
        "notes": list(s.notes),
        "memory_peak": s.memory_peak,
        "runtime": s.runtime,
        "verdict": s.verdict.value if s.verdict is not None else None,
    }


def result_dict(r: ScanResult) -> dict[str, Any]:
    return {
        "file": r.file,
        "kind": r.kind.value,
        "name": r.name,
        "version": r.version,
        "sha256": r.sha256,
        "pin": r.pin,
        "source": r.source,
        "verdict": r.verdict.value,
        "partial": r.partial,
        "errors": list(r.errors),
        "yanked": r.yanked,
        "yanked_reason": r.yanked_reason,
        "stats": {
            "files": r.stats.files,
            "bytes": r.stats.bytes,
            "python_files": r.stats.python_files,
            "seconds": r.stats.seconds,
        },
        "findings": [finding_dict(f) for f in r.findings],
        "sandbox": sandbox_dict(r.sandbox) if r.sandbox is not None else None,
    }


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": "pkgvet-report",
        "schema_version": SCHEMA_VERSION,
        "tool": {
            "name": "pkgvet",
            "version": report.tool_version,
            "ruleset": report.ruleset_version,
        },
        "verdict": report.verdict.value,
        "results": [result_dict(r) for r in report.results],
        "errors": [{"target": e.target, "message": e.message} for e in report.errors],
    }


def render(report: Report) -> str:
    return json.dumps(report_dict(report), indent=2, sort_keys=False) + "\n"
