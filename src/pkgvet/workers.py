"""Long-lived scan workers that never fork from a threaded process.

A batch is scanned by `jobs` worker processes, each scanning one file after another under
the watchdog of `pkgvet.guard`: every step (reading the archive, each analyzer) has its own
time budget, a step that overruns costs its worker (killed, replaced) and gives the file a
PV902 finding, a worker that dies in native code gives PV906. A crash costs one file, not
the batch.

Why not fork per file: pkgvet's parent process runs threads (index look-ups, downloads) and
holds SQLite connections (the result cache). A child forked from a threaded parent inherits
every lock some other thread held at that instant, and can wait on it forever (seen as a
stuck child in `futex_wait`). So workers come from multiprocessing's *forkserver*: a small
single-threaded process started once (by fork+exec, which is safe from any parent) that
imports the analyzers and compiles the YARA rules once (`pkgvet._preload`), then forks each
worker from that clean state. Workers are recycled after `MAX_TASKS` files and after any
hang or crash.

Stopping: the parent waits on its workers' pipes with a timeout, so Ctrl-C or SIGTERM
(turned into KeyboardInterrupt by the CLI) interrupts it at once; on the way out every worker
is killed. Should the parent die without that (SIGKILL), the forkserver sees its pipe close
and exits, and each worker is killed by the kernel when the forkserver goes
(PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
import traceback
import types
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import Pipe, forkserver, get_context, popen_forkserver
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

from pkgvet import guard, heap
from pkgvet.errors import PkgvetError
from pkgvet.model import ScanResult

if TYPE_CHECKING:
    from pkgvet.options import ScanOptions
    from pkgvet.package import Artifact

MAX_TASKS = 50
"""Files one worker scans before it is replaced (memory an analyzer may hold on to)."""
STOP_SECONDS = 1.0
"""How long an idle worker may take to leave at the end of a batch before it is killed."""
PRELOAD = ["pkgvet._preload"]

Warm = Callable[["ScanOptions"], object]


def start_method() -> str | None:
    """'forkserver' where it exists (Linux, macOS); None: scan in this process."""
    import multiprocessing

    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None


_started_in: int | None = None
"""The pid of the process that started the forkserver."""


def _ensure_server() -> None:
    """The forkserver, started once per process with the analyzers preloaded. It runs with
    PYTHONSAFEPATH so that it never imports a module from the current folder, which may be
    the package being vetted. A process forked from the one that started it shares it (its
    socket and alive pipe are inherited), so it is not started again there."""
    global _started_in
    if _started_in is not None:
        return
    get_context("forkserver").set_forkserver_preload(PRELOAD)
    saved = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        forkserver.ensure_running()
    finally:
        if saved is None:
            os.environ.pop("PYTHONSAFEPATH", None)
        else:
            os.environ["PYTHONSAFEPATH"] = saved
    _started_in = os.getpid()


@contextlib.contextmanager
def _without_main() -> Iterator[None]:
    """multiprocessing makes every new process re-run the parent's main script (to find
    functions defined there). Workers need nothing from it, and re-running a caller's script
    that lacks an `if __name__ == "__main__"` guard would start another batch; so the
    workers are described as if the main module had no file."""
    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


class _Popen(popen_forkserver.Popen):
    def _launch(self, process_obj: BaseProcess) -> None:
        with _without_main():
            super()._launch(process_obj)  # type: ignore[misc]


class _WorkerProcess(BaseProcess):
    _start_method = "forkserver"

    @staticmethod
    def _Popen(process_obj: BaseProcess) -> _Popen:
        return _Popen(process_obj)


def warm_up() -> None:
    """Start the forkserver now (it preloads while the caller resolves targets)."""
    if start_method() is not None:
        _ensure_server()


def _serve(conn: Connection, scan: guard.Scan, warm: Warm, options: ScanOptions) -> None:
    """A worker: scans the artifacts the parent sends until told to stop or left alone.
    If the analyzers cannot be built (a `--rules` file that does not compile), every file
    is answered with that error, as the scan itself would have raised it."""
    guard._enter_child(options)
    failure: tuple[str, str, str] | None = None
    try:
        warm(options)
        heap.freeze()
    except PkgvetError as exc:
        failure = ("raise", exc.__class__.__name__, str(exc))
    except Exception as exc:
        failure = ("bug", f"{exc.__class__.__name__}: {exc}", traceback.format_exc())
    try:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            if message[0] != "scan":
                return
            if failure is not None:
                conn.send(failure)
            elif not guard.serve_one(conn, scan, message[1], options):
                return
    finally:
        conn.close()


@dataclass(slots=True)
class _Worker:
    proc: BaseProcess
    conn: Connection
    tasks: int = 0
    index: int = -1
    watcher: guard.Watcher | None = None

    def stop(self, *, force: bool) -> None:
        try:
            self.conn.close()
            if not force:
                self.proc.join(STOP_SECONDS)
        finally:
            if self.proc.is_alive():
                self.proc.kill()
            self.proc.join()
            self.proc.close()


@dataclass(slots=True)
class ScanPool:
    """`jobs` watched workers for one batch; use as a context manager."""

    scan: guard.Scan
    warm: Warm
    options: ScanOptions
    jobs: int
    max_tasks: int = MAX_TASKS
    _workers: list[_Worker] = field(default_factory=list)

    def __enter__(self) -> ScanPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(force=exc[0] is not None)

    def close(self, *, force: bool = True) -> None:
        """Stop every worker; `force` (on an error or an interrupt) kills them at once."""
        workers, self._workers = self._workers, []
        for worker in workers:
            if worker.watcher is not None or force:
                worker.proc.kill()
        for worker in workers:
            worker.stop(force=force or worker.watcher is not None)

    def _start(self) -> _Worker:
        _ensure_server()
        parent, child = Pipe(duplex=True)
        proc = _WorkerProcess(
            target=_serve, args=(child, self.scan, self.warm, self.options), daemon=True
        )
        proc.start()
        child.close()
        worker = _Worker(proc, parent)
        self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker, *, force: bool) -> None:
        self._workers.remove(worker)
        if force:
            worker.proc.kill()
        worker.stop(force=force)

    def _assign(self, worker: _Worker, index: int, artifact: Artifact) -> None:
        worker.index = index
        worker.watcher = guard.Watcher(artifact, self.options)
        with contextlib.suppress(OSError):  # a worker gone answers EOF on the next wait
            worker.conn.send(("scan", artifact))

    def run(self, artifacts: Sequence[Artifact]) -> Iterator[tuple[int, guard.Outcome]]:
        """(index, outcome) for every artifact, in the order the scans end. The largest files
        go first (`largest_first`)."""
        pending = deque(largest_first(artifacts))
        while pending or any(w.watcher is not None for w in self._workers):
            while pending:
                idle = next((w for w in self._workers if w.watcher is None), None)
                if idle is None and len(self._workers) < self.jobs:
                    idle = self._start()
                if idle is None:
                    break
                self._assign(idle, *pending.popleft())
            busy = [w for w in self._workers if w.watcher is not None]
            now = time.monotonic()
            timeout = max(0.0, min(w.watcher.deadline for w in busy if w.watcher) - now)
            ready = wait([w.conn for w in busy], timeout=timeout)
            for worker in busy:
                watcher = worker.watcher
                assert watcher is not None
                outcome: guard.Outcome | None = None
                crashed = False
                if worker.conn in ready:
                    try:
                        outcome = watcher.receive(worker.conn.recv())
                    except (EOFError, OSError):
                        worker.proc.join(5)
                        outcome, crashed = watcher.died(worker.proc.exitcode), True
                    if isinstance(outcome, guard.ScanCrashed):
                        crashed = True
                elif time.monotonic() >= watcher.deadline:
                    outcome, crashed = watcher.overran(), True
                if outcome is None:
                    continue
                index = worker.index
                worker.watcher, worker.index = None, -1
                worker.tasks += 1
                if crashed or _spent(outcome) or worker.tasks >= self.max_tasks:
                    self._retire(worker, force=crashed)
                yield index, outcome


def largest_first(artifacts: Sequence[Artifact]) -> list[tuple[int, Artifact]]:
    """(index, artifact) with the largest files first, ties in the given order. A file's scan
    time grows with its size, and a batch ends when its last scan does: with the large files
    last, one worker is still on a 20-second package while the others sit idle; with them
    first, the small ones fill the gaps (longest processing time first). A file that cannot
    be sized (a folder, a file gone) counts as small; its scan reports what is wrong."""

    def size(artifact: Artifact) -> int:
        try:
            found = artifact.path.stat()
        except OSError:
            return 0
        return found.st_size if stat.S_ISREG(found.st_mode) else 0

    sizes = [size(a) for a in artifacts]
    return sorted(enumerate(artifacts), key=lambda pair: -sizes[pair[0]])


def _spent(outcome: guard.Outcome) -> bool:
    """A worker that ran out of stack or memory is not trusted with another file."""
    return isinstance(outcome, ScanResult) and any(
        f.rule_id == "PV906" and f.analyzer == "guard" for f in outcome.findings
    )
