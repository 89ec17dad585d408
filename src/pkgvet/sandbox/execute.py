"""The execute phase: run the installed package as a user would (runs inside the container).

Standard library only; the container carries it into the import phase's working folder under
an ordinary module name. Install and import are not the only places malware hides: a `.pth`
file runs at every interpreter start, a console script when the user types its name, a
function when the user calls it. As OSSF package-analysis does, after the import phase the
probe runs, each under the tracer and a short time limit:

1. a bare interpreter start (so `.pth` files and `sitecustomize` run);
2. each console-script and GUI entry point of the package, with `--help` and with no
   arguments;
3. for each of the package's top-level modules, every public module-level function called
   and every public class instantiated with placeholder arguments, each under an alarm.

Every run is `python -c <the import phase's code> <this module> <mode> ...`, the form the
observer already knows for the import phase, so the runs themselves are not findings; what
the package does in them is.
"""

from __future__ import annotations

import configparser
import contextlib
import importlib
import importlib.util
import inspect
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

IMPORT_CODE = "import importlib, sys; importlib.import_module(sys.argv[1])"
CALL_SECONDS = 3
ENTRY_SECONDS = 10.0
CALLS_BUDGET = 20.0
"""Seconds one module's calls may take together (the run's limit is CALL_SECONDS * 10)."""
MAX_CALLS = 60
MAX_ENTRY_POINTS = 6
MAX_MODULES = 5
PLACEHOLDERS: dict[str, Any] = {
    "str": "test", "int": 1, "float": 1.0, "bool": False, "bytes": b"test", "list": [],
    "dict": {}, "tuple": (), "set": set(), "Path": Path("/tmp/test"),
}
# Host and URL parameters get "test" too: a single-label name the sandbox's resolver answers
# and the observer ignores, so a library's own client called with placeholders is not
# mistaken for the package reaching out.
NAMED: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("path", "file", "filename", "dir", "folder", "directory"), "/tmp/test"),
    (("port",), 8080),
    (("n", "count", "size", "num", "number", "timeout", "index", "i", "limit"), 1),
    (("args", "argv", "items", "values", "lst"), []),
    (("kwargs", "options", "config", "data", "params", "headers"), {}),
)


SDK_CONFIG = {
    "NETRC": os.devnull, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "KUBECONFIG": os.devnull, "DOCKER_CONFIG": "/tmp/.sdk-config", "CLOUDSDK_CONFIG":
    "/tmp/.sdk-config", "AZURE_CONFIG_DIR": "/tmp/.sdk-config", "PIP_CONFIG_FILE": os.devnull,
}
PLACEHOLDER_HOSTS = frozenset({"test", "/tmp/test", "test."})


