"""Private Redis and PostgreSQL servers for tests that stop and restart them: each on its
own loopback port and folder, never the machine's shared instances, stopped by pid."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from proxy_env import Proc, free_port


def _need(binary: str) -> str:
    found = shutil.which(binary)
    if found is None:
        if os.environ.get("PKGVET_REQUIRE_SERVICES") == "1":
            raise RuntimeError(f"{binary} is not installed; .ci/run installs it")
        pytest.skip(f"{binary} is not installed")
    return found


class Redis:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.binary = _need("redis-server")
        self.folder = folder
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: Proc | None = None
        self.start()

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = Proc([self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "yes", "--dir", str(self.folder)],
                         self.folder / "redis.log", dict(os.environ))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done = subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                                  capture_output=True, text=True)
            if done.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError(f"redis did not start: {self.proc.text()}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


class Postgres:
    """A throw-away cluster run as the `postgres` user (the server refuses root)."""

    def __init__(self) -> None:
        self.initdb = _need("initdb")
        self.pg_ctl = _need("pg_ctl")
        # Not under pytest's tmp_path: the postgres user must reach it (root's 0700 folders).
        folder = Path(tempfile.mkdtemp(prefix="pkgvet-test-pg-"))
        folder.chmod(0o755)
        self.folder = folder
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.data = folder / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(folder, user.pw_uid, user.pw_gid)
        self._run([self.initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--no-sync"])
        self.start()

    def _run(self, argv: list[str]) -> None:
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}")

    def start(self) -> None:
        self._run([self.pg_ctl, "-D", str(self.data), "-l", str(self.folder / "pg.log"), "-w",
                   "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off", "start"])

    def stop(self) -> None:
        self._run([self.pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
