"""The sandbox probe: runs as PID 1 inside the sandbox container, never on the host.

Standard library only (it runs on the image's own Python 3.11). It plants honeytokens, starts
a DNS and TCP sink on loopback (the container has no network), installs the package with pip
under `strace -f`, imports each top-level module it installed, and prints what happened as
JSON lines on stdout. It reports facts only: deciding what is noise and what is a finding is
the host's job (`pkgvet.sandbox.observe`), where the code is typed and tested.

As PID 1 of its namespace the probe cannot be killed from inside the container, and it reads
strace's output through a pipe, so code under observation can neither stop it quietly nor
rewrite what was already recorded. It can kill strace; the probe then says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, TextIO

JOB_FILE = "/pkgvet/job.json"
VENV = "/tmp/venv"
TRACED = (
    "execve,execveat,connect,sendto,sendmsg,sendmmsg,open,openat,creat,rename,renameat,"
    "renameat2,mkdir,mkdirat,symlink,symlinkat,link,linkat,chmod,fchmodat"
)
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")
LINGER_GRACE = 3.0
READS_UNDER: tuple[str, ...] = ()
"""Reads are reported only under these prefixes (the home and the job's sensitive paths);
the thousands of reads an install makes elsewhere are not evidence of anything."""
SINK_BYTES = 4096
OFFLINE_MARKERS = ("No matching distribution found", "Could not find a version that satisfies")
ENVIRONMENT_MARKERS = ("ModuleNotFoundError", "ImportError", "No module named")
"""A setup.py that imports what its isolated build environment lacks (persona retry)."""

_lock = threading.Lock()
_out: TextIO = sys.stdout
_count = 0


def emit(kind: str, **fields: Any) -> None:
    global _count
    with _lock:
        _count += 1
        _out.write(json.dumps({"type": kind, **fields}) + "\n")
        _out.flush()


# --- strace lines -----------------------------------------------------------------------

_LINE = re.compile(r"^(\d+)\s+(.*)$")
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


def _join(base: str, path: str) -> str:
    if path.startswith("/") or not base:
        return path
    return os.path.normpath(os.path.join(base, path))


def _dirfd(arg: str) -> str:
    m = _DECORATED.search(arg)
    return m.group(1) if m else ""


def parse_call(name: str, args: str, ret: str) -> dict[str, Any] | None:
    """One traced system call as a fact, or None when it is not one pkgvet looks at."""
    value, errno, decorated = _result(ret)
    ok = value >= 0
    if name in ("execve", "execveat"):
        texts = strings(args.split("[", 1)[0])
        return {"call": name, "path": texts[0] if texts else "", "argv": _argv(args),
                "ok": ok, "errno": errno}
    if name == "connect":
        return {"call": name, **sockaddr(args), "ok": ok, "errno": errno}
    if name in ("sendto", "sendmsg", "sendmmsg"):
        return {"call": name, **sockaddr(args), "data": strings(args)[:8], "ok": ok}
    if name in ("open", "openat", "creat"):
        texts = strings(args)
        if not texts:
            return None
        base = _dirfd(args.split(",", 1)[0]) if name == "openat" else ""
        path = decorated if ok and decorated.startswith("/") else _join(base, texts[0])
        write = name == "creat" or any(flag in args for flag in WRITE_FLAGS)
        if not write and not path.startswith(READS_UNDER):
            return None
        return {"call": "open", "path": path, "write": write, "ok": ok, "errno": errno}
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
        return {"call": name, "path": _join(base, texts[-1]), "source": texts[0],
                "ok": ok, "errno": errno}
    if name in ("mkdir", "mkdirat", "chmod", "fchmodat"):
        base = _dirfd(args.split(",", 1)[0]) if name.endswith("at") else ""
        mode = args.rsplit(",", 1)[-1].strip()
        return {"call": name, "path": _join(base, texts[0]), "mode": mode, "ok": ok,
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


class TraceReader:
    """Turns strace's `-f` output into facts, joining `<unfinished ...>` and `resumed>`."""

    def __init__(self, phase: str, budget: int) -> None:
        self.phase = phase
        self.budget = budget
        self.pending: dict[str, str] = {}
        self.first_pid = ""
        self.main_exited = threading.Event()
        self.pids: set[str] = set()
        self.dropped = 0

    def feed(self, raw: str) -> None:
        m = _LINE.match(raw.rstrip("\n"))
        if not m:
            return
        pid, text = m.groups()
        self.pids.add(pid)
        if not self.first_pid:
            self.first_pid = pid
        if text.startswith("+++"):
            ended = _EXITED.match(text)
            if ended and pid == self.first_pid:
                self.main_exited.set()
            if ended and ended.group(3):
                emit("killed", phase=self.phase, pid=int(pid), signal=ended.group(3))
            return
        if text.endswith("<unfinished ...>"):
            self.pending[pid] = text[: -len("<unfinished ...>")].rstrip()
            return
        if text.startswith("<..."):
            head = self.pending.pop(pid, "")
            text = head + text.split("resumed>", 1)[-1]
        call = _CALL.match(text)
        if not call:
            return
        fact = parse_call(*call.groups())
        if fact is None:
            return
        if self.budget <= 0:
            self.dropped += 1
            return
        self.budget -= 1
        emit("syscall", phase=self.phase, pid=int(pid), **fact)


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


def _tail(stream: Any, keep: list[bytes]) -> None:
    for chunk in iter(lambda: stream.read(4096), b""):
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


def _kill_all() -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)  # every process but PID 1, which is this probe


