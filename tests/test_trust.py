"""Trust signals: release age, OSV known-malicious records, PEP 740 provenance."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from builders import make_sdist
from pkgvet import fetch
from pkgvet.cli import app
from pkgvet.errors import UsageError
from pkgvet.model import AttestationStatus, ScanResult, Verdict
from pkgvet.pipeline import ResolveOptions, scan_targets
from pkgvet.trust import TrustSettings, age, osv
from trust_fixtures import DATA, GOOGLE_EMAIL, PROJECT, attested_project, recent, write_index

OSV_DIR = DATA / "osv"


def _rules(result: ScanResult) -> set[str]:
    return {f.rule_id for f in result.findings}


# --- release age ---------------------------------------------------------------------------


def test_parse_age_forms() -> None:
    assert age.parse_age("48h") == timedelta(hours=48)
    assert age.parse_age("2d") == timedelta(days=2)
    assert age.parse_age("1d12h") == timedelta(hours=36)
    assert age.parse_age("90m") == timedelta(minutes=90)
    assert age.parse_age("3600") == timedelta(hours=1)  # as the proxy's --min-age reads it
    from pkgvet.policy import parse_age as proxy_parse_age

    for text in ("48h", "2d", "90m", "30s", "0", "1.5h"):
        assert age.parse_age(text).total_seconds() == proxy_parse_age(text)
    for bad in ("", "soon", "48x", "h48", "1d-2h"):
        with pytest.raises(UsageError, match="48h"):
            age.parse_age(bad)


def test_too_young_compares_upload_time() -> None:
    now = datetime(2026, 1, 3, tzinfo=UTC)
    assert age.too_young("2026-01-02T12:00:00Z", timedelta(hours=48), now)
    assert not age.too_young("2025-12-30T00:00:00.123456Z", timedelta(hours=48), now)
    assert not age.too_young(None, timedelta(hours=48), now)  # unknown is the caller's call
    assert not age.too_young("yesterday", timedelta(hours=48), now)
    found = age.finding("2026-01-02T23:30:00Z", timedelta(hours=48), now)
    assert found is not None and found.rule_id == "PV540" and "30 min" in found.snippet


def test_fetch_carries_upload_time_and_provenance_url(tmp_path: Path) -> None:
    url = attested_project(tmp_path)
    (real,) = fetch.fetch(PROJECT, "==0.0.0", index_url=url)
    assert real.upload_time == "2025-04-21T15:02:30.000000Z"
    assert real.provenance_url and real.provenance_url.endswith(".provenance")
    assert real.index_file == "gcb_attestation_test-0.0.0.tar.gz"
    (lost,) = fetch.fetch(PROJECT, "==0.0.1", index_url=url)
    assert lost.provenance_url is None


def test_min_age_reports_a_fresh_file_only(tmp_path: Path) -> None:
    url = attested_project(tmp_path)
    settings = TrustSettings(min_age=timedelta(hours=48), index_url=url)
    fresh = scan_targets([f"{PROJECT}==0.0.3"], ropts=ResolveOptions(index_url=url), jobs=1,
                         trust=settings)
    (result,) = fresh.results
    assert "PV540" in _rules(result) and result.verdict is not Verdict.BENIGN
    assert result.upload_time is not None
    old = scan_targets([f"{PROJECT}==0.0.1"], ropts=ResolveOptions(index_url=url), jobs=1,
                       trust=settings)
    assert "PV540" not in _rules(old.results[0])


# --- OSV -------------------------------------------------------------------------------------


def test_recorded_records_parse_and_match() -> None:
    source = osv.OsvOffline(OSV_DIR)
    (hit,) = source.lookup("123bla", "0.0.1")
    assert hit.id == "MAL-2024-10238" and "123bla" in hit.summary
    assert [r.id for r in source.lookup("3web_py", "1.0.0")] == ["MAL-2024-9934"]
    assert source.lookup("3web-py", "2.0") == []  # the record lists 1.0.0 only
    assert source.lookup("123bla", "0.0.2") == []
    # withdrawn: fastapi 0.136.3 is no longer listed as malicious
    assert source.lookup("fastapi", "0.136.3") == []


def test_ranges_follow_osv_semantics() -> None:
    record = osv.parse_record({
        "id": "MAL-0000-test", "affected": [{"package": {"ecosystem": "PyPI", "name": "X_y"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.2"}]}]}],
    })
    assert record.affects("x-y", "1.1") and not record.affects("x-y", "1.2")
    assert not record.affects("x-y", "0.9") and not record.affects("other", "1.1")
    everything = osv.parse_record({"id": "MAL-1", "affected": [{"package": {
        "ecosystem": "PyPI", "name": "z"}, "ranges": [{"type": "ECOSYSTEM",
        "events": [{"introduced": "0"}]}]}]})
    assert everything.affects("z", "99.0")


def test_offline_export_zip(tmp_path: Path) -> None:
    import zipfile

    export = tmp_path / "all.zip"
    with zipfile.ZipFile(export, "w") as zf:
        for file in OSV_DIR.glob("MAL-*.json"):
            zf.write(file, file.name.replace(".withdrawn", ""))
        zf.writestr("PYSEC-2020-1.json", json.dumps({"id": "PYSEC-2020-1", "affected": [
            {"package": {"ecosystem": "PyPI", "name": "123bla"}, "versions": ["0.0.1"]}]}))
        zf.writestr("MAL-9999-broken.json", b"{not json")
    (hit,) = osv.OsvOffline(export).lookup("123bla", "0.0.1")
    assert hit.id == "MAL-2024-10238"  # vulnerability (PYSEC) records are not malware


def test_online_lookup_through_recorded_answer(tmp_path: Path) -> None:
    recorded = json.loads((OSV_DIR / "MAL-2024-10238.json").read_text())
    withdrawn = json.loads((OSV_DIR / "MAL-2026-4750.withdrawn.json").read_text())
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json={"vulns": [recorded, withdrawn]})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    source = osv.OsvOnline(tmp_path / "osv.sqlite", client=client)
    (found,) = osv.findings(source, "123bla", "0.0.1")
    assert found.rule_id == "PV541" and found.severity.label == "critical"
    assert "MAL-2024-10238" in found.snippet and "osv.dev/vulnerability" in found.snippet
    assert seen == [{"package": {"name": "123bla", "ecosystem": "PyPI"}, "version": "0.0.1"}]
    osv.findings(source, "123bla", "0.0.1")
    assert len(seen) == 1, "the second lookup is answered from the cache"


def test_unreachable_osv_is_a_note_not_silence(tmp_path: Path) -> None:
    tries: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        tries.append(str(request.url))
        raise httpx.ConnectError("connection refused", request=request)

    source = osv.OsvOnline(None, client=httpx.Client(transport=httpx.MockTransport(refuse)))
    (note,) = osv.findings(source, "requests", "2.32.3")
    assert note.rule_id == "PV542" and "not reachable" in note.snippet
    (again,) = osv.findings(source, "idna", "3.7")
    assert again.rule_id == "PV542" and len(tries) == 1, "the rest of the run fails fast"
    bad = osv.OsvOnline(None, client=httpx.Client(transport=httpx.MockTransport(
        lambda r: httpx.Response(200, content=b"<html>"))))
    (note,) = osv.findings(bad, "requests", "2.32.3")
    assert note.rule_id == "PV542"


def test_known_malicious_local_file_is_critical_and_still_scanned(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    sdist = make_sdist(tmp_path, "123bla", "0.0.1", {"setup.py": "from setuptools import setup\nsetup()\n"})
    out = tmp_path / "r.json"
    run = CliRunner().invoke(app, ["scan", str(sdist), "--osv-offline", str(OSV_DIR), "-f",
                                   "json", "-o", str(out), "--no-cache"])
    assert run.exit_code == 2, run.output
    (result,) = json.loads(out.read_text())["results"]
    assert result["verdict"] == "malicious"
    assert any(f["rule_id"] == "PV541" and "MAL-2024-10238" in f["snippet"]
               for f in result["findings"])
    assert result["stats"]["files"] >= 2  # the analysis ran as well
    benign = make_sdist(tmp_path, "fastapi", "0.136.3", {"setup.py": "print('x')\n"})
    run = CliRunner().invoke(app, ["scan", str(benign), "--osv-offline", str(OSV_DIR),
                                   "--no-cache"])
    assert "PV541" not in run.output


@pytest.mark.network
def test_live_osv_knows_a_recorded_record(tmp_path: Path) -> None:
    source = osv.OsvOnline(tmp_path / "osv.sqlite")
    assert [r.id for r in source.lookup("123bla", "0.0.1")] == ["MAL-2024-10238"]


# --- provenance --------------------------------------------------------------------------------


def _scan(url: str, version: str) -> ScanResult:
    settings = TrustSettings(provenance=True, index_url=url)
    report = scan_targets([f"{PROJECT}=={version}"], ropts=ResolveOptions(index_url=url,
                          all_files=True), jobs=1, trust=settings)
    assert not report.errors, report.errors
    return next(r for r in report.results if r.file.endswith(".tar.gz"))


def test_real_attested_release_shows_its_publisher(tmp_path: Path) -> None:
    result = _scan(attested_project(tmp_path), "0.0.0")
    assert result.provenance is not None
    assert result.provenance.status is AttestationStatus.VERIFIED
    (publisher,) = result.provenance.publishers
    assert (publisher.kind, publisher.email) == ("Google", GOOGLE_EMAIL)
    assert "PV543" in _rules(result) and result.verdict is Verdict.BENIGN
    assert not _rules(result) & {"PV544", "PV545", "PV546", "PV547", "PV548"}


def test_release_that_lost_its_attestations(tmp_path: Path) -> None:
    result = _scan(attested_project(tmp_path), "0.0.1")
    assert result.provenance is not None and result.provenance.status is AttestationStatus.NONE
    assert "PV544" in _rules(result) and result.verdict is Verdict.SUSPICIOUS


def test_changed_publisher_and_mixed_release(tmp_path: Path) -> None:
    result = _scan(attested_project(tmp_path), "0.0.2")
    rules = _rules(result)
    # the swapped publisher does not match the certificate, the publisher differs from
    # 0.0.0's, and the wheel of the same release has no attestation
    assert {"PV545", "PV546", "PV547"} <= rules, rules
    changed = next(f for f in result.findings if f.rule_id == "PV545")
    assert GOOGLE_EMAIL in changed.snippet and "someone-else/fork" in changed.snippet


def test_attestation_for_another_file_fails_verification(tmp_path: Path) -> None:
    result = _scan(attested_project(tmp_path), "0.0.3")
    assert result.provenance is not None
    assert result.provenance.status is AttestationStatus.FAILED
    assert "PV547" in _rules(result)


def test_malformed_provenance_is_a_finding(tmp_path: Path) -> None:
    result = _scan(attested_project(tmp_path), "0.0.4")
    assert "PV548" in _rules(result)
    assert result.provenance is not None and "malformed" in result.provenance.detail


def test_never_attested_project_has_no_provenance_findings(tmp_path: Path) -> None:
    built = tmp_path / "b"
    built.mkdir()
    url = write_index(tmp_path, [
        {"path": make_sdist(built, "plain", "1.0", {"plain/__init__.py": ""})},
        {"path": make_sdist(built, "plain", "1.1", {"plain/__init__.py": ""})},
    ], project="plain")
    settings = TrustSettings(provenance=True, index_url=url)
    (result,) = scan_targets(["plain==1.1"], ropts=ResolveOptions(index_url=url), jobs=1,
                             trust=settings).results
    assert result.provenance is not None and result.provenance.status is AttestationStatus.NONE
    assert not {r for r in _rules(result) if r.startswith("PV54")}


def test_provenance_fetch_failure_is_a_note(tmp_path: Path) -> None:
    (artifact,) = fetch.fetch(PROJECT, "==0.0.0", index_url=attested_project(tmp_path))
    from pkgvet.trust import provenance

    gone = replace(artifact, provenance_url="https://127.0.0.1:9/nothing/provenance")
    checked = provenance.check_file(gone, None)
    assert checked.provenance.status is AttestationStatus.UNKNOWN
    assert [f.rule_id for f in checked.findings] == ["PV549"]


def test_cli_json_shows_publisher_and_upload_time(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    url = attested_project(tmp_path)
    out = tmp_path / "r.json"
    run = CliRunner().invoke(app, ["scan", f"{PROJECT}==0.0.0", "--index-url", url,
                                   "--provenance", "--osv", "off", "--min-age", "48h",
                                   "-f", "json", "-o", str(out)])
    assert run.exit_code == 0, run.output
    report = json.loads(out.read_text())
    import jsonschema

    schema = json.loads((Path(__file__).parents[1] / "docs" / "pkgvet-report.schema.json"
                         ).read_text())
    jsonschema.validate(report, schema)
    (result,) = report["results"]
    assert result["upload_time"].startswith("2025-04-21")
    assert result["provenance"]["status"] == "verified"
    assert result["provenance"]["publishers"][0]["email"] == GOOGLE_EMAIL
    terminal = CliRunner().invoke(app, ["scan", f"{PROJECT}==0.0.0", "--index-url", url,
                                        "--provenance", "--osv", "off"])
    assert "provenance: verified, published by Google " + GOOGLE_EMAIL in " ".join(
        terminal.output.split())


@pytest.mark.network
def test_live_integrity_api(tmp_path: Path) -> None:
    """pypi.org serves provenance for sampleproject's Trusted Publishing releases."""
    settings = TrustSettings(provenance=True, index_url="https://pypi.org/simple/")
    report = scan_targets(["sampleproject==4.0.0"], jobs=1, trust=settings)
    assert all(r.provenance is not None for r in report.results)


