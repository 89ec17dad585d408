"""Terminal report: the verdict first, then findings grouped by phase with their code."""

from __future__ import annotations

import io

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pkgvet.model import Phase, Report, SandboxReport, ScanResult, Verdict

VERDICT_STYLE = {
    Verdict.BENIGN: "bold green",
    Verdict.SUSPICIOUS: "bold yellow",
    Verdict.MALICIOUS: "bold white on red",
}
SEVERITY_STYLE = {0: "dim", 1: "cyan", 2: "yellow", 3: "bold red", 4: "bold white on red"}
PHASE_ORDER = (Phase.INSTALL, Phase.IMPORT, Phase.RUNTIME, Phase.METADATA, Phase.ARCHIVE)


def _result(r: ScanResult) -> Group:
    title = Text.assemble(
        (f" {r.verdict.value.upper()} ", VERDICT_STYLE[r.verdict]),
        "  ",
        (f"{r.name or r.file} {r.version or ''}".strip(), "bold"),
        f"  ({r.file})",
    )
    lines: list[object] = [title]
    if r.pin:
        lines.append(Text(f"pin: {r.pin}", style="dim"))
    if r.yanked:
        lines.append(Text(f"yanked from the index: {r.yanked_reason or 'no reason given'}",
                          style="yellow"))
    if r.partial:
        lines.append(Text("partial report: some analysis could not run", style="bold yellow"))
        for err in r.errors:
            lines.append(Text(f"  ! {err}", style="yellow"))
    shown = [f for f in r.findings if f.severity > 0 or r.verdict is not Verdict.BENIGN]
    for phase in PHASE_ORDER:
        group = [f for f in shown if f.phase is phase]
        if not group:
            continue
        table = Table(show_header=False, box=None, padding=(0, 1), expand=True)
        table.add_column(width=9)
        table.add_column(ratio=1)
        for f in group:
            where = f"{f.path or ''}{':' + str(f.line) if f.line else ''}"
            body = Text.assemble(
                (f"{f.rule_id} ", "bold"), f.title,
                (f"  [{f.confidence.label} confidence, {f.context.value}]", "dim"),
                "\n", (where, "cyan"),
            )
            if f.snippet and f.snippet != f.path:
                body.append("\n" + f.snippet[:400], style="italic")
            if f.suppressed:
                body.append(f"\nsuppressed: {f.suppression_reason}", style="dim")
            body.append("\n" + f.explanation, style="dim")
            table.add_row(Text(f.severity.label, style=SEVERITY_STYLE[int(f.severity)]), body)
        lines.append(Panel(table, title=f"{phase.value}-time", title_align="left"))
    if not shown:
        lines.append(Text("no findings", style="green"))
    if r.sandbox is not None:
        lines.append(_sandbox(r.sandbox))
    hidden = len(r.findings) - len(shown)
    if hidden:
        lines.append(Text(f"({hidden} informational findings hidden; see --format json)",
                          style="dim"))
    return Group(*lines)  # type: ignore[arg-type]


def _sandbox(s: SandboxReport) -> Panel:
    """What the package did in the sandbox; expected install noise is counted, not listed."""
    status = "installed" if s.installable else "did not install"
    if s.timed_out:
        status += ", timed out"
    body = Text(f"{status} (pip exit {s.exit_code}); imported: {', '.join(s.modules) or '-'}; "
                f"{s.seconds:.1f} s under {s.runtime or '?'}; sandbox alone: "
                f"{s.verdict.value if s.verdict else '-'}", style="dim")
    noise = 0
    for label, events in (("process", s.processes), ("network", s.network),
                          ("secret read", s.sensitive_reads), ("write", s.writes)):
        for e in events:
            if e.expected:
                noise += 1
                continue
            body.append(f"\n{label} ({e.phase.value}): ", style="bold")
            body.append(e.detail[:300])
    if noise:
        body.append(f"\n{noise} expected processes (pip, build back-ends, compilers) not shown",
                    style="dim")
    for note in s.notes:
        body.append(f"\nnote: {note}", style="yellow")
    return Panel(body, title="sandbox", title_align="left")


def _summary(report: Report) -> Table:
    """One line per file: what a team reads first when it audits a whole lockfile."""
    table = Table(title="pkgvet summary", expand=False)
    for column in ("package", "version", "file", "verdict", "top finding"):
        table.add_column(column)
    for r in report.results:
        top = next((f for f in r.findings if not f.suppressed and f.severity > 0), None)
        table.add_row(
            r.name or "",
            r.version or "",
            r.file,
            Text(r.verdict.value, style=VERDICT_STYLE[r.verdict]),
            f"{top.rule_id} {top.title}" if top else "",
        )
    return table


def render(report: Report, *, color: bool = False, width: int = 100) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=color, no_color=not color, width=width,
                      highlight=False)
    if len(report.results) > 2:
        console.print(_summary(report))
        console.print()
    for r in report.results:
        console.print(_result(r))
        console.print()
    for e in report.errors:
        console.print(
            Text.assemble(("error: ", "bold red"), f"{e.target}: {e.message}"), soft_wrap=True
        )
    if len(report.results) > 1:
        overall = (report.verdict.value, VERDICT_STYLE[report.verdict])
        console.print(Text.assemble("overall: ", overall))
    return buffer.getvalue()
