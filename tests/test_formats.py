"""Report formats on a hand-made report with every field populated (independent of analyzers)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pkgvet.model import (
    ArtifactKind,
    Category,
    Confidence,
    Finding,
    Phase,
    Report,
    SandboxEvent,
    SandboxReport,
    ScanResult,
    Severity,
    TargetError,
    Verdict,
)
from pkgvet.report import Format, render

SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


def finding(rule: str, severity: Severity, phase: Phase, **kw: object) -> Finding:
    base: dict[str, object] = dict(
        rule_id=rule, title=f"title {rule}", severity=severity, confidence=Confidence.HIGH,
        category=Category.EXECUTION, phase=phase, path="pkg-1.0/setup.py", line=3,
        snippet="exec(b64decode('x'))", explanation="why it matters", analyzer="python-code",
        column=4,
    )
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def report() -> Report:
    findings = (
        finding("PV201", Severity.CRITICAL, Phase.INSTALL),
        finding("PV105", Severity.LOW, Phase.IMPORT, path="pkg/a b.py", snippet="x = ```y```"),
        finding("PV501", Severity.MEDIUM, Phase.METADATA, path=None, line=None, column=None,
                snippet="pkg ~ requests"),
        finding("PV103", Severity.INFO, Phase.INSTALL, suppressed=True,
                suppression_reason="build tool"),
    )
    sandbox = SandboxReport(
        image="pkgvet-sandbox:1", exit_code=0, timed_out=False, phase=Phase.INSTALL,
        installable=True, seconds=1.5,
        processes=(SandboxEvent("process", Phase.INSTALL, "id", ("id",)),),
        network=(SandboxEvent("network", Phase.INSTALL, "exfil.invalid:443"),),
    )
    bad = ScanResult(
        file="pkg-1.0.tar.gz", kind=ArtifactKind.SDIST, name="pkg", version="1.0",
        sha256="a" * 64, verdict=Verdict.MALICIOUS, findings=findings,
        errors=("analyzer 'yara' failed: boom",), source="https://x.invalid/pkg-1.0.tar.gz",
        sandbox=sandbox,
    )
    good = ScanResult(
        file="ok-2.0-py3-none-any.whl", kind=ArtifactKind.WHEEL, name="ok", version="2.0",
        sha256="b" * 64, verdict=Verdict.BENIGN, findings=(),
    )
    return Report(results=(bad, good), errors=(TargetError("nope", "no project 'nope'"),),
                  tool_version="0.1.0", ruleset_version="r1")


def test_sarif_structure() -> None:
    log = json.loads(render(report(), Format.SARIF))
    assert log["version"] == "2.1.0" and len(log["runs"]) == 2
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == ["PV201", "PV105", "PV501", "PV103"]
    results = run["results"]
    assert [r["level"] for r in results] == ["error", "note", "warning", "note"]
    assert all(rules[r["ruleIndex"]] == r["ruleId"] for r in results)
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["region"] == {"startLine": 3, "startColumn": 5,
                               "snippet": {"text": "exec(b64decode('x'))"}}
    assert results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pkg/a%20b.py"
    assert "locations" not in results[2]
    assert results[3]["suppressions"] == [{"kind": "external", "justification": "build tool"}]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert run["invocations"][0]["executionSuccessful"] is False
    assert {n["message"]["text"] for n in notes} == {"analyzer 'yara' failed: boom",
                                                     "nope: no project 'nope'"}
    assert run["properties"]["verdict"] == "malicious"
    assert run["tool"]["driver"]["rules"][0]["properties"]["security-severity"] == "9.5"


def test_empty_report_is_still_a_sarif_log() -> None:
    log = json.loads(render(Report(results=()), Format.SARIF))
    assert len(log["runs"]) == 1 and log["runs"][0]["results"] == []


@pytest.mark.skipif(not SCHEMA.exists(), reason="official SARIF schema not stored")
def test_sarif_validates_against_the_official_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    for rep in (report(), Report(results=())):
        jsonschema.Draft7Validator(schema).validate(json.loads(render(rep, Format.SARIF)))


def test_markdown() -> None:
    text = render(report(), Format.MARKDOWN)
    assert text.startswith("# pkgvet report — MALICIOUS")
    assert "| pkg-1.0.tar.gz | pkg | 1.0 | **MALICIOUS** | 3 |" in text
    assert "```text\npkg==1.0 --hash=sha256:" + "a" * 64 in text
    assert "````\n  x = ```y```\n  ````" in text
    assert "*(suppressed: build tool)*" in text
    assert "**Partial report**" in text and "#### Sandbox" in text
    assert "## Errors" in text and "no project 'nope'" in text


JSON_SCHEMA = Path(__file__).parents[1] / "docs" / "pkgvet-report.schema.json"


def test_json_report_follows_its_documented_schema() -> None:
    from pkgvet.pipeline import scan_targets

    validator = jsonschema.Draft7Validator(json.loads(JSON_SCHEMA.read_text()))
    real = scan_targets([str(Path(__file__).parent / "data" / "real" / "requests-2.32.3.tar.gz")],
                        jobs=1)
    for rep in (report(), real):
        validator.validate(json.loads(render(rep, Format.JSON)))
    broken = json.loads(render(report(), Format.JSON))
    del broken["results"][0]["findings"][0]["phase"]
    assert not validator.is_valid(broken)
