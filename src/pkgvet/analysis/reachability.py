"""Reachability: which code runs without anyone calling it, from the package's entry points.

Phase comes from the package graph, not from folder names. The entry points of execution:

- `setup.py`, run whole by pip, and whatever it imports, execs or opens and execs;
- the PEP 517 backend found on `backend-path`, and the build hooks `pyproject.toml` names
  (hatch `hooks.custom`, `pdm_build.py`, poetry's build script, scikit-build metadata
  providers, setuptools `cmdclass` and `attr:` versions) — all install time;
- the modules the `import` lines of `.pth` files import (interpreter start-up);
- each installed top-level package's `__init__`, `sitecustomize` and `usercustomize`
  (import time).

From there the graph follows module-level imports (transitively), the functions the reached
code calls in other modules (`from .util import steal; steal()`), and files opened and
executed. Every file so reached keeps its entry point's phase whatever folder it sits in.
Files no entry point reaches keep a structural phase: the top level of a module of an
installed package runs when it is imported (`import`); anything else (an sdist's tests,
docs, scripts) runs only when someone runs it (`runtime`) — the only demotion.

Console-script and GUI entry points are not roots: their function runs when the user types
the command, which is the package's declared purpose (item 5 of the install-surface work
grades their names). Their modules' top level is import-time code as for any module.

The public seam for other analyzers: `phases(pkg)` (relpath -> phase of its top level) and
`opened_files(pkg)` (data files that install- or import-time code opens, with the phase).
"""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

from pkgvet.analysis.facts import MAIN, MODULE, FileFacts, reachable
from pkgvet.analysis.parse import file_facts
from pkgvet.model import Context, Phase
from pkgvet.package import Package, PackageFile, classify_context

MAX_EXPANSIONS = 20_000
"""Graph steps per package: far above real packages, a bound for generated ones."""
_RANK = {Phase.INSTALL: 2, Phase.IMPORT: 1, Phase.RUNTIME: 0}
START_UP = ("sitecustomize.py", "usercustomize.py")


@dataclass(frozen=True, slots=True)
class Reach:
    phase: Mapping[str, Phase]
    """Relpath -> phase in which the file's top level runs (every Python file)."""
    reached: Mapping[str, str]
    """Relpath -> why an entry point reaches it ("setup.py", "hatch build hook", ...)."""
    whole: frozenset[str]
    """Files all of whose code runs (setup.py, build hooks and backends, exec'd scripts)."""
    roots: Mapping[str, frozenset[str]]
    """Relpath -> scopes that other reached code calls into (beside its top level)."""
    opened: Mapping[str, Phase]
    """Files (any kind) that install- or import-time code opens, runs or loads."""
    exhausted: bool = False
    hooked: Mapping[str, str] = field(default_factory=dict)
    """Files not named like Python that a module imports through a finder it installs
    itself -> that module (`_hooked_imports`)."""


@dataclass(slots=True)
class _State:
    phase: dict[str, Phase] = field(default_factory=dict)
    why: dict[str, str] = field(default_factory=dict)
    scopes: dict[str, set[str]] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)
    opened: dict[str, Phase] = field(default_factory=dict)
    hooked: dict[str, str] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    steps: int = 0


def reach(pkg: Package) -> Reach:
    """The package graph, computed once per package."""
    cached = pkg.memo.get("reach")
    if isinstance(cached, Reach):
        return cached
    result = _compute(pkg)
    pkg.memo["reach"] = result
    return result


def phases(pkg: Package) -> Mapping[str, Phase]:
    """Relpath -> phase of the file's top level, for every Python file of the package."""
    return reach(pkg).phase


def opened_files(pkg: Package) -> Mapping[str, Phase]:
    """Files of the package that install- or import-time code opens (data files a payload
    may hide in), with the phase in which they are opened."""
    return reach(pkg).opened


def phase_of_module(pkg: Package, f: PackageFile) -> Phase:
    return reach(pkg).phase.get(f.relpath, _structural(pkg, f))


