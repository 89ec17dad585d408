"""Which container runtime isolates the package: gVisor when the engine has it, runc otherwise.

gVisor (`runsc`) runs the package on its own user-space kernel, and its `--strace` writes
every traced system call to a log on the host, where nothing inside the sandbox can reach it.
pkgvet needs a runtime entry in dockerd's `daemon.json` that turns this trace on (Docker 20.10
cannot pass per-container runtime flags); `pkgvet sandbox doctor` prints it and
`pkgvet sandbox runtime-config` merges it into an existing file. Without that entry the
sandbox falls back to runc with strace inside the container, and the report says which ran.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pkgvet.sandbox.engine import SandboxUnavailable

if TYPE_CHECKING:
    import docker

TRACE_RUNTIME = "runsc-trace"
LOG_DIR = "/var/log/runsc-trace/"
RUNSC = "/usr/bin/runsc"
ENV = "PKGVET_SANDBOX_RUNTIME"
"""`auto` (default: gVisor when registered, else runc), `runsc` (gVisor or fail) or `runc`."""

TRACED_SYSCALLS = (
    # run a program
    "execve", "execveat", "clone", "clone3", "fork", "vfork", "exit_group", "memfd_create",
    # read or write a file (openat2 is unknown to gVisor 2022: it shows up as sys_437)
    "open", "openat", "creat", "rename", "renameat", "renameat2", "mkdir", "mkdirat",
    "symlink", "symlinkat", "link", "linkat", "chmod", "fchmodat",
    # send data
    "connect", "sendto", "sendmsg", "sendmmsg",
    # reach into other processes, or hide work from a tracer
    "ptrace", "process_vm_writev", "process_vm_readv", "io_uring_setup", "io_uring_enter",
    "io_uring_register",
    # wait (outwaiting the sandbox)
    "nanosleep", "clock_nanosleep", "select", "pselect6", "poll", "ppoll",
)
BASE_ARGS = ("--platform=ptrace", "--network=none")
"""`ptrace` works everywhere (kvm hangs in many VMs); `--network=none` because runsc refuses
to start in the host's network namespace otherwise."""


def runtime_args(log_dir: str = LOG_DIR) -> list[str]:
    return [*BASE_ARGS, "--strace", "--strace-syscalls=" + ",".join(TRACED_SYSCALLS),
            "--debug-command=boot", f"--debug-log={log_dir.rstrip('/')}/"]


def daemon_entry(log_dir: str = LOG_DIR, runsc: str = RUNSC) -> dict[str, Any]:
    """The `runtimes` entry of daemon.json that pkgvet's gVisor sandbox needs."""
    return {TRACE_RUNTIME: {"path": runsc, "runtimeArgs": runtime_args(log_dir)}}


def merged_config(existing: dict[str, Any], log_dir: str = LOG_DIR,
                  runsc: str = RUNSC) -> dict[str, Any]:
    """`existing` daemon.json with pkgvet's runtime added (other entries kept as they are)."""
    merged = dict(existing)
    merged["runtimes"] = {**dict(existing.get("runtimes") or {}), **daemon_entry(log_dir, runsc)}
    return merged


@dataclass(frozen=True, slots=True)
class Runtime:
    name: str
    """The engine's runtime name passed to `docker run --runtime`."""
    kind: str
    """`gvisor` or `runc`: who observes (the host's runsc log, or strace in the container)."""
    log_dir: Path | None = None
    note: str = ""
    """Why this one (a fallback says what was missing)."""


def _log_dir(entry: dict[str, Any]) -> Path | None:
    args = [str(a) for a in entry.get("runtimeArgs") or ()]
    if "--strace" not in args and "--strace=true" not in args:
        return None
    for arg in args:
        if arg.startswith("--debug-log="):
            value = arg.split("=", 1)[1]
            return Path(value) if value.endswith("/") else None
    return None


