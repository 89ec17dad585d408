"""What a package declares it installs: entry points, scripts, data files and dependencies.

Read from every place a build takes them, parsed and never run: a wheel's
`*.dist-info/entry_points.txt` and `METADATA`; an sdist's `PKG-INFO`, `*.egg-info/`
(`entry_points.txt`, `requires.txt`, `dependency_links.txt`), `setup.cfg`,
`pyproject.toml` (`[project]` and `[tool.poetry]`), and `setup.py` read with `ast`: the
keywords of its `setup(...)` call, evaluated only where they are literals, names bound to
literals at module level, `+` of those, and `**` of a literal dict. Whatever else setup.py
computes stays unknown (`Declared.setup_py_partial`), never guessed.

The install-surface analyzer grades one package from this; the sdist-versus-wheel cross-check
compares two.
"""

from __future__ import annotations

import ast
import configparser
import email.parser
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

MAX_SETUP_BYTES = 2 * 1024 * 1024
"""setup.py larger than this is not evaluated here (the code analyzers still read it)."""
MAX_EVAL_DEPTH = 40
MAX_EVAL_STEPS = 20_000
"""Nodes evaluated per setup.py: a hostile file of names built from names stays cheap."""

SETUP_PY = "setup.py"


@dataclass(frozen=True, slots=True)
class EntryPoint:
    group: str
    name: str
    target: str
    source: str
    line: int | None = None

    @property
    def module(self) -> str:
        return self.target.split(":", 1)[0].strip()


@dataclass(frozen=True, slots=True)
class Dependency:
    text: str
    name: str
    """Canonical project name, or "" when the line names none (a bare URL)."""
    url: str
    extra: str | None
    """None: installed with the package; otherwise the extra that asks for it."""
    source: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class InstalledFile:
    """A file installed outside the package's import folders: a script or a data file."""

    target: str
    """Where it lands: `bin/NAME` for scripts, the data_files folder + name otherwise."""
    member: str
    """The file in the archive, relative to the package root ("" when not found)."""
    source: str
    line: int | None = None

    @property
    def command(self) -> str:
        return PurePosixPath(self.target).name


@dataclass(frozen=True, slots=True)
class Declared:
    entry_points: tuple[EntryPoint, ...] = ()
    dependencies: tuple[Dependency, ...] = ()
    scripts: tuple[InstalledFile, ...] = ()
    data_files: tuple[InstalledFile, ...] = ()
    dependency_links: tuple[Dependency, ...] = ()
    sources: frozenset[str] = frozenset()
    """The declaration files that were found and parsed."""
    setup_py_partial: bool = False
    """setup.py's setup() call has keywords (or `**`) that are not literals."""

    def entry_points_from(self, sources: Iterable[str]) -> list[EntryPoint]:
        wanted = set(sources)
        return [e for e in self.entry_points if e.source in wanted]

    def dependencies_from(self, sources: Iterable[str]) -> list[Dependency]:
        wanted = set(sources)
        return [d for d in self.dependencies if d.source in wanted]


@dataclass
class _Builder:
    entry_points: list[EntryPoint] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    scripts: list[InstalledFile] = field(default_factory=list)
    data_files: list[InstalledFile] = field(default_factory=list)
    links: list[Dependency] = field(default_factory=list)
    sources: set[str] = field(default_factory=set)
    partial: bool = False

    def build(self) -> Declared:
        return Declared(
            tuple(self.entry_points), tuple(self.dependencies), tuple(self.scripts),
            tuple(self.data_files), tuple(self.links), frozenset(self.sources), self.partial,
        )


# -- requirements --------------------------------------------------------------------------

_EXTRA = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")
_NAME_AT_URL = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*@\s*(\S+)")
_BARE_URL = re.compile(r"^\s*((?:git|hg|svn|bzr)\+\S+|https?://\S+|file:\S+|git://\S+)")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def dependency(text: str, source: str, extra: str | None = None,
               line: int | None = None) -> Dependency | None:
    """One requirement line as a Dependency; None for blanks, comments and options."""
    text = text.strip()
    for option in ("-e ", "--editable ", "--editable="):
        if text.startswith(option):
            text = text[len(option):].strip()
    if not text or text.startswith(("#", "-")):
        return None
    try:
        req = Requirement(text)
    except InvalidRequirement:
        m = _NAME_AT_URL.match(text)
        if m:
            return Dependency(text, str(canonicalize_name(m[1])), m[2], extra, source, line)
        m = _BARE_URL.match(text)
        if m:
            egg = _EGG.search(m[1])
            name = str(canonicalize_name(egg[1])) if egg else ""
            return Dependency(text, name, m[1], extra, source, line)
        return None
    marker_extra = _EXTRA.search(str(req.marker)) if req.marker else None
    if marker_extra and extra is None:
        extra = marker_extra[1]
    return Dependency(text, str(canonicalize_name(req.name)), req.url or "", extra, source, line)


