"""bandit on install-time code: context for a reviewer, never a verdict on its own."""

from __future__ import annotations

from pathlib import Path

from builders import BENIGN_SETUP, make_sdist, make_wheel
from pkgvet.analyzer.bandit_scan import MAX_FILES, BanditAnalyzer, install_time_files
from pkgvet.model import Category, Phase, Severity, Verdict
from pkgvet.package import load
from pkgvet.sources.local import local_artifact
from pkgvet.verdict import decide

SETUP = BENIGN_SETUP.format(name="fixture", version="1.0")


def test_os_system_in_setup_py_is_low_at_install(tmp_path: Path) -> None:
    setup = "import os\nos.system('echo built')\n" + SETUP
    pkg = load(local_artifact(make_sdist(tmp_path, "fixture", "1.0", {"setup.py": setup})))
    found = list(BanditAnalyzer().analyze(pkg))
    hit = [f for f in found if f.rule_id == "B605"]
    assert hit, [f.rule_id for f in found]
    assert hit[0].severity is Severity.LOW and hit[0].phase is Phase.INSTALL
    assert hit[0].category is Category.CODE_QUALITY
    assert hit[0].path == "fixture-1.0/setup.py" and hit[0].line == 2
    assert "os.system" in hit[0].snippet
    assert decide(found) is Verdict.BENIGN


def test_nosec_does_not_hide_an_issue(tmp_path: Path) -> None:
    setup = "import os\nos.system('echo built')  # nosec\n" + SETUP
    pkg = load(local_artifact(make_sdist(tmp_path, "fixture", "1.0", {"setup.py": setup})))
    assert "B605" in {f.rule_id for f in BanditAnalyzer().analyze(pkg)}


def test_subprocess_in_runtime_module_is_not_scanned(tmp_path: Path) -> None:
    module = "import subprocess\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    wheel = make_wheel(tmp_path, "fixture", "1.0",
                       {"fixture/__init__.py": "", "fixture/proc.py": module})
    pkg = load(local_artifact(wheel))
    assert install_time_files(pkg) == []
    found = list(BanditAnalyzer().analyze(pkg))
    assert found == []
    assert decide(found) is Verdict.BENIGN


def test_build_backend_issue_outside_setup_py_is_info(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n'
    )
    backend = "import subprocess\nsubprocess.call('make', shell=True)\n"
    sdist = make_sdist(tmp_path, "fixture", "1.0",
                       {"pyproject.toml": pyproject, "_build/backend.py": backend})
    found = list(BanditAnalyzer().analyze(load(local_artifact(sdist))))
    assert found and all(f.severity is Severity.INFO for f in found)
    assert {f.phase for f in found} == {Phase.INSTALL}
    assert decide(found) is Verdict.BENIGN


def test_at_most_max_files(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["_build"]\n'
    )
    files: dict[str, str | bytes] = {"pyproject.toml": pyproject, "setup.py": SETUP,
                                     "_build/backend.py": ""}
    pkg = load(local_artifact(make_sdist(tmp_path, "fixture", "1.0", files)))
    selected = install_time_files(pkg)
    assert [f.relpath for f in selected] == ["setup.py", "_build/backend.py"]
    assert len(selected) <= MAX_FILES
