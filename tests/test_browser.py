"""The triage console in a real browser: Debian's chromium driven by Selenium + chromedriver,
against a real `pkgvet serve` in front of a local upstream of inert fixtures.

Each test saves a screenshot under `test-output/browser/` (PKGVET_TEST_OUTPUT overrides).
Skipped only when chromium, chromedriver or selenium is missing; `.ci/run` installs them.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from builders import base64_exec_sdist, make_sdist
from fake_index import FakeIndex
from hostile_fixtures import SCRIPT, hostile_sdist
from pkgvet.store import open_store
from pkgvet.ui.auth import Accounts, Role
from proxy_env import Proxy, clean_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
webdriver = pytest.importorskip("selenium.webdriver")
if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("needs /usr/bin/chromium and /usr/bin/chromedriver (Debian: chromium "
                "chromium-driver)", allow_module_level=True)

from selenium.common.exceptions import (  # noqa: E402
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

PASSWORD = "correct horse battery"
JSON = "application/vnd.pypi.simple.v1+json"
OUT = Path(os.environ.get("PKGVET_TEST_OUTPUT") or Path(__file__).parent.parent / "test-output"
           ) / "browser"


@dataclass
class World:
    proxy: Proxy
    driver: Any
    sha: dict[str, str]

    def shot(self, name: str) -> Path:
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def files_listed(self, project: str) -> list[str]:
        page = httpx.get(f"{self.proxy.index}{project}/", headers={"Accept": JSON},
                         timeout=180).json()
        return [f["filename"] for f in page["files"]]


def _chrome(profile: Path) -> Any:
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1366,900",
                 "--force-device-scale-factor=1", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("browser")
    build = root / "build"
    build.mkdir()
    older = root / "older"
    older.mkdir()
    files = {
        "evil-0.9": make_sdist(older, "evil", "0.9", {
            "setup.py": "from setuptools import setup\nsetup(name='evil', version='0.9')\n"}),
        "evil": base64_exec_sdist(build),
        "hostile": hostile_sdist(build),
    }
    home = root / "proxy"
    env = clean_env(home, PKGVET_DATA_DIR=str(home / "data"), PKGVET_CACHE_DIR=str(home / "cache"))
    with FakeIndex(root / "index") as index:
        index.add("evil", files["evil-0.9"], upload_time=time.time() - 30 * 86400)
        index.add("evil", files["evil"])
        index.add("hostile-pkg", files["hostile"])
        proxy = Proxy(index.url, home, env=env)
        driver = None
        try:
            store = open_store(f"sqlite:///{home / 'data' / 'store.sqlite'}")
            Accounts(store).add("ann", PASSWORD, Role.TRIAGER)
            for project in ("evil", "hostile-pkg"):  # the pages vet the files inline
                httpx.get(f"{proxy.index}{project}/", timeout=180)
            import hashlib

            sha = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in files.items()}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and store.get_file(sha["evil-0.9"]) is None:
                time.sleep(0.5)  # the older release is vetted in the background
            driver = _chrome(root / "profile")
            driver.set_page_load_timeout(60)
            yield World(proxy, driver, sha)
        finally:
            if driver is not None:
                driver.quit()
            proxy.stop()


def _wait(w: World) -> WebDriverWait[Any]:
    """A wait for the page a click loads. An element read while the old page is being
    replaced goes stale: that is a reason to look again, not a failure."""
    return WebDriverWait(w.driver, 120, ignored_exceptions=(
        StaleElementReferenceException, NoSuchElementException))


def _until(w: World, css: str) -> None:
    """After a click that loads a page: wait until `css` is on it (a wait, not a timing check)."""
    _wait(w).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))


def _login(w: World) -> None:
    w.driver.get(f"{w.proxy.url}/ui/")
    if "/ui/login" not in w.driver.current_url:
        return
    w.driver.find_element(By.ID, "user").send_keys("ann")
    w.driver.find_element(By.ID, "password").send_keys(PASSWORD)
    w.driver.find_element(By.ID, "signin").click()
    # The click only submits the form: wait for the signed-in page before reading it (a
    # wait, not a timing check; CI runs the sandbox tests beside this).
    _wait(w).until(
        lambda d: "/ui/login" not in d.current_url
        and d.find_elements(By.CSS_SELECTOR, "header .who"))


def test_log_in_and_open_the_queue(world: World) -> None:
    world.driver.delete_all_cookies()
    world.driver.get(f"{world.proxy.url}/ui/")
    assert "/ui/login" in world.driver.current_url
    world.shot("login")
    _login(world)
    assert world.driver.find_element(By.CSS_SELECTOR, "header .who").text == "ann · triager"
    table = world.driver.find_element(By.ID, "queue").text
    assert "evil-1.0.tar.gz" in table and "hostile-pkg-1.0.tar.gz" in table
    assert "evil-0.9.tar.gz" not in table  # benign: not in the flagged view
    counts = world.driver.find_element(By.CLASS_NAME, "counts").text
    assert "malicious\n2" in counts
    world.shot("queue")


def test_flagged_file_shows_findings_with_code_context(world: World) -> None:
    _login(world)
    world.driver.get(f"{world.proxy.url}/ui/")
    world.driver.find_element(By.LINK_TEXT, "evil-1.0.tar.gz").click()
    _until(world, "table.code tr.hit")
    findings = world.driver.find_elements(By.CSS_SELECTOR, ".finding")
    assert any("PV201" in f.text for f in findings)
    hit = world.driver.find_element(By.CSS_SELECTOR, "table.code tr.hit")
    assert hit.text.startswith("3") and "exec(base64.b64decode(" in hit.text
    decoded = world.driver.find_elements(By.CSS_SELECTOR, "pre.decoded")
    assert any(d.text == "print('inert')" for d in decoded)  # beside its literal
    assert "The proxy hides this file" in world.driver.find_element(By.TAG_NAME, "main").text
    assert "evil-0.9.tar.gz" in world.driver.find_element(By.TAG_NAME, "main").text
    world.shot("file")


def test_false_positive_is_listed_by_the_proxy_at_once(world: World) -> None:
    assert "evil-1.0.tar.gz" not in world.files_listed("evil")
    _login(world)
    world.driver.get(f"{world.proxy.url}/ui/file/{world.sha['evil']}")
    world.driver.find_element(By.ID, "allow").click()
    world.driver.find_element(By.ID, "reason").send_keys(
        "inert test fixture: the payload only prints")
    world.driver.find_element(By.ID, "record").click()
    _wait(world).until(
        lambda d: "Decision recorded" in d.find_element(By.TAG_NAME, "main").text)
    main = world.driver.find_element(By.TAG_NAME, "main").text
    assert "Decision recorded" in main and "inert test fixture" in main
    world.shot("decided")
    assert "evil-1.0.tar.gz" in world.files_listed("evil")


def test_change_without_the_csrf_token_is_refused(world: World) -> None:
    _login(world)
    cookie = world.driver.get_cookie("pkgvet_session")
    assert cookie is not None
    url = f"{world.proxy.url}/ui/file/{world.sha['hostile']}/decide"
    answer = httpx.post(url, cookies={"pkgvet_session": cookie["value"]},
                        data={"action": "allow", "reason": "no token"})
    assert answer.status_code == 403 and "CSRF" in answer.text
    forged = httpx.post(url, cookies={"pkgvet_session": cookie["value"]},
                        data={"action": "allow", "reason": "x", "csrf": "guess"})
    assert forged.status_code == 403
    # the same from the page itself, with the token taken out of the form
    world.driver.get(f"{world.proxy.url}/ui/file/{world.sha['hostile']}")
    world.driver.execute_script(
        "document.querySelector('#decide input[name=csrf]').value = 'forged';")
    world.driver.find_element(By.ID, "allow").click()
    world.driver.find_element(By.ID, "reason").send_keys("should be refused")
    world.driver.find_element(By.ID, "record").click()
    _until(world, ".error")
    assert "CSRF" in world.driver.find_element(By.CLASS_NAME, "error").text
    world.shot("csrf-refused")
    assert "hostile-pkg-1.0.tar.gz" not in world.files_listed("hostile-pkg")


def test_hostile_names_and_code_render_as_text(world: World) -> None:
    _login(world)
    world.driver.get(f"{world.proxy.url}/ui/file/{world.sha['hostile']}")
    with pytest.raises(NoAlertPresentException):
        world.driver.switch_to.alert.text  # noqa: B018 - nothing ran
    scripts = world.driver.find_elements(By.TAG_NAME, "script")
    assert [s.get_attribute("src") for s in scripts] == [f"{world.proxy.url}/ui/static/console.js"]
    assert world.driver.find_elements(By.TAG_NAME, "img") == []
    text = world.driver.find_element(By.TAG_NAME, "main").text
    assert SCRIPT in text  # shown as text
    assert "ℙ𝕪𝕥𝕙𝕠𝕟" in text
    world.driver.get(f"{world.proxy.url}/ui/?verdict=all")
    assert "hostile-pkg-1.0.tar.gz" in world.driver.find_element(By.ID, "queue").text
    world.shot("hostile")


def test_screenshots_for_the_docs(world: World) -> None:
    """Refresh docs/triage-*.png when PKGVET_UPDATE_DOCS=1 (reviewed like golden files)."""
    if os.environ.get("PKGVET_UPDATE_DOCS") != "1":
        pytest.skip("set PKGVET_UPDATE_DOCS=1 to refresh the README screenshots")
    docs = Path(__file__).parent.parent / "docs"
    for name in ("queue", "file"):
        shutil.copyfile(OUT / f"{name}.png", docs / f"triage-{name}.png")