def _lines(value: object) -> list[str]:
    if isinstance(value, str):
        return [ln.split(" #", 1)[0] for ln in value.splitlines()]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return []


def _add_deps(b: _Builder, value: object, source: str, extra: str | None,
              line: int | None = None) -> None:
    for text in _lines(value):
        dep = dependency(text, source, extra, line)
        if dep is not None:
            b.dependencies.append(dep)


def _add_links(b: _Builder, value: object, source: str, line: int | None = None) -> None:
    for text in _lines(value):
        if text.strip():
            b.links.append(Dependency(text.strip(), "", text.strip(), None, source, line))


# -- entry points --------------------------------------------------------------------------

def _config(text: str) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None, strict=False, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except (configparser.Error, ValueError):
        return None
    return parser


def _entry_lines(group: str, value: object, source: str, line: int | None,
                 b: _Builder) -> None:
    for text in _lines(value):
        name, sep, target = text.partition("=")
        if sep and name.strip() and target.strip():
            b.entry_points.append(EntryPoint(group.strip(), name.strip(), target.strip(),
                                             source, line))


def _entry_points_ini(text: str, source: str, b: _Builder) -> None:
    parser = _config(text)
    if parser is None:
        return
    b.sources.add(source)
    for group in parser.sections():
        for name, target in parser.items(group):
            if name.strip() and target.strip():
                b.entry_points.append(EntryPoint(group, name.strip(), target.strip(), source))


def _entry_points_value(value: object, source: str, line: int | None, b: _Builder) -> None:
    if isinstance(value, str):
        _entry_points_ini(value, source, b)
    elif isinstance(value, dict):
        for group, items in value.items():
            if isinstance(group, str):
                _entry_lines(group, items, source, line, b)


# -- the files -----------------------------------------------------------------------------

def _metadata(text: str, source: str, b: _Builder) -> None:
    msg = email.parser.Parser().parsestr(text, headersonly=True)
    b.sources.add(source)
    for value in msg.get_all("Requires-Dist") or []:
        dep = dependency(str(value), source)
        if dep is not None:
            b.dependencies.append(dep)


_SECTION = re.compile(r"^\[([^\]]*)\]\s*$")


def _requires_txt(text: str, source: str, b: _Builder) -> None:
    b.sources.add(source)
    extra: str | None = None
    for raw in text.splitlines():
        m = _SECTION.match(raw.strip())
        if m:
            name = m[1].split(":", 1)[0].strip()
            extra = name or None
            continue
        dep = dependency(raw, source, extra)
        if dep is not None:
            b.dependencies.append(dep)


def _setup_cfg(text: str, source: str, b: _Builder) -> None:
    parser = _config(text)
    if parser is None:
        return
    b.sources.add(source)
    if parser.has_section("options"):
        opts = dict(parser.items("options"))
        _add_deps(b, opts.get("install_requires", ""), source, None)
        _add_links(b, opts.get("dependency_links", ""), source)
        for script in _lines(opts.get("scripts", "")):
            if script.strip():
                b.scripts.append(InstalledFile(f"bin/{PurePosixPath(script.strip()).name}",
                                               script.strip(), source))
    if parser.has_section("options.extras_require"):
        for extra, value in parser.items("options.extras_require"):
            _add_deps(b, value, source, extra)
    if parser.has_section("options.entry_points"):
        for group, value in parser.items("options.entry_points"):
            _entry_lines(group, value, source, None, b)
    if parser.has_section("options.data_files"):
        for folder, value in parser.items("options.data_files"):
            for member in _lines(value):
                if member.strip():
                    b.data_files.append(_data_file(folder, member.strip(), source, None))


def _data_file(folder: str, member: str, source: str, line: int | None) -> InstalledFile:
    name = PurePosixPath(member.replace("\\", "/")).name
    return InstalledFile(f"{folder.rstrip('/')}/{name}", member, source, line)


