"""`[tool.pkgvet]` in the project's pyproject.toml: accepted packages and suppressed rules.

    [tool.pkgvet]
    allow = [{ package = "somepkg", reason = "vendored, reviewed 2026-10" }]
    suppress = [
      { rule = "PV103", package = "setuptools", reason = "build tool runs compilers" },
      { rule = "PV105", reason = "our telemetry check" },
    ]

Every entry needs a reason: an exception nobody can explain later is a hole. Suppressed
findings stay in the report, marked, with the reason; they no longer count for the verdict.

Decisions exported from the triage console (`pkgvet.ui.decisions`) narrow an entry to one
release (`version`) or one file (`sha256`), and may block what a person found malicious:

    allow = [{ package = "somepkg", version = "1.2", sha256 = "ab12...", reason = "..." }]
    block = [{ package = "evilpkg", version = "0.1", reason = "steals tokens", decided_by = "ann" }]

A blocked file gets a critical PV551 finding that cites the reason.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from pkgvet.errors import UsageError
from pkgvet.model import Finding, Report, ScanResult
from pkgvet.verdict import decide


@dataclass(frozen=True, slots=True)
class Suppression:
    rule: str | None
    package: str | None
    reason: str
    version: str | None = None
    sha256: str | None = None

    def applies_to(self, result: ScanResult) -> bool:
        if self.package and canonicalize_name(result.name or "") != self.package:
            return False
        if self.version and (result.version or "") != self.version:
            return False
        return not (self.sha256 and result.sha256 != self.sha256)

    def matches(self, result: ScanResult, finding: Finding) -> bool:
        if not self.applies_to(result):
            return False
        return self.rule is None or finding.rule_id == self.rule


@dataclass(frozen=True, slots=True)
class Config:
    suppressions: tuple[Suppression, ...] = ()
    source: str = ""
    blocks: tuple[Suppression, ...] = ()
    """`block` entries: the files they match are reported malicious (PV551)."""

    def apply(self, report: Report) -> Report:
        if not self.suppressions and not self.blocks:
            return report
        return replace(report, results=tuple(self._apply(r) for r in report.results))

    def _apply(self, result: ScanResult) -> ScanResult:
        from pkgvet.model import Phase
        from pkgvet.registry import rule as declared

        findings = [
            declared("PV551").finding(
                phase=Phase.METADATA,
                snippet=f"blocked: {b.reason} ({self.source})",
            )
            for b in self.blocks if b.applies_to(result)
        ]
        for f in result.findings:
            rule = next((s for s in self.suppressions if s.matches(result, f)), None)
            if rule is not None and not f.suppressed:
                f = replace(f, suppressed=True, suppression_reason=f"{rule.reason} ({self.source})")
            findings.append(f)
        return replace(result, findings=tuple(findings), verdict=decide(findings))


def _entries(table: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    entries = table.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{source}: [tool.pkgvet] {key} must be a list of tables")
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise UsageError(
                f"{source}: [tool.pkgvet] {key} entry {entry} has no reason; "
                "say why it is safe, e.g. reason = \"reviewed 2026-11, vendored\""
            )
    return entries


def load(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    table = data.get("tool", {}).get("pkgvet", {})
    if not table:
        return Config()
    source = str(path)
    suppressions = [
        _narrowed(None, e, f"allowed: {e['reason']}")
        for e in _entries(table, "allow", source)
        if "package" in e or "sha256" in e
    ]
    blocks = [_narrowed(None, e, str(e["reason"])) for e in _entries(table, "block", source)]
    suppressions += [
        Suppression(
            str(e["rule"]) if e.get("rule") else None,
            str(canonicalize_name(e["package"])) if e.get("package") else None,
            str(e["reason"]),
        )
        for e in _entries(table, "suppress", source)
    ]
    return Config(tuple(suppressions), source, tuple(blocks))


def _narrowed(rule: str | None, entry: dict[str, Any], reason: str) -> Suppression:
    package = entry.get("package")
    return Suppression(
        rule,
        str(canonicalize_name(str(package))) if package else None,
        reason,
        version=str(entry["version"]) if entry.get("version") else None,
        sha256=str(entry["sha256"]).lower() if entry.get("sha256") else None,
    )


def discover(start: Path | None = None) -> Config:
    """The nearest pyproject.toml from `start` (the current folder) upward."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return load(path)
    return Config()
