"""The sandbox probe: runs as PID 1 inside the sandbox container, never on the host.

Standard library only (it runs on the image's own Python 3.11). It plants honeytokens, makes
the container's `eth0` whose far end is itself (netsink, from the job) and starts DNS and TCP
sinks on loopback (nothing leaves the container), installs the package with pip,
imports each top-level module it installed, and prints what happened as JSON lines on stdout.
It reports facts only: deciding what is noise and what is a finding is the host's job
(`pkgvet.sandbox.observe`), where the code is typed and tested.

Who observes the system calls depends on the runtime (`job["tracer"]`):
- `host` (gVisor): runsc writes every traced call to a log on the host; the probe only runs
  the phases and says which process belongs to which phase (`spawned` records).
- `strace` (runc): the probe runs `strace -f` and reads its output from a FIFO in a folder
  only root can enter; strace opens it close-on-exec, so no traced process holds it.

Either way the probe runs as root (with only SETUID, SETGID, KILL, SYS_PTRACE and
DAC_READ_SEARCH) and everything the package runs as the sandbox user, without capabilities
and without any of the probe's descriptors: the package can neither write to the probe's
report channel (`/proc/1/fd/1`), nor trace or read PID 1, nor stop it quietly.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pwd
import re
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

JOB_FILE = "/pkgvet/job.json"
VENV = "/tmp/venv"
SANDBOX_UID = 10001
TRACED = (
    "execve,execveat,connect,sendto,sendmsg,sendmmsg,open,openat,openat2,creat,rename,renameat,"
    "renameat2,mkdir,mkdirat,symlink,symlinkat,link,linkat,chmod,fchmodat,memfd_create,ptrace,"
    "process_vm_writev,process_vm_readv,io_uring_setup,io_uring_enter,io_uring_register,"
    "nanosleep,clock_nanosleep,select,pselect6,poll,ppoll,clone,clone3,fork,vfork"
)
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
SLEEPS = ("nanosleep", "clock_nanosleep", "select", "pselect6", "poll", "ppoll")
SLEEP_REPORTED = 3.0
"""Waits that lasted at least this long (seconds) are reported; shorter ones are ordinary."""
UNUSUAL = ("ptrace", "process_vm_writev", "process_vm_readv", "io_uring_setup",
           "io_uring_enter", "io_uring_register", "memfd_create")
LINGER_GRACE = 3.0
READS_UNDER: tuple[str, ...] = ()
"""Reads are reported only under these prefixes (the home and the job's sensitive paths);
the thousands of reads an install makes elsewhere are not evidence of anything."""
SINK_BYTES = 4096
OFFLINE_MARKERS = ("No matching distribution found", "Could not find a version that satisfies")
ENVIRONMENT_MARKERS = ("ModuleNotFoundError", "ImportError", "No module named")
"""A setup.py that imports what its isolated build environment lacks (persona retry)."""
PROGRAM_ROOTS = ("/tmp", "/dev/shm", "/var/tmp", "/run/user")
"""Writable places where a package can put a program of its own (with the home)."""
IMAGE_BIN = ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/lib/gcc",
             "/usr/libexec")

_lock = threading.Lock()
_out: TextIO = sys.stdout
_count = 0


def emit(kind: str, **fields: Any) -> None:
    global _count
    with _lock:
        _count += 1
        _out.write(json.dumps({"type": kind, **fields}) + "\n")
        _out.flush()


# --- paths ------------------------------------------------------------------------------

_PROC_ROOT = re.compile(r"^/proc/(?:self|thread-self|\d+)/root(?=/|$)")


def normalise(path: str, base: str = "") -> str:
    """An absolute, normalised path: `..`, `.`, `//` and `/proc/<pid>/root` folded away,
    relative paths joined to their directory (`base`)."""
    if not path:
        return path
    if not path.startswith("/"):
        if not base:
            return path
        path = base.rstrip("/") + "/" + path
    folded = os.path.normpath(path)
    folded = "/" + folded.lstrip("/")
    while _PROC_ROOT.match(folded):
        folded = _PROC_ROOT.sub("", folded, count=1) or "/"
    return folded


# --- strace lines -----------------------------------------------------------------------

_LINE = re.compile(r"^(\d+)\s+(?:(\d+\.\d+)\s+)?(.*)$")
_CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(.*)$", re.S)
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"(\.\.\.)?')
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)")
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "a": "\a", "b": "\b"}
_DECORATED = re.compile(r"<([^<>]*)>")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_ADDR4 = re.compile(r'sin_addr=inet_addr\("([^"]+)"\)')
_ADDR6 = re.compile(r'inet_pton\(AF_INET6,\s*"([^"]+)"')
_UNIX = re.compile(r'sun_path=(@?)"((?:[^"\\]|\\.)*)"')
_EXITED = re.compile(r"^\+\+\+ (exited with (\d+)|killed by (\w+)).*\+\+\+$")
_ELAPSED = re.compile(r"\s*<(\d+(?:\.\d+)?)>$")
_SECONDS = re.compile(r"tv_sec=(\d+),\s*tv_nsec=(\d+)")


def unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] == "x" and len(code) == 3:
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8))
        return _SIMPLE.get(code, code)

    return _ESCAPE.sub(one, text)


def strings(args: str) -> list[str]:
    return [unescape(m.group(1)) + ("..." if m.group(2) else "") for m in _STRING.finditer(args)]


def _argv(args: str) -> list[str]:
    start, end = args.find("["), args.rfind("]")
    if start < 0 or end < start:
        return []
    return strings(args[start + 1 : end])


def _result(ret: str) -> tuple[int, str, str]:
    """(value, errno name, decorated path) of a return value like `3</etc/hosts>`."""
    parts = ret.split()
    value = -1
    if parts:
        head = parts[0].split("<", 1)[0]
        try:
            value = int(head, 0)
        except ValueError:
            value = -1
    errno = parts[1] if value < 0 and len(parts) > 1 else ""
    decorated = _DECORATED.search(parts[0]) if parts else None
    return value, errno, decorated.group(1) if decorated else ""


def _dirfd(arg: str) -> str:
    m = _DECORATED.search(arg)
    return m.group(1) if m else ""


def pure_wait(name: str, args: str) -> bool:
    """A sleep, or a select/poll on no descriptor at all (a sleep in disguise); waits on
    descriptors (pip reading its child's output) are not outwaiting."""
    if name in ("nanosleep", "clock_nanosleep"):
        return True
    parts = [p.strip() for p in args.split(",")]
    if name in ("select", "pselect6"):
        return bool(parts) and parts[0] in ("0", "0x0")
    if name in ("poll", "ppoll"):
        return len(parts) > 1 and parts[1] in ("0", "0x0")
    return False


def requested_wait(name: str, args: str, now: float) -> float | None:
    """Seconds a wait call asked for (an absolute deadline is turned into a length with the
    monotonic clock `now`), or None when it waits without a limit or says nothing."""
    if name in ("poll", "ppoll", "epoll_wait", "epoll_pwait") and "tv_sec" not in args:
        tail = args.rsplit(",", 1)[-1].strip()
        try:
            ms = int(tail)
        except ValueError:
            return None
        return ms / 1000 if ms >= 0 else None
    m = _SECONDS.search(args)
    if not m:
        return None
    seconds = int(m.group(1)) + int(m.group(2)) / 1e9
    if "TIMER_ABSTIME" in args:
        return max(0.0, seconds - now)
    return seconds


def open_fact(name: str, args: str, ok: bool, errno: str, decorated: str,
              cwd: str = "") -> dict[str, Any] | None:
    texts = strings(args)
    if not texts:
        return None
    base = _dirfd(args.split(",", 1)[0]) if name in ("openat", "openat2") else cwd
    path = decorated if ok and decorated.startswith("/") else normalise(texts[0], base)
    write = name == "creat" or any(flag in args for flag in WRITE_FLAGS)
    if name == "openat2":  # nothing ordinary uses it: always a fact
        return {"call": "open", "path": normalise(path), "write": write, "ok": ok,
                "errno": errno, "via": "openat2"}
    path = normalise(path)
    if not write and not path.startswith(READS_UNDER):
        return None
    return {"call": "open", "path": path, "write": write, "ok": ok, "errno": errno}


def parse_call(name: str, args: str, ret: str, now: float = 0.0) -> dict[str, Any] | None:
    """One traced system call as a fact, or None when it is not one pkgvet looks at."""
    elapsed_m = _ELAPSED.search(ret)
    elapsed = float(elapsed_m.group(1)) if elapsed_m else None
    if elapsed_m:
        ret = ret[: elapsed_m.start()]
    value, errno, decorated = _result(ret)
    ok = value >= 0
    if name in ("execve", "execveat"):
        texts = strings(args.split("[", 1)[0])
        path = texts[0] if texts else ""
        if name == "execveat":
            base = _dirfd(args.split(",", 1)[0])
            path = normalise(path, base) if path else base
            if not texts or not texts[0] or "AT_EMPTY_PATH" in args:
                path = base or "(file descriptor)"
        return {"call": name, "path": normalise(path) if path.startswith("/") else path,
                "argv": _argv(args), "ok": ok, "errno": errno}
    if name == "connect":
        return {"call": name, **sockaddr(args), "ok": ok, "errno": errno}
    if name in ("sendto", "sendmsg", "sendmmsg"):
        return {"call": name, **sockaddr(args), "data": strings(args)[:8], "ok": ok}
    if name in ("open", "openat", "openat2", "creat"):
        return open_fact(name, args, ok, errno, decorated)
    if name in SLEEPS:
        if not pure_wait(name, args) or (elapsed or 0.0) < SLEEP_REPORTED:
            return None
        wanted = requested_wait(name, args, now)
        return {"call": "wait", "syscall": name, "requested": wanted, "elapsed": elapsed,
                "ok": ok}
    if name in UNUSUAL:
        return {"call": name, "args": args[:200], "ok": ok, "errno": errno}
    texts = strings(args)
    if not texts:
        return None
    if name in ("rename", "renameat", "renameat2", "symlink", "symlinkat", "link", "linkat"):
        # The new name is the last path; its directory fd (if any) is the one before it.
        pieces = args.split(",")
        base = ""
        if name.endswith("at") or name == "renameat2":
            quoted = [i for i, p in enumerate(pieces) if '"' in p]
            if quoted and quoted[-1] > 0:
                base = _dirfd(pieces[quoted[-1] - 1])
        source = texts[0]
        if name.startswith(("link", "rename")):
            source = normalise(source, _dirfd(pieces[0]) if name.endswith(("at", "at2")) else "")
        return {"call": name, "path": normalise(texts[-1], base), "source": source,
                "ok": ok, "errno": errno}
    if name in ("mkdir", "mkdirat", "chmod", "fchmodat"):
        base = _dirfd(args.split(",", 1)[0]) if name.endswith("at") else ""
        mode = args.rsplit(",", 1)[-1].strip()
        return {"call": name, "path": normalise(texts[0], base), "mode": mode, "ok": ok,
                "errno": errno}
    return None


def sockaddr(args: str) -> dict[str, Any]:
    if "AF_UNIX" in args:
        m = _UNIX.search(args)
        return {"family": "unix", "address": (m.group(1) + unescape(m.group(2))) if m else ""}
    port = _PORT.search(args)
    for family, pattern in (("inet", _ADDR4), ("inet6", _ADDR6)):
        m = pattern.search(args)
        if m:
            return {"family": family, "address": m.group(1),
                    "port": int(port.group(1)) if port else 0}
    return {"family": "", "address": ""}


class Facts:
    """Facts of one phase, each reported once (with how often it happened) up to a budget.
    Past the budget a fact is counted as dropped, and the phase end says how many: a flood
    of events is reported, never silently cut."""

    def __init__(self, phase: str, budget: int, out: Callable[..., None] = emit) -> None:
        self.phase = phase
        self.budget = budget
        self.out = out
        self.seen: dict[str, int] = {}
        self.dropped = 0

    def add(self, pid: int, fact: dict[str, Any]) -> None:
        key = json.dumps(fact, sort_keys=True)
        if key in self.seen:
            self.seen[key] += 1
            return
        if len(self.seen) >= self.budget:
            if not self.dropped:
                self.out("flood", phase=self.phase, budget=self.budget)
            self.dropped += 1
            return
        self.seen[key] = 1
        self.out("syscall", phase=self.phase, pid=pid, **fact)


FORKS = ("clone", "clone3", "fork", "vfork")


class ProcessTree:
    """Which process made which, and how many were alive at once, over one phase.

    A fork storm whose children sleep or block does not hit the process limit or crash the
    sandbox: it is seen here, as many children of one parent alive together (or forked
    without ever running a program of their own). Both traces feed it: strace's (clone
    returns and `+++ exited` lines) and gVisor's (clone returns and exit_group entries). A
    process killed by a signal leaves no exit_group in gVisor's log, so `alive` is an upper
    bound there: the peaks are what counts, and a storm makes them long before any kill."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.alive: set[int] = set()
        self.children: dict[int, set[int]] = {}
        self.plain: dict[int, int] = {}
        self.execed: set[int] = set()
        self.gone: set[int] = set()
        self.created = 0
        self.failed = 0
        self.peak_alive = 0
        self.peak_children = 0
        self.peak_parent = 0

    def born(self, parent: int, child: int) -> None:
        """The parent's fork returned `child`. A traced child can run a program, or end,
        before its parent's return is written (vfork waits for the child's execve), so
        what it already did counts here."""
        if child in self.parent:
            return
        self.parent[child] = parent
        self.created += 1
        if child not in self.execed:
            self.plain[parent] = self.plain.get(parent, 0) + 1
        if child in self.gone:
            self.gone.discard(child)
            return
        self.alive.add(child)
        mine = self.children.setdefault(parent, set())
        mine.add(child)
        self.peak_alive = max(self.peak_alive, len(self.alive))
        if len(mine) > self.peak_children:
            self.peak_children, self.peak_parent = len(mine), parent

    def ran(self, pid: int) -> None:
        """`pid` ran a program of its own (execve): not a copy of its parent any more."""
        if pid in self.execed:
            return
        self.execed.add(pid)
        if pid in self.parent:
            parent = self.parent[pid]
            self.plain[parent] = self.plain.get(parent, 1) - 1

    def ended(self, pid: int) -> None:
        if pid not in self.alive:
            if pid not in self.parent:
                self.gone.add(pid)  # its parent's fork return is still to come
            return
        self.alive.discard(pid)
        self.children.get(self.parent.get(pid, -1), set()).discard(pid)

    def refused(self) -> None:
        """A fork that failed (EAGAIN: the process limit)."""
        self.failed += 1

    def summary(self) -> dict[str, Any]:
        copies = max(self.plain.values(), default=0)
        return {"created": self.created, "peak_alive": self.peak_alive,
                "peak_children": self.peak_children, "peak_parent": self.peak_parent,
                "copies": copies, "failed_forks": self.failed}


def is_thread(args: str) -> bool:
    return "CLONE_THREAD" in args


class TraceReader:
    """Turns strace's `-f` output into facts, joining `<unfinished ...>` and `resumed>`."""

    def __init__(self, phase: str, budget: int) -> None:
        self.phase = phase
        self.facts = Facts(phase, budget)
        self.pending: dict[str, tuple[str, float]] = {}
        self.first_pid = ""
        self.main_exited = threading.Event()
        self.pids: set[str] = set()
        self.exited: set[str] = set()
        self.unparsed = 0
        self.tree = ProcessTree()

    @property
    def dropped(self) -> int:
        return self.facts.dropped

    def feed(self, raw: str) -> None:
        m = _LINE.match(raw.rstrip("\n"))
        if not m:
            if raw.strip():
                self.unparsed += 1
            return
        pid, stamp, text = m.groups()
        self.pids.add(pid)
        if not self.first_pid:
            self.first_pid = pid
        if text.startswith("+++"):
            ended = _EXITED.match(text)
            if ended:
                self.exited.add(pid)
                self.tree.ended(int(pid))
            if ended and pid == self.first_pid:
                self.main_exited.set()
            if ended and ended.group(3):
                emit("killed", phase=self.phase, pid=int(pid), signal=ended.group(3))
            return
        if text.startswith("---"):
            return
        now = time.monotonic()
        if stamp:  # when the call started, on the monotonic clock
            now -= max(0.0, time.time() - float(stamp))
        if text.endswith("<unfinished ...>"):
            self.pending[pid] = (text[: -len("<unfinished ...>")].rstrip(), now)
            return
        if text.startswith("<..."):
            head, now = self.pending.pop(pid, ("", now))
            text = head + text.split("resumed>", 1)[-1]
        if text.endswith("= ?"):  # a call cut by the process's death (the sandbox's kill)
            self.cut(pid, text, now)
            return
        call = _CALL.match(text)
        if not call:
            self.unparsed += 1
            return
        name, args, ret = call.groups()
        if name in FORKS:
            self.fork(int(pid), args, ret)
            return
        if name in ("execve", "execveat") and ret.strip().startswith("0"):
            self.tree.ran(int(pid))
        fact = parse_call(name, args, ret, now=now)
        if fact is not None:
            self.facts.add(int(pid), fact)

    def fork(self, pid: int, args: str, ret: str) -> None:
        value, errno, _ = _result(ret)
        if value > 0 and not is_thread(args):
            self.tree.born(pid, value)
        elif value < 0 and errno == "EAGAIN":
            self.tree.refused()

    def cut(self, pid: str, text: str, since: float) -> None:
        """A wait that was still running when its process died is reported with how long
        it had waited and how long it asked for."""
        name, _, args = text.partition("(")
        args = args.split("<unfinished ...>", 1)[0]
        if name not in SLEEPS or not pure_wait(name, args):
            return
        wanted = requested_wait(name, args, since)
        waited = time.monotonic() - since
        if waited >= SLEEP_REPORTED:
            self.facts.add(int(pid), {"call": "wait", "syscall": name, "requested": wanted,
                                      "elapsed": round(waited, 3), "ok": False,
                                      "unfinished": True})

    def finish(self) -> None:
        """Report the waits still running when the phase ended (a sleep cut by the kill)."""
        for pid, (text, since) in self.pending.items():
            self.cut(pid, text, since)


# --- sinks ----------------------------------------------------------------------------------


class DnsSink(threading.Thread):
    """Answers every A query with its own loopback address (so the connect that follows
    shows where the package meant to go) and every other query with no records."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 53))
        self.names: dict[str, str] = {}

    def address_for(self, name: str) -> str:
        if name not in self.names:
            n = len(self.names) + 1
            self.names[name] = f"127.77.{n // 250}.{n % 250 + 1}"
            emit("dns", name=name, answer=self.names[name])
        return self.names[name]

    def run(self) -> None:
        while True:
            try:
                packet, peer = self.sock.recvfrom(4096)
                reply = self.answer(packet)
                if reply:
                    self.sock.sendto(reply, peer)
            except Exception as exc:  # a malformed query must not stop the sink
                emit("probe_note", text=f"dns sink: {exc!r}")

    def answer(self, packet: bytes) -> bytes:
        if len(packet) < 12:
            return b""
        labels, i = [], 12
        while i < len(packet) and packet[i]:
            size = packet[i]
            labels.append(packet[i + 1 : i + 1 + size].decode("ascii", "replace"))
            i += 1 + size
        question_end = i + 5
        qtype = struct.unpack("!H", packet[i + 1 : i + 3])[0] if i + 3 <= len(packet) else 0
        name = ".".join(labels).lower()
        header = packet[:2] + b"\x81\x80" + packet[4:6]
        question = packet[12:question_end]
        address = self.address_for(name)
        if qtype != 1:
            return header + b"\x00\x00\x00\x00\x00\x00" + question
        record = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(address)
        return header + b"\x00\x01\x00\x00\x00\x00" + question + record


class TcpSink(threading.Thread):
    """Accepts connections on a port of every loopback address and records the first bytes."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("0.0.0.0", port))
        self.sock.listen(16)

    def run(self) -> None:
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.receive, args=(conn, peer), daemon=True).start()

    def receive(self, conn: socket.socket, peer: Any) -> None:
        data = b""
        local = ""
        try:
            local = conn.getsockname()[0]
            conn.settimeout(2.0)
            while len(data) < SINK_BYTES:
                chunk = conn.recv(SINK_BYTES - len(data))
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass  # a TLS client waits for the server's hello: what it sent is enough
        finally:
            conn.close()
        emit("sink", port=self.port, address=local, data=data.decode("latin-1"))