class _Alarm(BaseException):
    """Raised by the alarm handler; a BaseException so `except Exception` cannot eat it."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Alarm


def placeholder(parameter: inspect.Parameter) -> Any:
    annotation = parameter.annotation
    name = getattr(annotation, "__name__", str(annotation))
    if name in PLACEHOLDERS:
        return PLACEHOLDERS[name]
    lowered = parameter.name.lower()
    for names, value in NAMED:
        if lowered in names or lowered.endswith(tuple(f"_{n}" for n in names)):
            return value
    return "test"


def arguments(target: Callable[..., Any]) -> tuple[list[Any], dict[str, Any]] | None:
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return [], {}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY or \
                parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            args.append(placeholder(parameter))
        elif parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = placeholder(parameter)
    return args, kwargs


def public_callables(module: Any) -> Iterator[tuple[str, Callable[..., Any]]]:
    """Functions and classes the module itself defines (not what it imported)."""
    for name in sorted(vars(module)):
        if name.startswith("_"):
            continue
        value = vars(module)[name]
        if (inspect.isfunction(value) or inspect.isclass(value)) and \
                getattr(value, "__module__", None) == module.__name__:
            yield name, value


def _no_input() -> None:
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)


def _refuse_placeholder_hosts() -> None:
    """A library's own client called with a placeholder ("test") as host or URL would look
    the name up and connect: refused here, before the resolver, so that only the hosts the
    package itself names reach the sinks."""
    import socket

    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, (str, bytes)) and (host.decode() if isinstance(host, bytes)
                                               else host).lower() in PLACEHOLDER_HOSTS:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def call_all(module_name: str) -> int:
    """Import `module_name` and call what it offers; how many calls were made."""
    signal.signal(signal.SIGALRM, _on_alarm)
    _refuse_placeholder_hosts()
    try:
        module = importlib.import_module(module_name)
    except BaseException:
        return 0
    calls = 0
    deadline = time.monotonic() + CALLS_BUDGET
    for _, target in public_callables(module):
        if calls >= MAX_CALLS or time.monotonic() > deadline:
            break  # stop before the run's own limit: running out of time is not evidence
        prepared = arguments(target)
        if prepared is None:
            continue
        args, kwargs = prepared
        calls += 1
        signal.alarm(CALL_SECONDS)
        try:
            result = target(*args, **kwargs)
            if inspect.iscoroutine(result):
                result.close()
        except BaseException:
            pass
        finally:
            signal.alarm(0)
    return calls


def run_entry_point(spec: str, name: str, args: list[str]) -> None:
    """Run `module:attr` as the console script `name` would, with `args`."""
    module_name, _, attribute = spec.partition(":")
    sys.argv = [name, *args]
    try:
        target: Any = importlib.import_module(module_name.strip())
        for part in attribute.split("[", 1)[0].strip().split("."):
            if part:
                target = getattr(target, part)
        target()
    except BaseException:
        pass


# --- Windows face and setup.py replay ---------------------------------------------------------

SETUP_COMMANDS = ("install", "develop", "egg_info", "build", "build_py", "build_ext", "sdist",
                  "bdist_wheel", "bdist_egg")
"""The setup.py commands whose `cmdclass` overrides a replay runs, in pip's order."""
SETUP_LABEL = "setup.py (windows face)"
WINDOWS_IMPORT_LABEL = "(imports, windows face)"


_REAL_EXEC, _REAL_COMPILE = exec, compile
"""The replay's own exec (before the face watches the package's)."""

PYWIN32 = ("win32com", "win32com.client", "win32com.shell", "win32com.shell.shell", "win32api",
           "win32con", "win32gui", "win32crypt", "win32process", "win32clipboard", "win32file",
           "win32security", "win32event", "win32service", "win32ui", "pythoncom", "pywintypes",
           "wmi")
"""pywin32's modules (and `wmi`): under the Windows face, recording stand-ins."""


def _record(library: str, function: str, args: tuple[Any, ...]) -> None:
    """One call, through the image's recorder (the persona's `windll` records)."""
    with contextlib.suppress(BaseException):
        recorder = importlib.import_module("platform_compat")
        recorder.record("windll", library=library, function=function,
                        args=[repr(a)[:120] for a in args[:8]])


class _Stand:
    """A pywin32 object: every attribute is another stand-in, every call is recorded."""

    _library: str
    _name: str

    def __init__(self, library: str, name: str = "") -> None:
        object.__setattr__(self, "_library", library)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, name: str) -> _Stand:
        if name.startswith("__"):
            raise AttributeError(name)
        return _Stand(self._library, name)

    def __setattr__(self, name: str, value: Any) -> None:
        _record(self._library, f"set {name}", (value,))

    def __call__(self, *args: Any, **kwargs: Any) -> _Stand:
        _record(self._library, self._name, args)
        return _Stand(f"{self._library}.{self._name}({str(args[:1])[1:-2]})")

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __int__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return True


class _StandFinder:
    """Finds the PYWIN32 names (when nothing real provides them) as stand-in modules, and,
    for imports made by the package's own code (files under `missing_for`), any other module
    nothing provides: code that needs a dependency the sandbox could not install
    (`browser_cookie3`, an SDK) runs on past its imports to what it does with them, which is
    what is observed. Libraries' own optional imports still fail as they expect. Last on
    `sys.meta_path`, so every real module is found first."""

    def __init__(self, missing_for: tuple[str, ...] = ()) -> None:
        self.missing_for = missing_for

    def _from_package(self) -> bool:
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename.startswith("<frozen"):
            frame = frame.f_back  # type: ignore[assignment]
        # code the package built at run time (`exec` of a decoded string) is its own too
        return frame is not None and frame.f_code.co_filename.startswith((*self.missing_for,
                                                                          "<string>", "<x>"))

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in PYWIN32 and not (
                self.missing_for and name.split(".")[0] not in sys.stdlib_module_names
                and self._from_package()):
            return None
        import importlib.machinery

        loader: Any = self
        return importlib.machinery.ModuleSpec(name, loader, is_package=True)

    def create_module(self, spec: Any) -> Any:
        import types

        module = types.ModuleType(spec.name)
        module.__path__ = []

        def attribute(attr: str) -> _Stand:
            if attr.startswith("__"):
                raise AttributeError(attr)
            return _Stand(spec.name, attr)

        module.__getattr__ = attribute  # type: ignore[method-assign]
        return module

    def exec_module(self, module: Any) -> None:
        return None


