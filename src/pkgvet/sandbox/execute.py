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
import importlib
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
    """The longest the execute phase can take (the host's wall clock allows for it)."""
    return 15.0 + MAX_ENTRY_POINTS * 2 * 10.0 + 2 * MAX_MODULES * CALL_SECONDS * 10.0


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
        traced("import" if args[:1] == ["start"] else PHASE,
               [python, "-c", IMPORT_CODE, name, *args], seconds, workdir, job, label=label)


def _watchdog(seconds: float) -> None:
    """End this run before the probe's limit: a CLI waiting for input or a function looping
    on placeholders is not evidence, and a time-out would read as one."""
    import threading

    timer = threading.Timer(seconds, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


def main(argv: list[str]) -> int:
    mode, rest = (argv[0], argv[1:]) if argv else ("start", [])
    _no_input()
    _watchdog(ENTRY_SECONDS - 2 if mode == "entry" else CALLS_BUDGET + 5)
    # SDKs and HTTP clients read their users' configuration when called (boto3.client(),
    # httpx.get()): called with placeholders, that says nothing about the package. Their
    # standard variables point elsewhere here; code that opens the files itself is still seen.
    for name, value in SDK_CONFIG.items():
        os.environ.setdefault(name, value)
    if mode == "entry" and len(rest) >= 2:
        run_entry_point(rest[0], rest[1], rest[2:])
    elif mode == "calls" and rest:
        print(json.dumps({"calls": call_all(rest[0])}))
    sys.stdout.flush()
    os._exit(0)  # what the package started may not keep this run alive or change its status


if sys.argv[1:2] == [__name__]:
    main(sys.argv[2:])
