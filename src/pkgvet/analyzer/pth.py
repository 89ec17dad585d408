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
from pkgvet.analysis.reachability import _files_named
from pkgvet.analysis.scan import analyze_file, grade_facts
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
        facts = ast_facts(tree)
        for fact in facts.facts:
            merged.add(fact.cap, number, fact.scope, fact.detail, fact.column)
        if any(x.cap in ("exec", "dynamic_import") for x in facts.facts):
            merged.opened.extend((scope, path, number) for scope, path, _ in facts.opened)
    return merged


def _executed_files(pkg: Package, f: PackageFile, facts: FileFacts) -> list[Finding]:
    """Files of the package that a `.pth` line opens and executes (`exec(open(os.path.join(
    sys.prefix, "share", ...)).read())`, a file the wheel installs as data): they run at every
    interpreter start, whatever their name, and are graded as code in phase `import`."""
    findings: list[Finding] = []
    done: set[str] = set()
    for _, path, _ in facts.opened[:8]:
        for rel in _files_named(pkg, path, f.relpath):
            other = pkg.get(rel)
            if other is None or rel in done or other.data is None or other.binary:
                continue
            done.add(rel)
            findings.extend(analyze_file(pkg, other, Phase.IMPORT))
    return findings


def analyze_pth(f: PackageFile, pkg: Package | None = None) -> list[Finding]:
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
    facts = _facts(lines)
    findings.extend(grade_facts(facts, Phase.IMPORT, where))
    if pkg is not None and facts.opened:
        findings.extend(_executed_files(pkg, f, facts))
    return findings


@dataclass(frozen=True, slots=True)
class PthAnalyzer:
    name: str = NAME

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        for f in pkg.files:
            if f.suffix == ".pth" and f.data is not None:
                yield from analyze_pth(f, pkg)


def create(options: ScanOptions) -> PthAnalyzer:
    return PthAnalyzer()