def windows_face(missing_for: tuple[str, ...] = ()) -> None:
    """Present Windows to code that asks (`sys.platform`, `os.name`, `platform.system()`),
    in one process only, so Windows-only code paths run and are observed. Paths stay POSIX
    (`pathlib.Path()` still makes a `PosixPath`), so the code around the check keeps working.
    """
    import pathlib
    import platform

    original_new = pathlib.Path.__new__

    def posix_path(cls: Any, *args: Any, **kwargs: Any) -> Any:
        return original_new(pathlib.PosixPath if cls is pathlib.Path else cls, *args, **kwargs)

    pathlib.Path.__new__ = posix_path  # type: ignore[method-assign]
    sys.platform = "win32"
    os.name = "nt"
    platform.system = lambda: "Windows"
    platform.release = lambda: "10"
    platform.version = lambda: "10.0.19045"
    platform.platform = lambda *a, **k: "Windows-10-10.0.19045-SP0"
    home = os.path.expanduser("~")
    user = os.environ.get("USER", "user")
    for name, value in (("USERNAME", user), ("USERPROFILE", home),
                        ("APPDATA", f"{home}/AppData/Roaming"),
                        ("LOCALAPPDATA", f"{home}/AppData/Local"), ("TEMP", "/tmp"),
                        ("TMP", "/tmp"), ("SystemRoot", "C:\\Windows"),
                        ("windir", "C:\\Windows"), ("ProgramData", "C:\\ProgramData"),
                        ("COMPUTERNAME", os.uname().nodename.upper())):
        os.environ.setdefault(name, value)
    sys.meta_path.append(_StandFinder(missing_for))
    _watch_dynamic_code()


def _code_text(source: Any) -> str | None:
    if isinstance(source, bytes):
        return source.decode("utf-8", "replace")
    return source if isinstance(source, str) else None


def _watch_dynamic_code() -> None:
    """Record the text of what `exec`, `eval` and `compile` are given: a payload decoded at
    run time shows here as it runs (the persona grades it like a command line), even when it
    then fails for a module or a network the sandbox does not have."""
    import builtins

    real_exec, real_eval, real_compile = builtins.exec, builtins.eval, builtins.compile

    def note(call: str, source: Any) -> None:
        text = _code_text(source)
        if text is not None and text.strip():
            with contextlib.suppress(BaseException):
                importlib.import_module("platform_compat").record(
                    "code", call=call, text=text[:3000])

    def exec_(source: Any, globals_: Any = None, locals_: Any = None, /, **kwargs: Any) -> None:
        note("exec", source)
        if globals_ is None:
            frame = sys._getframe(1)
            globals_, locals_ = frame.f_globals, frame.f_locals if locals_ is None else locals_
        real_exec(source, globals_, locals_, **kwargs)

    def eval_(source: Any, globals_: Any = None, locals_: Any = None, /) -> Any:
        note("eval", source)
        if globals_ is None:
            frame = sys._getframe(1)
            globals_, locals_ = frame.f_globals, frame.f_locals if locals_ is None else locals_
        return real_eval(source, globals_, locals_)

    def compile_(source: Any, *args: Any, **kwargs: Any) -> Any:
        if not sys._getframe(1).f_code.co_filename.startswith("<frozen"):
            note("compile", source)  # (the import system compiling a module file is not)
        return real_compile(source, *args, **kwargs)

    builtins.exec = exec_
    builtins.eval = eval_
    builtins.compile = compile_


REPLAY_PREFIX = "build-"
"""The replay's folder under /tmp (the observer knows it: `observe.REPLAY_FOLDER`)."""


def _has_setup_py(archive: str) -> bool:
    import tarfile
    import zipfile

    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                names = zf.namelist()
        else:
            with tarfile.open(archive) as tf:
                names = tf.getnames()
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError, ValueError):
        return False
    return any(n.rsplit("/", 1)[-1] == "setup.py" for n in names)


