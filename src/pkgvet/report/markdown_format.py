"""Markdown: a report to paste into a triage ticket or a pull request."""

from __future__ import annotations

import re

from pkgvet.model import Finding, Phase, Report, SandboxReport, ScanResult

PHASE_TITLES = {
    Phase.INSTALL: "Install-time",
    Phase.IMPORT: "Import-time",
    Phase.RUNTIME: "Runtime",
    Phase.METADATA: "Metadata",
    Phase.ARCHIVE: "Archive",
}


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside, so a snippet cannot break out."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _finding(f: Finding) -> list[str]:
    where = f"`{f.path}:{f.line}`" if f.line else (f"`{f.path}`" if f.path else "")
    head = (f"- **{f.severity.label.upper()}** {f.rule_id} {_cell(f.title)} "
            f"({f.confidence.label} confidence, {f.context.value}) {where}")
    if f.suppressed:
        head += f" *(suppressed: {_cell(f.suppression_reason)})*"
    lines = [head]
    if f.snippet:
        fence = _fence(f.snippet)
        lines += ["", f"  {fence}", f"  {f.snippet}", f"  {fence}", ""]
    lines.append(f"  {f.explanation}")
    return lines


def _sandbox(s: SandboxReport) -> list[str]:
    lines = ["", "#### Sandbox", "",
             f"- phase: {s.phase.value}, exit code: {s.exit_code}, timed out: {s.timed_out}, "
             f"installable offline: {s.installable}",
             f"- runtime: {s.runtime or '?'}, verdict of the sandbox alone: "
             f"{s.verdict.value if s.verdict else '-'}"]
    for label, events in (("processes", s.processes), ("network", s.network),
                          ("sensitive reads", s.sensitive_reads), ("writes", s.writes)):
        for e in events:
            noise = " (expected install noise)" if e.expected else ""
            lines.append(f"- {label}: `{_cell(e.detail)}`{noise}")
    for note in s.notes:
        lines.append(f"- note: {_cell(note)}")
    return lines


def _result(r: ScanResult) -> list[str]:
    lines = ["", f"### {r.name or r.file} {r.version or ''} — {r.verdict.value.upper()}", "",
             f"File `{r.file}`, sha256 `{r.sha256}`."]
    if r.yanked:
        lines.append(f"Yanked from the index: {r.yanked_reason or 'no reason given'}.")
    if r.partial:
        lines += ["", "**Partial report**: some analysis could not run:"]
        lines += [f"- {_cell(e)}" for e in r.errors]
    shown = [f for f in r.findings if f.severity > 0 or f.suppressed]
    if not shown:
        lines += ["", "No findings above info."]
    for phase, title in PHASE_TITLES.items():
        group = [f for f in shown if f.phase is phase]
        if group:
            lines += ["", f"#### {title}", ""]
            for f in group:
                lines += _finding(f)
    if r.sandbox is not None:
        lines += _sandbox(r.sandbox)
    return lines


def render(report: Report) -> str:
    lines = [f"# pkgvet report — {report.verdict.value.upper()}", "",
             "| file | name | version | verdict | findings | sha256 |",
             "|---|---|---|---|---|---|"]
    for r in report.results:
        count = sum(1 for f in r.findings if f.severity > 0 and not f.suppressed)
        lines.append(f"| {_cell(r.file)} | {_cell(r.name or '')} | {_cell(r.version or '')} | "
                     f"**{r.verdict.value.upper()}** | {count} | `{r.sha256[:12]}` |")
    pins = [r.pin for r in report.results if r.pin]
    if pins:
        lines += ["", "Pins:", "", "```text", *pins, "```"]
    for r in report.results:
        lines += _result(r)
    if report.errors:
        lines += ["", "## Errors", ""]
        lines += [f"- `{_cell(e.target)}`: {_cell(e.message)}" for e in report.errors]
    return "\n".join(lines) + "\n"
