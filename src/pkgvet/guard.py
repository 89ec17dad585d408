"""Watchdog for scans: a package that hangs, exhausts or crashes an analyzer gets a verdict.

A Python thread cannot be stopped, and a C extension (libcst's native parser, YARA, zlib)
that overflows its stack takes the whole process with it. So `isolated()` runs each scan in
a forked child: fork copies the already-imported analyzers and compiled rules, so it costs
milliseconds, not an interpreter start. The child announces each step (reading the archive,
then each analyzer) together with the result it would return if stopped there; the parent
gives every step its own time budget. A step that overruns is killed with the child, and
the parent returns the last provisional result plus a PV902 finding ("analysis evaded: ...
exceeded its time budget"); a child that dies (stack overflow, out-of-memory kill) gives a
PV906 finding the same way. Both are `high` evasion findings, so the verdict is at least
suspicious, and the result is marked partial.

Memory: the child lowers its own address-space limit (`ScanOptions.memory_limit`) so that a
runaway allocation fails inside the child (MemoryError, or a dead child) instead of pushing
the machine into swap or the OOM killer choosing a bystander. The loader's caps (see
`pkgvet.package`) keep real packages far below it; the limit only catches what they miss.

Without fork (Windows, macOS spawn), scans run in-process with the same per-analyzer
RecursionError and MemoryError handling, but no time budget.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Protocol

from pkgvet.errors import PkgvetError
from pkgvet.model import Category, Confidence, Finding, Phase, ScanResult, Severity
from pkgvet.verdict import decide

if TYPE_CHECKING:
    from pkgvet.options import ScanOptions
    from pkgvet.package import Artifact, Package

LOADING = "reading the archive"

_FORK_LOCK = threading.Lock()


class _Analyzer(Protocol):
    name: str

    def analyze(self, pkg: Package) -> Iterable[Finding]: ...


class ScanCrashed(Exception):
    """An unexpected exception inside an isolated scan (a bug); carries the child's traceback."""

    def __init__(self, message: str, child_traceback: str) -> None:
        super().__init__(message)
        self.child_traceback = child_traceback


def evasion(rule_id: str, title: str, explanation: str, path: str | None = None) -> Finding:
    return Finding(
        rule_id=rule_id,
        title=title,
        severity=Severity.HIGH,
        confidence=Confidence.MEDIUM,
        category=Category.EVASION,
        phase=Phase.ARCHIVE,
        path=path,
        line=None,
        snippet=title,
        explanation=explanation,
        analyzer="guard",
    )


def exhausted(step: str, exc: BaseException) -> Finding:
    what = "stack (nesting too deep)" if isinstance(exc, RecursionError) else "memory"
    return evasion(
        "PV906",
        f"Analysis evaded: {step} ran out of {what}",
        f"{step} gave up with {exc.__class__.__name__} on this package: input shaped to exhaust "
        "a scanner keeps code from being read. The verdict rests on the other analyzers.",
    )


def run_analyzer(analyzer: _Analyzer, pkg: Package) -> tuple[list[Finding], list[str]]:
    """One analyzer's findings and errors; its failure never reaches the caller.

    Running out of stack or memory is the input's doing (deep nesting, giant literals), so it
    is an evasion finding; any other exception is a bug and only marks the result partial."""
    step = f"analyzer '{analyzer.name}'"
    try:
        return list(analyzer.analyze(pkg)), []
    except (RecursionError, MemoryError) as exc:
        return [exhausted(step, exc)], [f"{step} ran out of resources: {exc.__class__.__name__}"]
    except Exception as exc:  # one analyzer's bug must not lose the report
        return [], [f"analyzer '{analyzer.name}' failed: {exc.__class__.__name__}: {exc}"]


# -- the child's side ------------------------------------------------------------------------


class Watch:
    """What a scan tells its watchdog; does nothing outside an isolated child."""

    step: str = LOADING

    def begin(
        self, step: str, provisional: Callable[[], ScanResult], plan: Sequence[str] = ()
    ) -> None:
        self.step = step


class _ChildWatch(Watch):
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def begin(
        self, step: str, provisional: Callable[[], ScanResult], plan: Sequence[str] = ()
    ) -> None:
        self.step = step
        self._conn.send(("step", step, provisional(), tuple(plan)))


_watch: Watch = Watch()


def watch() -> Watch:
    return _watch


Scan = Callable[["Artifact", "ScanOptions"], ScanResult]


def _limit_memory(limit: int) -> None:
    if limit <= 0:
        return
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft > limit:
            new_hard = hard if hard == resource.RLIM_INFINITY or hard >= limit else limit
            resource.setrlimit(resource.RLIMIT_AS, (limit, new_hard))
    except (ImportError, ValueError, OSError):
        pass