# --- phases -----------------------------------------------------------------------------


def _as_user() -> dict[str, Any]:
    """What makes a child run as the sandbox user: no capabilities, no groups of root."""
    return {"user": SANDBOX_UID, "group": SANDBOX_UID, "extra_groups": [], "umask": 0o022}


def _tail(stream: Any, keep: list[bytes], total: list[int]) -> None:
    for chunk in iter(lambda: stream.read(65536), b""):
        total[0] += len(chunk)
        keep.append(chunk)
        while sum(len(c) for c in keep) > 16384 and len(keep) > 1:
            keep.pop(0)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _alive(exclude: set[int]) -> list[int]:
    """Processes other than this probe (and `exclude`) that still run."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != 1 and int(entry) not in exclude:
            try:
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state != "Z":
                found.append(int(entry))
    return found


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return " ".join(raw.replace(b"\0", b" ").decode("utf-8", "replace").split())[:160]


def _kill_all(spare: int | None = None) -> list[int]:
    """SIGKILL every process but this probe; the ones still there 5 s later (stuck in an
    uninterruptible sleep) are returned. The tracer (`spare`) goes last, so that it can
    write out the calls its tracees were in when they died."""
    if spare is not None:
        for pid in _alive({spare}):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive({spare}):
            time.sleep(0.05)
        _wait_exit(spare, 5)
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)  # every process but PID 1, which is this probe
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        _reap()
        left = _alive(set())
        if not left:
            return []
        time.sleep(0.1)
    return _alive(set())


def _wait_exit(pid: int, seconds: float) -> bool:
    """True once `pid` (a child) has ended, within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (OSError, IndexError):
            return True
        time.sleep(0.05)
    return False


