"""Every technique fixture (tests/techniques/) reaches its expected verdict and rules.

Each case is built into a real sdist or wheel and scanned by the static pipeline, exactly
as `pkgvet scan` does; nothing in the fixtures runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pkgvet.model import ScanResult
from pkgvet.options import ScanOptions
from pkgvet.pipeline import scan_artifacts
from pkgvet.sources.local import local_artifact
from techniques import Case, all_cases

CASES = [(cls, case) for cls, cases in all_cases().items() for case in cases]


def scan(case: Case, tmp_path: Path) -> ScanResult:
    results, errors = scan_artifacts([local_artifact(case.build(tmp_path))], ScanOptions(), 1)
    assert not errors
    return results[0]


@pytest.mark.parametrize(("cls", "case"), CASES, ids=[f"{c}:{x.name}" for c, x in CASES])
def test_technique(cls: str, case: Case, tmp_path: Path) -> None:
    result = scan(case, tmp_path)
    found = {f.rule_id for f in result.findings}
    summary = sorted((f.rule_id, f.severity.label, f.phase.value, f.path or "") for f in
                     result.findings)
    assert result.verdict.value == case.verdict, f"{case.technique}: {summary}"
    missing = set(case.rules) - found
    assert not missing, f"{case.technique}: missing {missing} in {summary}"


def test_every_class_has_two_shapes_and_ten_benign_look_alikes() -> None:
    classes = all_cases()
    for cls, cases in classes.items():
        assert len(cases) >= 2, cls
    assert len(classes["benign-look-alikes"]) >= 10
