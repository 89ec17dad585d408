"""The triage console over a real store: access, queue, evidence, decisions, escaping."""

from __future__ import annotations

import re
import time
import tomllib
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from hostile_fixtures import SCRIPT
from pkgvet import policy
from pkgvet.config import load as load_config
from pkgvet.store import Action, Scope, Store, open_store
from pkgvet.ui import UiSettings, create_app, mount
from pkgvet.ui import decisions as exporting
from ui_fixtures import PASSWORD, triage_store


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, str]]:
    return triage_store(tmp_path_factory.mktemp("triage"))


def _client(store: Store, **settings: object) -> TestClient:
    app = Starlette()
    mount(app, store, UiSettings(**settings))  # type: ignore[arg-type]
    return TestClient(app, base_url="http://testserver")


def _login(client: TestClient, user: str, password: str = PASSWORD) -> None:
    page = client.get("/ui/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    done = client.post("/ui/login", data={"csrf": token.group(1), "user": user,
                                          "password": password}, follow_redirects=False)
    assert done.status_code == 303


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_sign_in_is_required_and_checked(world: tuple[Store, dict[str, str]]) -> None:
    store, _ = world
    client = _client(store)
    first = client.get("/ui/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/ui/login"
    _login(client, "ann", "wrong password")
    assert client.get("/ui/", follow_redirects=False).status_code == 303
    _login(client, "ann")
    page = client.get("/ui/")
    assert page.status_code == 200 and "ann · triager" in page.text
    cookie = client.cookies.get("pkgvet_session")
    assert cookie and "." in cookie
    client.cookies.set("pkgvet_session", cookie[:-4] + "0000")  # forged signature
    assert client.get("/ui/", follow_redirects=False).status_code == 303


def test_login_needs_its_csrf_token(world: tuple[Store, dict[str, str]]) -> None:
    client = _client(world[0])
    refused = client.post("/ui/login", data={"user": "ann", "password": PASSWORD})
    assert refused.status_code == 403


def test_queue_worst_first_with_counts_and_filters(world: tuple[Store, dict[str, str]]) -> None:
    store, sha = world
    client = _client(store)
    _login(client, "vic")
    page = client.get("/ui/").text
    rows = re.findall(r'href="/ui/file/([0-9a-f]{64})"', page)
    assert rows[0] in (sha["evil-1.0"], sha["hostile"])
    assert sha["calm"] not in rows  # benign files are not in the default (flagged) view
    assert re.search(r"malicious<b>2</b>", page)
    assert sha["calm"] in client.get("/ui/?verdict=benign").text
    only = client.get("/ui/?project=hostile-pkg").text
    assert sha["hostile"] in only and sha["evil-1.0"] not in only
    assert "Nothing to triage" in client.get("/ui/?rule=PV999").text
    assert sha["evil-1.0"] in client.get("/ui/?rule=pv201").text
    assert client.get("/ui/?page=abc&verdict=<x>").status_code == 200


def test_file_view_shows_evidence_and_what_the_proxy_does(
    world: tuple[Store, dict[str, str]],
) -> None:
    store, sha = world
    client = _client(store)
    _login(client, "vic")
    page = client.get(f"/ui/file/{sha['evil-1.0']}").text
    assert "The proxy <b>hides</b> this file" in page
    hit = re.search(r'<tr class="hit"><td class="n">3</td><td>(.*?)</td>', page)
    assert hit and "exec(base64.b64decode(" in hit.group(1)
    assert "decoded statically" in page and "print(&#39;inert&#39;)" in page
    assert "PV201" in page and "phase install" in page
    # the previous release of the same project, compared from both archives
    assert "evil-0.9.tar.gz" in page and "new findings" in page
    assert "Deciding needs the triager role" in page  # a viewer cannot decide
    assert client.get("/ui/file/" + "0" * 64).status_code == 404
    assert client.get("/ui/file/..%2f..%2fetc").status_code == 404


def test_decide_needs_csrf_reason_and_role_and_applies_at_once(tmp_path: Path) -> None:
    store, sha = triage_store(tmp_path / "w")
    target = sha["evil-1.0"]
    file = store.get_file(target)
    assert file is not None
    settings = policy.PolicySettings()

    def proxy_lists() -> bool:
        static = store.get_result(target, _ruleset())
        return policy.evaluate(file, static, None, store.decisions_for(
            target, file.project, file.version), settings, time.time()).listed

    assert not proxy_lists()
    viewer = _client(store)
    _login(viewer, "vic")
    csrf = _csrf(viewer.get("/ui/").text)
    assert viewer.post(f"/ui/file/{target}/decide", data={
        "csrf": csrf, "action": "allow", "reason": "x"}).status_code == 403
    client = _client(store)
    _login(client, "ann")
    page = client.get(f"/ui/file/{target}").text
    csrf = _csrf(page)
    no_token = client.post(f"/ui/file/{target}/decide",
                           data={"action": "allow", "reason": "reviewed"})
    assert no_token.status_code == 403 and "CSRF" in no_token.text
    wrong_site = client.post(f"/ui/file/{target}/decide", headers={"Origin": "http://evil.invalid"},
                             data={"csrf": csrf, "action": "allow", "reason": "reviewed"})
    assert wrong_site.status_code == 403
    no_reason = client.post(f"/ui/file/{target}/decide",
                            data={"csrf": csrf, "action": "allow", "reason": "   "})
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    assert not store.all_decisions() and not proxy_lists()
    done = client.post(f"/ui/file/{target}/decide", follow_redirects=False, data={
        "csrf": csrf, "action": "allow", "reason": "payload only prints; test fixture"})
    assert done.status_code == 303
    assert proxy_lists()
    block = client.post(f"/ui/file/{target}/decide", data={
        "csrf": csrf, "action": "block", "reason": "changed my mind", "scope": "file"})
    assert block.status_code == 200 and not proxy_lists()
    (entry, first, *_) = store.audit_log(subject=f"file:{target}")
    assert entry.who == "ann" and entry.detail["reason"] == "changed my mind"
    assert entry.detail["previous"]["action"] == "allow"
    assert first.detail["previous"] is None
    page = client.get(f"/ui/file/{target}").text
    assert "changed my mind" in page and "was allow by ann" in page
    release = client.post(f"/ui/file/{target}/decide", data={
        "csrf": csrf, "action": "allow", "reason": "whole release ok", "scope": "release"})
    assert release.status_code == 200
    (d,) = [d for d in store.all_decisions() if d.scope is Scope.RELEASE]
    assert d.key == "evil==1.0"


def _ruleset() -> str:
    from pkgvet import RULESET_VERSION

    return RULESET_VERSION


def test_export_and_import_round_trip(tmp_path: Path) -> None:
    store, sha = triage_store(tmp_path / "w")
    from pkgvet.store import Decision

    store.decide(Decision(Scope.FILE, sha["evil-1.0"], Action.ALLOW,
                          'fixture; prints "hi"\n<ok>', "ann", time.time()))
    store.decide(Decision(Scope.RELEASE, "hostile-pkg==1.0", Action.BLOCK, "markup in names",
                          "ann", time.time()))
    client = _client(store)
    _login(client, "root")
    text = client.get("/ui/decisions/export").text
    table = tomllib.loads(text)["tool"]["pkgvet"]
    (allow,) = table["allow"]
    assert allow["sha256"] == sha["evil-1.0"] and allow["package"] == "evil"
    assert allow["reason"] == 'fixture; prints "hi"\n<ok>'
    assert table["block"][0]["package"] == "hostile-pkg" and table["block"][0]["version"] == "1.0"
    # pkgvet scan honours the export: the allowed file's findings are suppressed, the
    # blocked release gets PV551
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(text)
    from hostile_fixtures import hostile_sdist
    from ui_fixtures import scanned

    config = load_config(pyproject)
    again = tmp_path / "again"
    again.mkdir()
    (result,) = config.apply(scanned([hostile_sdist(again)])).results
    assert any(f.rule_id == "PV551" and "markup in names" in f.snippet for f in result.findings)
    assert result.verdict.value == "malicious"
    # a fresh store takes the same decisions back
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    imported = exporting.parse(text, "root")
    for d in imported.decisions:
        fresh.decide(d)
    assert {(d.scope, d.key, d.action) for d in fresh.all_decisions()} == {
        (d.scope, d.key, d.action) for d in store.all_decisions()}
    bad = exporting.parse('[tool.pkgvet]\nallow = [{ package = "x", reason = "r" }, '
                          '{ sha256 = "zz", reason = "r" }, { sha256 = "' + "a" * 64 + '" }]',
                          "root")
    assert not bad.decisions and len(bad.skipped) == 3


def test_import_page_needs_admin(world: tuple[Store, dict[str, str]]) -> None:
    client = _client(world[0])
    _login(client, "ann")
    csrf = _csrf(client.get("/ui/decisions").text)
    refused = client.post("/ui/decisions/import", data={"csrf": csrf, "toml": ""})
    assert refused.status_code == 403


def test_hostile_package_renders_as_text_under_a_strict_csp(
    world: tuple[Store, dict[str, str]],
) -> None:
    store, sha = world
    client = _client(store)
    _login(client, "vic")
    for url in ("/ui/?verdict=all", f"/ui/file/{sha['hostile']}"):
        response = client.get(url)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-frame-options"] == "DENY"
        page = response.text
        assert SCRIPT not in page and "<img" not in page
        assert re.findall(r"<script[^>]*>", page) == ['<script src="/ui/static/console.js" defer>']
    page = client.get(f"/ui/file/{sha['hostile']}").text
    assert "&lt;script&gt;alert(&#39;pkgvet&#39;)&lt;/script&gt;" in page
    assert "ℙ𝕪𝕥𝕙𝕠𝕟" in page


def test_reverse_proxy_header_mode(world: tuple[Store, dict[str, str]]) -> None:
    store, sha = world
    client = _client(store, auth="header", header="X-Remote-User")
    assert client.get("/ui/").status_code == 401
    assert client.get("/ui/", headers={"X-Remote-User": "<bad name>"}).status_code == 401
    page = client.get("/ui/", headers={"X-Remote-User": "zoe"})
    assert page.status_code == 200 and "zoe · viewer" in page.text
    page = client.get(f"/ui/file/{sha['evil-1.0']}", headers={"X-Remote-User": "ann"}).text
    csrf = _csrf(page)
    assert client.post(f"/ui/file/{sha['calm']}/decide", headers={"X-Remote-User": "ann"},
                       data={"action": "allow", "reason": "r"}).status_code == 403
    assert csrf


def test_local_mode_and_static_files(world: tuple[Store, dict[str, str]]) -> None:
    client = TestClient(create_app(world[0], UiSettings(auth="local", local_user="me", base="")))
    assert "me · admin" in client.get("/").text
    assert client.get("/static/console.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/../../etc/passwd").status_code == 404


def test_mounted_in_the_proxy_app(world: tuple[Store, dict[str, str]]) -> None:
    from pkgvet.serve import ServeSettings
    from pkgvet.serve import create_app as proxy_app

    app = proxy_app(ServeSettings(upstream="http://127.0.0.1:9/simple/"), store=world[0])
    with TestClient(app) as client:
        assert client.get("/ui/", follow_redirects=False).headers["location"] == "/ui/login"
        _login(client, "vic")
        assert "Triage queue" in client.get("/ui/").text
    off = proxy_app(ServeSettings(upstream="http://127.0.0.1:9/simple/", ui_auth="off"),
                    store=world[0])
    with TestClient(off) as client:
        assert client.get("/ui/").status_code == 404


def test_console_over_postgresql(tmp_path: Path) -> None:
    import pg

    url = pg.fresh_database()
    try:
        store, sha = triage_store(tmp_path / "w", url)
        client = _client(store)
        _login(client, "ann")
        page = client.get("/ui/").text
        assert sha["evil-1.0"] in page and re.search(r"malicious<b>2</b>", page)
        csrf = _csrf(client.get(f"/ui/file/{sha['evil-1.0']}").text)
        assert client.post(f"/ui/file/{sha['evil-1.0']}/decide", data={
            "csrf": csrf, "action": "allow", "reason": "reviewed on pg"}).status_code == 200
        (d,) = store.all_decisions()
        assert (d.key, d.who, d.action) == (sha["evil-1.0"], "ann", Action.ALLOW)
        assert "reviewed on pg" in client.get("/ui/audit").text
    finally:
        pg.drop_database(url)


def test_unvetted_file_from_the_proxy_log(tmp_path: Path) -> None:
    from pkgvet.store import FileRecord, RequestEntry

    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    sha = "ab" * 32
    store.put_file(FileRecord(sha256=sha, project="newpkg", version="0.1",
                              filename="newpkg-0.1.tar.gz", url="http://x.invalid/n.tar.gz",
                              upload_time=time.time(), first_seen=time.time()))
    store.log_requests([RequestEntry(time.time(), "ci", "newpkg", "newpkg-0.1.tar.gz", sha,
                                     False, "not-vetted: queued", None)])
    client = TestClient(create_app(store, UiSettings(auth="local", base="")))
    queue_page = client.get("/?verdict=unvetted").text
    assert "newpkg-0.1.tar.gz" in queue_page and "not vetted<b>1</b>" in queue_page
    page = client.get(f"/file/{sha}").text
    assert "Not vetted yet" in page and "The proxy <b>hides</b> this file" in page


def test_wrong_passwords_are_throttled(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    from pkgvet.ui.auth import Accounts, Role

    Accounts(store).add("ann", PASSWORD, Role.VIEWER)
    client = _client(store)
    for _ in range(5):
        _login(client, "ann", "wrong password")
    page = client.get("/ui/login")
    refused = client.post("/ui/login", data={"csrf": _csrf(page.text), "user": "ann",
                                             "password": PASSWORD})
    assert refused.status_code == 429
    assert store.audit_log(limit=10)[0].event == "ui.login.failed"