def context_of(pkg: Package, f: PackageFile) -> Context:
    """`build` for what pip runs, `package` for what import runs, else the folder-word
    context (tests, docs, examples) of code nobody runs by itself.

    Inside an installed package the words are read below the package's own folder only
    (`mylib/tests/test_x.py`, `Crypto/SelfTest/test_kdf.py`): a test suite shipped in the
    package that no entry point imports is demoted once like any other; the installed
    package's own name (`sample_utils/`) never demotes, and nothing reached ever does."""
    r = reach(pkg)
    if r.reached.get(f.relpath) and r.phase.get(f.relpath) is Phase.INSTALL:
        return Context.BUILD
    if f.relpath in r.reached:
        return Context.PACKAGE
    context = pkg.context_of(f)
    if context is Context.PACKAGE and pkg.is_installed(f.relpath):
        top = next((t for t in pkg.installed_tops if f.relpath.startswith(t + "/")), "")
        inner = f.relpath[len(top) + 1:] if top else ""
        if inner:
            return classify_context(inner)
    return context


def _structural(pkg: Package, f: PackageFile) -> Phase:
    if f.relpath.rpartition("/")[2] == "__main__.py":
        return Phase.RUNTIME  # runs only for `python -m package`, never on import
    if pkg.is_installed(f.relpath):
        return Phase.IMPORT
    if pkg.context_of(f) is Context.PACKAGE and _importable(pkg, f.relpath):
        return Phase.IMPORT
    return Phase.RUNTIME


def _importable(pkg: Package, relpath: str) -> bool:
    parent, _, _ = relpath.rpartition("/")
    if not parent or parent == "src":
        return True
    return pkg.get(f"{parent}/__init__.py") is not None


# -- module names ---------------------------------------------------------------------------


def module_names(relpath: str) -> list[str]:
    """Dotted names a file may be imported as (`src/` and a wheel's `.data/purelib/` dropped)."""
    return list(_module_names(relpath))


@lru_cache(maxsize=65536)
def _module_names(relpath: str) -> tuple[str, ...]:
    """`module_names`, once per path: the graph resolves every import through the
    importer's names, and the large SDKs have hundreds of thousands of imports."""
    path = PurePosixPath(relpath)
    if path.suffix not in (".py", ".pyw"):
        return ()
    parts = list(path.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts[-1:]):
        return ()
    names = [".".join(parts)]
    if len(parts) > 1 and parts[0] in ("src", "lib", "python"):
        names.append(".".join(parts[1:]))
    if len(parts) > 2 and parts[0].endswith(".data") and parts[1] in ("purelib", "platlib"):
        names.append(".".join(parts[2:]))
    return tuple(names)


@dataclass(slots=True)
class _Index:
    by_name: dict[str, str] = field(default_factory=dict)
    by_tail: dict[str, list[str]] = field(default_factory=dict)
    answers: dict[tuple[str, str, bool], str | None] = field(default_factory=dict)
    """`resolve` answers, which depend only on the package's files: large SDKs import the
    same names from hundreds of modules, and the walk and the flows both ask."""

    @classmethod
    def of(cls, pkg: Package) -> _Index:
        """The index of a package's modules, built once per package."""
        cached = pkg.memo.get("module-index")
        if isinstance(cached, _Index):
            return cached
        index = cls._build(pkg)
        pkg.memo["module-index"] = index
        return index

    @classmethod
    def _build(cls, pkg: Package) -> _Index:
        index = cls()
        for f in pkg.python_files:
            if "!/" in f.relpath:
                # A zip or egg bundled in the package imports from its members once the
                # package puts it on `sys.path` (zipimport): named as inside the archive,
                # found only by importers that edit `sys.path`.
                inner = module_names(f.relpath.rsplit("!/", 1)[1])
                if inner:
                    index.by_tail.setdefault(inner[0], []).append(f.relpath)
                continue
            for name in module_names(f.relpath):
                index.by_name.setdefault(name, f.relpath)
            parts = module_names(f.relpath)[:1]
            if parts:
                dotted = parts[0].split(".")
                for i in range(len(dotted)):
                    index.by_tail.setdefault(".".join(dotted[i:]), []).append(f.relpath)
        return index

    def resolve(self, target: str, importer: str, loose: bool) -> str | None:
        """The file `import target` in `importer` loads. `loose`: the importer edits
        `sys.path` or is a script, so a module in any folder may be meant."""
        key = (target, importer, loose)
        if key in self.answers:
            return self.answers[key]
        found = self._resolve(target, importer, loose)
        self.answers[key] = found
        return found

    def _resolve(self, target: str, importer: str, loose: bool) -> str | None:
        if target.startswith("."):
            level = len(target) - len(target.lstrip("."))
            rest = target[level:]
            names = module_names(importer)
            if not names:
                return None
            base = names[-1].split(".")
            if not importer.endswith("__init__.py"):
                base = base[:-1]
            base = base[: len(base) - (level - 1)] if level > 1 else base
            target = ".".join([*base, rest] if rest else base)
        if target in self.by_name:
            return self.by_name[target]
        if loose:
            found = self.by_tail.get(target, [])
            if not found and "." in target and any(
                    target.partition(".")[0] == own.partition(".")[0]
                    for own in module_names(importer)):
                # a package that extends its `__path__` finds its own submodules in other
                # folders: `pkg.helpers` in `pkg_data/helpers.py`
                found = self.by_tail.get(target.rpartition(".")[2], [])
            if len(found) == 1:
                return found[0]
            folder = importer.rpartition("/")[0]
            for candidate in found:
                if candidate.rpartition("/")[0] == folder:
                    return candidate
        return None

    def resolve_call(self, dotted: str, importer: str, loose: bool) -> tuple[str, str] | None:
        """(file, function key) for a call `pkg.mod.func` or `.mod.Class.method`."""
        parts = dotted.split(".")
        lead = len(dotted) - len(dotted.lstrip("."))
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if lead and not module.strip("."):
                continue
            found = self.resolve(module, importer, loose)
            if found is not None:
                return found, ".".join(parts[cut:])
        return None