def _private_fifo() -> str:
    """A FIFO in a folder only root can enter, named like the folders systemd keeps in /tmp."""
    folder = tempfile.mkdtemp(prefix="systemd-private-", dir="/tmp")
    os.chmod(folder, 0o700)
    path = os.path.join(folder, "journal")
    os.mkfifo(path, 0o600)
    return path


def _strace(command: list[str], fifo: str) -> list[str]:
    user = pwd.getpwuid(SANDBOX_UID).pw_name
    return ["strace", "-f", "-q", "-T", "-ttt", "--seccomp-bpf", "-y", "-s", "256", "-u", user,
            "-e", f"trace={TRACED}", "-e", "signal=none", "-o", fifo, "--", *command]


def _disk(path: str = "/tmp") -> dict[str, int]:
    st = os.statvfs(path)
    return {"disk_free": st.f_bavail * st.f_frsize, "disk_size": st.f_blocks * st.f_frsize}


def run_phase(phase: str, command: list[str], timeout: float, cwd: str, job: dict[str, Any],
              label: str = "") -> dict[str, Any]:
    """Run one phase's command as the sandbox user, watched, with a time limit; report how
    it ended (time-out, processes left running, output size, trace health)."""
    emit("phase_start", phase=phase, label=label, mono=time.monotonic(), wall=time.time())
    strace = job.get("tracer") == "strace"
    reader = TraceReader(phase, int(job.get("max_events", 100000)))
    started = time.monotonic()
    if strace:
        fifo = _private_fifo()
        proc = subprocess.Popen(_strace(command, fifo), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd)
        trace_thread = threading.Thread(target=_read_fifo, args=(fifo, reader), daemon=True)
        trace_thread.start()
    else:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=cwd, **_as_user())
        trace_thread = None
    emit("spawned", phase=phase, label=label, pid=proc.pid, tracer="strace" if strace else "")
    output: list[bytes] = []
    total = [0]
    out_thread = threading.Thread(target=_tail, args=(proc.stdout, output, total), daemon=True)
    out_thread.start()
    timed_out = False
    exited_at: float | None = None
    lingering: list[str] = []
    deadline = started + timeout
    while True:
        now = time.monotonic()
        main_done = reader.main_exited.is_set() if strace else proc.poll() is not None
        if strace and proc.poll() is not None:
            main_done = True
        if now > deadline:
            timed_out = True
            break
        if main_done:
            exited_at = exited_at or now
            others = _alive({proc.pid} if strace else set())
            if not others:
                break
            if now - exited_at > LINGER_GRACE:
                lingering = [f"{pid}: {_cmdline(pid)}" for pid in others]
                break
        time.sleep(0.05)
    stuck = _kill_all(proc.pid if strace else None) \
        if (timed_out or lingering or proc.poll() is None) else []
    code = proc.wait()
    if trace_thread is not None:
        trace_thread.join(10)
    out_thread.join(5)
    _reap()
    reader.finish()
    ended = {
        "phase": phase, "label": label, "exit_code": code, "timed_out": timed_out,
        "lingering": bool(lingering), "lingering_processes": lingering[:20],
        "stuck_processes": [str(p) for p in stuck][:20],
        "seconds": round(time.monotonic() - started, 3),
        "processes": len(reader.pids), "dropped_events": reader.dropped,
        "unparsed_trace_lines": reader.unparsed,
        "tracer_killed": strace and code < 0 and not (timed_out or lingering),
        "trace_complete": (not strace) or bool(reader.first_pid),
        "output_bytes": total[0],
        "output_tail": b"".join(output)[-4000:].decode("utf-8", "replace"),
        **_disk(),
    }
    emit("phase_end", **ended)
    if strace:
        emit("process_tree", phase=phase, label=label, **reader.tree.summary())
    emit_programs(phase, label, job)
    collect_persona(phase, label, job)  # persona (pkgvet.sandbox.persona)
    return ended


