"""Scans on Celery workers over a real Redis broker (a private redis-server per module), with
the proxy, `scan --broker`, a worker killed mid-task and a broker restarted mid-run."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fake_index import FakeIndex
from index_packages import populate, wheel
from pkgvet import RULESET_VERSION
from pkgvet.store import ResultKind, open_store
from pkgvet.worker.app import make_app
from pkgvet.worker.jobs import FileJob
from pkgvet.worker.tasks import submit_static
from proxy_env import BIN, Proc, Proxy, clean_env, pip
from services import Redis

JSON = "application/vnd.pypi.simple.v1+json"


class Cluster:
    def __init__(self, home: Path, upstream: str) -> None:
        self.home = home
        self.redis = Redis(home / "redis")
        self.store_url = f"sqlite://{home / 'store.sqlite'}"
        self.env = clean_env(home, PKGVET_DATA_DIR=str(home / "data"),
                             PKGVET_CACHE_DIR=str(home / "cache"),
                             PKGVET_VISIBILITY_TIMEOUT="5")
        self.workers: list[Proc] = []
        self.upstream = upstream

    def worker(self, name: str) -> Proc:
        proc = Proc([str(BIN / "pkgvet"), "worker", "--broker", self.redis.url, "--store",
                     self.store_url, "--concurrency", "1", "--hostname", f"{name}@test"],
                    self.home / f"{name}.log", self.env)
        self.workers.append(proc)
        deadline = time.monotonic() + 60
        while "ready" not in proc.text() and time.monotonic() < deadline:
            if proc.popen.poll() is not None:
                raise RuntimeError(proc.text())
            time.sleep(0.2)
        return proc

    def stop(self) -> None:
        for w in self.workers:
            w.stop()
        self.redis.stop()


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeIndex, dict[str, Path]]]:
    root = tmp_path_factory.mktemp("upstream")
    with FakeIndex(root / "index") as index:
        yield index, populate(index, root / "build")


@pytest.fixture(scope="module")
def cluster(upstream: tuple[FakeIndex, dict[str, Path]],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("cluster"), upstream[0].url)
    c.worker("w1")
    c.worker("w2")
    yield c
    c.stop()


def test_proxy_with_two_workers(cluster: Cluster, tmp_path: Path) -> None:
    proxy = Proxy(cluster.upstream, cluster.home, "--broker", cluster.redis.url, "--store",
                  cluster.store_url, env=cluster.env, name="proxy")
    try:
        done = pip(proxy.env, proxy.index, tmp_path / "t", "benign-app", "evil-app")
        assert done.returncode == 0, done.stderr + proxy.text()
        assert (tmp_path / "t" / "benign_dep").is_dir()
        assert (tmp_path / "t" / "evil_app-1.0.dist-info").is_dir()
        refused = pip(proxy.env, proxy.index, tmp_path / "t2", "evil")
        assert "No matching distribution found for evil" in refused.stderr
    finally:
        proxy.stop()
    logs = "".join(w.text() for w in cluster.workers)
    assert "vetted evil-1.0.tar.gz" in logs and "malicious" in logs
    assert "vetted" in cluster.workers[0].text() or "vetted" in cluster.workers[1].text()


def test_scan_with_broker_fans_out_and_gathers(cluster: Cluster,
                                               upstream: tuple[FakeIndex, dict[str, Path]]) -> None:
    made = upstream[1]
    done = subprocess.run(
        [str(BIN / "pkgvet"), "scan", "--no-cache", "--broker", cluster.redis.url, "--store",
         cluster.store_url, "-f", "json", str(made["evil-app-2"]), str(made["benign-dep"])],
        capture_output=True, text=True, env=cluster.env, timeout=300)
    assert done.returncode == 2, done.stderr
    import json

    report = json.loads(done.stdout)
    verdicts = {r["file"]: r["verdict"] for r in report["results"]}
    assert verdicts == {made["evil-app-2"].name: "malicious", made["benign-dep"].name: "benign"}


def test_worker_killed_mid_task_loses_nothing(upstream: tuple[FakeIndex, dict[str, Path]],
                                              tmp_path: Path) -> None:
    index = upstream[0]
    path = wheel(tmp_path, "slowpkg", "1.0", "X = 1\n")
    index.add("slowpkg", path)
    index.faults["slowpkg"] = "slowfile"
    c = Cluster(tmp_path / "c", index.url)
    try:
        victim = c.worker("victim")
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        job = FileJob(sha256=sha, filename=path.name, kind="wheel", project="slowpkg",
                      version="1.0", url=f"http://127.0.0.1:{index.port}/files/slowpkg/{path.name}")
        submit_static(make_app(c.redis.url, c.store_url), job)
        deadline = time.monotonic() + 300  # a wait, not a timing check: CI runs beside it
        # The start-up banner lists the task names; wait for the receipt line itself.
        while "pkgvet.static[" not in victim.text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "received" in victim.text()
        victim.kill()  # mid-download: the message was never acknowledged
        index.faults.pop("slowpkg")
        store = open_store(c.store_url)
        assert store.get_result(sha, RULESET_VERSION) is None
        heir = c.worker("heir")
        deadline = time.monotonic() + 300
        while store.get_result(sha, RULESET_VERSION, ResultKind.STATIC) is None:
            assert time.monotonic() < deadline, heir.text()
            time.sleep(0.5)
        assert store.get_result(sha, RULESET_VERSION).verdict == "benign"  # type: ignore[union-attr]
    finally:
        c.stop()


def test_broker_restart_mid_run(upstream: tuple[FakeIndex, dict[str, Path]],
                                tmp_path: Path) -> None:
    index = upstream[0]
    c = Cluster(tmp_path / "c", index.url)
    proxy = None
    try:
        c.worker("w")
        proxy = Proxy(index.url, c.home, "--broker", c.redis.url, "--store", c.store_url,
                      "--budget", "60", env=c.env, name="proxy")
        assert pip(proxy.env, proxy.index, tmp_path / "t1", "benign-dep").returncode == 0
        c.redis.stop()
        # Broker down: vetted files are still listed; new ones cannot be queued (logged).
        page = httpx.get(f"{proxy.index}benign-dep/", headers={"Accept": JSON}, timeout=60)
        assert page.status_code == 200 and len(page.json()["files"]) == 1
        for n, name in enumerate(("b-one", "b-two")):
            (tmp_path / name).mkdir()
            index.add(name, wheel(tmp_path / name, name, "1.0", f"X = {n}\n"))
        proxy_budget_page = httpx.get(f"{proxy.index}b-one/", headers={"Accept": JSON},
                                      timeout=120)
        assert proxy_budget_page.status_code == 200
        assert "cannot queue" in proxy.text()
        c.redis.start()
        done = pip(proxy.env, proxy.index, tmp_path / "t2", "b-two")
        assert done.returncode == 0, done.stderr + proxy.text() + c.workers[0].text()
    finally:
        if proxy is not None:
            proxy.stop()
        c.stop()


def test_worker_needs_a_broker() -> None:
    done = subprocess.run([str(BIN / "pkgvet"), "worker"], capture_output=True, text=True,
                          env=clean_env(Path("/tmp")))
    assert done.returncode == 3 and "needs a broker" in done.stderr
    assert sys.executable
