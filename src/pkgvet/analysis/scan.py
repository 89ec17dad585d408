"""The driver: a package in, the Python source findings out.

Files the package graph reaches are always parsed; the others only when the prefilter finds
the ingredients of a combination. Every file's top-level group (and what it reaches across
modules) is graded in its phase; each function nobody reaches by itself is graded alone, at
runtime.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pkgvet.analysis import buildfiles, sourcecodec
from pkgvet.analysis.facts import MAIN, MODULE, Fact, FileFacts
from pkgvet.analysis.flows import Group, auto_groups, group_for
from pkgvet.analysis.grading import Emit, Where, grade_endpoints, grade_group
from pkgvet.analysis.parse import CODE_HINT, ingredient, parsed
from pkgvet.analysis.prefilter import compat_spelled, needs_full_pass, odd_shape
from pkgvet.analysis.reachability import context_of, reach
from pkgvet.model import Confidence, Context, Finding, Phase, Severity
from pkgvet.package import Package, PackageFile

SIDE_CONTEXTS = frozenset({Context.TESTS, Context.DOCS, Context.EXAMPLES})
AUTO = frozenset({Phase.INSTALL, Phase.IMPORT})


@dataclass(slots=True)
class _Places:
    pkg: Package
    cache: dict[str, Where] = field(default_factory=dict)

    def __call__(self, rel: str) -> Where:
        found = self.cache.get(rel)
        if found is None:
            f = self.pkg.get(rel)
            if f is None:
                found = Where(rel, [], Context.PACKAGE)
            else:
                found = Where(f.path, (f.text() or "").splitlines(), context_of(self.pkg, f))
            self.cache[rel] = found
        return found


def analyze_package(pkg: Package) -> list[Finding]:
    r = reach(pkg)
    out: list[Finding] = []
    places = _Places(pkg)
    covered: dict[str, set[str]] = {}
    auto_phase: dict[str, Phase] = {}

    def grade(group: Group) -> None:
        origin = places(group.origin)
        emit = Emit(origin, out, where=lambda fact: places(fact.file or group.origin))
        grade_group(group.facts, group.phase, emit, group.facts)
        for rel, scopes in group.scopes.items():
            covered.setdefault(rel, set()).update(scopes)
            if rel not in auto_phase or group.phase is Phase.INSTALL:
                auto_phase[rel] = group.phase

    for group in auto_groups(pkg):
        grade(group)
    for f in pkg.python_files:
        text = f.text()
        if text is None:
            continue
        phase = r.phase.get(f.relpath, Phase.RUNTIME)
        reached = f.relpath in r.reached
        context = context_of(pkg, f)
        if reached and f.relpath not in r.whole and not ingredient(pkg, f.relpath, text) \
                and not odd_shape(text):
            continue  # names no capability at all: nothing to grade (its graph is followed)
        if not reached and not needs_full_pass(text, strong_only=context in SIDE_CONTEXTS):
            continue
        p = parsed(pkg, f)
        if p is None:
            continue
        place = places(f.relpath)
        emit = Emit(place, out)
        _file_level(text, phase, emit, p.tree)
        _parse_findings(p.verdict, p.detail, phase, emit)
        if not reached and phase in AUTO:
            grade(group_for(pkg, f.relpath, p.facts, phase))
        _grade_runtime(p.facts, f, covered.get(f.relpath, set()),
                       auto_phase.get(f.relpath, phase), emit)
    for rel, why in sorted(r.reached.items()):
        if why not in ("setup.py", "installed package", "interpreter start-up") \
                and r.phase.get(rel) is Phase.INSTALL and rel in r.whole and rel != "setup.py":
            Emit(places(rel), out)("PV110", None, Severity.INFO, Confidence.HIGH,
                                   Phase.INSTALL, why)
    out.extend(sourcecodec.analyze(pkg, r.phase))
    out.extend(buildfiles.analyze(pkg))
    if r.exhausted:
        first = next(iter(r.reached), None)
        out.append(Emit(places(first or ""), []).declared_finding(
            "PV229", Severity.MEDIUM, Confidence.MEDIUM, Phase.ARCHIVE,
            "the package graph has more steps than the budget"))
    return _unique(out)


def _grade_runtime(ff: FileFacts, f: PackageFile, covered: set[str], phase: Phase,
                   emit: Emit) -> None:
    by_scope: dict[str, list[Fact]] = {}
    for fact in ff.facts:
        if fact.scope not in covered:
            by_scope.setdefault(fact.scope, []).append(fact)
    for facts in by_scope.values():
        grade_group(facts, Phase.RUNTIME, emit, ff.facts)
    scopes = {x.scope for x in ff.facts} | set(ff.calls) | {MODULE, MAIN}
    phases = {s: (phase if s in covered else Phase.RUNTIME) for s in scopes}
    grade_endpoints(ff, phases, emit)


def grade_facts(ff: FileFacts, phase: Phase, where: Where) -> list[Finding]:
    """Grade one set of facts that all run in `phase` (the lines of a .pth file)."""
    out: list[Finding] = []
    emit = Emit(where, out)
    grade_group(ff.facts, phase, emit, ff.facts)
    scopes = {x.scope for x in ff.facts} | {MODULE}
    grade_endpoints(ff, dict.fromkeys(scopes, phase), emit)
    return _unique(out)


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    seen: set[tuple[str, str | None, int | None, str]] = set()
    out = []
    for f in findings:
        key = (f.rule_id, f.path, f.line, f.phase.value)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


# -- file-level signals ------------------------------------------------------------------------

# The obfuscators' own stubs, not a mention of their names (ddtrace has a detector for them):
# a call of __pyarmor__, an import of its runtime, pyobfuscate's `pyobfuscate=` assignment.
_PYARMOR = re.compile(
    r"__pyarmor__\s*\(|^[ \t]*(?:from[ \t]+(?:pytransform|pyarmor_runtime\w*)[ \t]+import|"
    r"import[ \t]+(?:pytransform|pyarmor_runtime\w*))|\bpyobfuscate[ \t]*=",
    re.M,
)
_OBFUSCATOR_WORDS = ("pyarmor", "pytransform", "pyobfuscate")
"""A word each of `_PYARMOR`'s forms contains (`__pyarmor__`, `pyarmor_runtime`)."""
_HIDDEN = re.compile(r"\S[ \t]{150,}\S")


