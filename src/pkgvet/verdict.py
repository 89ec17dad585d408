"""The one function that turns findings into a verdict.

Analyzers already grade each finding by what it means: a capability alone in ordinary code is
`info` or `low`; a combination that only malware needs (decode then exec, read a secret then
send it, download then run) reached at install or import time is `critical`. This function
then applies the same three rules to every package:

1. Suppressed findings do not count. Findings in tests, docs and examples that no entry point
   of the package reaches count one severity level lower: that code does not run when the
   package is installed or imported. This is the only demotion: the analyzers give such
   code its real phase (`runtime`) and context, and never lower it themselves.
2. **malicious**: a `critical` finding with at least medium confidence, or `high` findings
   with high confidence in two or more categories at install or import time (two independent
   hostile behaviours where no user call is needed).
3. **suspicious**: a `critical` finding with low confidence, a `high` finding with at least
   medium confidence, or `medium` findings in three or more categories at install or import
   time. Everything else is **benign**: counts of low findings never add up to a verdict.
"""

from __future__ import annotations

from collections.abc import Iterable

from pkgvet.model import Confidence, Context, Finding, Phase, Severity, Verdict

AUTOMATIC_PHASES = frozenset({Phase.INSTALL, Phase.IMPORT})
"""Phases where code runs without the user calling it."""

DEMOTED_CONTEXTS = frozenset({Context.TESTS, Context.DOCS, Context.EXAMPLES})


def effective_severity(finding: Finding) -> Severity:
    """One level lower for side code (tests, docs, examples) that runs only when someone runs
    it; install- and import-time findings keep their severity whatever folder they are in."""
    if finding.context in DEMOTED_CONTEXTS and finding.phase not in AUTOMATIC_PHASES:
        return Severity(max(finding.severity - 1, Severity.INFO))
    return finding.severity


def decide(findings: Iterable[Finding]) -> Verdict:
    counted = [f for f in findings if not f.suppressed]
    graded = [(effective_severity(f), f) for f in counted]

    if any(s is Severity.CRITICAL and f.confidence >= Confidence.MEDIUM for s, f in graded):
        return Verdict.MALICIOUS
    strong_categories = {
        f.category
        for s, f in graded
        if s is Severity.HIGH and f.confidence is Confidence.HIGH and f.phase in AUTOMATIC_PHASES
    }
    if len(strong_categories) >= 2:
        return Verdict.MALICIOUS

    if any(s is Severity.CRITICAL for s, _ in graded):
        return Verdict.SUSPICIOUS
    if any(s is Severity.HIGH and f.confidence >= Confidence.MEDIUM for s, f in graded):
        return Verdict.SUSPICIOUS
    medium_categories = {
        f.category
        for s, f in graded
        if s is Severity.MEDIUM and f.phase in AUTOMATIC_PHASES
    }
    if len(medium_categories) >= 3:
        return Verdict.SUSPICIOUS
    return Verdict.BENIGN