def test_recent_helper_is_recent() -> None:
    assert age.too_young(recent(), timedelta(hours=1))


# --- pylock.toml attestation identities --------------------------------------------------------


def _pylock(path: Path, version: str, sha: str, identities: str) -> Path:
    path.write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\n'
        f'name = "{PROJECT}"\nversion = "{version}"\n'
        f'attestation-identities = [{identities}]\n'
        f'sdist = {{ name = "x.tar.gz", hashes = {{ sha256 = "{sha}" }} }}\n')
    return path


def _audit(lock: Path, url: str, *extra: str) -> dict[str, object]:
    from typer.testing import CliRunner

    out = lock.parent / "audit.json"
    run = CliRunner().invoke(app, ["audit", str(lock), "--index-url", url, "--osv", "off",
                                   "--no-provenance", *extra, "-f", "json", "-o", str(out)])
    assert run.exit_code in (0, 1, 2), run.output
    (result,) = json.loads(out.read_text())["results"]
    return dict(result)


def test_pylock_identities_match_the_verified_publisher(tmp_path: Path) -> None:
    from trust_fixtures import REAL_SDIST, sha256

    url = attested_project(tmp_path)
    good = _audit(_pylock(tmp_path / "pylock.toml", "0.0.0", sha256(REAL_SDIST),
                          f'{{ kind = "Google", email = "{GOOGLE_EMAIL}" }}'), url)
    assert not [f for f in good["findings"] if f["rule_id"] == "PV550"]  # type: ignore[union-attr]
    assert good["provenance"]["status"] == "verified"  # type: ignore[index]
    other = _audit(_pylock(tmp_path / "pylock.toml", "0.0.0", sha256(REAL_SDIST),
                           '{ kind = "GitHub", repository = "org/repo", workflow = "r.yml" }'),
                   url)
    (f,) = [f for f in other["findings"] if f["rule_id"] == "PV550"]  # type: ignore[union-attr]
    assert "GitHub org/repo" in f["snippet"] and GOOGLE_EMAIL in f["snippet"]


