# The program the sandbox container runs (read from its standard input, never a file). The
# host puts `PAYLOAD = {...}` on the line above. Standard library only; it runs in the image.
#
# It makes the container look like a developer's machine before the package can look:
# PID 1 shows as an ordinary shell, the home holds a developer's files (with the planted
# secrets among them, given as files, never as a list), the package file waits in
# ~/Downloads under its canonical name. Then it runs the probe, whose source is in PAYLOAD.

import base64
import contextlib
import ctypes
import io
import os
import random
import tarfile
import time
from typing import Any

PR_SET_NAME = 15


def disguise(title: str) -> None:
    """Name this process `title` in /proc/<pid>/comm, status and cmdline (no privilege:
    a process may rename itself and rewrite its own argument area)."""
    libc = ctypes.CDLL(None, use_errno=True)
    with contextlib.suppress(Exception):
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(os.path.basename(title).encode()[:15]), 0, 0, 0)
    try:
        start, size = _argument_area(libc)
        if start <= 0 or not 0 < size < 4096:
            return
        text = title.encode()[: size - 1] + b"\0"
        # A non-zero last byte tells the kernel to show the area up to its first NUL.
        ctypes.memmove(start, text + b" " * (size - len(text)), size)
    except Exception:
        pass


def _argument_area(libc: Any) -> tuple[int, int]:
    """Where this process's argument strings live: glibc's pointer to argv[0] (gVisor
    reports no address in /proc/self/stat), else the kernel's arg_start and arg_end."""
    import sys

    try:
        start = ctypes.c_void_p.in_dll(libc, "program_invocation_name").value or 0
        size = sum(len(os.fsencode(a)) + 1 for a in sys.orig_argv)
        if start and ctypes.string_at(start, len(os.fsencode(sys.orig_argv[0]))) == \
                os.fsencode(sys.orig_argv[0]):
            return start, size
    except (ValueError, AttributeError, OSError):
        pass
    with open("/proc/self/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    return int(fields[45]), int(fields[46]) - int(fields[45])  # arg_start, arg_end


def plant(home: str, files: dict[str, str]) -> None:
    now = time.time()
    for relpath, content in sorted(files.items()):
        target = os.path.join(home, relpath)
        folder = os.path.dirname(target)
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(content)
        os.chmod(target, 0o600 if relpath.startswith(".") else 0o644)
        age = now - random.uniform(3, 400) * 86400
        os.utime(target, (age, age))


def staged_path(entry: dict[str, str], home: str) -> str:
    """Where `stage` puts the package (known without reading the user's home)."""
    if entry["kind"] == "folder":
        return os.path.join("/tmp", entry["name"])
    return os.path.join(home, "Downloads", entry["name"])


def stage(entry: dict[str, str]) -> str:
    """Write the package file (or unpack the folder) and return its path."""
    data = base64.b64decode(entry["data"])
    if entry["kind"] == "folder":
        target = os.path.join("/tmp", entry["name"])
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall("/tmp", filter="data")
        return target
    folder = os.path.join(os.environ.get("HOME", "/tmp"), "Downloads")
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, entry["name"])
    with open(target, "wb") as fh:
        fh.write(data)
    return target


def write_modules(modules: dict[str, str]) -> None:
    for relpath, content in modules.items():
        os.makedirs(os.path.dirname(relpath), exist_ok=True)
        with open(relpath, "w", encoding="utf-8") as fh:
            fh.write(content)


def main(payload: dict[str, Any]) -> None:
    disguise(payload.get("title", "/bin/bash"))
    home = os.environ.get("HOME", "/tmp")
    job = payload["job"]

    def prepare() -> None:
        plant(home, payload.get("home", {}))
        stage(payload["input"])
        write_modules(payload.get("modules", {}))

    # The probe's source defines its functions (its name is not __main__, so it does not run
    # yet); its `as_user` is the one way a file becomes the sandbox user's.
    probe: dict[str, Any] = {"__name__": "probe", "__builtins__": __builtins__, "JOB": job}
    exec(compile(payload["probe"], "<stdin>", "exec"), probe)
    try:
        probe["as_user"](prepare)
    except RuntimeError as exc:
        probe["emit"]("probe_note", text=f"preparing the home: {exc}")
    job["target"] = staged_path(payload["input"], home)
    payload.clear()
    probe["run"]()


main(globals()["PAYLOAD"])  # defined by the host on the line above