def _unpack(archive: str, into: str) -> Path | None:
    """The folder holding the shallowest setup.py of an sdist (members that would land
    outside `into` are skipped), or None."""
    import tarfile
    import zipfile

    root = Path(into).resolve()

    def inside(name: str) -> bool:
        return (root / name).resolve().is_relative_to(root)

    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for member in zf.namelist():
                    if inside(member):
                        zf.extract(member, root)
        else:
            with tarfile.open(archive) as tf:
                for info in tf.getmembers():
                    if (info.isfile() or info.isdir()) and inside(info.name):
                        tf.extract(info, root, set_attrs=False)
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError, ValueError):
        pass
    found = sorted(root.rglob("setup.py"), key=lambda p: len(p.parts))
    return found[0].parent if found else None


def _quiet_base_commands(commands: dict[str, Any]) -> None:
    """The build machinery's own `run` methods do nothing in a replay: only the package's
    overrides run (and their `super().run()` returns at once)."""
    for command in commands.values():
        for base in getattr(command, "__mro__", ())[1:]:
            if str(getattr(base, "__module__", "")).startswith(
                    ("setuptools", "distutils", "wheel")) and "run" in vars(base):
                base.run = lambda self: None


def replay_setup(archive: str) -> None:
    """Run an sdist's setup.py as pip would on Windows: the module code under the Windows
    face with `setup()` recorded instead of building, then each `cmdclass` override's
    `run`. A setup.py that failed or stopped early under pip (a Windows-only constant, an
    invalid requirement in `setup()`) gets here to what it does after that point."""
    import tempfile

    if not _has_setup_py(archive):
        return
    folder = _unpack(archive, tempfile.mkdtemp(prefix=REPLAY_PREFIX, dir="/tmp"))
    if folder is None:
        return
    source_root = str(folder.parent)
    captured: dict[str, Any] = {}

    def setup(**attrs: Any) -> None:
        captured.update(attrs)

    # The build machinery is loaded as it is on Linux, before the face: it is not the
    # package's code, and it picks compilers and schemes by platform at import.
    for name in ("setuptools", "distutils.core", "setuptools.dist", "setuptools.command.install",
                 "setuptools.command.develop", "setuptools.command.egg_info",
                 "setuptools.command.build_py", "setuptools.command.sdist"):
        with _suppressed():
            module = importlib.import_module(name)
            if hasattr(module, "setup"):
                setattr(module, "setup", setup)  # noqa: B010
    windows_face((source_root,))
    _forgive_missing_files(folder)
    os.chdir(folder)
    sys.path.insert(0, str(folder))
    sys.argv = [str(folder / "setup.py"), "install"]
    with _suppressed():  # as pip's setup.py caller runs it: in __main__'s globals
        import builtins

        script = folder / "setup.py"
        code = _REAL_COMPILE(script.read_bytes(), str(script), "exec")
        _REAL_EXEC(code, {"__name__": "__main__", "__file__": str(script),
                          "__builtins__": builtins})
    commands = captured.get("cmdclass") or {}
    if isinstance(commands, dict):
        _run_commands(commands, captured)
    _import_declared(folder, captured)


def _forgive_missing_files(folder: Path) -> None:
    """setup.py files read a README or a requirements file that the sdist left out, and
    stop there under pip: in the replay such a file reads as empty, so what comes after
    (the `setup()` call, its `cmdclass`) runs."""
    import builtins
    import io

    real_open = builtins.open

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        try:
            return real_open(file, mode, *args, **kwargs)
        except FileNotFoundError:
            if not isinstance(file, (str, os.PathLike)) or any(c in mode for c in "wax+"):
                raise
            path = Path(os.fspath(file))
            if not (folder / path).resolve().is_relative_to(folder.resolve()):
                raise
            return io.BytesIO(b"") if "b" in mode else io.StringIO("")

    builtins.open = open_