def _names_obfuscator(text: str) -> bool:
    """Whether `_PYARMOR` can match at all: a substring test per word at C speed, where the
    pattern's line-start alternation is tried at every line of every graded file."""
    return any(word in text for word in _OBFUSCATOR_WORDS)


def _string_spans(tree: ast.Module | None) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of the multi-line or long string literals in `tree`."""
    if tree is None:
        return []
    return [
        ((node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)
        and len(node.value) > 150
    ]


def _hidden_code(text: str, tree: ast.Module | None) -> re.Match[str] | None:
    """The first long run of blanks followed by more on the same line that is not inside a
    string literal (docstrings carry such runs; code hidden off-screen is never in one)."""
    if " " * 150 not in text and "\t" not in text:
        return None  # no run of 150 blanks can be there (a substring test, not a scan)
    spans: list[tuple[tuple[int, int], tuple[int, int]]] | None = None
    for count, m in enumerate(_HIDDEN.finditer(text)):
        if count >= 50:
            return m
        if spans is None:
            spans = _string_spans(tree)
        line = text.count("\n", 0, m.start()) + 1
        where = (line, m.start() - (text.rfind("\n", 0, m.start()) + 1))
        if not any(start < where < end for start, end in spans):
            return m
    return None


def _file_level(text: str, phase: Phase, emit: Emit, tree: ast.Module | None) -> None:
    if tree is not None and (spelled := compat_spelled(text, tree)) is not None:
        line, word = spelled
        emit("PV360", Fact("compat_name", line, MODULE, word),
             Severity.CRITICAL if phase in AUTO else Severity.HIGH, Confidence.HIGH, phase,
             f"{word.strip()!r} written in compatibility characters")
    if _names_obfuscator(text) and (m := _PYARMOR.search(text)):
        line = text.count("\n", 0, m.start()) + 1
        emit("PV206", Fact("pyarmor", line, MODULE, m.group(0)), Severity.HIGH,
             Confidence.MEDIUM, phase)
    if m := _hidden_code(text, tree):
        line = text.count("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        hidden = text[m.end() - 1 : end if end != -1 else len(text)]
        runs_code = bool(CODE_HINT.search(hidden)) or "(" in hidden
        emit(
            "PV207",
            Fact("hidden", line, MODULE, ""),
            Severity.CRITICAL if runs_code and phase is not Phase.RUNTIME else Severity.HIGH,
            Confidence.MEDIUM,
            phase,
        )


def _parse_findings(verdict: str, detail: str, phase: Phase, emit: Emit) -> None:
    fact = Fact("guard", 0, MODULE, detail)
    if verdict == "deep":
        emit("PV903", fact, Severity.HIGH, Confidence.MEDIUM, Phase.ARCHIVE, detail)
    elif verdict == "long":
        emit("PV904", fact, Severity.HIGH if phase is Phase.INSTALL else Severity.MEDIUM,
             Confidence.MEDIUM, Phase.ARCHIVE, detail)
    elif verdict == "syntax":
        emit("PV905", fact, Severity.INFO, Confidence.HIGH, Phase.ARCHIVE, detail)


def analyze_file(pkg: Package, f: PackageFile, phase: Phase) -> list[Finding]:
    """One file graded as if all of it ran in `phase`: for code that was carried as data
    (decoded from a bundled file or an image tail) and runs where its loader runs."""
    text = f.text()
    p = parsed(pkg, f) if text is not None else None
    if text is None or p is None:
        return []
    out: list[Finding] = []
    where = Where(f.path, text.splitlines(), f.context)
    emit = Emit(where, out)
    _file_level(text, phase, emit, p.tree)
    _parse_findings(p.verdict, p.detail, phase, emit)
    out.extend(grade_facts(p.facts, phase, where))
    return _unique(out)