def _die_with_parent() -> None:
    """Linux: the kernel kills this child if the parent dies (SIGKILL, crash), so a scan stuck
    in a hostile input never outlives the pkgvet that started it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child(conn: Connection, scan: Scan, artifact: Artifact, options: ScanOptions) -> None:
    global _watch
    _die_with_parent()
    faulthandler.disable()  # a crash here is reported as PV906, not as a dump on the terminal
    child_watch = _ChildWatch(conn)
    _watch = child_watch
    _limit_memory(options.memory_limit)
    try:
        result = scan(artifact, options)
    except PkgvetError as exc:
        conn.send(("raise", exc.__class__.__name__, str(exc)))
    except (RecursionError, MemoryError) as exc:
        conn.send(("exhausted", child_watch.step, exc.__class__.__name__))
    except BaseException as exc:  # reported to the parent as a bug
        conn.send(("bug", f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
    else:
        conn.send(("done", result))
    finally:
        conn.close()


# -- the parent's side -----------------------------------------------------------------------


def _pkgvet_error(name: str, message: str) -> PkgvetError:
    from pkgvet import errors

    cls = getattr(errors, name, PkgvetError)
    if not (isinstance(cls, type) and issubclass(cls, PkgvetError)):
        cls = PkgvetError
    return cls(message)


def _abandon(
    last: ScanResult, finding: Finding, error: str, not_run: Sequence[str]
) -> ScanResult:
    findings = sorted({*last.findings, finding}, key=Finding.sort_key)
    errors = [*last.errors, error]
    if not_run:
        errors.append("not run after that: " + ", ".join(not_run))
    return replace(last, findings=tuple(findings), verdict=decide(findings), errors=tuple(errors))


def _budget(step: str, options: ScanOptions, last: ScanResult | None = None) -> float:
    """Reading has a fixed budget; an analyzer gets its base budget plus time in proportion
    to the package's size, so kubernetes or transformers are scanned in full while a small
    crafted file that makes an analyzer hang is still stopped quickly."""
    if step == LOADING:
        return options.load_seconds
    size_mib = last.stats.bytes / (1024 * 1024) if last is not None else 0.0
    return options.analyzer_seconds + options.analyzer_seconds_per_mib * size_mib


def _signal_name(exitcode: int | None) -> str:
    if exitcode is None or exitcode >= 0:
        return f"exit code {exitcode}"
    try:
        return signal.Signals(-exitcode).name
    except ValueError:
        return f"signal {-exitcode}"


def can_isolate() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def isolated(scan: Scan, artifact: Artifact, options: ScanOptions) -> ScanResult:
    """`scan(artifact, options)` in a forked child under a time budget per step.

    Returns the child's result, or the last provisional one plus an evasion finding if a step
    overran or the child died; raises the child's PkgvetError as it was."""
    if not options.isolate or not can_isolate():
        return scan(artifact, options)
    ctx = multiprocessing.get_context("fork")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(sender, scan, artifact, options), daemon=True)
    with _FORK_LOCK:
        sys.stdout.flush()
        sys.stderr.flush()
        proc.start()
    sender.close()
    step = LOADING
    last: ScanResult | None = None
    plan: tuple[str, ...] = ()
    done: list[str] = []
    deadline = time.monotonic() + _budget(step, options)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not receiver.poll(left):
                if last is None:
                    raise ScanCrashed(f"scan of {artifact.path.name} never started", "")
                budget = _budget(step, options, last)
                return _abandon(
                    last,
                    evasion(
                        "PV902",
                        f"Analysis evaded: {step} exceeded its time budget",
                        f"{step} ran past its {budget:.0f} s budget on this package and was "
                        "stopped. Input crafted to make a scanner hang keeps code from being "
                        "read; the findings before it stopped are kept.",
                    ),
                    f"{step} exceeded its time budget of {budget:.0f} s; the result is partial",
                    [p for p in plan if p != step and p not in done],
                )
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                proc.join(5)
                if last is None:
                    raise ScanCrashed(
                        f"scan of {artifact.path.name} died at start "
                        f"({_signal_name(proc.exitcode)})", ""
                    ) from None
                how = _signal_name(proc.exitcode)
                return _abandon(
                    last,
                    evasion(
                        "PV906",
                        f"Analysis evaded: {step} crashed the scanner",
                        f"The scan process died ({how}) during {step}: a stack overflow or "
                        "memory exhaustion in native code, caused by this package's content.",
                    ),
                    f"{step} crashed the scan process ({how}); the result is partial",
                    [p for p in plan if p != step and p not in done],
                )
            kind = message[0]
            if kind == "step":
                if step != LOADING:
                    done.append(step)
                _, step, last, new_plan = message
                plan = new_plan or plan
                deadline = time.monotonic() + _budget(step, options, last)
            elif kind == "done":
                result: ScanResult = message[1]
                return result
            elif kind == "raise":
                raise _pkgvet_error(message[1], message[2])
            elif kind == "exhausted":
                if last is None:
                    raise ScanCrashed(f"scan ran out of resources: {message[2]}", "")
                exc = RecursionError() if message[2] == "RecursionError" else MemoryError()
                return _abandon(
                    last,
                    exhausted(message[1], exc),
                    f"{message[1]} ran out of resources ({message[2]}); the result is partial",
                    [p for p in plan if p != message[1] and p not in done],
                )
            else:
                raise ScanCrashed(message[1], message[2])
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receiver.close()
        if hasattr(proc, "close"):
            proc.close()

