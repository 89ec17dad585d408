"""Watchdog for scans: a package that hangs, exhausts or crashes an analyzer gets a verdict.

A Python thread cannot be stopped, and a C extension (libcst's native parser, YARA, zlib)
that overflows its stack takes the whole process with it. So scans run in child processes:
the long-lived workers of `pkgvet.workers` (batches, the CLI's path) or one forked child per
call in `isolated()` (single-threaded callers: tests, the fuzz oracle). The child
(`serve_one`) announces each step (reading the archive, then each analyzer) together with
the result it would return if stopped there; the parent's `Watcher` gives every step its own
time budget. A step that overruns is killed with the child, and the parent returns the last
provisional result plus a PV902 finding ("analysis evaded: ... exceeded its time budget"); a
child that dies (stack overflow, out-of-memory kill) gives a PV906 finding the same way.
Both are `high` evasion findings, so the verdict is at least suspicious, and the result is
marked partial.

Memory: the child lowers its own address-space limit (`ScanOptions.memory_limit`) so that a
runaway allocation fails inside the child (MemoryError, or a dead child) instead of pushing
the machine into swap or the OOM killer choosing a bystander. The loader's caps (see
`pkgvet.package`) keep real packages far below it; the limit only catches what they miss.

Without fork or a forkserver (Windows), scans run in-process with the same per-analyzer
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
from typing import TYPE_CHECKING, Any, Protocol

from pkgvet import heap
from pkgvet.errors import PkgvetError
from pkgvet.model import Finding, Phase, ScanResult
from pkgvet.registry import rule
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
    """A PV902/PV906 finding (declared in rules/data/rules/scan.toml) with this scan's text."""
    return rule(rule_id).finding(
        phase=Phase.ARCHIVE, path=path, snippet=title, title=title, explanation=explanation
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


def _enter_child(options: ScanOptions) -> None:
    """What every scanning child does first: die with its parent, leave Ctrl-C to the parent
    (which stops the batch), keep crashes off the terminal, bound its memory."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.disable()  # a crash here is reported as PV906, not as a dump on the terminal
    _limit_memory(options.memory_limit)


def serve_one(conn: Connection, scan: Scan, artifact: Artifact, options: ScanOptions) -> bool:
    """Run one scan in this (child) process, reporting steps and the outcome over `conn`.

    Returns False when the process should not scan again: it ran out of stack or memory, or
    hit a bug, and may be left in a damaged state."""
    global _watch
    child_watch = _ChildWatch(conn)
    _watch = child_watch
    try:
        result = scan(artifact, options)
    except PkgvetError as exc:
        conn.send(("raise", exc.__class__.__name__, str(exc)))
        return True
    except (RecursionError, MemoryError) as exc:
        conn.send(("exhausted", child_watch.step, exc.__class__.__name__))
        return False
    except BaseException as exc:  # reported to the parent as a bug
        conn.send(("bug", f"{exc.__class__.__name__}: {exc}", traceback.format_exc()))
        return False
    finally:
        _watch = Watch()
    conn.send(("done", result))
    heap.release()  # after the answer: the parent does not wait for it
    return True


def _child(conn: Connection, scan: Scan, artifact: Artifact, options: ScanOptions) -> None:
    _enter_child(options)
    try:
        serve_one(conn, scan, artifact, options)
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


Outcome = ScanResult | PkgvetError | ScanCrashed
"""What a watched scan ends in: a result (maybe partial), the child's PkgvetError, or a bug."""


class Watcher:
    """The parent's view of one scan in a child: which step runs, its deadline, and the
    result to give if the child is stopped or dies there.

    Fed with the child's messages (`receive`), it answers the outcome once the scan ended;
    `overran` and `died` give the outcome when the parent stops the child or finds it gone.
    Used by `isolated()` (one forked child per scan) and by `pkgvet.workers` (long-lived
    workers, one scan after another)."""

    def __init__(self, artifact: Artifact, options: ScanOptions) -> None:
        self.artifact = artifact
        self.options = options
        self.step = LOADING
        self.last: ScanResult | None = None
        self.plan: tuple[str, ...] = ()
        self.done: list[str] = []
        self.deadline = time.monotonic() + _budget(LOADING, options)

    def _not_run(self, step: str) -> list[str]:
        return [p for p in self.plan if p != step and p not in self.done]

    def receive(self, message: tuple[Any, ...]) -> Outcome | None:
        """None while the scan goes on; the outcome when this message ended it."""
        kind = message[0]
        if kind == "step":
            if self.step != LOADING:
                self.done.append(self.step)
            _, step, last, new_plan = message
            self.step, self.last = str(step), last
            self.plan = tuple(new_plan) or self.plan
            self.deadline = time.monotonic() + _budget(step, self.options, last)
            return None
        if kind == "done":
            result: ScanResult = message[1]
            return result
        if kind == "raise":
            return _pkgvet_error(str(message[1]), str(message[2]))
        if kind == "exhausted":
            step, what = str(message[1]), str(message[2])
            if self.last is None:
                return ScanCrashed(f"scan ran out of resources: {what}", "")
            exc = RecursionError() if what == "RecursionError" else MemoryError()
            return _abandon(
                self.last,
                exhausted(step, exc),
                f"{step} ran out of resources ({what}); the result is partial",
                self._not_run(step),
            )
        return ScanCrashed(str(message[1]), str(message[2]))

    def overran(self) -> Outcome:
        """The current step ran past its deadline and the child was stopped."""
        if self.last is None:
            return ScanCrashed(f"scan of {self.artifact.path.name} never started", "")
        step = self.step
        budget = _budget(step, self.options, self.last)
        return _abandon(
            self.last,
            evasion(
                "PV902",
                f"Analysis evaded: {step} exceeded its time budget",
                f"{step} ran past its {budget:.0f} s budget on this package and was "
                "stopped. Input crafted to make a scanner hang keeps code from being "
                "read; the findings before it stopped are kept.",
            ),
            f"{step} exceeded its time budget of {budget:.0f} s; the result is partial",
            self._not_run(step),
        )

    def died(self, exitcode: int | None) -> Outcome:
        """The child went away (a signal, a native crash) before it reported an outcome."""
        how = _signal_name(exitcode)
        if self.last is None:
            return ScanCrashed(f"scan of {self.artifact.path.name} died at start ({how})", "")
        step = self.step
        return _abandon(
            self.last,
            evasion(
                "PV906",
                f"Analysis evaded: {step} crashed the scanner",
                f"The scan process died ({how}) during {step}: a stack overflow or "
                "memory exhaustion in native code, caused by this package's content.",
            ),
            f"{step} crashed the scan process ({how}); the result is partial",
            self._not_run(step),
        )


def _settle(outcome: Outcome) -> ScanResult:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def isolated(scan: Scan, artifact: Artifact, options: ScanOptions) -> ScanResult:
    """`scan(artifact, options)` in a forked child under a time budget per step.

    One child per call, forked from the caller: for a single-threaded caller (tests, the
    fuzz oracle). Batches go through `pkgvet.workers`, whose workers never fork from a
    threaded process. Returns the child's result, or the last provisional one plus an
    evasion finding if a step overran or the child died; raises the child's PkgvetError."""
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
    watcher = Watcher(artifact, options)
    try:
        while True:
            left = watcher.deadline - time.monotonic()
            if left <= 0 or not receiver.poll(left):
                return _settle(watcher.overran())
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                proc.join(5)
                return _settle(watcher.died(proc.exitcode))
            outcome = watcher.receive(message)
            if outcome is not None:
                return _settle(outcome)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
        receiver.close()
        if hasattr(proc, "close"):
            proc.close()
