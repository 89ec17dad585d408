"""The proxy on the PostgreSQL store: the shared server (a fresh database), and a private
cluster that is stopped and started again while the proxy runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import pg
from fake_index import FakeIndex
from index_packages import populate
from pkgvet.store import open_store
from proxy_env import Proxy, pip
from services import Postgres

JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeIndex, dict[str, Path]]]:
    root = tmp_path_factory.mktemp("upstream")
    with FakeIndex(root / "index") as index:
        yield index, populate(index, root / "build")


def test_proxy_on_postgres_store(upstream: tuple[FakeIndex, dict[str, Path]],
                                 tmp_path: Path) -> None:
    url = pg.fresh_database()
    proxy = Proxy(upstream[0].url, tmp_path, "--store", url)
    try:
        done = pip(proxy.env, proxy.index, tmp_path / "t", "benign-app", "evil-app")
        assert done.returncode == 0, done.stderr + proxy.text()
        assert (tmp_path / "t" / "evil_app-1.0.dist-info").is_dir()
        store = open_store(url)
        hidden = [r for r in store.requests(limit=100) if not r.listed]
        assert {r.filename for r in hidden} >= {"evil_app-2.0-py3-none-any.whl"}
        assert {f.version for f in store.files_of("evil-app")} == {"1.0", "2.0"}
    finally:
        proxy.stop()
        pg.drop_database(url)


def test_postgres_restart_mid_run(upstream: tuple[FakeIndex, dict[str, Path]],
                                  tmp_path: Path) -> None:
    server = Postgres()
    proxy = None
    try:
        proxy = Proxy(upstream[0].url, tmp_path, "--store", server.url)
        assert pip(proxy.env, proxy.index, tmp_path / "t1", "benign-dep").returncode == 0
        server.stop()
        down = httpx.get(f"{proxy.index}benign-dep/", headers={"Accept": JSON}, timeout=60)
        assert down.status_code == 503 and "store is unavailable" in down.text
        assert httpx.get(f"{proxy.url}/health").status_code == 503
        assert "unreachable" in proxy.text()
        server.start()
        again = httpx.get(f"{proxy.index}benign-dep/", headers={"Accept": JSON}, timeout=60)
        assert again.status_code == 200 and len(again.json()["files"]) == 1
        assert pip(proxy.env, proxy.index, tmp_path / "t2", "benign-app").returncode == 0
    finally:
        if proxy is not None:
            proxy.stop()
        server.remove()
