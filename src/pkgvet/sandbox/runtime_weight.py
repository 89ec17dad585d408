"""How much the execute phase's evidence weighs: code that runs only when a user calls it.

The execute phase runs each entry point and calls every public function and class with
placeholder arguments. What a function does when called is often its declared purpose: an
HTTP client connects, a netrc helper reads `~/.netrc`, a CLI starts `git`. One such kind of
behaviour on its own is not evidence of anything, so it is kept as a low finding. What a
stealer does when called is several kinds at once, or a sweep:

- high findings in two or more categories in the runtime phase (read a credential *and*
  reach out; run a transfer tool *and* connect) keep their grade; a client's own login file
  (`~/.netrc`, read by Python's `netrc` module whatever the environment says) is not a
  credential category here, since every HTTP client reads it before it connects;
- reads of three or more distinct secret places (a sweep of credential files) keep theirs;
- rules no library needs for its purpose (a planted secret in outgoing data, a start-up hook
  or a shell start-up file written, tampering with the observer, a download-and-run command
  line) always keep theirs.

Install- and import-time findings are not touched: that code runs with no call from anyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pkgvet.model import Finding, Phase, Severity

PURPOSE_RULES = frozenset({
    "PV801", "PV802", "PV804", "PV805", "PV806", "PV808", "PV816", "PV824",
    "PV850", "PV851", "PV856",
})
"""Behaviour that a library may show when called for what it is for. Writing shell start-up
files, autostart entries or system folders (PV807) is not: a completion installer does it
on an explicit command, never as a side effect of an ordinary call."""
SWEEP = 3
"""Distinct secret places read in the runtime phase that make a sweep."""
CREDENTIAL_RULES = ("PV801", "PV802")
CLIENT_LOGINS = ("~/.netrc",)
"""Login files HTTP clients read for their own requests (the SDKs' own configuration files
are pointed elsewhere by the execute phase's environment)."""


def _client_login(finding: Finding) -> bool:
    return finding.rule_id in CREDENTIAL_RULES and finding.snippet.split(" ")[0] in CLIENT_LOGINS


def weigh(findings: Sequence[Finding]) -> list[Finding]:
    """`findings` with single-purpose runtime behaviour lowered to `low`."""
    runtime = [f for f in findings if f.phase is Phase.RUNTIME and f.rule_id in PURPOSE_RULES]
    strong = {f.category for f in runtime
              if f.severity >= Severity.HIGH and not _client_login(f)}
    sweep = len({f.snippet.split(" ")[0] for f in runtime
                 if f.rule_id in CREDENTIAL_RULES}) >= SWEEP
    if len(strong) >= 2:
        return list(findings)
    weighed = []
    for finding in findings:
        if finding in runtime and finding.severity > Severity.LOW and not (
                sweep and finding.rule_id in CREDENTIAL_RULES):
            finding = replace(
                finding, severity=Severity.LOW,
                title=f"{finding.title} (when called; one kind of behaviour only)")
        weighed.append(finding)
    return weighed
