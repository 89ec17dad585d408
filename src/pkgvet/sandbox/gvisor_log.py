"""Read gVisor's strace log (written by runsc on the host) into the probe's fact records.

Under gVisor the package's system calls are recorded by the sandbox kernel itself and written
to a file on the host: nothing inside the container can see, slow, stop or forge that record.
This module finds the log of one container (its boot log names the container id), turns each
traced call into the same `syscall` facts the probe makes from strace under runc, and says
when the record is not whole (a log that ends before the sandbox did, lines that do not parse).

Which process belongs to which phase comes from the probe's `spawned` records (the pid of each
phase's first process) and from the process tree the log itself shows (`clone`, `fork`).
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pkgvet.sandbox import probe

_LINE = re.compile(
    r"^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d\.\d+)\s+\d+ strace\.go:\d+\] "
    r"\[\s*(\d+):\s*(\d+)\] (.*?) ([EX]) ([a-z_0-9]+)\((.*)$", re.S)
_RETURN = re.compile(r"^(.*)\) = (-?\d+) \((0x[0-9a-f]+)\)(?: errno=(\d+) \(([^)]*)\))?"
                     r"(?: \(([0-9.]+[a-zµ]+(?:[0-9.]+[a-zµ]+)*)\))?$", re.S)
_ADDR = re.compile(r"\{Family: (AF_\w+), Addr: (\"(?:[^\"\\]|\\.)*\"|[^,}]*)(?:, Port: (\d+))?")
_PATH_ARG = re.compile(r"^0x[0-9a-f]+ (.*)$", re.S)
_DIRFD = re.compile(r"^(AT_FDCWD|0x[0-9a-f]+) (.*?), (0x[0-9a-f]+ .*)$", re.S)
_SECONDS = re.compile(r"\{sec=(\d+) (n|u)sec=(\d+)\}")
_DURATION = re.compile(r"([0-9.]+)(ms|µs|us|ns|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}
_EXIT = re.compile(r"Exiting with status: (\d+)")
_PANIC = re.compile(r"^(?:panic|fatal error): (.*)$")
_STUB_KILLED = re.compile(r"ptrace stub process \d+ has been killed by SIGKILL")
CRASH_PIDS = "pids"
CRASH_MEMORY = "memory"
OPENAT2 = "sys_437"
"""gVisor 2022 does not know openat2: a call to it is logged under its number."""
HEAD_BYTES = 8192


def go_duration(text: str) -> float:
    return sum(float(v) * _UNITS[u] for v, u in _DURATION.findall(text))


def find_log(folder: Path, container_id: str, since: float) -> Path | None:
    """The boot log of `container_id` in runsc's --debug-log folder (written after `since`)."""
    for path in sorted(folder.glob("runsc.log.*boot*"), key=lambda p: p.stat().st_mtime,
                       reverse=True):
        try:
            if path.stat().st_mtime + 5 < since:
                continue
            with path.open("rb") as fh:
                head = fh.read(HEAD_BYTES)
        except OSError:
            continue
        if container_id.encode() in head:
            return path
    return None


def _split_top(args: str) -> list[str]:
    """Arguments split on top-level commas (not inside [], {} or quotes)."""
    parts, depth, quoted, escape, current = [], 0, False, False, []
    for ch in args:
        if quoted:
            current.append(ch)
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    parts.append("".join(current).strip())
    return parts


def _path(arg: str) -> str:
    m = _PATH_ARG.match(arg)
    return m.group(1) if m else ""


def _sockaddr(args: str) -> dict[str, Any]:
    m = _ADDR.search(args)
    if not m:
        return {"family": "", "address": ""}
    family, address, port = m.groups()
    if family == "AF_UNIX":
        return {"family": "unix", "address": probe.unescape(address.strip('"'))}
    name = {"AF_INET": "inet", "AF_INET6": "inet6"}.get(family, family.lower())
    return {"family": name, "address": address.strip(), "port": int(port or 0)}


def _int(text: str) -> int | None:
    try:
        value = int(text.strip(), 0)
    except ValueError:
        return None
    return value - 2**64 if value >= 2**63 else value


