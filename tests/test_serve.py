"""`pkgvet serve` started for real in front of a local upstream, used by real pip and uv.

The upstream (tests/fake_index.py) serves real packages built here (tests/index_packages.py):
a benign package and its dependency, a project whose newest release is malicious, and a
project that is only malicious. Store: SQLite, scans in-process.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from fake_index import FakeIndex
from index_packages import populate
from pkgvet.store import Action, Decision, Scope, open_store
from proxy_env import Proxy, clean_env, pip, uv

JSON = "application/vnd.pypi.simple.v1+json"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FakeIndex, dict[str, Path]]]:
    root = tmp_path_factory.mktemp("upstream")
    with FakeIndex(root / "index") as index:
        made = populate(index, root / "build")
        yield index, made


@pytest.fixture(scope="module")
def proxy(upstream: tuple[FakeIndex, dict[str, Path]],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    home = tmp_path_factory.mktemp("proxy")
    p = Proxy(upstream[0].url, home, "--upstream-timeout", "3", "--token-env", "TEST_TOKEN",
              env=clean_env(home, PKGVET_DATA_DIR=str(home / "data"),
                            PKGVET_CACHE_DIR=str(home / "cache"), TEST_TOKEN="s3cret"))
    yield p
    p.stop()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pip_installs_benign_package_and_dependency(proxy: Proxy, tmp_path: Path) -> None:
    done = pip(proxy.env, proxy.index, tmp_path / "t", "benign-app")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t" / "benign_app" / "__init__.py").is_file()
    assert (tmp_path / "t" / "benign_dep-1.0.dist-info").is_dir()


def test_malicious_newest_release_resolves_to_older_allowed_one(proxy: Proxy,
                                                                tmp_path: Path) -> None:
    done = pip(proxy.env, proxy.index, tmp_path / "t", "evil-app")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t" / "evil_app-1.0.dist-info").is_dir()
    pinned = pip(proxy.env, proxy.index, tmp_path / "t2", "evil-app==2.0")
    assert pinned.returncode != 0
    assert "No matching distribution found for evil-app==2.0" in pinned.stderr


def test_only_malicious_project_has_no_matching_distribution(proxy: Proxy,
                                                              tmp_path: Path) -> None:
    done = pip(proxy.env, proxy.index, tmp_path / "t", "evil")
    assert done.returncode != 0
    assert "No matching distribution found for evil" in done.stderr
    assert not (tmp_path / "t").exists() or not any((tmp_path / "t").glob("evil*"))


def test_uv_installs_through_the_proxy(proxy: Proxy, tmp_path: Path) -> None:
    done = uv(proxy.env, proxy.index, tmp_path / "t", "benign-app", "evil-app")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "t" / "benign_dep").is_dir()
    assert (tmp_path / "t" / "evil_app-1.0.dist-info").is_dir()
    refused = uv(proxy.env, proxy.index, tmp_path / "t2", "evil")
    assert refused.returncode != 0
    assert "evil" in refused.stderr


def test_require_hashes_with_the_upstream_hashes(proxy: Proxy,
                                                 upstream: tuple[FakeIndex, dict[str, Path]],
                                                 tmp_path: Path) -> None:
    made = upstream[1]
    req = tmp_path / "requirements.txt"
    req.write_text(
        f"benign-app==1.0 --hash=sha256:{_sha(made['benign-app'])}\n"
        f"benign-dep==1.0 --hash=sha256:{_sha(made['benign-dep'])}\n")
    done = pip(proxy.env, proxy.index, tmp_path / "t", "--require-hashes", "-r", str(req))
    assert done.returncode == 0, done.stderr
    served = tmp_path / "t" / "benign_app" / "__init__.py"
    assert served.read_text().startswith("from benign_dep")


def test_project_page_keeps_every_field(proxy: Proxy,
                                        upstream: tuple[FakeIndex, dict[str, Path]]) -> None:
    page = httpx.get(f"{proxy.index}benign-app/", headers={"Accept": JSON}, timeout=120)
    assert page.headers["content-type"].startswith(JSON)
    data = page.json()
    original = upstream[0].page("benign-app")["files"][0]
    (f,) = data["files"]
    assert data["meta"]["api-version"] == "1.1" and data["versions"] == ["1.0"]
    for key in ("filename", "hashes", "requires-python", "size", "upload-time", "core-metadata",
                "provenance", "yanked"):
        assert f[key] == original[key], key
    assert f["dist-info-metadata"] == original["core-metadata"]
    assert not f["url"].startswith("http")  # through the proxy
    meta = httpx.get(httpx.URL(f"{proxy.index}benign-app/").join(f["url"] + ".metadata"))
    assert hashlib.sha256(meta.content).hexdigest() == f["core-metadata"]["sha256"]
    html = httpx.get(f"{proxy.index}benign-app/", headers={"Accept": "text/html"}).text
    assert f'#sha256={f["hashes"]["sha256"]}' in html
    assert 'data-requires-python="&gt;=3.8"' in html
    assert f'data-core-metadata="sha256={f["core-metadata"]["sha256"]}"' in html
    assert httpx.get(f"{proxy.index}benign-app/", headers={"Accept": "image/png"}).status_code \
        == 406


def test_hidden_file_is_not_served_even_by_direct_url(
        proxy: Proxy, upstream: tuple[FakeIndex, dict[str, Path]]) -> None:
    httpx.get(f"{proxy.index}evil/", timeout=120)
    sha = _sha(upstream[1]["evil"])
    direct = httpx.get(f"{proxy.url}/files/{sha}/evil-1.0.tar.gz")
    assert direct.status_code == 404 and "malicious" in direct.text


def test_api_report_needs_the_token(proxy: Proxy,
                                    upstream: tuple[FakeIndex, dict[str, Path]]) -> None:
    httpx.get(f"{proxy.index}evil/", timeout=120)
    sha = _sha(upstream[1]["evil"])
    assert httpx.get(f"{proxy.url}/api/v1/files/{sha}").status_code == 401
    assert httpx.get(f"{proxy.url}/api/v1/files/{sha}",
                     headers={"Authorization": "Bearer wrong"}).status_code == 401
    got = httpx.get(f"{proxy.url}/api/v1/files/{sha}",
                    headers={"Authorization": "Bearer s3cret"}).json()
    assert got["report"]["verdict"] == "malicious"
    assert {f["rule_id"] for f in got["report"]["findings"]} >= {"PV201"}
    assert got["policy"] == {"listed": False, "reason": "malicious",
                             "detail": got["policy"]["detail"]}
    assert any(r["reason"].startswith("malicious") for r in got["requests"])
    metrics = httpx.get(f"{proxy.url}/metrics", headers={"Authorization": "Bearer s3cret"}).text
    assert 'pkgvet_hidden_files_total{reason="malicious"}' in metrics
    assert "pkgvet_scan_seconds_count" in metrics


@pytest.mark.parametrize("path, status", [
    ("/simple/..%2f..%2fetc%2fpasswd/", 404),
    ("/simple/%2e%2e/", 400),
    ("/simple/rеquests/", 400),  # Cyrillic 'е'
    ("/simple/" + "a" * 300 + "/", 400),
    ("/simple/-leading/", 400),
    ("/files/" + "0" * 64 + "/..%2f..%2fsecret", 404),
    ("/files/nothex/x.whl", 400),
    ("/files/" + "0" * 64 + "/x.whl", 404),
    ("/api/v1/files/../../etc", 404),
])
def test_hostile_names_are_refused(proxy: Proxy, path: str, status: int) -> None:
    got = httpx.get(proxy.url + path, headers={"Authorization": "Bearer s3cret"})
    assert got.status_code == status, got.text
    assert httpx.get(f"{proxy.url}/health").status_code == 200


def test_non_normalized_name_redirects(proxy: Proxy) -> None:
    got = httpx.get(f"{proxy.index}Benign_App/")
    assert got.status_code == 301 and got.headers["location"].endswith("/simple/benign-app/")


@pytest.mark.parametrize("fault, status", [("slow", 504), ("reset", 502), ("huge", 502),
                                           ("malformed", 502)])
def test_upstream_faults_give_a_clear_error_and_the_proxy_goes_on(
        proxy: Proxy, upstream: tuple[FakeIndex, dict[str, Path]], fault: str,
        status: int) -> None:
    index = upstream[0]
    project = f"broken-{fault}"
    (index.root / project).mkdir(exist_ok=True)
    index.faults[project] = fault
    got = httpx.get(f"{proxy.index}{project}/", timeout=60)
    assert got.status_code == status and got.text.startswith("upstream:")
    assert "upstream: " in proxy.text()
    assert httpx.get(f"{proxy.index}benign-dep/", timeout=120).status_code == 200


def test_hash_mismatch_is_never_served(proxy: Proxy,
                                       upstream: tuple[FakeIndex, dict[str, Path]],
                                       tmp_path: Path) -> None:
    index = upstream[0]
    wheel = tmp_path / "w"
    wheel.mkdir()
    from index_packages import wheel as build_wheel

    path = build_wheel(wheel, "tampered", "1.0", "X = 1\n")
    index.add("tampered", path)
    index.faults["tampered"] = "badhash"
    page = httpx.get(f"{proxy.index}tampered/", headers={"Accept": JSON}, timeout=120).json()
    assert page["files"] == []
    direct = httpx.get(f"{proxy.url}/files/{_sha(path)}/{path.name}")
    assert direct.status_code == 404
    assert "sha256" in proxy.text()


def test_decisions_apply_at_once(proxy: Proxy, upstream: tuple[FakeIndex, dict[str, Path]],
                                 tmp_path: Path) -> None:
    store = open_store(f"sqlite://{Path(proxy.env['PKGVET_DATA_DIR']) / 'store.sqlite'}")
    httpx.get(f"{proxy.index}evil/", timeout=120)
    sha = _sha(upstream[1]["evil"])
    store.decide(Decision(Scope.FILE, sha, Action.ALLOW, "test fixture, reviewed", "alice",
                          time.time()))
    try:
        page = httpx.get(f"{proxy.index}evil/", headers={"Accept": JSON}).json()
        assert [f["filename"] for f in page["files"]] == ["evil-1.0.tar.gz"]
        store.decide(Decision(Scope.RELEASE, "benign-dep==1.0", Action.BLOCK, "pulled", "bob",
                              time.time()))
        page = httpx.get(f"{proxy.index}benign-dep/", headers={"Accept": JSON}).json()
        assert page["files"] == []
    finally:
        store.revoke(Scope.FILE, sha, "alice", "test over")
        store.revoke(Scope.RELEASE, "benign-dep==1.0", "bob", "test over")
    assert httpx.get(f"{proxy.index}evil/", headers={"Accept": JSON}).json()["files"] == []


def test_many_concurrent_installs(proxy: Proxy, tmp_path: Path) -> None:
    def one(i: int) -> int:
        return pip(proxy.env, proxy.index, tmp_path / f"t{i}", "benign-app", "evil-app").returncode

    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = list(pool.map(one, range(6)))
    assert codes == [0] * 6


def test_min_age_hides_fresh_files(upstream: tuple[FakeIndex, dict[str, Path]],
                                   tmp_path: Path) -> None:
    index, _ = upstream
    from index_packages import wheel as build_wheel

    old = build_wheel(tmp_path, "aged", "1.0", "X = 1\n")
    fresh = build_wheel(tmp_path, "aged", "1.1", "X = 2\n")
    index.add("aged", old, upload_time=time.time() - 5 * 86400)
    index.add("aged", fresh, upload_time=time.time() - 600)
    p = Proxy(index.url, tmp_path / "home", "--min-age", "48h")
    try:
        page = httpx.get(f"{p.index}aged/", headers={"Accept": JSON}, timeout=120).json()
        assert [f["filename"] for f in page["files"]] == [old.name]
        done = pip(p.env, p.index, tmp_path / "t", "aged")
        assert done.returncode == 0 and (tmp_path / "t" / "aged-1.0.dist-info").is_dir()
    finally:
        p.stop()


def test_fail_open_lists_unvetted_files(upstream: tuple[FakeIndex, dict[str, Path]],
                                        tmp_path: Path) -> None:
    index, made = upstream
    closed = Proxy(index.url, tmp_path / "closed", "--budget", "0", "--jobs", "1",
                   name="closed")
    opened = Proxy(index.url, tmp_path / "open", "--budget", "0", "--fail-open", name="open")
    try:
        c = httpx.get(f"{closed.index}benign-dep/", headers={"Accept": JSON}).json()
        o = httpx.get(f"{opened.index}benign-dep/", headers={"Accept": JSON}).json()
        assert c["files"] == []
        assert [f["filename"] for f in o["files"]] == [made["benign-dep"].name]
    finally:
        closed.stop()
        opened.stop()


def test_sandbox_result_withdraws_a_listed_file(proxy: Proxy,
                                                 upstream: tuple[FakeIndex, dict[str, Path]]) -> None:
    from pkgvet import RULESET_VERSION
    from pkgvet.store import ResultKind, ResultRecord

    store = open_store(f"sqlite://{Path(proxy.env['PKGVET_DATA_DIR']) / 'store.sqlite'}")
    page = httpx.get(f"{proxy.index}benign-dep/", headers={"Accept": JSON}, timeout=120).json()
    assert len(page["files"]) == 1
    sha = _sha(upstream[1]["benign-dep"])
    store.put_result(ResultRecord(sha, RULESET_VERSION, ResultKind.SANDBOX, "malicious", False,
                                  {"verdict": "malicious", "findings": []}, time.time()))
    try:
        page = httpx.get(f"{proxy.index}benign-dep/", headers={"Accept": JSON}).json()
        assert page["files"] == []
        api = httpx.get(f"{proxy.url}/api/v1/projects/benign-dep",
                        headers={"Authorization": "Bearer s3cret"}).json()
        assert api["files"][0]["reason"] == "sandbox-malicious"
    finally:
        store.put_result(ResultRecord(sha, RULESET_VERSION, ResultKind.SANDBOX, "benign", False,
                                      {"verdict": "benign", "findings": []}, time.time()))


@pytest.mark.sandbox
def test_sandbox_runs_listed_files_in_the_background(
        upstream: tuple[FakeIndex, dict[str, Path]], tmp_path: Path) -> None:
    from pkgvet.sandbox import SandboxSettings, SandboxUnavailable, check_ready

    try:
        check_ready(SandboxSettings())
    except SandboxUnavailable as exc:
        if os.environ.get("PKGVET_REQUIRE_SANDBOX"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    p = Proxy(upstream[0].url, tmp_path, "--sandbox")
    try:
        done = pip(p.env, p.index, tmp_path / "t", "benign-dep")
        assert done.returncode == 0, done.stderr
        sha = _sha(upstream[1]["benign-dep"])
        deadline = time.monotonic() + 600
        while True:
            got = httpx.get(f"{p.url}/api/v1/files/{sha}").json()
            if got["sandbox"] is not None:
                break
            assert time.monotonic() < deadline, p.text()
            time.sleep(2)
        assert got["sandbox"]["sandbox"]["installable"] is True
        assert got["sandbox"]["verdict"] == "benign" and got["policy"]["listed"] is True
    finally:
        p.stop()