def _import_declared(folder: Path, captured: dict[str, Any]) -> None:
    """Import what setup() declares, from the source folder: the import-time code of a
    package that pip could not install (a build that failed, a Windows-only wheel)."""
    roots = {str(folder)}
    package_dir = captured.get("package_dir")
    if isinstance(package_dir, dict) and isinstance(package_dir.get(""), str):
        roots.add(str(folder / package_dir[""]))
    sys.path[:0] = sorted(roots - set(sys.path))
    names: list[str] = []
    for key in ("packages", "py_modules"):
        value = captured.get(key)
        if isinstance(value, (list, tuple)):
            names.extend(str(v) for v in value if isinstance(v, str))
    for name in sorted(dict.fromkeys(names), key=lambda n: n.count("."))[:MAX_MODULES * 2]:
        signal.alarm(CALL_SECONDS * 2)
        with _suppressed():
            importlib.import_module(name)
        signal.alarm(0)


def _run_commands(commands: dict[str, Any], captured: dict[str, Any]) -> None:
    _quiet_base_commands(commands)
    distribution: Any = None
    with _suppressed():
        distribution = importlib.import_module("setuptools.dist").Distribution(
            {"name": str(captured.get("name") or "package")})
    ordered = [c for c in SETUP_COMMANDS if c in commands] + \
        [c for c in commands if c not in SETUP_COMMANDS]
    for name in ordered:
        signal.alarm(CALL_SECONDS * 2)
        with _suppressed():
            command = commands[name]
            try:
                instance = command(distribution)
            except BaseException:
                instance = command.__new__(command)
            command.run(instance)
        signal.alarm(0)


def import_windows(modules: list[str]) -> None:
    """Import the package's own modules under the Windows face: `if os.name == "nt":`
    at module level is import-time code too."""
    own = []
    for module in modules:
        with _suppressed():
            found = importlib.util.find_spec(module.split(".")[0])
            if found is not None and found.origin:
                own.append(str(Path(found.origin).parent if found.submodule_search_locations
                               else found.origin))
    windows_face(tuple(own))
    for module in modules:
        signal.alarm(CALL_SECONDS * 2)
        with _suppressed():
            importlib.import_module(module)
        signal.alarm(0)