def test_pylock_identity_on_an_unattested_file(tmp_path: Path) -> None:
    url = attested_project(tmp_path)
    (lost,) = fetch.fetch(PROJECT, "==0.0.1", index_url=url)
    result = _audit(_pylock(tmp_path / "pylock.toml", "0.0.1", lost.sha256,
                            f'{{ kind = "Google", email = "{GOOGLE_EMAIL}" }}'), url)
    (f,) = [f for f in result["findings"] if f["rule_id"] == "PV550"]  # type: ignore[union-attr]
    assert "none" in f["snippet"]
    assert result["verdict"] != "benign"


def test_audit_min_age_reports_the_fresh_file(tmp_path: Path) -> None:
    url = attested_project(tmp_path)
    (fresh,) = fetch.fetch(PROJECT, "==0.0.3", index_url=url)
    lock = tmp_path / "requirements.txt"
    lock.write_text(f"{PROJECT}==0.0.3 --hash=sha256:{fresh.sha256}\n")
    result = _audit(lock, url, "--min-age", "48h")
    assert any(f["rule_id"] == "PV540" for f in result["findings"])  # type: ignore[union-attr]
    lock.write_text(f"{PROJECT}==0.0.1\n")
    result = _audit(lock, url, "--min-age", "48h")
    assert not any(f["rule_id"] == "PV540" for f in result["findings"])  # type: ignore[union-attr]