def _read_fifo(fifo: str, reader: TraceReader) -> None:
    with open(fifo, encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            reader.feed(raw)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _executables(roots: list[str], limit: int = 2000,
                 visits: int = 100000) -> dict[str, os.stat_result]:
    """Executable regular files under `roots` (at most `limit`, after at most `visits`
    entries: a package that buries its program under a million files is still bounded)."""
    found: dict[str, os.stat_result] = {}
    for root in roots:
        for folder, dirs, files in os.walk(root):
            if folder.startswith(VENV + "/lib") or "/site-packages" in folder:
                dirs[:] = []
                continue
            visits -= len(files) + len(dirs)
            if visits < 0:
                emit("probe_note", text=f"program inventory stopped in {folder}: too many files")
                return found
            for name in files:
                path = os.path.join(folder, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111 and st.st_size < 2**27:
                    found[path] = st
                    if len(found) >= limit:
                        return found
    return found


_IMAGE_BY_SIZE: dict[int, list[str]] = {}
_IMAGE_HASHES: dict[str, str] = {}
"""The image's own programs by size, and their hashes as they are needed: the image is
read-only, so one walk per run (not one per phase) is enough."""


def _image_programs() -> dict[int, list[str]]:
    if not _IMAGE_BY_SIZE:
        for path, st in _executables(list(IMAGE_BIN), limit=20000).items():
            _IMAGE_BY_SIZE.setdefault(st.st_size, []).append(path)
    return _IMAGE_BY_SIZE


def emit_programs(phase: str, label: str, job: dict[str, Any]) -> None:
    """The programs the package could have put in writable places, by content: each one's
    sha256 and the image's own programs with the same content (a copy of /bin/sh named
    `gcc` is still sh)."""
    home = os.environ.get("HOME", "/home")
    placed = _executables([*PROGRAM_ROOTS, home])
    if not placed:
        return
    image = _image_programs()
    image_hashes = _IMAGE_HASHES
    files: dict[str, Any] = {}
    for path, st in placed.items():
        try:
            digest = _sha256(path)
        except OSError:
            continue
        same = []
        for candidate in image.get(st.st_size, []):
            try:
                if image_hashes.setdefault(candidate, _sha256(candidate)) == digest:
                    same.append(candidate)
            except OSError:
                continue
        files[path] = {"sha256": digest, "same_as": same}
    emit("programs", phase=phase, label=label, files=files)


def as_user(work: Callable[[], None]) -> None:
    """Run `work` in a child process that is the sandbox user (the probe, root without
    CAP_DAC_OVERRIDE or CAP_CHOWN, cannot write into the user's places itself). The one copy:
    the persona's bootstrap (runtime/bootstrap.py) loads this module's source before it runs
    it and prepares the home with this function too."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(SANDBOX_UID)
            os.setuid(SANDBOX_UID)
            work()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError(f"housekeeping as the sandbox user failed ({status})")


def plant(job: dict[str, Any]) -> None:
    """Write the honeytokens into the home, as its owner."""
    home = Path(os.environ.get("HOME", "/home/sandbox"))

    def write() -> None:
        for relpath, content in job.get("honey_files", {}).items():
            target = home / relpath
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            target.write_text(content)
            target.chmod(0o600)

    as_user(write)


# --- persona and execute phase (pkgvet.sandbox.persona, pkgvet.sandbox.execute) ----------


def share_persona_records(job: dict[str, Any]) -> None:
    """Create the persona's record file as the probe's own, appendable by the package's
    processes (stand-ins), readable and emptied only by the probe."""
    path = job.get("persona_records")
    if not path:
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o622)
        os.close(fd)


def collect_persona(phase: str, label: str, job: dict[str, Any]) -> None:
    """Emit what the Windows stand-ins and shims recorded during the phase, then empty it."""
    path = job.get("persona_records")
    if not path or not os.path.exists(path):
        return
    try:
        with open(path, "r+", encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
            fh.truncate(0)
    except OSError as exc:
        emit("probe_note", text=f"persona records unreadable: {exc!r}")
        return
    for line in lines[:2000]:
        try:
            record = json.loads(line)
        except ValueError:
            emit("probe_note", text="persona record that does not parse: " + line[:200])
            continue
        if isinstance(record, dict):
            fields = {k: v for k, v in record.items() if k not in ("type", "kind", "phase")}
            emit("persona", **{**fields, "what": str(record.get("kind", "")), "phase": phase,
                               "label": label})


def unresolved(output: str) -> list[str]:
    """The requirements pip could not find offline, from its output."""
    found = re.findall(r"(?:No matching distribution found for|Could not find a version "
                       r"that satisfies the requirement) ([^\s(]+)", output)
    return list(dict.fromkeys(found))


def next_install(install: list[str], output: str) -> tuple[str, list[str]] | None:
    """The next way to try an install that failed with `output`, or None: a setup.py that
    imports what its isolated build environment lacks (`import requests`) runs in the
    user's own environment (the image's setuptools and libraries); a dependency or back-end
    the wheelhouse lacks is left out (dependencies first, then the isolated build)."""
    isolated = "--no-build-isolation" not in install
    with_deps = "--no-deps" not in install
    needs_env = any(m in output for m in ENVIRONMENT_MARKERS)
    offline = any(m in output for m in OFFLINE_MARKERS)
    if needs_env and isolated:
        return "in the user's environment", [*install[:-1], "--no-build-isolation", install[-1]]
    if offline and with_deps:
        return "without dependencies", [*install[:-1], "--no-deps", install[-1]]
    if offline and isolated:
        return "with the image's setuptools", [*install[:-1], "--no-build-isolation",
                                                install[-1]]
    return None


def execute_module(job: dict[str, Any]) -> Any:
    """The execute phase's module, built from the job's copy of its source at start, before
    any package code runs (never imported from a folder the package can write to)."""
    source, name = job.get("execute_source"), job.get("execute_module")
    if not source or not name:
        return None
    import types

    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def site_packages() -> Path:
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return Path(VENV) / "lib" / version / "site-packages"


def top_level_modules(record: list[str]) -> list[str]:
    found: list[str] = []
    for entry in record:
        first = entry.split("/", 1)[0]
        if first in ("..", "") or first.endswith((".dist-info", ".data")) or first == "__pycache__":
            continue
        if "/" in entry:
            name = first
        elif entry.endswith(".py"):
            name = first[:-3]
        elif entry.endswith((".so", ".pyd")):
            name = first.split(".", 1)[0]
        else:
            continue
        if name.isidentifier() and name not in found:
            found.append(name)
    return found


def inventory() -> dict[str, Any]:
    site = site_packages()
    records = sorted(site.glob("*.dist-info/RECORD"))
    entries: list[str] = []
    for record in records:
        for line in record.read_text(errors="replace").splitlines():
            entries.append(line.rsplit(",", 2)[0])
    startup = sorted(
        str(p) for p in site.iterdir()
        if p.suffix == ".pth" or p.name in ("sitecustomize.py", "usercustomize.py")
    ) if site.is_dir() else []
    return {"dists": [r.parent.name for r in records], "modules": top_level_modules(entries),
            "startup_files": startup,
            "recorded": [str(site / e) for e in entries
                         if e.endswith((".pth", "sitecustomize.py", "usercustomize.py"))]}


def _cgroup_counter(paths: tuple[str, ...], key: str) -> int | None:
    """The `key N` line of a cgroup events file, v1 or v2 (whichever exists)."""
    for path in paths:
        if os.path.exists(path):
            for line in Path(path).read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    return None


def limits() -> dict[str, Any]:
    facts: dict[str, Any] = {}
    hits = _cgroup_counter(("/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"),
                           "max")
    if hits is not None:
        facts["pids_limit_hits"] = hits
    kills = _cgroup_counter(("/sys/fs/cgroup/memory/memory.oom_control",
                             "/sys/fs/cgroup/memory.events"), "oom_kill")
    if kills is not None:
        facts["oom_kills"] = kills
    for path in ("/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak"):
        if os.path.exists(path):
            facts["memory_peak"] = int(Path(path).read_text().split()[0])
    return facts


def start_network(job: dict[str, Any]) -> Any:
    """The sandbox's `eth0` and its sink (pkgvet.sandbox.netsink, built from the job's copy
    of its source like the execute module); the names it answered, or None."""
    source = job.get("netsink_source")
    if not source:
        return None
    import types

    module = types.ModuleType("netsink")
    exec(compile(source, "netsink", "exec"), module.__dict__)
    return module.start(emit)


def start_sinks(job: dict[str, Any]) -> None:
    names = start_network(job)
    try:
        dns = DnsSink()
        if names is not None:  # one table of answers for both resolvers
            dns.address_for = names.address_for  # type: ignore[method-assign]
        dns.start()
        for port in job.get("sink_ports", []):
            TcpSink(int(port)).start()
    except OSError as exc:
        emit("probe_note", text=f"sinks unavailable: {exc!r}")


def make_venv() -> str:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", VENV],
                   check=True, stdout=subprocess.DEVNULL, cwd="/tmp", **_as_user())
    return f"{VENV}/bin/python"


def declares_backend(archive: str) -> bool:
    """Whether an sdist has a pyproject.toml (which may name a build back-end): read from
    its member list only, nothing extracted. Unreadable archives count as declaring one."""
    import tarfile
    import zipfile

    try:
        if os.path.getsize(archive) > 64 * 2**20:
            return True  # not worth listing: the isolated build it is
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                names = zf.namelist()
        else:
            with tarfile.open(archive) as tf:
                names = tf.getnames()
    except (OSError, tarfile.TarError, zipfile.BadZipFile, EOFError, ValueError):
        return True
    return any(n.count("/") <= 1 and n.rsplit("/", 1)[-1] == "pyproject.toml" for n in names)


def install(python: str, job: dict[str, Any]) -> dict[str, Any]:
    target = job["target"]
    if job.get("kind") == "folder":
        subprocess.run(["cp", "-r", target, "/tmp/src"], check=True, **_as_user())
        target = "/tmp/src"
    house = job.get("wheelhouse", "/wheelhouse")
    command = [python, "-m", "pip", "install", "--no-index", "--find-links", house,
               "--no-cache-dir", "--disable-pip-version-check", "--no-input", "--no-compile",
               "--progress-bar", "off", "--no-warn-script-location", "--ignore-requires-python",
               target]
    if job.get("kind") == "sdist" and not declares_backend(target):
        # A setup.py-only sdist builds with setuptools either way: the image's, at once,
        # instead of a build environment installed for it first (seconds under gVisor).
        command.insert(-1, "--no-build-isolation")
    limit = float(job.get("timeouts", {}).get("install", 180))
    # What the build asks pip for itself (setuptools' `setup_requires`) comes from the
    # wheelhouse too, at once, instead of waiting on an index that never answers.
    os.environ.setdefault("PIP_NO_INDEX", "1")
    os.environ.setdefault("PIP_FIND_LINKS", house)
    if not any(Path(house).glob("*.whl")) and "--no-build-isolation" not in command:
        # No wheelhouse: build with the image's own setuptools and wheel (Debian's).
        emit("probe_note", text="empty wheelhouse: installing with --no-build-isolation")
        command.insert(-1, "--no-build-isolation")
    deadline = time.monotonic() + 2 * limit
    ended = run_phase("install", command, limit, "/tmp", job, label="final")
    for _ in range(2):  # persona: dependencies first, then what the failure calls for
        if ended["exit_code"] == 0 or ended["timed_out"]:
            break
        step = next_install(command, ended["output_tail"])
        if step is None:
            break
        why, command = step
        missing = unresolved(ended["output_tail"])
        emit("probe_note", text=f"could not resolve offline: {', '.join(missing)}; retrying "
             f"{why}" if missing else f"setup.py needs more than its build environment; "
             f"trying again {why}")
        ended = run_phase("install", command,
                          max(10.0, min(limit, deadline - time.monotonic())), "/tmp", job,
                          label="final")
    return ended


def import_modules(python: str, job: dict[str, Any], modules: list[str],
                   runner: Any = None) -> None:
    workdir = "/tmp/import"
    as_user(lambda: os.makedirs(workdir, exist_ok=True))
    if runner is not None:  # execute phase: the package's own modules first
        modules = runner.own_modules(site_packages(), job.get("project", ""), modules)
    code = "import importlib, sys; importlib.import_module(sys.argv[1])"
    for module in modules[: int(job.get("max_modules", 20))]:
        run_phase("import", [python, "-c", code, module],
                  float(job.get("timeouts", {}).get("import", 60)), workdir, job, label=module)
    if runner is not None:  # pkgvet.sandbox.execute
        runner.drive(run_phase, python, site_packages(), job.get("project", ""), modules,
                     workdir, job)


def main() -> int:
    global READS_UNDER
    job = globals().get("JOB")  # persona delivery: the job comes with the program on stdin
    if not isinstance(job, dict):
        with open(JOB_FILE) as fh:
            job = json.load(fh)
    READS_UNDER = (*job.get("reads_under", []), os.environ.get("HOME", "/home") + "/")
    emit("start", python=sys.version.split()[0], uid=os.getuid(), tracer=job.get("tracer"),
         mono=time.monotonic(), wall=time.time())
    runner = execute_module(job)  # pkgvet.sandbox.execute
    plant(job)
    share_persona_records(job)
    start_sinks(job)
    python = make_venv()
    ended = install(python, job)
    if runner is not None and job.get("kind") == "sdist":
        # setup.py once more, as on Windows and past where pip's run stopped (execute phase)
        run_phase("install", [python, "-c", runner.IMPORT_CODE, job["execute_module"], "setup",
                              job["target"]], runner.CALL_SECONDS * 10.0, "/tmp/import", job,
                  label=runner.SETUP_LABEL)
    if ended["exit_code"] == 0 and not ended["timed_out"]:
        found = inventory()
        emit("installed", **found)
        import_modules(python, job, found["modules"], runner)
        emit("installed_after", **inventory())
    emit("limits", **limits())
    emit("done", events=_count)
    return 0


def run() -> None:
    """The container's program: the probe's run, reported whatever happens."""
    try:
        sys.exit(main())
    except Exception as exc:  # report, then let the container exit
        emit("probe_error", text=repr(exc))
        sys.exit(70)


if __name__ == "__main__":
    run()