# -- entry points ---------------------------------------------------------------------------


def _toml(pkg: Package) -> dict[str, object]:
    f = pkg.get("pyproject.toml")
    text = f.text() if f is not None else None
    if not text:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _table(data: object, *keys: str) -> dict[str, object]:
    for key in keys:
        if not isinstance(data, dict):
            return {}
        data = data.get(key, {})
    return data if isinstance(data, dict) else {}


def backend_files(pkg: Package) -> set[str]:
    """The in-tree build backend module (pyproject `build-backend` on `backend-path`)."""
    system = _table(_toml(pkg), "build-system")
    paths = system.get("backend-path", [])
    backend = system.get("build-backend", "")
    if not isinstance(paths, list) or not isinstance(backend, str) or not backend:
        return set()
    module = backend.split(":")[0].replace(".", "/")
    found: set[str] = set()
    for base in paths:
        if not isinstance(base, str):
            continue
        prefix = str(PurePosixPath(base)).strip("./")
        for candidate in (f"{module}.py", f"{module}/__init__.py"):
            rel = f"{prefix}/{candidate}" if prefix else candidate
            if pkg.get(rel) is not None:
                found.add(rel)
    return found


def hook_files(pkg: Package) -> dict[str, str]:
    """Build hooks and plugins that `pyproject.toml` or `setup.cfg` tells a backend to run."""
    data = _toml(pkg)
    tool = _table(data, "tool")
    found: dict[str, str] = {}

    def add(path: object, why: str) -> None:
        if isinstance(path, str) and path:
            rel = str(PurePosixPath(path.split(":")[0]))
            if pkg.get(rel) is not None:
                found.setdefault(rel, why)

    hatch = _table(tool, "hatch")
    hook_tables = [_table(hatch, "build", "hooks"), _table(hatch, "metadata", "hooks")]
    hook_tables += [_table(t, "hooks") for t in _table(hatch, "build", "targets").values()]
    for hooks in hook_tables:
        if "custom" in hooks:
            custom = _table(hooks, "custom")
            add(custom.get("path", "hatch_build.py"), "hatch build hook")
    pdm = _table(tool, "pdm", "build")
    add(pdm.get("custom-hook", "pdm_build.py"), "pdm build hook")
    poetry = _table(tool, "poetry")
    build = poetry.get("build")
    add(build if isinstance(build, str) else _table(poetry, "build").get("script"),
        "poetry build script")
    for section in _table(tool, "scikit-build", "metadata").values():
        if isinstance(section, dict) and isinstance(section.get("provider-path"), str):
            provider = str(section.get("provider", "")).replace(".", "/")
            add(f"{section['provider-path']}/{provider}.py", "scikit-build metadata provider")
    for value in _table(tool, "setuptools", "cmdclass").values():
        if isinstance(value, str):
            add(value.rsplit(".", 1)[0].replace(".", "/") + ".py", "setuptools cmdclass")
    hatch_version = _table(hatch, "version")
    if hatch_version.get("source") == "code":
        # hatchling runs the file to read its version (`source = "code"`).
        add(hatch_version.get("path"), "hatch version source 'code'")
    pdm_version = _table(tool, "pdm", "version")
    getter = pdm_version.get("getter")
    if pdm_version.get("source") == "call" and isinstance(getter, str):
        # pdm-backend imports the module and calls the getter for the version.
        _attr_module(pkg, getter.split(":")[0] + ".x", found, "pdm version getter")
    dynamic = _table(tool, "setuptools", "dynamic")
    for value in dynamic.values():
        attr = value.get("attr") if isinstance(value, dict) else None
        if isinstance(attr, str):
            _attr_module(pkg, attr, found, "setuptools attr: version")
    cfg = pkg.get("setup.cfg")
    text = cfg.text() if cfg is not None else None
    if text and ("attr:" in text or "cmdclass" in text or "setup_hooks" in text):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text)
            version = parser.get("metadata", "version", fallback="")
            cmdclass = parser.get("options", "cmdclass", fallback="")
            pbr_hooks = parser.get("global", "setup_hooks", fallback="")
        except configparser.Error:
            version = cmdclass = pbr_hooks = ""
        if version.strip().startswith("attr:"):
            _attr_module(pkg, version.split(":", 1)[1].strip(), found, "setup.cfg attr: version")
        # `[options] cmdclass = build_py = tools.cmds.BuildPy`: setuptools imports the class
        # and runs it; pbr's `[global] setup_hooks = pkg.hooks.fn` are called by setup().
        for line in cmdclass.splitlines():
            if "=" in line:
                _attr_module(pkg, line.split("=", 1)[1].strip(), found, "setup.cfg cmdclass")
        for line in pbr_hooks.splitlines():
            if line.strip():
                _attr_module(pkg, line.strip(), found, "pbr setup hook")
    return found


