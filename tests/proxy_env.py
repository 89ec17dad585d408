"""Start real processes for the proxy's tests: `pkgvet serve`, `pkgvet worker`, and clients
(pip, uv) isolated from this machine's own pip and uv configuration."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment with no PIP_*/UV_* settings and pip's config files out of the way."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "UV_", "PKGVET_STORE", "PKGVET_BROKER"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_CACHE_DIR="1", UV_NO_CONFIG="1", UV_CACHE_DIR=str(home / "uv-cache"),
               PIP_NO_INPUT="1")
    env.update(extra)
    return env


class Proc:
    """A child process with its output in a log file; stopped by its pid."""

    def __init__(self, argv: Sequence[str], log: Path, env: dict[str, str]) -> None:
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(list(argv), stdout=self._fh, stderr=subprocess.STDOUT,
                                      env=env, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the process group (the worker and any scan child it forked)."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._fh.close()


class Proxy(Proc):
    def __init__(self, upstream: str, home: Path, *args: str, env: dict[str, str] | None = None,
                 name: str = "serve") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.index = f"{self.url}/simple/"
        self.env = env or clean_env(home, PKGVET_DATA_DIR=str(home / "data"),
                                    PKGVET_CACHE_DIR=str(home / "cache"))
        super().__init__([str(BIN / "pkgvet"), "serve", "--upstream", upstream, "--port",
                          str(self.port), "--budget", "120", *args],
                         home / f"{name}.log", self.env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"pkgvet serve exited: {self.text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"pkgvet serve did not answer: {self.text()}")


def pip(env: dict[str, str], index: str, target: Path, *args: str,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--index-url", index, "--target", str(target),
         *args],
        capture_output=True, text=True, env=env, timeout=timeout)


def uv(env: dict[str, str], index: str, target: Path, *args: str,
       timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "uv"), "pip", "install", "--python", sys.executable, "--index-url", index,
         "--target", str(target), *args],
        capture_output=True, text=True, env=env, timeout=timeout)
