"""SARIF 2.1.0: one run per scanned file, so code-scanning UIs show each package on its own.

Severity maps to SARIF levels (critical/high -> error, medium -> warning, low/info -> note)
and to GitHub's `security-severity`; suppressed findings carry a `suppressions` entry and stay
visible; files that could not be vetted become error notifications, never silence.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from pkgvet.model import Finding, Report, ScanResult, Severity, TargetError
from pkgvet.registry import rules

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://pypi.org/project/pkgvet/"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "0.0"}


def _rule(f: Finding) -> dict[str, Any]:
    """The rule's SARIF descriptor: from its registry declaration where there is one (so the
    descriptor is the same in every report), else from the finding (YARA meta, bandit)."""
    declared = rules().get(f.rule_id)
    title = declared.title if declared else f.title
    explanation = declared.explanation if declared else f.explanation
    severity = declared.severity if declared else f.severity
    confidence = declared.confidence if declared else f.confidence
    category = declared.category if declared else f.category
    out: dict[str, Any] = {
        "id": f.rule_id,
        "name": "".join(w.capitalize() for w in title.replace("-", " ").split() if w.isalnum()),
        "shortDescription": {"text": title},
        "fullDescription": {"text": explanation},
        "help": {"text": explanation},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "tags": ["security", category.value, f.phase.value],
            "security-severity": SECURITY_SEVERITY[severity],
            "precision": {"high": "high", "medium": "medium", "low": "low"}[confidence.label],
        },
    }
    if declared and declared.reference:
        out["helpUri"] = declared.reference
    return out


def _fingerprint(f: Finding) -> str:
    key = f"{f.rule_id}|{f.path or ''}|{f.snippet}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


def _result(f: Finding, index: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index,
        "level": LEVEL[f.severity],
        "message": {"text": f"{f.title}: {f.explanation}"},
        "partialFingerprints": {"pkgvet/v1": _fingerprint(f)},
        "properties": {
            "phase": f.phase.value,
            "severity": f.severity.label,
            "confidence": f.confidence.label,
            "category": f.category.value,
            "context": f.context.value,
            "analyzer": f.analyzer,
        },
    }
    if f.path:
        region: dict[str, Any] = {}
        if f.line:
            region["startLine"] = f.line
            if f.column is not None:
                region["startColumn"] = f.column + 1
        if f.snippet:
            region["snippet"] = {"text": f.snippet}
        location: dict[str, Any] = {
            "artifactLocation": {"uri": quote(f.path, safe="/!")},
        }
        if region.get("startLine"):
            location["region"] = region
        out["locations"] = [{"physicalLocation": location}]
    if f.suppressed:
        out["suppressions"] = [{"kind": "external", "justification": f.suppression_reason}]
    return out


def _notification(text: str) -> dict[str, Any]:
    return {"level": "error", "message": {"text": text}}


def _run(r: ScanResult | None, version: str, errors: tuple[TargetError, ...]) -> dict[str, Any]:
    findings = list(r.findings) if r is not None else []
    rule_ids: list[str] = []
    rules: list[dict[str, Any]] = []
    for f in findings:
        if f.rule_id not in rule_ids:
            rule_ids.append(f.rule_id)
            rules.append(_rule(f))
    notes = [_notification(e) for e in (r.errors if r is not None else ())]
    notes += [_notification(f"{e.target}: {e.message}") for e in errors]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "pkgvet", "version": version or "0",
                            "informationUri": INFO_URI, "rules": rules}},
        "invocations": [{
            "executionSuccessful": not notes,
            "toolExecutionNotifications": notes,
        }],
        "results": [_result(f, rule_ids.index(f.rule_id)) for f in findings],
    }
    if r is not None:
        run["properties"] = {"name": r.name, "version": r.version, "file": r.file,
                             "sha256": r.sha256, "verdict": r.verdict.value, "pin": r.pin,
                             "partial": r.partial}
    return run


def sarif_dict(report: Report) -> dict[str, Any]:
    runs = [_run(r, report.tool_version, report.errors if i == 0 else ())
            for i, r in enumerate(report.results)]
    if not runs:
        runs = [_run(None, report.tool_version, report.errors)]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": runs}


def render(report: Report) -> str:
    return json.dumps(sarif_dict(report), indent=2) + "\n"
