"""The rule registry: every rule pkgvet can report, declared once, as data.

Each area of pkgvet (archive, python code, metadata, sandbox, trust signals...) declares its
rules in its own file under `rules/data/rules/<area>.toml`:

    [PV201]
    title = "Decodes or deobfuscates data and executes it"
    category = "obfuscation"
    severity = "critical"        # default; a finding may grade itself lower or higher
    confidence = "high"
    analyzer = "python-code"
    explanation = "Why this matters, for the person reading the report."
    reference = "https://..."    # optional

Analyzers build findings from the declaration (`rule("PV201").finding(...)`), and the
reports (SARIF `rules`, the README table, the console) read the same declaration, so a
rule's id, title and meaning cannot drift apart. YARA rules keep their declaration in their
own `meta:` block (see `pkgvet.analyzer.yara_scan`).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pkgvet.model import Category, Confidence, Context, Finding, Phase, Severity

_FIELDS = {"title", "category", "severity", "confidence", "analyzer", "explanation", "reference"}


class RuleDeclarationError(ValueError):
    """A rule file is malformed: a bug in pkgvet's own data, caught by the test suite."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    category: Category
    severity: Severity
    confidence: Confidence
    analyzer: str
    explanation: str
    reference: str = ""
    area: str = ""

    def finding(
        self,
        *,
        phase: Phase,
        path: str | None = None,
        line: int | None = None,
        snippet: str = "",
        explanation: str | None = None,
        severity: Severity | None = None,
        confidence: Confidence | None = None,
        title: str | None = None,
        column: int | None = None,
        context: Context = Context.PACKAGE,
        category: Category | None = None,
    ) -> Finding:
        """A finding of this rule; anything not given comes from the declaration."""
        return Finding(
            rule_id=self.id,
            title=title or self.title,
            severity=self.severity if severity is None else severity,
            confidence=self.confidence if confidence is None else confidence,
            category=category or self.category,
            phase=phase,
            path=path,
            line=line,
            snippet=snippet or (title or self.title),
            explanation=explanation or self.explanation,
            analyzer=self.analyzer,
            column=column,
            context=context,
        )


def _parse(area: str, rule_id: str, body: Any) -> Rule:
    where = f"rules/data/rules/{area}.toml [{rule_id}]"
    if not isinstance(body, dict):
        raise RuleDeclarationError(f"{where} must be a table")
    unknown = set(body) - _FIELDS
    missing = {"title", "category", "severity", "confidence", "analyzer", "explanation"} - set(body)
    if unknown or missing:
        raise RuleDeclarationError(f"{where}: unknown {sorted(unknown)}, missing {sorted(missing)}")
    try:
        return Rule(
            id=rule_id,
            title=str(body["title"]),
            category=Category(body["category"]),
            severity=Severity[str(body["severity"]).upper()],
            confidence=Confidence[str(body["confidence"]).upper()],
            analyzer=str(body["analyzer"]),
            explanation=" ".join(str(body["explanation"]).split()),
            reference=str(body.get("reference", "")),
            area=area,
        )
    except (KeyError, ValueError) as exc:
        raise RuleDeclarationError(f"{where}: {exc}") from exc


@cache
def rules() -> dict[str, Rule]:
    """Every declared rule by id, from all area files (loaded once per process)."""
    found: dict[str, Rule] = {}
    folder = resources.files("pkgvet").joinpath("rules", "data", "rules")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        area = entry.name.removesuffix(".toml")
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        for rule_id, body in data.items():
            if rule_id in found:
                raise RuleDeclarationError(
                    f"{rule_id} is declared in both {found[rule_id].area} and {area}"
                )
            found[rule_id] = _parse(area, rule_id, body)
    return found


def rule(rule_id: str) -> Rule:
    """The declaration of `rule_id`; an unknown id is a bug in pkgvet, so it raises."""
    try:
        return rules()[rule_id]
    except KeyError:
        raise KeyError(f"rule {rule_id} is not declared under rules/data/rules/") from None