class _suppressed:
    """Whatever the package's code raises (SystemExit, the alarm) ends only that step; what
    it was goes to the run's output (the report's notes show it)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, value: object, tb: object) -> bool:
        if kind is not None:
            with contextlib.suppress(BaseException):
                print(f"replay: {getattr(kind, '__name__', kind)}: {str(value)[:200]}",
                      flush=True)
        return True


# --- the plan (the probe calls `drive`) ------------------------------------------------------


def _dist_for(site: Path, project: str) -> Path | None:
    wanted = _normal(project)
    for dist in sorted(site.glob("*.dist-info")):
        if _normal(dist.name.removesuffix(".dist-info").rsplit("-", 1)[0]) == wanted:
            return dist
    return None


def _normal(name: str) -> str:
    return "".join("-" if c in "-_." else c for c in name.lower())


def entry_points(dist: Path) -> list[tuple[str, str]]:
    """(name, module:attr) of the dist's console and GUI scripts."""
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read(dist / "entry_points.txt", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return []
    found: list[tuple[str, str]] = []
    for section in ("console_scripts", "gui_scripts"):
        if parser.has_section(section):
            found.extend((k.strip(), v.strip()) for k, v in parser.items(section))
    return found[:MAX_ENTRY_POINTS]


def _own(site: Path, project: str, modules: list[str]) -> list[str]:
    """Those of `modules` that the project's own distribution installed."""
    dist = _dist_for(site, project) if project else None
    if dist is None:
        return []
    names: list[str] = []
    top = dist / "top_level.txt"
    if top.is_file():
        names.extend(top.read_text(errors="replace").split())
    record = dist / "RECORD"
    if record.is_file():
        for line in record.read_text(errors="replace").splitlines():
            first = line.rsplit(",", 2)[0].split("/", 1)[0]
            names.append(first[:-3] if first.endswith(".py") else first)
    return [m for m in dict.fromkeys(names) if m in modules]


def own_modules(site: Path, project: str, modules: list[str]) -> list[str]:
    """`modules` with those of the project's own distribution first (its dependencies are
    installed beside it now, and the import phase has a module budget)."""
    own = _own(site, project, modules)
    return own + [m for m in modules if m not in own]


def plan(site: Path, project: str, modules: list[str]) -> list[tuple[str, list[str], float]]:
    """(label, arguments after the module name, seconds) of each run."""
    runs: list[tuple[str, list[str], float]] = [("(interpreter start)", ["start"], 15.0)]
    dist = _dist_for(site, project) if project else None
    for name, spec in entry_points(dist) if dist else []:
        runs.append((f"{name} --help", ["entry", spec, name, "--help"], ENTRY_SECONDS))
        runs.append((f"{name}", ["entry", spec, name], ENTRY_SECONDS))
    targets = (_own(site, project, modules) or modules)[:MAX_MODULES]
    if dist is not None:  # and the package's submodules, where payloads often sit
        targets = list(dict.fromkeys([*targets, *submodules(dist, targets)]))[:MAX_MODULES * 2]
    if targets:
        runs.append((WINDOWS_IMPORT_LABEL, ["windows", *targets], CALL_SECONDS * 10.0))
    for module in targets:
        runs.append((f"{module} (calls)", ["calls", module], CALL_SECONDS * 10.0))
    return runs


def submodules(dist: Path, tops: list[str]) -> list[str]:
    """Dotted names of the .py files the distribution installed under `tops`."""
    record = dist / "RECORD"
    if not record.is_file():
        return []
    found = []
    for line in record.read_text(errors="replace").splitlines():
        path = line.rsplit(",", 2)[0]
        parts = path.removesuffix(".py").split("/")
        if not path.endswith(".py") or parts[0] not in tops or len(parts) < 2:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if all(p.isidentifier() for p in parts) and not any(
                p in ("tests", "test", "testing") for p in parts):
            found.append(".".join(parts))
    return found


def worst_case_seconds() -> float:
    """The longest the execute phase can take (the host's wall clock allows for it), with
    the setup.py replay and the imports under the Windows face."""
    return 15.0 + MAX_ENTRY_POINTS * 2 * 10.0 + (2 * MAX_MODULES + 2) * CALL_SECONDS * 10.0


PHASE = "execute"
"""The probe's phase name for entry points and placeholder calls: code that runs only when
the user calls it (`Phase.RUNTIME`). The bare interpreter start stays `import`: `.pth` files
run with no call from anyone."""


def drive(traced: Callable[..., Any], python: str, site: Path, project: str,
          modules: list[str], workdir: str, job: dict[str, Any]) -> None:
    """Run the plan through the probe's `traced`: the interpreter start in phase `import`,
    the entry points and calls in phase `execute`."""
    name = __name__
    for label, args, seconds in plan(site, project, modules):
        traced("import" if args[:1] in (["start"], ["windows"]) else PHASE,
               [python, "-c", IMPORT_CODE, name, *args], seconds, workdir, job, label=label)


def _watchdog(seconds: float) -> None:
    """End this run before the probe's limit: a CLI waiting for input or a function looping
    on placeholders is not evidence, and a time-out would read as one."""
    import select
    import threading

    # A wait on a descriptor (a pipe nobody writes to), not a timer: the image's clock
    # library cuts long timer waits short, and this one must last in real time.
    quiet, _ = os.pipe()

    def expire() -> None:
        select.select([quiet], [], [], seconds)
        os._exit(0)

    threading.Thread(target=expire, daemon=True).start()


def main(argv: list[str]) -> int:
    mode, rest = (argv[0], argv[1:]) if argv else ("start", [])
    _no_input()
    _watchdog(ENTRY_SECONDS - 2 if mode == "entry" else CALLS_BUDGET + 5)
    if mode in ("setup", "windows"):
        sys.modules.pop(__name__, None)  # the package's code does not see this module by name
    # SDKs and HTTP clients read their users' configuration when called (boto3.client(),
    # httpx.get()): called with placeholders, that says nothing about the package. Their
    # standard variables point elsewhere here; code that opens the files itself is still seen.
    for name, value in SDK_CONFIG.items():
        os.environ.setdefault(name, value)
    if mode == "setup" and rest:
        signal.signal(signal.SIGALRM, _on_alarm)
        replay_setup(rest[0])
    elif mode == "windows":
        signal.signal(signal.SIGALRM, _on_alarm)
        import_windows(rest)
    elif mode == "entry" and len(rest) >= 2:
        run_entry_point(rest[0], rest[1], rest[2:])
    elif mode == "calls" and rest:
        print(json.dumps({"calls": call_all(rest[0])}))
    sys.stdout.flush()
    os._exit(0)  # what the package started may not keep this run alive or change its status


if sys.argv[1:2] == [__name__]:
    main(sys.argv[2:])
