"""`pkgvet watch` against a local XML-RPC changelog and RSS feed (tests/data/watch) and the
local index: new releases of followed projects are vetted into the store, from a saved
position."""

from __future__ import annotations

import json
import subprocess
import threading
import xmlrpc.client
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fake_index import FakeIndex
from index_packages import populate
from pkgvet import RULESET_VERSION
from pkgvet.errors import IndexUnreachable
from pkgvet.store import ResultKind, open_store
from pkgvet.watch import feeds
from proxy_env import BIN, clean_env

DATA = Path(__file__).parent / "data" / "watch"


class Feeds:
    """Serves the changelog over XML-RPC (POST /pypi) and the RSS feed (GET /rss)."""

    def __init__(self) -> None:
        entries = json.loads((DATA / "changelog.json").read_text())
        rss = (DATA / "updates.xml").read_bytes()
        self.calls: list[str] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _send(self, body: bytes, ctype: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(rss, "application/rss+xml")

            def do_POST(self) -> None:
                params, method = xmlrpc.client.loads(
                    self.rfile.read(int(self.headers["Content-Length"])))
                calls.append(f"{method}{params}")
                if method == "changelog_last_serial":
                    value: object = 1000
                else:
                    value = [e for e in entries if e[4] > params[0]]
                self._send(xmlrpc.client.dumps((value,), methodresponse=True,
                                               allow_none=True).encode(), "text/xml")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeIndex, Feeds]]:
    root = tmp_path_factory.mktemp("upstream")
    with FakeIndex(root / "index") as index:
        populate(index, root / "build")
        f = Feeds()
        yield index, f
        f.server.shutdown()


def _watch(home: Path, index: FakeIndex, *args: str) -> subprocess.CompletedProcess[str]:
    env = clean_env(home, PKGVET_DATA_DIR=str(home / "data"),
                    PKGVET_CACHE_DIR=str(home / "cache"))
    return subprocess.run([str(BIN / "pkgvet"), "watch", "--once", "--index-url", index.url,
                           "--store", f"sqlite://{home / 'store.sqlite'}", *args],
                          capture_output=True, text=True, env=env, timeout=300)


def test_changelog_parsing() -> None:
    entries = json.loads((DATA / "changelog.json").read_text())
    kept = [e for e in entries if e[1] and (e[3] == "new release" or " file " in e[3])]
    assert len(kept) == 6  # create (no version) and remove release are not uploads


def test_watch_xmlrpc_from_saved_position(world: tuple[FakeIndex, Feeds], tmp_path: Path) -> None:
    index, f = world
    lock = tmp_path / "requirements.txt"
    lock.write_text("evil==1.0\n")
    first = _watch(tmp_path, index, "--feed-url", f"{f.url}/pypi", "-p", "benign-dep",
                   "--lock", str(lock))
    assert first.returncode == 0, first.stderr
    assert "watching from serial 1000" in first.stderr
    second = _watch(tmp_path, index, "--feed-url", f"{f.url}/pypi", "-p", "benign-dep",
                    "--lock", str(lock))
    assert second.returncode == 0, second.stderr
    assert "2 new release(s), 2 file(s) queued" in second.stderr
    store = open_store(f"sqlite://{tmp_path / 'store.sqlite'}")
    verdicts = {f.filename: store.get_result(f.sha256, RULESET_VERSION, ResultKind.STATIC)
                for p in ("benign-dep", "evil") for f in store.files_of(p)}
    assert {k: v.verdict for k, v in verdicts.items() if v} == {
        "benign_dep-1.0-py3-none-any.whl": "benign", "evil-1.0.tar.gz": "malicious"}
    assert store.files_of("benign-app") == []  # not followed
    assert store.get_state(f"watch:xmlrpc:{f.url}/pypi") == "1008"
    third = _watch(tmp_path, index, "--feed-url", f"{f.url}/pypi", "-p", "benign-dep")
    assert "queued" not in third.stderr
    assert "changelog_since_serial(1008,)" in f.calls


def test_watch_rss_fallback(world: tuple[FakeIndex, Feeds], tmp_path: Path) -> None:
    index, f = world
    store = open_store(f"sqlite://{tmp_path / 'store.sqlite'}")
    store.set_state(f"watch:rss:{f.url}/rss", "1700000000")
    done = _watch(tmp_path, index, "--feed", "rss", "--feed-url", f"{f.url}/rss", "--all")
    assert done.returncode == 0, done.stderr
    assert "queued 1 file(s) of evil 1.0" in done.stderr
    assert "old-news" in done.stderr  # followed (--all), but not on this index: logged
    assert int(store.get_state(f"watch:rss:{f.url}/rss") or 0) > 1700000000


def test_watch_needs_a_choice(world: tuple[FakeIndex, Feeds], tmp_path: Path) -> None:
    done = _watch(tmp_path, world[0])
    assert done.returncode == 3 and "--project NAME, --lock FILE, or --all" in done.stderr


def test_unreachable_feed_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexUnreachable, match="did not answer"):
        feeds.last_serial("http://127.0.0.1:9/pypi", timeout=2)