def _attr_module(pkg: Package, attr: str, found: dict[str, str], why: str) -> None:
    module = attr.rsplit(".", 1)[0].replace(".", "/")
    for base in ("", "src/"):
        for candidate in (f"{base}{module}.py", f"{base}{module}/__init__.py"):
            if pkg.get(candidate) is not None:
                found.setdefault(candidate, why)


def pth_imports(pkg: Package) -> list[str]:
    """Modules that `.pth` lines import at every interpreter start."""
    modules: list[str] = []
    for f in pkg.files:
        if f.suffix != ".pth" or f.data is None:
            continue
        for line in (f.text() or "").splitlines()[:1000]:
            if not line.startswith(("import ", "import\t")):
                continue
            try:
                tree = ast.parse(line)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules.extend(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module:
                    modules.append(node.module)
                    modules.extend(f"{node.module}.{a.name}" for a in node.names)
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr == "import_module" and node.args \
                        and isinstance(node.args[0], ast.Constant) \
                        and isinstance(node.args[0].value, str):
                    modules.append(node.args[0].value)
    return modules


AUTO_LOADED_GROUPS = frozenset({
    "pytest11", "setuptools.finalize_distribution_options", "distutils.setup_keywords",
    "distutils.commands", "egg_info.writers", "setuptools.file_finders",
    "flake8.extension", "flake8.report", "pylint.plugins", "coverage.plugins",
    "jupyter_serverextension", "jupyter_server.extension", "sphinx.builders",
    "hatch", "pdm", "pdm.plugin", "poetry.plugin", "poetry.application.plugin", "tox",
    "pre_commit.hooks", "keyring.backends", "setuptools_scm.parse_scm",
    "setuptools_scm.files_command", "setuptools_scm.local_scheme",
    "setuptools_scm.version_scheme", "virtualenv.activate", "virtualenv.create",
    "virtualenv.discovery", "virtualenv.seed", "twine.registered_commands",
    "flask.commands", "pyinstaller40", "pylsp", "datasette", "llm", "kedro.hooks",
    "opentelemetry_instrumentor", "opentelemetry_distro", "opentelemetry_configurator",
    "napari.manifest", "nox", "mypy.plugins", "babel.extractors",
    # pydantic imports every `pydantic` plugin when the first model is built; Hypothesis
    # loads and calls `hypothesis` entry points on import; numba calls `numba_extensions`
    # on its first compile; sqlfluff, Airflow, httpie and celery load theirs at start.
    "pydantic", "hypothesis", "numba_extensions", "sqlfluff", "airflow.plugins",
    "httpie.plugins.auth.v1", "httpie.plugins.formatter.v1", "httpie.plugins.converter.v1",
    "httpie.plugins.transport.v1", "celery.commands", "pytest_randomly.random_seeder",
})
"""Entry-point groups whose plugins another tool loads by itself, every time it runs (pytest
loads `pytest11` plugins, setuptools its finalizers, keyring its backends, virtualenv its
activators...): the user never calls them."""

PLUGIN_CLASS_RUNS = ("__new__", "__init__", "__post_init__", "priority")
"""What loading a plugin class runs: making the object (a keyring backend's `priority` is
read to rank it). A command's `run` runs when someone runs that command."""
HOST_HOOKS: dict[str, tuple[str, ...]] = {
    "pytest11": ("pytest_",), "tox": ("tox_",), "datasette": ("startup", "prepare_"),
    "llm": ("register_",), "kedro.hooks": ("after_", "before_", "on_"),
    "pdm": ("",), "poetry.plugin": ("",), "poetry.application.plugin": ("",),
    "hypothesis": ("",), "numba_extensions": ("",),
}
"""Per plugin host, the prefixes of the module-level functions it calls in a plugin module
by their names (pytest calls every `pytest_*` hook a plugin defines); `""`: the plugin
object is called as a whole."""
_HOOK_DECORATOR = re.compile(
    r"^[ \t]*@[\w.]{0,200}(?:hookimpl\b|fixture\s*\([^)]{0,500}autouse\s*=\s*True)[^\n]*\n"
    r"(?:[ \t]*@[^\n]*\n)*[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)", re.M)
"""Functions a plugin host calls without being asked: pluggy `@hookimpl`s and pytest fixtures
with `autouse=True` (they run for every test session)."""


def plugin_entry_points(pkg: Package) -> list[tuple[str, str, str]]:
    """(module, attribute, group) of entry points in auto-loaded groups, from
    entry_points.txt, setup.cfg (setuptools' and pbr's sections) and pyproject.toml."""
    found: list[tuple[str, str, str]] = []

    def add(value: str, group: str) -> None:
        module, _, attr = value.strip().partition(":")
        found.append((module.strip(), attr.split("[")[0].strip(), group))

    for f in pkg.files:
        if f.name == "entry_points.txt" or f.relpath == "setup.cfg":
            parser = configparser.ConfigParser(interpolation=None, strict=False,
                                               delimiters=("=",))
            try:
                parser.read_string(f.text() or "")
            except configparser.Error:
                continue
            for section in parser.sections():
                group = section.removeprefix("options.entry_points").strip(".") or section
                if group in AUTO_LOADED_GROUPS:
                    for value in parser[section].values():
                        add(value or "", group)
                elif section in ("options.entry_points", "entry_points"):
                    for key, value in parser[section].items():
                        if key in AUTO_LOADED_GROUPS:
                            for line in value.splitlines():
                                if "=" in line:
                                    add(line.split("=", 1)[1], key)
    setup = pkg.get("setup.py")
    text = setup.text() if setup is not None else None
    if text and "entry_points" in text and len(text) < 1_000_000:
        for group, value in _setup_entry_points(text):
            if group in AUTO_LOADED_GROUPS and "=" in value:
                add(value.split("=", 1)[1], group)
    groups = _table(_toml(pkg), "project", "entry-points")
    for group, table in groups.items():
        if group in AUTO_LOADED_GROUPS and isinstance(table, dict):
            for value in table.values():
                add(str(value), group)
    return found


def _setup_entry_points(text: str) -> list[tuple[str, str]]:
    """(group, "name = module:attr") of a literal `entry_points={...}` given to setup()."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.keyword) or node.arg != "entry_points" \
                or not isinstance(node.value, ast.Dict):
            continue
        for key, value in zip(node.value.keys, node.value.values, strict=True):
            if not isinstance(key, ast.Constant) or not isinstance(key.value, str):
                continue
            items = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
            for item in items:
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    found += [(key.value, line) for line in item.value.splitlines()]
    return found


def host_called(pkg: Package, rel: str, attr: str, group: str) -> set[str]:
    """Scopes of a plugin module that its host calls by itself: the entry point's object (a
    function, or a class's constructor), the module's hook functions named for that host,
    `@hookimpl`s and autouse fixtures."""
    f = pkg.get(rel)
    ff = file_facts(pkg, f) if f is not None else None
    if ff is None:
        return set()
    found: set[str] = set()
    head = attr.split(".")[0]
    if head in ff.classes:
        # Loading the plugin makes the object (a keyring backend's `priority` is read to
        # rank it); its other methods run when the tool needs that service, on demand.
        found |= {f"{head}.{m}" for m in PLUGIN_CLASS_RUNS if f"{head}.{m}" in ff.calls}
    elif attr:
        found.add(ff.functions.get(head, head))
    prefixes = HOST_HOOKS.get(group, ())
    for name, key in ff.functions.items():
        if "." not in key and any(p and name.startswith(p) for p in prefixes):
            found.add(key)
    text = f.text() if f is not None else None
    if text and ("hookimpl" in text or "autouse" in text):
        for m in _HOOK_DECORATOR.finditer(text[:500_000]):
            found.add(ff.functions.get(m.group(1), m.group(1)))
    return found


JUPYTER_CONFIG = re.compile(
    r"(^|/)(jupyter_server_config|jupyter_notebook_config|jupyter_config)\.d/[^/]+\.json$|"
    r"(^|/)etc/(jupyter|ipython)/(.+/)?[^/]+\.json$")
"""Config files that enable server or IPython extensions for every Jupyter server or IPython
started with this environment (a wheel ships them under `.data/data/etc/jupyter/`)."""
EXTENSION_LOADERS = ("_load_jupyter_server_extension", "load_jupyter_server_extension",
                     "_jupyter_server_extension_points", "_jupyter_server_extension_paths",
                     "load_ipython_extension")
TOOL_CONFIG = re.compile(r"(^|/)etc/(jupyter|ipython)/[^/]+\.py$")
"""Python config files under `sys.prefix/etc/jupyter` or `etc/ipython`: Jupyter and IPython
execute them at every start."""


def jupyter_extensions(pkg: Package) -> list[str]:
    """Modules that shipped Jupyter config files enable as server extensions."""
    import json

    modules: list[str] = []
    for f in pkg.files:
        if not JUPYTER_CONFIG.search(f.relpath) or f.data is None or len(f.data) > 100_000:
            continue
        try:
            data = json.loads(f.data)
        except (ValueError, RecursionError):
            continue
        if not isinstance(data, dict):
            continue
        for app in data.values():
            if not isinstance(app, dict):
                continue
            for key in ("jpserver_extensions", "nbserver_extensions", "extensions"):
                table = app.get(key)
                if isinstance(table, dict):
                    modules += [str(m) for m, on in table.items() if on]
                elif isinstance(table, list):
                    modules += [m for m in table if isinstance(m, str)]
    return modules


def start_up_file(pkg: Package, relpath: str) -> bool:
    """`sitecustomize`/`usercustomize` wherever the install puts them on `sys.path`: a
    wheel's top level or its purelib/platlib data, a `site-packages` folder of its data."""
    folder, _, name = relpath.rpartition("/")
    if name not in START_UP or "!/" in relpath:
        return False
    if not folder or pkg.is_installed(relpath) or folder.endswith("site-packages"):
        return True
    parts = folder.split("/")
    return len(parts) == 2 and parts[0].endswith(".data") and parts[1] in ("purelib", "platlib")


def setup_helpers(pkg: Package) -> set[str]:
    """Root-level modules whose name setup.py mentions (`exec(open('pre_install.py')...)`,
    `from pre_install import run`): they run at install time too."""
    setup = pkg.get("setup.py")
    text = setup.text() if setup else None
    if not text:
        return set()
    found = set()
    for f in pkg.python_files:
        if "/" in f.relpath or f.relpath == "setup.py":
            continue
        if re.search(rf"\b{re.escape(f.relpath[:-3])}\b", text):
            found.add(f.relpath)
    return found


# -- the walk -------------------------------------------------------------------------------


def _compute(pkg: Package) -> Reach:
    state = _State()
    index = _Index.of(pkg)
    install_whole: dict[str, str] = {}
    if pkg.get("setup.py") is not None:
        install_whole["setup.py"] = "setup.py"
    for rel in backend_files(pkg):
        install_whole.setdefault(rel, "in-tree build backend")
    for rel, why in hook_files(pkg).items():
        install_whole.setdefault(rel, why)
    for rel, why in install_whole.items():
        _mark(state, rel, Phase.INSTALL, why, {MODULE, MAIN}, whole=True)
    for rel in setup_helpers(pkg):
        _mark(state, rel, Phase.INSTALL, "named by setup.py", {MODULE})
    for module in pth_imports(pkg):
        target = index.resolve(module, "", loose=True)
        if target is not None:
            _mark(state, target, Phase.IMPORT, ".pth import line", {MODULE})
    for module, attr, group in plugin_entry_points(pkg):
        target = index.resolve(module, "", loose=False)
        if target is not None:
            _mark(state, target, Phase.IMPORT, f"{group} plugin, loaded by its tool",
                  {MODULE} | host_called(pkg, target, attr, group))
    for module in jupyter_extensions(pkg):
        target = index.resolve(module, "", loose=False)
        if target is not None:
            _mark(state, target, Phase.IMPORT, "Jupyter/IPython extension, enabled by config",
                  {MODULE} | host_called(pkg, target, "", "jupyter")
                  | set(EXTENSION_LOADERS))
    for f in pkg.python_files:
        if TOOL_CONFIG.search(f.relpath):
            _mark(state, f.relpath, Phase.IMPORT, "Jupyter/IPython config file", {MODULE},
                  whole=True)
    for top in sorted(pkg.installed_tops):
        init = f"{top}/__init__.py"
        if pkg.get(init) is not None:
            _mark(state, init, Phase.IMPORT, "installed package", {MODULE})
    for f in pkg.python_files:
        if start_up_file(pkg, f.relpath):
            _mark(state, f.relpath, Phase.IMPORT, "interpreter start-up", {MODULE})
    exhausted = _walk(pkg, state, index)
    phase = {f.relpath: state.phase.get(f.relpath) or _structural(pkg, f)
             for f in pkg.python_files}
    roots = {rel: frozenset(s) for rel, s in state.scopes.items()}
    return Reach(phase=phase, reached=dict(state.why), whole=frozenset(state.whole),
                 roots=roots, opened=dict(state.opened), exhausted=exhausted,
                 hooked=dict(state.hooked))


def _mark(state: _State, rel: str, phase: Phase, why: str, scopes: set[str],
          whole: bool = False) -> None:
    old = state.phase.get(rel)
    known = state.scopes.setdefault(rel, set())
    changed = old is None or _RANK[phase] > _RANK[old] or not scopes <= known \
        or (whole and rel not in state.whole)
    if old is None or _RANK[phase] > _RANK[old]:
        state.phase[rel] = phase
        state.why[rel] = why
    known |= scopes
    if whole:
        state.whole.add(rel)
    if changed:
        state.queue.append(rel)


def _walk(pkg: Package, state: _State, index: _Index) -> bool:
    """Follow queued files until none gains anything. A file queued again because it gained
    scopes is followed only from the scopes that became live: what its other scopes lead
    to was marked, in the same phase, when they were followed (a mark that adds nothing
    changes nothing). A file whose phase or wholeness changed, or whose facts were
    replaced (a full parse after the graph scan), is followed again from every scope."""
    followed: dict[str, tuple[Phase, bool, FileFacts, set[str]]] = {}
    head_words: dict[str, tuple[bool, bool]] = {}
    while state.queue:
        rel = state.queue.pop()
        state.steps += 1
        if state.steps > MAX_EXPANSIONS:
            return True
        f = pkg.get(rel)
        if f is None:
            continue
        ff = file_facts(pkg, f)
        if ff is None:
            continue
        phase = state.phase[rel]
        why = state.why[rel]
        whole = rel in state.whole
        if whole:
            live = set(ff.calls) | {x.scope for x in ff.facts} | {MODULE, MAIN}
        else:
            live = reachable(ff, sorted(state.scopes[rel]))
        before = followed.get(rel)
        done: set[str] = set()
        if before is not None and before[0] is phase and before[1] == whole \
                and before[2] is ff:
            done = before[3]
            if live <= done:
                continue
        followed[rel] = (phase, whole, ff, live | done)
        words = head_words.get(rel)
        if words is None:
            head = (f.text() or "")[:200_000]
            words = head_words[rel] = (
                "sys.path" in head or "zipimport" in head or "__path__" in head,
                "path_hooks" in head or "meta_path" in head)
        _follow(pkg, state, index, rel, ff, live, phase, why, whole or words[0], done)
        if words[1]:
            _hooked_imports(pkg, state, index, rel, ff, live, phase)
    return False


def _follow(pkg: Package, state: _State, index: _Index, rel: str, ff: FileFacts,
            live: set[str], phase: Phase, why: str, loose: bool,
            done: set[str] | frozenset[str] = frozenset()) -> None:
    """Mark what the `live` scopes of `rel` import, call, run and open; scopes in `done`
    were followed before in this phase and are skipped."""
    for scope, target, _ in ff.imports:
        if scope not in live or scope in done:
            continue
        found = index.resolve(target, rel, loose)
        if found is not None and found != rel:
            _mark(state, found, phase, why, {MODULE})
            _parents(pkg, state, found, phase, why)
    for scope in live:
        if scope in done:
            continue
        for dotted in ff.qualified_calls.get(scope, ()):
            hit = index.resolve_call(dotted, rel, loose)
            if hit is not None:
                target, key = hit
                _mark(state, target, phase, why, {MODULE, key})
    for scope, path, _ in ff.ran:
        # A script a process call runs (`[sys.executable, "tools/gen.py"]`, `bash post.sh`)
        # runs whole in this phase; non-Python scripts are listed as opened for the
        # build-file reader.
        if scope not in live or scope in done:
            continue
        for candidate in _files_named(pkg, path, rel):
            other = pkg.get(candidate)
            if other is None or candidate == rel:
                continue
            state.opened.setdefault(candidate, phase)
            if other.is_python:
                _mark(state, candidate, phase, why, {MODULE, MAIN}, whole=True)
    exec_scopes = {x.scope for x in ff.facts if x.cap in ("exec", "dynamic_import")}
    for scope, path, _ in ff.opened:
        if scope not in live or scope in done or not path:
            continue
        for candidate in _files_named(pkg, path, rel):
            state.opened.setdefault(candidate, phase)
            other = pkg.get(candidate)
            if other is not None and other.is_python and scope in exec_scopes:
                _mark(state, candidate, phase, why, {MODULE, MAIN}, whole=True)


def _hooked_imports(pkg: Package, state: _State, index: _Index, rel: str, ff: FileFacts,
                    live: set[str], phase: Phase) -> None:
    """A module that installs its own finder (`sys.path_hooks`, `sys.meta_path`: a
    `FileFinder.path_hook((SourceFileLoader, [".dat"]))`) decides which files an import
    loads: `import telemetry_cfg` can run `blobs/telemetry_cfg.dat`. Its imports that name
    no Python module are read as the package files of that name, whatever their extension,
    executed in this phase: the carried-payload reader scans them as Python (`Reach.hooked`)."""
    by_base = _by_base_name(pkg)
    for scope, target, _ in ff.imports:
        if scope not in live or index.resolve(target, rel, True) is not None:
            continue
        last = target.rpartition(".")[2]
        if not last.isidentifier():
            continue
        for base, rels in by_base.items():
            if base.startswith(last + ".") and not base.endswith((".py", ".pyw")):
                for candidate in rels[:4]:
                    state.opened.setdefault(candidate, phase)
                    state.hooked.setdefault(candidate, rel)


def _parents(pkg: Package, state: _State, rel: str, phase: Phase, why: str) -> None:
    """Importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py` first."""
    parts = rel.split("/")[:-1]
    for i in range(1, len(parts)):
        init = "/".join(parts[:i]) + "/__init__.py"
        if pkg.get(init) is not None and init != rel:
            _mark(state, init, phase, why, {MODULE})


def _files_named(pkg: Package, path: str, importer: str) -> list[str]:
    """Package files a path built from literals names: `tests/x.py`, `os.path.join(here,
    "docs", "conf.py")`, or a bare file name next to the importer."""
    path = path.replace("\\", "/").lstrip("./")
    if not path or len(path) > 500:
        return []
    name = path.rsplit("/", 1)[-1]
    same_name = _by_base_name(pkg).get(name, [])
    hits = [rel for rel in same_name if rel == path or rel.endswith("/" + path)]
    if hits:
        return hits[:4]
    if "." not in name:
        return []
    return same_name[:2]


def _by_base_name(pkg: Package) -> dict[str, list[str]]:
    """Relpaths by their last part, in package order, built once per package: a path that
    ends with `/x.py` or is `x.py` has the base name `x.py`."""
    cached = pkg.memo.get("by-base-name")
    if isinstance(cached, dict):
        return cached
    index: dict[str, list[str]] = {}
    for rel in pkg.by_relpath:
        index.setdefault(rel.rsplit("/", 1)[-1], []).append(rel)
    pkg.memo["by-base-name"] = index
    return index