@dataclass
class Call:
    pid: int
    tid: int
    name: str
    args: str
    when: float
    value: int | None = None
    errno: str = ""
    elapsed: float | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None and self.value >= 0 and not self.errno


def fact(call: Call, mono_at: float | None,
         reads_under: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The probe-shaped fact for one finished (or cut) call, or None."""
    name, args, ok = call.name, call.args, call.ok
    errno = call.errno
    parts = _split_top(args)
    if name in ("execve", "execveat"):
        if name == "execve":
            path = _path(parts[0]) if parts else ""
            argv_arg = parts[1] if len(parts) > 1 else ""
        else:
            m = _DIRFD.match(args)
            rest = _split_top(m.group(3)) if m else parts[1:]
            path = _path(rest[0]) if rest else ""
            if not path and m:
                path = m.group(2) or "(file descriptor)"
            argv_arg = rest[1] if len(rest) > 1 else ""
        return {"call": name, "path": probe.normalise(path) if path.startswith("/") else path,
                "argv": probe._argv(argv_arg), "ok": ok, "errno": errno}
    if name in ("connect", "sendto", "sendmsg", "sendmmsg"):
        out: dict[str, Any] = {"call": name, **_sockaddr(args), "ok": ok}
        if name == "connect":
            out["errno"] = errno
        else:
            out["data"] = []
        return out
    if name in ("open", "openat", "creat", OPENAT2):
        return _open(name, args, parts, ok, errno, reads_under)
    if name in probe.SLEEPS:
        if not probe.pure_wait(name, args) or (call.elapsed or 0.0) < probe.SLEEP_REPORTED:
            return None
        wanted = _requested(name, parts, mono_at)
        out = {"call": "wait", "syscall": name, "requested": wanted, "elapsed": call.elapsed,
               "ok": ok}
        if call.errno:  # interrupted: the kill at the time limit, or a signal
            out["unfinished"] = True
        return out
    if name in probe.UNUSUAL:
        return {"call": name, "args": args[:200], "ok": ok, "errno": errno}
    if name in ("rename", "renameat", "renameat2", "symlink", "symlinkat", "link", "linkat"):
        return _move(name, args, parts, ok, errno)
    if name in ("mkdir", "mkdirat", "chmod", "fchmodat"):
        if name.endswith("at"):
            m = _DIRFD.match(args)
            base, rest = (m.group(2), _split_top(m.group(3))) if m else ("", parts[1:])
        else:
            base, rest = "", parts
        path = _path(rest[0]) if rest else ""
        if not path:
            return None
        return {"call": name, "path": probe.normalise(path, base), "mode": rest[-1] if rest else "",
                "ok": ok, "errno": errno}
    return None


def _open(name: str, args: str, parts: list[str], ok: bool, errno: str,
          reads_under: tuple[str, ...]) -> dict[str, Any] | None:
    if name == OPENAT2:
        return {"call": "open", "path": "(openat2: path not decoded)", "write": False,
                "ok": ok, "errno": errno, "via": "openat2"}
    base = ""
    if name == "openat":
        m = _DIRFD.match(args)
        if not m:
            return None
        base, rest = m.group(2), _split_top(m.group(3))
    else:
        rest = parts
    if not rest:
        return None
    # The path is printed unquoted, so a comma in it splits it: flags and mode are the last two.
    tail = rest[-2:] if name != "creat" else rest[-1:]
    head = rest[: len(rest) - len(tail)]
    path = _path(", ".join(head))
    flags = tail[0] if name != "creat" else ""
    write = name == "creat" or any(flag in flags for flag in probe.WRITE_FLAGS)
    path = probe.normalise(path, base)
    if not write and not path.startswith(reads_under):
        return None
    return {"call": "open", "path": path, "write": write, "ok": ok, "errno": errno}


def _move(name: str, args: str, parts: list[str], ok: bool, errno: str) -> dict[str, Any] | None:
    paths: list[str] = []
    bases: list[str] = []
    pending_base = ""
    for part in parts:
        m = re.match(r"^(AT_FDCWD|0x[0-9a-f]+) (/.*)$", part)
        if m and not _PATH_ARG.match(part):
            pending_base = m.group(2)
            continue
        p = _path(part)
        if p:
            paths.append(p)
            bases.append(pending_base)
            pending_base = ""
    if not paths:
        return None
    source = paths[0] if name.startswith("symlink") else probe.normalise(paths[0], bases[0])
    return {"call": name, "path": probe.normalise(paths[-1], bases[-1]), "source": source,
            "ok": ok, "errno": errno}


def _requested(name: str, parts: list[str], mono_at: float | None) -> float | None:
    joined = ", ".join(parts)
    m = _SECONDS.search(joined)
    if name in ("poll", "ppoll") and not m:
        value = _int(parts[-1]) if parts else None
        if value is None or value < 0 or value >= 2**31:
            return None
        return value / 1000
    if not m:
        return None
    seconds = int(m.group(1)) + int(m.group(3)) / (1e9 if m.group(2) == "n" else 1e6)
    if name == "clock_nanosleep" and len(parts) > 1 and (_int(parts[1]) or 0) & 1:
        if mono_at is None:
            return None
        return max(0.0, seconds - mono_at)
    return seconds


@dataclass
class Reading:
    """What one log amounted to."""

    records: list[dict[str, Any]] = field(default_factory=list)
    unparsed: int = 0
    exit_status: int | None = None
    lines: int = 0
    openat2_calls: int = 0
    crash: str = ""
    """Why the sandbox kernel itself stopped: `pids` (its host threads and ptrace stubs hit
    the process limit: a fork storm), `memory` (the host's OOM killer took a stub: memory
    exhaustion) or gVisor's own panic message."""


class Reader:
    """Streams one runsc boot log into fact records attributed to the probe's phases."""

    def __init__(self, spawned: Iterable[dict[str, Any]], budget: int,
                 reads_under: tuple[str, ...], storm: int = 256) -> None:
        self.storm = storm
        self.roots: dict[int, tuple[str, str, float | None]] = {}
        for record in spawned:
            self.roots[int(record["pid"])] = (str(record.get("phase")), str(record.get("label")),
                                              record.get("mono"))
        self.parent: dict[int, int] = {}
        self.pending: dict[int, Call] = {}
        self.first_seen: dict[int, float] = {}
        self.budget = budget
        self.facts: dict[tuple[str, str], probe.Facts] = {}
        self.reading = Reading()
        self.year = time.gmtime().tm_year
        self.reads_under = reads_under
        self.trees: dict[tuple[str, str], probe.ProcessTree] = {}
        self.early_exec: set[int] = set()
        self.early_exit: set[int] = set()
        """Processes whose parent's fork has not returned yet (a vfork's child runs first)."""

    def root_of(self, pid: int) -> int | None:
        seen = 0
        while pid not in self.roots and pid in self.parent and seen < 4096:
            pid = self.parent[pid]
            seen += 1
        return pid if pid in self.roots else None

    def _when(self, m: re.Match[str]) -> float:
        month, day, hours, minutes, seconds = m.group(1, 2, 3, 4, 5)
        return calendar.timegm((self.year, int(month), int(day), int(hours), int(minutes), 0,
                                0, 0, 0)) + float(seconds)

    def feed(self, line: str) -> None:
        self.reading.lines += 1
        if "strace.go" not in line:
            self.sandbox_line(line)
            return
        m = _LINE.match(line.rstrip("\n"))
        if not m:
            self.reading.unparsed += 1
            return
        pid, tid = int(m.group(6)), int(m.group(7))
        kind, name, rest = m.group(9), m.group(10), m.group(11)
        when = self._when(m)
        if kind == "E":
            self.pending[tid] = Call(pid, tid, name, rest.rstrip(")").rstrip()
                                     if rest.endswith(")") else rest, when)
            if name == "exit_group":
                self.pending.pop(tid, None)
                tree = self.tree_of(pid)
                if tree is not None:
                    tree.ended(pid)
                else:
                    self.early_exit.add(pid)
            return
        r = _RETURN.match(rest)
        if not r:
            self.reading.unparsed += 1
            return
        entered = self.pending.pop(tid, None)
        if entered is not None and entered.name == name:
            when = entered.when  # a call's time is when it started
        call = Call(pid, tid, name, r.group(1), when, _int(r.group(2)),
                    r.group(5) or ("" if r.group(4) is None else f"errno {r.group(4)}"),
                    go_duration(r.group(6)) if r.group(6) else None)
        if call.errno and call.value == 0:
            call.value = -1
        self.finished(call)

    def sandbox_line(self, line: str) -> None:
        """gVisor's own lines: how the sandbox ended."""
        ended = _EXIT.search(line)
        if ended and "main.go" in line:
            self.reading.exit_status = int(ended.group(1))
            return
        if _STUB_KILLED.search(line) and not self.reading.crash:
            self.reading.crash = CRASH_MEMORY
            return
        panic = _PANIC.match(line)
        if panic and self.reading.crash in ("", CRASH_MEMORY):
            text = panic.group(1).strip()
            self.reading.crash = CRASH_PIDS if "resource temporarily unavailable" in text \
                else (self.reading.crash or text[:200])

    def tree_of(self, pid: int) -> probe.ProcessTree | None:
        root = self.root_of(pid)
        if root is None:
            return None
        phase, label, _ = self.roots[root]
        return self.trees.setdefault((phase, label), probe.ProcessTree())

    def finished(self, call: Call) -> None:
        if call.name in probe.FORKS:
            tree = self.tree_of(call.pid)
            if call.value and call.value > 0:
                self.parent[call.value] = call.pid
                if tree is not None and not probe.is_thread(call.args):
                    # a vfork's child runs its program (or ends) before the parent returns
                    if call.value in self.early_exec:
                        tree.ran(call.value)
                    if call.value in self.early_exit:
                        tree.ended(call.value)
                    tree.born(call.pid, call.value)
                self.early_exec.discard(call.value)
                self.early_exit.discard(call.value)
            elif tree is not None and ("temporarily unavailable" in call.errno
                                       or call.errno == "EAGAIN"):
                tree.refused()
            return
        if call.name in ("execve", "execveat") and call.ok:
            tree = self.tree_of(call.pid)
            if tree is not None:
                tree.ran(call.pid)
            else:
                self.early_exec.add(call.pid)
        if call.name == "exit_group":
            return
        if call.name == OPENAT2:
            self.reading.openat2_calls += 1
        root = self.root_of(call.pid)
        if root is None:
            return  # the probe's own calls, or its housekeeping
        phase, label, mono = self.roots[root]
        first = self.first_seen.setdefault(root, call.when)
        mono_at = None if mono is None else float(mono) + (call.when - first)
        found = fact(call, mono_at, self.reads_under)
        if found is None:
            return
        facts = self.facts.get((phase, label))
        if facts is None:
            facts = self.facts[(phase, label)] = probe.Facts(phase, self.budget, self._collect)
        facts.add(call.pid, found)

    def _collect(self, kind: str, **fields: Any) -> None:
        self.reading.records.append({"type": kind, **fields})

    def close(self, end: float | None) -> Reading:
        """Calls still running when the log ended (a sleep cut by the kill) are facts too.
        A log cut off after more processes than the sandbox allows is a fork storm that
        took the sandbox kernel down with it."""
        if self.reading.exit_status is None and not self.reading.crash and \
                len(self.parent) >= self.storm:
            self.reading.crash = CRASH_PIDS
        for (phase, label), tree in self.trees.items():
            self.reading.records.append({"type": "process_tree", "phase": phase, "label": label,
                                         **tree.summary()})
        for call in list(self.pending.values()):
            if call.name in probe.SLEEPS and end is not None:
                call.elapsed = max(0.0, end - call.when)
                call.errno = "unfinished"
                self.finished(call)
        self.pending.clear()
        return self.reading


def lines(path: Path) -> Iterator[str]:
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        yield from fh


def read(path: Path, spawned: Iterable[dict[str, Any]], budget: int,
         reads_under: tuple[str, ...], storm: int = 256) -> Reading:
    reader = Reader(spawned, budget, reads_under, storm)
    last: float | None = None
    for line in lines(path):
        reader.feed(line)
        m = re.match(r"^[IWEF](\d\d)(\d\d) (\d\d):(\d\d):(\d\d\.\d+)", line)
        if m:
            last = reader._when(m)
    return reader.close(last)
