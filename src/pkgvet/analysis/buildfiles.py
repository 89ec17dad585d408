"""Native build files that pip runs: meson.build, CMake, make and Cargo build scripts.

A PEP 517 backend for a compiled extension (meson-python, scikit-build-core, maturin) or a
setup.py that calls cmake, meson, make or cargo runs the project's own build files while pip
installs the sdist. Those files can run any command (`run_command`, `execute_process`, a make
recipe, `std::process::Command` in `build.rs`) with the user's rights, and no Python scanner
reads them. Build commands compile sources, ask git for a version, fetch pinned sources; what
only malware does is the same as in Python code: pipe a download into a shell, send
credential files, call an exfiltration endpoint. Those command lines are graded here, on the
files the build actually runs, with comments left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pkgvet.analysis.facts import catalog
from pkgvet.analysis.reachability import _table, _toml, reach
from pkgvet.model import Confidence, Context, Finding, Phase, Severity
from pkgvet.package import Package, PackageFile
from pkgvet.registry import rule

MAX_BYTES = 512 * 1024
MAX_FILES = 200


@dataclass(frozen=True, slots=True)
class System:
    name: str
    backends: tuple[str, ...]
    """Build-backend module prefixes that run this build system."""
    tool: re.Pattern[str]
    """How install-time Python code names the tool it runs."""
    files: re.Pattern[str]
    comment: re.Pattern[str]


HASH_COMMENT = re.compile(r"(?<![\\$])#.*$")
SYSTEMS = (
    System("meson", ("mesonpy",), re.compile(r"['\"]meson['\"]|\bmesonbuild\b"),
           re.compile(r"(^|/)meson\.build$"), HASH_COMMENT),
    System("cmake", ("scikit_build_core", "skbuild", "py_build_cmake", "cmeel", "cmake_build"),
           re.compile(r"['\"]cmake['\"]|\bcmake_build_extension\b|\bCMakeExtension\b"),
           re.compile(r"(^|/)CMakeLists\.txt$|\.cmake$"), HASH_COMMENT),
    System("make", (), re.compile(r"['\"](g?make)['\"]|['\"]g?make\s"),
           re.compile(r"(^|/)(GNUmakefile|[Mm]akefile)$|\.mk$"), HASH_COMMENT),
    System("cargo", ("maturin",), re.compile(r"\bsetuptools_rust\b|\bRustExtension\b|"
                                             r"['\"]cargo['\"]"),
           re.compile(r"(^|/)build\.rs$"), re.compile(r"//.*$")),
)
SCRIPT = System("script", (), re.compile(r"(?!)"),
                re.compile(r"\.(sh|bash|zsh|ps1|bat|cmd)$|(^|/)configure$"), HASH_COMMENT)
"""Shell scripts that install-time code runs (`subprocess.call(["bash", "post.sh"])`)."""
NET_TOOL = re.compile(r"\b(curl|wget|nc|ncat|scp|sftp|ftp|Invoke-WebRequest|iwr|Invoke-RestMethod|"
                      r"nslookup|dig)\b|https?://|reqwest|ureq::|TcpStream", re.IGNORECASE)


def _backend(pkg: Package) -> str:
    backend = _table(_toml(pkg), "build-system").get("build-backend", "")
    return backend if isinstance(backend, str) else ""


def systems_run(pkg: Package) -> list[System]:
    """The build systems that building this package runs: named by the backend, or run by
    install-time Python code (setup.py, hooks, in-tree backends)."""
    backend = _backend(pkg)
    r = reach(pkg)
    install_texts: list[str] = []
    for rel, phase in r.phase.items():
        if phase is Phase.INSTALL and rel in r.reached:
            f = pkg.get(rel)
            if f is not None and (text := f.text()):
                install_texts.append(text[:200_000])
    return [s for s in SYSTEMS
            if any(backend.startswith(b) for b in s.backends)
            or any(s.tool.search(text) for text in install_texts)]


def _make_targets(lines: list[str], wanted: set[str]) -> set[int]:
    """Line numbers of the recipes make runs: the default target, `all`/`build`/`install` and
    targets install code names, with their prerequisites."""
    rules: dict[str, tuple[list[str], list[int]]] = {}
    order: list[str] = []
    current: list[int] | None = None
    for number, line in enumerate(lines, start=1):
        if line.startswith("\t") and current is not None:
            current.append(number)
            continue
        m = re.match(r"^([\w./%-][\w./% -]*?)\s*::?(?!=)\s*([^=;#]*)", line)
        if m and not line.startswith(("\t", " ")):
            targets = m.group(1).split()
            current = []
            for target in targets:
                rules.setdefault(target, ([], []))
                rules[target][0].extend(m.group(2).split())
                rules[target] = (rules[target][0], current)
                if not target.startswith("."):
                    order.append(target)
            continue
        if line and not line.startswith("\t"):
            current = None
    start = set(wanted) | {"all", "build", "install"} | set(order[:1])
    seen: set[str] = set()
    stack = [t for t in start if t in rules]
    lines_run: set[int] = set()
    while stack:
        target = stack.pop()
        if target in seen:
            continue
        seen.add(target)
        deps, recipe = rules[target]
        lines_run.update(recipe)
        stack.extend(d for d in deps if d in rules and d not in seen)
    return lines_run


def _grade_line(text: str) -> tuple[str, Severity] | None:
    caps = set(catalog().literal_caps(text))
    if "download_cmd" in caps:
        return "downloads and runs code, or beacons host data", Severity.CRITICAL
    if not NET_TOOL.search(text):
        return None
    if "credentials" in caps or "secret_env" in caps or re.search(
            r"\b(AWS_SECRET_ACCESS_KEY|GITHUB_TOKEN|GH_TOKEN|NPM_TOKEN|PYPI_TOKEN|"
            r"TWINE_PASSWORD|CI_JOB_TOKEN)\b", text):
        return "sends credentials over the network", Severity.CRITICAL
    if "bad_endpoint" in caps:
        return "talks to an exfiltration endpoint", Severity.CRITICAL
    return None


def _scan(f: PackageFile, system: System, wanted: set[str]) -> Finding | None:
    text = f.text()
    if not text or len(text) > MAX_BYTES:
        return None
    lines = text.splitlines()
    only = _make_targets(lines, wanted) if system.name == "make" else None
    code_lines: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        if only is not None and number not in only:
            continue
        code = system.comment.sub("", line[:4096]).strip()
        if len(code) < 4:
            continue
        code_lines.append((number, code))
        graded = _grade_line(code) if len(code) >= 8 else None
        if graded is not None:
            return _finding(f, system, number, code, *graded)
    # A credential path kept in a variable and sent from another line: the file as a whole.
    sender = next(((n, c) for n, c in code_lines if NET_TOOL.search(c)), None)
    secret = next(((n, c) for n, c in code_lines
                   if "credentials" in catalog().literal_caps(c)), None)
    if sender is not None and secret is not None:
        return _finding(f, system, sender[0], sender[1],
                        f"sends credentials over the network (read on line {secret[0]})",
                        Severity.CRITICAL)
    return None


def _finding(f: PackageFile, system: System, number: int, code: str, why: str,
             severity: Severity) -> Finding:
    return rule("PV111").finding(
        phase=Phase.INSTALL, path=f.path, line=number, snippet=code[:240],
        severity=severity, confidence=Confidence.MEDIUM, context=Context.BUILD,
        explanation=f"The {system.name} build file that building the package runs "
                    f"{why}: {code[:160]}")


def analyze(pkg: Package) -> list[Finding]:
    """PV111 for native build files and scripts the package's build runs."""
    r = reach(pkg)
    out = []
    for rel, phase in r.opened.items():
        f = pkg.get(rel)
        if phase is Phase.INSTALL and f is not None and f.data is not None and not f.binary \
                and not f.is_python and SCRIPT.files.search(rel):
            found = _scan(f, SCRIPT, set())
            if found is not None:
                out.append(found)
    candidates = [f for f in pkg.files if "!/" not in f.relpath and f.data is not None
                  and not f.binary and any(s.files.search(f.relpath) for s in SYSTEMS)]
    if not candidates:
        return out
    run = systems_run(pkg)
    if not run:
        return out
    wanted: set[str] = set()
    for rel, phase in r.phase.items():
        if phase is Phase.INSTALL and rel in r.reached:
            f = pkg.get(rel)
            wanted |= set(re.findall(r"['\"]([\w.-]+)['\"]", (f.text() or "")[:200_000])
                          if f is not None else [])
    for f in candidates[:MAX_FILES]:
        for system in run:
            if system.files.search(f.relpath):
                found = _scan(f, system, wanted)
                if found is not None:
                    out.append(found)
    return out