def traced(phase: str, command: list[str], timeout: float, cwd: str, job: dict[str, Any],
           label: str = "") -> dict[str, Any]:
    emit("phase_start", phase=phase, label=label)
    read_fd, write_fd = os.pipe()
    strace = ["strace", "-f", "-qq", "--seccomp-bpf", "-y", "-s", "256", "-e", f"trace={TRACED}",
              "-e", "signal=none", "-o", f"/dev/fd/{write_fd}", "--", *command]
    started = time.monotonic()
    proc = subprocess.Popen(strace, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, pass_fds=(write_fd,), cwd=cwd)
    os.close(write_fd)
    reader = TraceReader(phase, int(job.get("max_events", 20000)))
    output: list[bytes] = []
    out_thread = threading.Thread(target=_tail, args=(proc.stdout, output), daemon=True)
    out_thread.start()

    def read_trace() -> None:
        with os.fdopen(read_fd, "r", encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                reader.feed(raw)

    trace_thread = threading.Thread(target=read_trace, daemon=True)
    trace_thread.start()
    timed_out = lingering = False
    deadline = started + timeout
    exited_at: float | None = None
    while proc.poll() is None:
        now = time.monotonic()
        if now > deadline:
            timed_out = True
            _kill_all()
            break
        if reader.main_exited.is_set():
            exited_at = exited_at or now
            if now - exited_at > LINGER_GRACE:
                lingering = True
                _kill_all()
                break
        time.sleep(0.05)
    code = proc.wait()
    trace_thread.join(5)
    out_thread.join(2)
    _reap()
    ended = {
        "phase": phase, "label": label, "exit_code": code, "timed_out": timed_out,
        "lingering": lingering, "seconds": round(time.monotonic() - started, 3),
        "processes": len(reader.pids), "dropped_events": reader.dropped,
        "tracer_killed": code < 0 and not (timed_out or lingering),
        "output_tail": b"".join(output)[-4000:].decode("utf-8", "replace"),
    }
    emit("phase_end", **ended)
    collect_persona(phase, label, job)  # persona (pkgvet.sandbox.persona)
    return ended


# --- persona and execute phase (pkgvet.sandbox.persona, pkgvet.sandbox.execute) ----------


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


def plant(job: dict[str, Any]) -> None:
    home = Path(os.environ.get("HOME", "/tmp"))
    for relpath, content in job.get("honey_files", {}).items():
        target = home / relpath
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        target.write_text(content)
        target.chmod(0o600)


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


def main() -> int:
    global READS_UNDER
    job = globals().get("JOB")  # persona delivery: the job comes with the program on stdin
    if not isinstance(job, dict):
        with open(JOB_FILE) as fh:
            job = json.load(fh)
    READS_UNDER = (*job.get("reads_under", []), os.environ.get("HOME", "/home") + "/")
    emit("start", python=sys.version.split()[0], uid=os.getuid())
    runner = execute_module(job)  # pkgvet.sandbox.execute
    plant(job)
    try:
        dns = DnsSink()
        dns.start()
        for port in job.get("sink_ports", []):
            TcpSink(int(port)).start()
    except OSError as exc:
        emit("probe_note", text=f"sinks unavailable: {exc!r}")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", VENV],
                   check=True, stdout=subprocess.DEVNULL)
    python = f"{VENV}/bin/python"
    target = job["target"]
    if job.get("kind") == "folder":
        subprocess.run(["cp", "-r", target, "/tmp/src"], check=True)
        target = "/tmp/src"
    house = job.get("wheelhouse", "/wheelhouse")
    base = [python, "-m", "pip", "install", "--no-index", "--find-links", house,
            "--no-cache-dir", "--disable-pip-version-check", "--no-input",
            "--no-warn-script-location", "--ignore-requires-python"]
    timeouts = job.get("timeouts", {})
    limit = float(timeouts.get("install", 180))
    install = [*base, target]
    if not any(Path(house).glob("*.whl")):
        # No wheelhouse: build with the image's own setuptools and wheel (Debian's).
        emit("probe_note", text="empty wheelhouse: installing with --no-build-isolation")
        install = [*base, "--no-build-isolation", target]
    deadline = time.monotonic() + 2 * limit
    ended = traced("install", install, limit, "/tmp", job, label="final")
    for _ in range(2):
        if ended["exit_code"] == 0 or ended["timed_out"]:
            break
        step = next_install(install, ended["output_tail"])
        if step is None:
            break
        why, install = step
        missing = unresolved(ended["output_tail"])
        emit("probe_note", text=f"could not resolve offline: {', '.join(missing)}; retrying "
             f"{why}" if missing else f"setup.py needs more than its build environment; "
             f"trying again {why}")
        ended = traced("install", install, max(10.0, min(limit, deadline - time.monotonic())),
                       "/tmp", job, label="final")
    if ended["exit_code"] == 0 and not ended["timed_out"]:
        found = inventory()
        emit("installed", **found)
        workdir = "/tmp/import"
        os.makedirs(workdir, exist_ok=True)
        modules = found["modules"]
        if runner is not None:  # execute phase: the package's own modules first
            modules = runner.own_modules(site_packages(), job.get("project", ""), modules)
        for module in modules[: int(job.get("max_modules", 20))]:
            code = "import importlib, sys; importlib.import_module(sys.argv[1])"
            traced("import", [python, "-c", code, module], float(timeouts.get("import", 60)),
                   workdir, job, label=module)
        if runner is not None:  # pkgvet.sandbox.execute
            runner.drive(traced, python, site_packages(), job.get("project", ""), modules,
                         workdir, job)
        emit("installed_after", **inventory())
    emit("limits", **limits())
    emit("done", events=_count)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # report, then let the container exit
        emit("probe_error", text=repr(exc))
        sys.exit(70)
