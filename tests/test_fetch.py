"""The index client against a real HTTP index on 127.0.0.1 serving real archives.

The test index speaks PEP 691 JSON (relative file URLs), PEP 503 HTML, and the PyPI JSON API
(`fetch.JSON_API_HOSTS` is pointed at 127.0.0.1 for those tests). Only the test marked
`network` talks to PyPI.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from packaging.tags import sys_tags
from typer.testing import CliRunner

from builders import BENIGN_SETUP, make_sdist, make_wheel
from pkgvet import fetch
from pkgvet.cli import app
from pkgvet.errors import HashMismatch, IndexUnreachable, PackageNotFound, UsageError
from pkgvet.fetch import IndexFile, Release
from pkgvet.model import ArtifactKind

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
TAGS = list(sys_tags())
BEST_TAG = TAGS[3]
WORSE_TAG = TAGS[40]
FOREIGN_TAG = "cp27-cp27m-win32"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Page:
    json: bytes | None = None
    html: bytes | None = None
    status: int = 200
    content_type: str | None = None
    raw: bytes = b""


@dataclass
class TestIndex:
    """A tiny index server: pages by path, file bodies by path, and a log of requests."""

    __test__ = False

    root: str = ""
    pages: dict[str, Page] = field(default_factory=dict)
    blobs: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    @property
    def simple(self) -> str:
        return f"{self.root}/simple/"

    def add_file(self, path: Path) -> tuple[str, bytes]:
        data = path.read_bytes()
        self.blobs[f"/files/{path.name}"] = data
        return path.name, data

    def add_json_project(self, name: str, files: list[dict[str, Any]]) -> None:
        """A PEP 691 page (relative URLs) that also answers as HTML to HTML-only clients."""
        body = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        anchors = "".join(
            f'<a href="{f["url"]}#sha256={f["hashes"].get("sha256", "")}">{f["filename"]}</a>'
            for f in files
        )
        self.pages[f"/simple/{name}/"] = Page(
            json=json.dumps(body).encode(), html=f"<html><body>{anchors}</body></html>".encode()
        )


def _handler(index: TestIndex) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            index.requests.append(self.path)
            if self.path in index.blobs:
                self._send(200, "application/octet-stream", index.blobs[self.path])
                return
            page = index.pages.get(self.path)
            if page is None:
                self._send(404, "text/plain", b"not found")
            elif page.content_type is not None:
                self._send(page.status, page.content_type, page.raw)
            elif page.json is not None and SIMPLE_JSON in self.headers.get("Accept", ""):
                self._send(200, SIMPLE_JSON, page.json)
            elif page.html is not None:
                self._send(200, "text/html; charset=utf-8", page.html)
            else:
                self._send(406, "text/plain", b"not acceptable")

        def _send(self, status: int, ctype: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _file_entry(name: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"filename": name, "url": f"../../files/{name}", "hashes": {"sha256": sha256(data)},
            **extra}


def _populate(index: TestIndex, tmp: Path) -> None:
    files = []
    for version in ("1.0", "1.1", "2.0b1"):
        sdist = make_sdist(tmp, "demo", version, {
            "setup.py": BENIGN_SETUP.format(name="demo", version=version),
            "demo/__init__.py": "VALUE = 1\n",
        })
        name, data = index.add_file(sdist)
        yanked: dict[str, Any] = {"yanked": "broken build"} if version == "1.1" else {}
        files.append(_file_entry(name, data, **yanked))
        tags = ["py3-none-any"] + ([str(WORSE_TAG), str(BEST_TAG), FOREIGN_TAG]
                                    if version == "1.0" else [])
        for tag in tags:
            wheel = make_wheel(tmp, "demo", version, {"demo/__init__.py": "VALUE = 1\n"}, tag=tag)
            name, data = index.add_file(wheel)
            files.append(_file_entry(name, data, **yanked))
    files.append({"filename": "demo-0.9.tar.gz", "url": "../../files/demo-0.9.tar.gz",
                  "hashes": {"md5": "0" * 32}})
    files.append({"filename": "demo-notaversion.tar.gz", "url": "x", "hashes": {}})
    index.add_json_project("demo", files)

    # PEP 503 only: HTML whatever the Accept header says, with a <base> and escaped attributes.
    anchors = []
    for version, attrs in (("3.0", ' data-requires-python="&gt;=3.8"'),
                           ("3.1", ' data-yanked="security issue"')):
        sdist = make_sdist(tmp, "html_pkg", version, {"html_pkg/__init__.py": "X = 2\n"})
        name, data = index.add_file(sdist)
        anchors.append(f'<a href="{name}#sha256={sha256(data)}"{attrs}>{name}</a>')
    index.pages["/simple/html-pkg/"] = Page(html=(
        '<!DOCTYPE html><html><head><base href="/files/"></head><body>'
        + "\n".join(anchors) + "</body></html>").encode())

    bad = make_sdist(tmp, "badhash", "1.0", {"badhash/__init__.py": "Y = 3\n"})
    name, data = index.add_file(bad)
    index.add_json_project("badhash", [_file_entry(name, data + b"tampered")])

    nohash = make_sdist(tmp, "nohash", "1.0", {"nohash/__init__.py": "Z = 4\n"})
    name, data = index.add_file(nohash)
    index.add_json_project("nohash", [{"filename": name, "url": f"../../files/{name}",
                                       "hashes": {}}])

    pre = make_sdist(tmp, "preonly", "1.0a1", {"preonly/__init__.py": ""})
    name, data = index.add_file(pre)
    index.add_json_project("preonly", [_file_entry(name, data)])

    index.pages["/simple/broken/"] = Page(status=503, content_type="text/plain", raw=b"down")
    index.pages["/simple/portal/"] = Page(content_type="text/plain", raw=b"please log in")
    _populate_pypi_json(index, tmp)


def _populate_pypi_json(index: TestIndex, tmp: Path) -> None:
    """Responses shaped like Warehouse's /pypi/<name>/json and /pypi/<name>/<version>/json."""
    releases: dict[str, list[dict[str, Any]]] = {}
    for version in ("0.5", "1.0", "1.1"):
        entries = []
        sdist = make_sdist(tmp, "jsonpkg", version, {"jsonpkg/__init__.py": "A = 1\n"})
        wheel = make_wheel(tmp, "jsonpkg", version, {"jsonpkg/__init__.py": "A = 1\n"})
        for path, ptype in ((sdist, "sdist"), (wheel, "bdist_wheel")):
            name, data = index.add_file(path)
            entries.append({
                "comment_text": "",
                "digests": {"blake2b_256": "00" * 32, "md5": "00" * 16, "sha256": sha256(data)},
                "downloads": -1,
                "filename": name,
                "has_sig": False,
                "md5_digest": "00" * 16,
                "packagetype": ptype,
                "python_version": "source" if ptype == "sdist" else "py3",
                "requires_python": ">=3.8",
                "size": len(data),
                "upload_time_iso_8601": "2024-05-29T15:37:47.027Z",
                "url": f"{index.root}/files/{name}",
                "yanked": version == "1.1",
                "yanked_reason": "oops" if version == "1.1" else None,
            })
        releases[version] = entries
        info = {"name": "JsonPkg", "version": version, "yanked": version == "1.1",
                "yanked_reason": "oops" if version == "1.1" else None}
        index.pages[f"/pypi/jsonpkg/{version}/json"] = Page(
            content_type="application/json",
            raw=json.dumps({"info": info, "urls": entries, "vulnerabilities": []}).encode(),
        )
    releases["2.0.dev0"] = []  # a version with no files: known, never chosen
    releases["not a version"] = []
    info = {"name": "JsonPkg", "version": "1.0", "yanked": False, "yanked_reason": None}
    index.pages["/pypi/jsonpkg/json"] = Page(
        content_type="application/json",
        raw=json.dumps({"info": info, "releases": releases, "urls": releases["1.0"]}).encode(),
    )


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestIndex]:
    served = TestIndex()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.root = f"http://127.0.0.1:{server.server_address[1]}"
    _populate(served, tmp_path_factory.mktemp("index"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private cache, no proxy for 127.0.0.1, a fresh HTTP client, no pip configuration."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PKGVET_CACHE_DIR", str(cache))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for var in ("PIP_INDEX_URL", "PIP_CONFIG_FILE", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setattr(fetch, "SYSTEM_PIP_CONF", tmp_path / "etc" / "pip.conf")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    fetch._client.cache_clear()
    yield cache
    fetch._client.cache_clear()


@pytest.fixture
def pypi_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat the test server like pypi.org: use its /pypi/<name>/json API."""
    monkeypatch.setattr(fetch, "JSON_API_HOSTS", frozenset({"127.0.0.1"}))


# --- resolution --------------------------------------------------------------------------


def test_newest_is_the_newest_final_non_yanked(index: TestIndex) -> None:
    release = fetch.get_release("demo", index_url=index.simple)
    assert (release.name, release.version, release.yanked) == ("demo", "1.0", False)
    assert {f.kind for f in release.files} == {ArtifactKind.SDIST, ArtifactKind.WHEEL}


def test_pep691_page_is_asked_for_and_relative_urls_resolved(index: TestIndex) -> None:
    release = fetch.get_release("Demo", "==1.0", index_url=index.simple)
    sdist = next(f for f in release.files if f.kind is ArtifactKind.SDIST)
    assert sdist.url == f"{index.root}/files/demo-1.0.tar.gz"
    assert len(sdist.sha256) == 64


def test_specifiers_and_prereleases(index: TestIndex) -> None:
    assert fetch.get_release("demo", ">=0.1,<2", index_url=index.simple).version == "1.0"
    assert fetch.get_release("demo", ">=2.0b1", index_url=index.simple).version == "2.0b1"
    assert fetch.get_release("demo", ">1.5", index_url=index.simple).version == "2.0b1"
    assert fetch.get_release("preonly", index_url=index.simple).version == "1.0a1"


def test_exact_pin_picks_a_yanked_release_and_says_so(index: TestIndex) -> None:
    release = fetch.get_release("demo", "==1.1", index_url=index.simple)
    assert release.yanked
    assert all(f.yanked and f.yanked_reason == "broken build" for f in release.files)
    artifacts = fetch.fetch("demo", "==1.1", index_url=index.simple)
    assert artifacts and all(a.yanked and a.yanked_reason == "broken build" for a in artifacts)


def test_versions_lists_every_parseable_version(index: TestIndex) -> None:
    assert fetch.versions("demo", index_url=index.simple) == ["0.9", "1.0", "1.1", "2.0b1"]


def test_unknown_project(index: TestIndex) -> None:
    with pytest.raises(PackageNotFound) as err:
        fetch.get_release("dmeo", index_url=index.simple)
    assert str(err.value) == f"no project 'dmeo' on {index.simple}; check the spelling"


def test_unknown_version_names_the_newest(index: TestIndex) -> None:
    with pytest.raises(PackageNotFound, match=r"^no release 9\.9 of 'demo'; newest is 1\.0$"):
        fetch.get_release("demo", "==9.9", index_url=index.simple)
    with pytest.raises(PackageNotFound, match=re.escape("matches '>=5'; newest is 1.0")):
        fetch.get_release("demo", ">=5", index_url=index.simple)


def test_bad_input_is_a_usage_error(index: TestIndex) -> None:
    with pytest.raises(UsageError):
        fetch.get_release("demo", "~~1", index_url=index.simple)
    with pytest.raises(UsageError):
        fetch.get_release("../etc", index_url=index.simple)
    with pytest.raises(UsageError):
        fetch.get_release("demo", index_url="ftp://127.0.0.1/simple/")


def test_pep503_html_page(index: TestIndex) -> None:
    assert fetch.get_release("html_pkg", index_url=index.simple).version == "3.0"
    release = fetch.get_release("HTML.pkg", "==3.1", index_url=index.simple)
    (file,) = release.files
    assert release.yanked and file.yanked_reason == "security issue"
    assert file.url == f"{index.root}/files/html_pkg-3.1.tar.gz"
    older = fetch.get_release("html-pkg", "==3.0", index_url=index.simple).files[0]
    assert older.requires_python == ">=3.8" and not older.yanked
    (artifact,) = fetch.fetch("html-pkg", "==3.0", index_url=index.simple)
    assert artifact.path.read_bytes() == index.blobs["/files/html_pkg-3.0.tar.gz"]


def test_html_parser_unescapes_and_honours_base() -> None:
    page = (
        '<html><head><base href="https://files.example.invalid/p/"></head><body>'
        f'<a href="a/x-1.0.tar.gz#sha256={"AB" * 32}" data-yanked="" '
        f'data-requires-python="{html.escape(">=3.9,<4")}">x-1.0.tar.gz</a>'
        '<a href="x-1.0.exe#sha256=00">x-1.0.exe</a>'
        "</body></html>"
    )
    (file,) = fetch._simple_html(page, "https://index.example.invalid/simple/x/")
    assert file.url == "https://files.example.invalid/p/a/x-1.0.tar.gz"
    assert file.sha256 == "ab" * 32
    assert file.yanked and file.yanked_reason == ""
    assert file.requires_python == ">=3.9,<4"


def test_file_index(tmp_path: Path) -> None:
    root = tmp_path / "idx"
    (root / "simple" / "local-pkg").mkdir(parents=True)
    (root / "files").mkdir()
    sdist = make_sdist(root / "files", "local-pkg", "0.3", {"local_pkg/__init__.py": ""})
    digest = sha256(sdist.read_bytes())
    (root / "simple" / "local-pkg" / "index.html").write_text(
        f'<a href="../../files/{sdist.name}#sha256={digest}">{sdist.name}</a>'
    )
    (artifact,) = fetch.fetch("local_pkg", index_url=(root / "simple").as_uri())
    assert artifact.sha256 == digest and artifact.version == "0.3"
    with pytest.raises(PackageNotFound):
        fetch.get_release("absent", index_url=(root / "simple").as_uri())


# --- PyPI JSON API -----------------------------------------------------------------------


def test_pypi_json_api_newest(index: TestIndex, pypi_json: None) -> None:
    release = fetch.get_release("jsonpkg", index_url=index.simple)
    assert (release.name, release.version) == ("JsonPkg", "1.0")
    assert {f.size for f in release.files} == {len(index.blobs[f"/files/{f.filename}"])
                                               for f in release.files}
    assert fetch.versions("jsonpkg", index_url=index.simple) == ["0.5", "1.0", "1.1", "2.0.dev0"]
    assert "/pypi/jsonpkg/json" in index.requests


def test_pypi_json_api_exact_version_uses_the_version_endpoint(
    index: TestIndex, pypi_json: None
) -> None:
    index.requests.clear()
    release = fetch.get_release("JsonPkg", "==1.1", index_url=index.simple)
    assert release.yanked and release.files[0].yanked_reason == "oops"
    assert index.requests == ["/pypi/jsonpkg/1.1/json"]
    artifacts = fetch.fetch("jsonpkg", "==0.5", index_url=index.simple)
    assert sorted(a.kind for a in artifacts) == [ArtifactKind.SDIST, ArtifactKind.WHEEL]
    assert all(a.name == "JsonPkg" and a.version == "0.5" for a in artifacts)


def test_pypi_json_api_unknowns(index: TestIndex, pypi_json: None) -> None:
    newest = re.escape("no release 9.9 of 'jsonpkg'; newest is 1.0")
    with pytest.raises(PackageNotFound, match=newest):
        fetch.get_release("jsonpkg", "==9.9", index_url=index.simple)
    empty = re.escape("2.0.dev0 of 'jsonpkg' has no sdist or wheel")
    with pytest.raises(PackageNotFound, match=empty):
        fetch.get_release("jsonpkg", "==2.0.dev0", index_url=index.simple)
    with pytest.raises(PackageNotFound, match="no project 'jsnopkg'"):
        fetch.get_release("jsnopkg", "==1.0", index_url=index.simple)


# --- choosing files ----------------------------------------------------------------------


def _release(*filenames: str) -> Release:
    files = tuple(
        IndexFile(n, f"https://files.invalid/{n}", "0" * 64,
                  ArtifactKind.WHEEL if n.endswith(".whl") else ArtifactKind.SDIST)
        for n in filenames
    )
    return Release("demo", "1.0", files)


def test_platform_wheel_selection(index: TestIndex) -> None:
    release = fetch.get_release("demo", "==1.0", index_url=index.simple)
    chosen = [f.filename for f in fetch.select_files(release)]
    assert chosen == ["demo-1.0.tar.gz", f"demo-1.0-{BEST_TAG}.whl"]
    assert len(fetch.select_files(release, all_files=True)) == 5


def test_pure_wheel_fallback_and_sdist_preference() -> None:
    release = _release("demo-1.0.zip", "demo-1.0.tar.gz", f"demo-1.0-{FOREIGN_TAG}.whl",
                       "demo-1.0-py2.py3-none-any.whl")
    chosen = [f.filename for f in fetch.select_files(release)]
    assert chosen == ["demo-1.0.tar.gz", "demo-1.0-py2.py3-none-any.whl"]
    only_foreign = _release(f"demo-1.0-{FOREIGN_TAG}.whl")
    assert fetch.select_files(only_foreign) == []
    assert len(fetch.select_files(only_foreign, all_files=True)) == 1


# --- downloading -------------------------------------------------------------------------


def test_download_is_verified_and_cached(index: TestIndex, isolated: Path) -> None:
    release = fetch.get_release("demo", "==1.0", index_url=index.simple)
    files = fetch.select_files(release)
    index.requests.clear()
    first = [fetch.download(f, name="demo", version="1.0") for f in files]
    assert len(index.requests) == 2
    for artifact, file in zip(first, files, strict=True):
        assert artifact.path == isolated / "files" / file.sha256[:2] / file.sha256 / file.filename
        assert sha256(artifact.path.read_bytes()) == file.sha256
        assert artifact.source == file.url and not artifact.yanked
    index.requests.clear()
    second = [fetch.download(f) for f in files]
    assert index.requests == []
    assert [a.path for a in second] == [a.path for a in first]
    assert (second[0].name, second[0].version) == ("demo", "1.0")


def test_a_corrupted_cache_entry_is_downloaded_again(index: TestIndex) -> None:
    file = fetch.select_files(fetch.get_release("demo", "==1.0", index_url=index.simple))[0]
    artifact = fetch.download(file)
    artifact.path.write_bytes(b"garbage")
    index.requests.clear()
    again = fetch.download(file)
    assert len(index.requests) == 1 and sha256(again.path.read_bytes()) == file.sha256


def test_hash_mismatch_discards_the_download(index: TestIndex, isolated: Path) -> None:
    release = fetch.get_release("badhash", index_url=index.simple)
    (file,) = release.files
    actual = sha256(index.blobs["/files/badhash-1.0.tar.gz"])
    with pytest.raises(HashMismatch) as err:
        fetch.download(file)
    message = str(err.value)
    assert "badhash-1.0.tar.gz" in message and file.sha256 in message and actual in message
    assert "discarded" in message
    assert not (isolated / "files").exists()
    assert list((isolated / "tmp").iterdir()) == []


def test_a_file_without_sha256_is_refused(index: TestIndex, isolated: Path) -> None:
    with pytest.raises(HashMismatch, match=re.escape("no sha256 for nohash-1.0.tar.gz")):
        fetch.fetch("nohash", index_url=index.simple)
    assert not (isolated / "files").exists()


# --- unreachable indexes -----------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_closed_port_is_unreachable() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/simple/"
    with pytest.raises(IndexUnreachable) as err:
        fetch.get_release("demo", index_url=url)
    assert url in str(err.value) and "--index-url" in str(err.value)


def test_server_errors_and_non_index_content(index: TestIndex) -> None:
    with pytest.raises(IndexUnreachable, match="HTTP 503"):
        fetch.get_release("broken", index_url=index.simple)
    with pytest.raises(IndexUnreachable, match="not a simple index page"):
        fetch.get_release("portal", index_url=index.simple)


def test_credentials_are_not_shown() -> None:
    url = f"http://user:s3cret@127.0.0.1:{_closed_port()}/simple/"
    with pytest.raises(IndexUnreachable) as err:
        fetch.get_release("demo", index_url=url)
    assert "s3cret" not in str(err.value)


# --- configuration -----------------------------------------------------------------------


def _conf(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def test_default_is_pypi_without_configuration(tmp_path: Path) -> None:
    assert fetch.default_index_url() == fetch.PYPI_SIMPLE_URL == "https://pypi.org/simple/"


def test_pip_conf_files_in_pip_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    _conf(tmp_path / "etc" / "pip.conf", "[global]\nindex-url = https://system.invalid/simple\n")
    assert fetch.default_index_url() == "https://system.invalid/simple"
    user = _conf(home / ".config" / "pip" / "pip.conf",
                 "[global]\nindex-url = https://user.invalid/simple\n"
                 "extra-index-url = https://extra.invalid/simple\n")
    assert fetch.default_index_url() == "https://user.invalid/simple"
    user.write_text("[global]\nindex-url = https://user.invalid/simple\n"
                    "[install]\nindex_url = https://install.invalid/simple\n")
    assert fetch.default_index_url() == "https://install.invalid/simple"
    # An existing PIP_CONFIG_FILE replaces the per-user files, as in pip.
    env_file = _conf(tmp_path / "env.conf", "[global]\ntimeout = 5\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(env_file))
    assert fetch.default_index_url() == "https://system.invalid/simple"
    env_file.write_text("[global]\nindex-url = https://env-file.invalid/simple\n")
    assert fetch.default_index_url() == "https://env-file.invalid/simple"
    monkeypatch.setenv("PIP_INDEX_URL", "https://env.invalid/simple/")
    assert fetch.default_index_url() == "https://env.invalid/simple/"


def test_extra_index_url_is_ignored(tmp_path: Path) -> None:
    _conf(tmp_path / "home" / ".pip" / "pip.conf",
          "[global]\nextra-index-url = https://extra.invalid/simple\n")
    assert fetch.default_index_url() == fetch.PYPI_SIMPLE_URL


def test_broken_pip_conf_is_a_usage_error(tmp_path: Path) -> None:
    _conf(tmp_path / "xdg" / "pip" / "pip.conf", "index-url = no section\n")
    with pytest.raises(UsageError, match="not a valid pip configuration file"):
        fetch.default_index_url()


def test_configured_index_is_used(index: TestIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", index.simple.rstrip("/"))
    assert fetch.get_release("demo").version == "1.0"


# --- end to end --------------------------------------------------------------------------


def test_cli_scan_from_the_index(index: TestIndex) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["scan", "demo==1.0", "--index-url", index.simple, "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "benign" and report["errors"] == []
    by_file = {r["file"]: r for r in report["results"]}
    assert set(by_file) == {"demo-1.0.tar.gz", f"demo-1.0-{BEST_TAG}.whl"}
    for filename, r in by_file.items():
        digest = sha256(index.blobs[f"/files/{filename}"])
        assert r["sha256"] == digest
        assert r["pin"] == f"demo==1.0 --hash=sha256:{digest}"
        assert r["source"] == f"{index.root}/files/{filename}"


def test_cli_unknown_package_is_one_line_and_exit_3(index: TestIndex) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["scan", "nosuchpkg", "--index-url", index.simple],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 3
    lines = [line for line in result.output.splitlines() if "nosuchpkg" in line]
    assert lines == [
        f"error: nosuchpkg: no project 'nosuchpkg' on {index.simple}; check the spelling"
    ]


# --- live --------------------------------------------------------------------------------


@pytest.mark.network
def test_live_pypi_requests() -> None:
    artifacts = fetch.fetch("requests", "==2.32.3", index_url=fetch.PYPI_SIMPLE_URL)
    exact = httpx.get("https://pypi.org/pypi/requests/2.32.3/json", timeout=30,
                      follow_redirects=True)
    if exact.status_code == 200:
        entries = exact.json()["urls"]
    else:  # mirrors of pypi.org may serve only the project endpoint
        entries = httpx.get("https://pypi.org/pypi/requests/json", timeout=30,
                            follow_redirects=True).json()["releases"]["2.32.3"]
    digests = {u["filename"]: u["digests"]["sha256"] for u in entries}
    assert {a.path.name for a in artifacts} == {"requests-2.32.3.tar.gz",
                                               "requests-2.32.3-py3-none-any.whl"}
    for artifact in artifacts:
        assert artifact.sha256 == digests[artifact.path.name]
        assert sha256(artifact.path.read_bytes()) == artifact.sha256
