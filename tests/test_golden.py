"""Golden reports: the JSON and Markdown reports of a few real scans, compared whole.

Volatile parts (timings, tool version, temp folders, the sha256 of a fixture whose tar.gz header
carries its build time) are normalised. After an intended change to a report, `make golden`
(PKGVET_REGEN_GOLDEN=1) rewrites tests/golden/; review the diff before committing it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from builders import base64_exec_sdist
from pkgvet.model import Report
from pkgvet.pipeline import scan_targets
from pkgvet.report import Format, render

GOLDEN = Path(__file__).parent / "golden"
REAL = Path(__file__).parent / "data" / "real"
REGEN = os.environ.get("PKGVET_REGEN_GOLDEN") == "1"


def requests_wheel(tmp_path: Path) -> Path:
    return REAL / "requests-2.32.3-py3-none-any.whl"


# case: (build the file to scan, expected verdict, is the file the same bytes on every run)
CASES: dict[str, tuple[Callable[[Path], Path], str, bool]] = {
    "requests-2.32.3-wheel": (requests_wheel, "benign", True),
    "base64-exec-sdist": (base64_exec_sdist, "malicious", False),
}


def json_report(report: Report) -> str:
    data = json.loads(render(report, Format.JSON))
    data["tool"]["version"] = "<version>"
    data["tool"]["ruleset"] = "<ruleset>"  # derived from the rules (pkgvet.ruleset)
    for result in data["results"]:
        result["stats"]["seconds"] = 0
        if result["sandbox"] is not None:
            result["sandbox"]["seconds"] = 0
    return json.dumps(data, indent=2) + "\n"


@pytest.mark.parametrize("case", list(CASES))
def test_report_matches_golden(case: str, tmp_path: Path) -> None:
    build, verdict, byte_stable = CASES[case]
    path = build(tmp_path)
    report = scan_targets([str(path)], jobs=1)
    assert report.verdict.value == verdict
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for ext, text in (("json", json_report(report)), ("md", render(report, Format.MARKDOWN))):
        text = text.replace(str(path.parent), "<dir>")
        if not byte_stable:
            text = text.replace(digest, "<sha256>").replace(digest[:12], "<sha256>")
        golden = GOLDEN / f"{case}.{ext}"
        if REGEN:
            golden.parent.mkdir(exist_ok=True)
            golden.write_text(text, encoding="utf-8")
        else:
            assert golden.exists(), f"{golden} is missing: run `make golden`"
            expected = golden.read_text(encoding="utf-8")
            assert text == expected, f"{golden} differs: if intended, run `make golden`, review the diff"