def _pyproject(text: str, source: str, b: _Builder) -> None:
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return
    b.sources.add(source)
    project = data.get("project")
    if isinstance(project, dict):
        _add_deps(b, project.get("dependencies", []), source, None)
        optional = project.get("optional-dependencies", {})
        if isinstance(optional, dict):
            for extra, value in optional.items():
                _add_deps(b, value, source, str(extra))
        for key, group in (("scripts", "console_scripts"), ("gui-scripts", "gui_scripts")):
            table = project.get(key, {})
            if isinstance(table, dict):
                for name, target in table.items():
                    if isinstance(target, str):
                        b.entry_points.append(EntryPoint(group, str(name), target, source))
        groups = project.get("entry-points", {})
        if isinstance(groups, dict):
            for group, table in groups.items():
                if isinstance(table, dict):
                    for name, target in table.items():
                        if isinstance(target, str):
                            b.entry_points.append(EntryPoint(str(group), str(name), target,
                                                             source))
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        _poetry(poetry, source, b)


def _poetry(poetry: dict[str, Any], source: str, b: _Builder) -> None:
    scripts = poetry.get("scripts", {})
    if isinstance(scripts, dict):
        for name, target in scripts.items():
            if isinstance(target, dict):
                target = target.get("callable", "")
            if isinstance(target, str) and target:
                b.entry_points.append(EntryPoint("console_scripts", str(name), target, source))
    plugins = poetry.get("plugins", {})
    if isinstance(plugins, dict):
        for group, table in plugins.items():
            if isinstance(table, dict):
                for name, target in table.items():
                    if isinstance(target, str):
                        b.entry_points.append(EntryPoint(str(group), str(name), target, source))
    tables: list[tuple[object, str | None]] = [(poetry.get("dependencies"), None)]
    groups = poetry.get("group", {})
    if isinstance(groups, dict):
        for gname, group in groups.items():
            if isinstance(group, dict):
                tables.append((group.get("dependencies"), f"group:{gname}"))
    tables.append((poetry.get("dev-dependencies"), "group:dev"))
    for table, extra in tables:
        if not isinstance(table, dict):
            continue
        for name, spec in table.items():
            if str(name).lower() == "python":
                continue
            for one in spec if isinstance(spec, list) else [spec]:
                if not isinstance(one, dict):
                    continue
                url = next((str(one[k]) for k in ("git", "url", "hg", "svn") if k in one), "")
                if not url:
                    continue
                if "git" in one and not url.startswith("git+"):
                    url = "git+" + url
                optional = extra or ("optional" if one.get("optional") else None)
                b.dependencies.append(Dependency(f"{name} @ {url}", str(canonicalize_name(
                    str(name))), url, optional, source))


# -- setup.py ------------------------------------------------------------------------------

class _Unknown(Exception):
    """A value setup.py computes: not a literal, left unknown."""


_MUTATORS = frozenset({"append", "extend", "insert", "update"})
REQUIREMENT_FILE = re.compile(r"\.(txt|in)$")


