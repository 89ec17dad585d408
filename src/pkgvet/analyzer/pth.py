"""`.pth` files: the lines that start with `import` run at every interpreter start.

site.py executes such lines with `exec()` whenever Python starts, before any user code:
the strongest foothold a package can take. Some real packages use it (setuptools'
`distutils-precedence.pth`, coverage, namespace-package shims), so the line itself is
`low`; what the line does is graded by the same combination rules as module code, in phase
`import`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from pkgvet.analysis.facts import FileFacts, ast_facts
from pkgvet.analysis.grading import Where
from pkgvet.analysis.scan import grade_facts
from pkgvet.model import Finding, Phase
from pkgvet.options import ScanOptions
from pkgvet.package import Package, PackageFile
from pkgvet.registry import rule

NAME = "pth"


def executable_lines(text: str) -> list[tuple[int, str]]:
    """The lines site.py would exec: those starting with `import ` or `import\\t`."""
    return [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.startswith(("import ", "import\t"))
    ]


def _facts(lines: list[tuple[int, str]]) -> FileFacts:
    merged = FileFacts()
    for number, line in lines:
        try:
            tree = ast.parse(line)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            merged.add("unparsable_pth", number, "<module>", line[:200])
            continue
        for fact in ast_facts(tree).facts:
            merged.add(fact.cap, number, fact.scope, fact.detail, fact.column)
    return merged


def analyze_pth(f: PackageFile) -> list[Finding]:
    text = f.text()
    if text is None:
        return []
    lines = executable_lines(text)
    if not lines:
        return []
    first_line, first = lines[0]
    findings = [
        rule("PV109").finding(
            phase=Phase.IMPORT,
            path=f.path,
            line=first_line,
            snippet=first[:240],
            explanation=(
                f"{len(lines)} line(s) starting with 'import' are executed by site.py every time "
                "Python starts, in every program, before any user code; the modules they "
                "import are graded as import-time code."
            ),
            context=f.context,
        )
    ]
    where = Where(f.path, text.splitlines(), f.context)
    findings.extend(grade_facts(_facts(lines), Phase.IMPORT, where))
    return findings


@dataclass(frozen=True, slots=True)
class PthAnalyzer:
    name: str = NAME

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        for f in pkg.files:
            if f.suffix == ".pth" and f.data is not None:
                yield from analyze_pth(f)


def create(options: ScanOptions) -> PthAnalyzer:
    return PthAnalyzer()