def traced_gvisor(info: dict[str, Any]) -> tuple[str, Path] | None:
    """(name, log folder) of a registered runsc runtime that writes a strace log, if any."""
    runtimes = info.get("Runtimes") or {}
    names = sorted(runtimes, key=lambda n: n != TRACE_RUNTIME)
    for name in names:
        entry = runtimes[name] or {}
        if os.path.basename(str(entry.get("path", ""))) != "runsc":
            continue
        folder = _log_dir(entry)
        if folder is not None:
            return name, folder
    return None


def why_not_gvisor(info: dict[str, Any]) -> str:
    runtimes = info.get("Runtimes") or {}
    plain = [n for n, e in runtimes.items()
             if os.path.basename(str((e or {}).get("path", ""))) == "runsc"]
    if plain:
        return (f"runsc is registered as {', '.join(plain)} but without --strace and "
                "--debug-log=DIR/; add the entry `pkgvet sandbox doctor` prints")
    return "the engine has no runsc runtime; `pkgvet sandbox doctor` says how to add it"


def choose(engine: docker.DockerClient, wanted: str | None = None) -> Runtime:
    """The runtime to use: `wanted` (or $PKGVET_SANDBOX_RUNTIME, or `auto`)."""
    wanted = (wanted or os.environ.get(ENV) or "auto").lower()
    if wanted not in ("auto", "runsc", "gvisor", "runc"):
        raise SandboxUnavailable(f"unknown sandbox runtime {wanted!r}; use auto, runsc or runc")
    if wanted == "runc":
        return Runtime("runc", "runc", note="runc chosen")
    info = engine.info()
    found = traced_gvisor(info)
    if found is not None:
        name, folder = found
        if not folder.is_dir() or not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            reason = (f"gVisor's trace folder {folder} is missing or not readable and writable "
                      "by this user; create it (`install -d -m 2770 -g docker "
                      f"{folder}`)")
            if wanted != "auto":
                raise SandboxUnavailable(reason)
            return Runtime("runc", "runc", note="gVisor not used: " + reason)
        return Runtime(name, "gvisor", folder)
    reason = why_not_gvisor(info)
    if wanted != "auto":
        raise SandboxUnavailable("gVisor was asked for but " + reason)
    return Runtime("runc", "runc", note="gVisor not used: " + reason)


def config_text(existing: Path | None, log_dir: str = LOG_DIR, runsc: str | None = None) -> str:
    """daemon.json with pkgvet's runtime merged into `existing` (if the file exists)."""
    current: dict[str, Any] = {}
    if existing is not None and existing.is_file():
        try:
            current = json.loads(existing.read_text(encoding="utf-8") or "{}")
        except ValueError as exc:
            raise SandboxUnavailable(f"{existing} is not valid JSON ({exc}); fix it first") \
                from None
    path = runsc or shutil.which("runsc") or RUNSC
    return json.dumps(merged_config(current, log_dir, path), indent=2) + "\n"


def doctor_detail(info: dict[str, Any]) -> tuple[bool, str]:
    """(ready, what to say) about gVisor for `pkgvet sandbox doctor`."""
    found = traced_gvisor(info)
    if found is not None:
        name, folder = found
        if folder.is_dir() and os.access(folder, os.R_OK | os.W_OK | os.X_OK):
            return True, f"{name} (runsc, traced on the host into {folder})"
        return False, (f"{name} is registered but its trace folder {folder} is missing or not "
                       f"readable and writable by you: `sudo install -d -m 2770 -g docker "
                       f"{folder}`; until then the sandbox uses runc")
    binary = shutil.which("runsc")
    entry = json.dumps({"runtimes": daemon_entry(runsc=binary or RUNSC)}, indent=2)
    how = ("install gVisor (`apt-get install runsc` on Debian), then " if binary is None
           else "")
    return False, (f"{why_not_gvisor(info)}; the sandbox uses runc until then. To add it, "
                   f"{how}put this in /etc/docker/daemon.json (or run `pkgvet sandbox "
                   "runtime-config --merge /etc/docker/daemon.json`), create the trace folder "
                   f"(`install -d -m 2770 -g docker {LOG_DIR}`) and reload dockerd "
                   f"(`kill -HUP $(pidof dockerd)`):\n{entry}")