class _Evaluator:
    """Literal values of setup.py names, with what setup.py adds to them (`append`,
    `extend`, `+=`, `d[k] = v`, anywhere in the file: an addition under an `if` is still one
    setup.py can make), and requirement files it reads (`open("requirements.txt")` in any
    call chain, or a helper given that file name) taken from the package itself."""

    def __init__(self, module: ast.Module, read_file: Callable[[str], str | None]) -> None:
        self.names: dict[str, ast.expr] = {}
        self.mutations: dict[str, list[tuple[str, ast.expr]]] = {}
        self.read_file = read_file
        self.steps = 0
        self.active: set[str] = set()
        for node in module.body:
            self._bind(node)
        top_level = {id(top) for top in module.body}
        for sub in ast.walk(module):
            if id(sub) not in top_level:
                self._bind(sub, only_new=True)
            self._mutation(sub)

    def _bind(self, node: ast.AST, only_new: bool = False) -> None:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and value is not None and not (
                only_new and target.id in self.names):
            self.names[target.id] = value

    def _mutation(self, node: ast.AST) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.attr in _MUTATORS \
                and node.args:
            self.mutations.setdefault(node.func.value.id, []).append(
                (node.func.attr, node.args[-1]))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) \
                and isinstance(node.op, ast.Add):
            self.mutations.setdefault(node.target.id, []).append(("extend", node.value))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Subscript) \
                and isinstance(node.targets[0].value, ast.Name):
            sub = node.targets[0]
            self.mutations.setdefault(sub.value.id, []).append(  # type: ignore[attr-defined]
                ("setitem", ast.Tuple(elts=[sub.slice, node.value], ctx=ast.Load())))

    def _mutated(self, name: str, value: object, depth: int) -> object:
        for kind, expr in self.mutations.get(name, []):
            try:
                extra = self.value(expr, depth)
            except _Unknown:
                continue
            if isinstance(value, list):
                if kind in ("append", "insert"):
                    value = [*value, extra]
                elif kind == "extend" and isinstance(extra, (list, tuple)):
                    value = [*value, *extra]
            elif isinstance(value, dict):
                if kind == "update" and isinstance(extra, dict):
                    value = {**value, **extra}
                elif kind == "setitem" and isinstance(extra, list) and len(extra) == 2:
                    value = {**value, extra[0]: extra[1]}
        return value

    def _requirement_file(self, node: ast.Call, depth: int) -> list[str] | None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) \
                    and REQUIREMENT_FILE.search(sub.value):
                text = self.read_file(sub.value.lstrip("./"))
                if text is not None:
                    return [line.strip() for line in text.splitlines()]
        return None

    def value(self, node: ast.expr, depth: int = 0) -> object:
        self.steps += 1
        if depth > MAX_EVAL_DEPTH or self.steps > MAX_EVAL_STEPS:
            raise _Unknown
        d = depth + 1
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            out: list[object] = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    inner = self.value(elt.value, d)
                    if not isinstance(inner, (list, tuple)):
                        raise _Unknown
                    out.extend(inner)
                else:
                    out.append(self.value(elt, d))
            return out
        if isinstance(node, ast.Dict):
            result: dict[object, object] = {}
            for k, v in zip(node.keys, node.values, strict=True):
                if k is None:
                    inner = self.value(v, d)
                    if not isinstance(inner, dict):
                        raise _Unknown
                    result.update(inner)
                else:
                    result[self.value(k, d)] = self.value(v, d)
            return result
        if isinstance(node, ast.Name) and node.id in self.names and node.id not in self.active:
            self.active.add(node.id)  # `A = A + A` is a cycle, not an exponential walk
            try:
                return self._mutated(node.id, self.value(self.names[node.id], d), d)
            finally:
                self.active.discard(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.value(node.left, d), self.value(node.right, d)
            if isinstance(left, list) and isinstance(right, list):
                return left + right
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            raise _Unknown
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "dict" and not node.args:
            return {kw.arg: self.value(kw.value, d) for kw in node.keywords if kw.arg}
        if isinstance(node, ast.Call):
            lines = self._requirement_file(node, d)
            if lines is not None:
                return lines
        raise _Unknown


def _is_setup_call(node: ast.Call) -> bool:
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr \
        if isinstance(func, ast.Attribute) else ""
    return name == "setup"


def setup_py_keywords(
    text: str, read_file: Callable[[str], str | None] = lambda _: None
) -> tuple[dict[str, tuple[object, int]], bool]:
    """The literal keywords of setup.py's `setup(...)` call(s): {keyword: (value, line)}, and
    whether some keyword could not be evaluated."""
    if len(text) > MAX_SETUP_BYTES:
        return {}, True
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}, True
    try:
        evaluator = _Evaluator(module, read_file)
    except RecursionError:
        return {}, True
    found: dict[str, tuple[object, int]] = {}
    partial = False
    try:
        calls = [n for n in ast.walk(module) if isinstance(n, ast.Call) and _is_setup_call(n)]
    except RecursionError:
        return {}, True
    for call in calls:
        for kw in call.keywords:
            try:
                value = evaluator.value(kw.value)
            except (_Unknown, RecursionError, TypeError):
                partial = True
                continue
            if kw.arg is None:
                if isinstance(value, dict):
                    for k, v in value.items():
                        if isinstance(k, str):
                            found[k] = (v, kw.value.lineno)
                else:
                    partial = True
                continue
            found[kw.arg] = (value, kw.value.lineno)
    return found, partial