def test_diff_shows_provenance_changes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    url = attested_project(tmp_path)
    out = tmp_path / "d.json"
    run = CliRunner().invoke(app, ["diff", f"{PROJECT}==0.0.0", f"{PROJECT}==0.0.1",
                                   "--index-url", url, "--provenance", "-f", "json", "-o",
                                   str(out)])
    assert run.exit_code in (0, 1), run.output
    changes = json.loads(out.read_text())["provenance_changes"]
    assert changes[0] == "attestation: verified -> none"
    assert changes[1].startswith("publisher: Google " + GOOGLE_EMAIL)
    run = CliRunner().invoke(app, ["diff", f"{PROJECT}==0.0.0", f"{PROJECT}==0.0.1",
                                   "--index-url", url, "--provenance"])
    assert "PROV attestation: verified -> none" in run.output


def test_osv_update_downloads_the_export_atomically(tmp_path: Path) -> None:
    import threading
    import zipfile
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "all.zip", "w") as zf:
        zf.write(OSV_DIR / "MAL-2024-10238.json", "MAL-2024-10238.json")
    (served / "broken.zip").write_bytes(b"<html>not a zip</html>")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        dest = tmp_path / "data" / "PyPI-all.zip"
        osv.download_export(dest, f"{base}/all.zip")
        assert [r.id for r in osv.OsvOffline(dest).lookup("123bla", "0.0.1")] == [
            "MAL-2024-10238"]
        with pytest.raises(osv.OsvUnavailable, match="not give a zip"):
            osv.download_export(tmp_path / "other.zip", f"{base}/broken.zip")
        with pytest.raises(osv.OsvUnavailable, match="HTTP 404"):
            osv.download_export(tmp_path / "other.zip", f"{base}/missing.zip")
        assert not (tmp_path / "other.zip").exists()
        assert dest.exists()  # a failed update leaves the previous export alone
    finally:
        server.shutdown()


def test_integrity_api_url_only_on_pypi() -> None:
    assert fetch.integrity_url("https://pypi.org/simple/", "Foo_Bar", "1.0",
                               "foo_bar-1.0.tar.gz") == (
        "https://pypi.org/integrity/foo-bar/1.0/foo_bar-1.0.tar.gz/provenance")
    assert fetch.integrity_url("https://mirror.example.invalid/simple/", "x", "1",
                               "x-1.tar.gz") is None