def _setup_py(text: str, source: str, b: _Builder,
              read_file: Callable[[str], str | None]) -> None:
    keywords, partial = setup_py_keywords(text, read_file)
    b.sources.add(source)
    b.partial = b.partial or partial
    for key, (value, line) in keywords.items():
        if key in ("install_requires", "requires"):
            _add_deps(b, value, source, None, line)
        elif key == "extras_require" and isinstance(value, dict):
            for extra, reqs in value.items():
                _add_deps(b, reqs, source, str(extra), line)
        elif key in ("setup_requires", "tests_require"):
            _add_deps(b, value, source, f"<{key}>", line)
        elif key == "dependency_links":
            _add_links(b, value, source, line)
        elif key == "entry_points":
            _entry_points_value(value, source, line, b)
        elif key == "scripts":
            for script in _lines(value):
                b.scripts.append(InstalledFile(f"bin/{PurePosixPath(script).name}", script,
                                               source, line))
        elif key == "data_files" and isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, (list, tuple)) and len(item) == 2 \
                        and isinstance(item[0], str):
                    for member in _lines(item[1]):
                        b.data_files.append(_data_file(item[0], member, source, line))


# -- entry -----------------------------------------------------------------------------------

def _is_egg_info(relpath: str, leaf: str) -> bool:
    parts = relpath.split("/")
    return parts[-1] == leaf and len(parts) >= 2 and parts[-2].endswith(".egg-info") \
        and len(parts) <= 3


def _is_dist_info(relpath: str, leaf: str) -> bool:
    parts = relpath.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == leaf


_LEAVES = frozenset({"PKG-INFO", "setup.cfg", "pyproject.toml", SETUP_PY, "entry_points.txt",
                     "requires.txt", "dependency_links.txt", "METADATA"})
"""Every file `wanted` accepts has one of these names: the rest are turned down at once (it
is asked for every member of both sides of each release the cross-check compares)."""


def wanted(relpath: str) -> bool:
    """True for the files this module reads (the cross-check reads only these)."""
    if relpath.rpartition("/")[2] not in _LEAVES:
        return False
    return (
        relpath in ("PKG-INFO", "setup.cfg", "pyproject.toml", SETUP_PY)
        or any(_is_egg_info(relpath, leaf) for leaf in
               ("entry_points.txt", "requires.txt", "dependency_links.txt"))
        or any(_is_dist_info(relpath, leaf) for leaf in ("entry_points.txt", "METADATA"))
    )


def read(paths: Iterable[str], text_of: Callable[[str], str | None]) -> Declared:
    """Everything declared by the files among `paths` (relative to the package root);
    `text_of` gives a file's text (None for binaries or files not kept)."""
    b = _Builder()
    all_paths = list(paths)
    path_set = set(all_paths)
    for relpath in all_paths:
        if not wanted(relpath):
            continue
        text = text_of(relpath)
        if text is None:
            continue
        if relpath == "PKG-INFO" or _is_dist_info(relpath, "METADATA"):
            _metadata(text, relpath, b)
        elif relpath.endswith("entry_points.txt"):
            _entry_points_ini(text, relpath, b)
        elif relpath.endswith("requires.txt"):
            _requires_txt(text, relpath, b)
        elif relpath.endswith("dependency_links.txt"):
            b.sources.add(relpath)
            _add_links(b, text, relpath)
        elif relpath == "setup.cfg":
            _setup_cfg(text, relpath, b)
        elif relpath == "pyproject.toml":
            _pyproject(text, relpath, b)
        elif relpath == SETUP_PY:
            _setup_py(text, relpath, b, lambda rel: text_of(rel) if rel in path_set else None)
    for is_script, installed in _wheel_data(all_paths):
        (b.scripts if is_script else b.data_files).append(installed)
    return b.build()


def _wheel_data(paths: Iterable[str]) -> Iterator[tuple[bool, InstalledFile]]:
    """A wheel's `NAME.data/scripts/X` lands in bin/; `NAME.data/data/P` lands at P under
    the environment's prefix (so `.data/data/bin/X` is on PATH too)."""
    for relpath in paths:
        parts = relpath.split("/")
        if len(parts) < 3 or not parts[0].endswith(".data"):
            continue
        if parts[1] == "scripts" and len(parts) == 3:
            yield True, InstalledFile(f"bin/{parts[2]}", relpath, relpath)
        elif parts[1] == "data":
            yield False, InstalledFile("/".join(parts[2:]), relpath, relpath)


def read_texts(texts: Mapping[str, str], paths: Iterable[str]) -> Declared:
    return read(paths, texts.get)
