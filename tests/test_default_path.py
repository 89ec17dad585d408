"""The default command path (`pkgvet scan FILES`, `pkgvet audit`) is sound: it stops at once
on SIGTERM and Ctrl-C with no process left over, a crashed analyzer fails closed, the
result cache never stops a scan, and the rule-set version follows the rules.

Misbehaving analyzers come from tests/analyzer_hooks.py through `PKGVET_TEST_ANALYZERS`,
the test hook of `ScanOptions.extra_analyzers`: the scan workers are fresh processes, so a
monkeypatch would not reach them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import analyzer_hooks
from builders import make_sdist, make_wheel
from pkgvet import ruleset
from pkgvet.cache import ResultCache
from pkgvet.model import Verdict
from pkgvet.options import ScanOptions
from pkgvet.pipeline import scan_artifacts
from pkgvet.sources.local import local_artifact

EXE = Path(sys.executable).with_name("pkgvet")
SRC = Path(__file__).resolve().parent.parent / "src" / "pkgvet"


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", "PIP_INDEX_URL": "http://127.0.0.1:9/simple/",
            **extra}


def _descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (children of each thread, recursively)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _alive(pid: int) -> bool:
    """Running, sleeping or stopped; a zombie (dead, not yet reaped) or a gone pid is not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_a_hanging_batch_with_no_child_left(
    tmp_path: Path, sig: signal.Signals
) -> None:
    files = [make_wheel(tmp_path, f"hang{i}", "1.0", {f"hang{i}/__init__.py": "x = 1\n"})
             for i in range(2)]
    files.append(make_wheel(tmp_path, "calm", "1.0", {"calm/__init__.py": "x = 1\n"}))
    marker = tmp_path / "sleeping"
    proc = subprocess.Popen(
        [str(EXE), "scan", *map(str, files), "-j", "2", "-f", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env=_env(PKGVET_TEST_ANALYZERS=analyzer_hooks.spec("sleeper"),
                 PKGVET_TEST_MARKER=str(marker)),
    )
    try:
        for _ in range(1200):  # until a worker sleeps in the analyzer (or pkgvet ended)
            if marker.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), proc.communicate(timeout=5)
        before = _descendants(proc.pid)
        assert int(marker.read_text()) in before
        proc.send_signal(sig)
        started = time.monotonic()
        proc.wait(timeout=2)
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert elapsed < 2
    assert proc.returncode == 130, proc.stderr.read() if proc.stderr else ""
    left = before
    for _ in range(40):  # the forkserver leaves when pkgvet is gone; give the kernel a moment
        left = {pid for pid in before if _alive(pid)}
        if not left:
            break
        time.sleep(0.05)
    assert left == set()


def test_a_crashed_analyzer_fails_closed(tmp_path: Path) -> None:
    crashing = make_sdist(tmp_path, "crashy", "1.0", {"crashy/__init__.py": "x = 1\n"})
    env = _env(PKGVET_TEST_ANALYZERS=analyzer_hooks.spec("crasher"))
    proc = subprocess.run([str(EXE), "scan", str(crashing), "-f", "json"], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=120)
    result = json.loads(proc.stdout)["results"][0]
    assert result["verdict"] == "benign" and result["partial"] is True
    assert any("test-crasher" in e and "analyzer bug" in e for e in result["errors"])
    assert proc.returncode == 3
    terminal = subprocess.run([str(EXE), "scan", str(crashing)], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=120)
    assert "PARTIAL" in terminal.stdout and terminal.returncode == 3
    # negative: the same hook, a file it leaves alone: a complete, benign result, exit 0
    calm = make_sdist(tmp_path, "calm", "1.0", {"calm/__init__.py": "x = 1\n"})
    ok = subprocess.run([str(EXE), "scan", str(calm), "-f", "json"], capture_output=True,
                        text=True, cwd=tmp_path, env=env, timeout=120)
    assert ok.returncode == 0 and json.loads(ok.stdout)["results"][0]["partial"] is False


def test_a_partial_result_is_left_out_of_the_pins(tmp_path: Path) -> None:
    root = tmp_path / "simple"
    for name in ("crashy", "calm"):
        (root / name).mkdir(parents=True)
        make_wheel(root / name, name, "1.0", {f"{name}/__init__.py": "x = 1\n"})
    req = tmp_path / "requirements.txt"
    req.write_text("crashy==1.0\ncalm==1.0\n")
    pins = tmp_path / "pinned.txt"
    proc = subprocess.run(
        [str(EXE), "audit", str(req), "--index-url", root.as_uri(), "--pin", str(pins)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
        env=_env(PKGVET_TEST_ANALYZERS=analyzer_hooks.spec("crasher"),
                 PKGVET_CACHE_DIR=str(tmp_path / "cache")),
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    text = pins.read_text()
    assert "calm==1.0" in text and text.count("--hash=sha256:") == 1
    (left_out,) = [line for line in text.splitlines() if "crashy" in line]
    assert left_out.startswith("# crashy==1.0 left out: partial scan")


def test_partial_results_are_not_cached(tmp_path: Path) -> None:
    crashing = local_artifact(make_wheel(tmp_path, "crashy", "1.0", {"crashy/x.py": "x = 1\n"}))
    cache = ResultCache(tmp_path / "r.sqlite")
    options = ScanOptions(extra_analyzers=(analyzer_hooks.spec("crasher"),))
    (result,), _ = scan_artifacts([crashing], options, 1, cache=cache)
    assert result.partial
    assert cache.get(crashing, options) is None


def test_an_unopenable_cache_only_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = local_artifact(make_wheel(tmp_path, "calm", "1.0", {"calm/__init__.py": "x = 1\n"}))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = ResultCache(blocker / "results.sqlite")
    results, errors = scan_artifacts([wheel], ScanOptions(), 1, cache=cache)
    assert errors == [] and results[0].verdict is Verdict.BENIGN
    assert "warning: result cache" in capsys.readouterr().err
    # through the CLI, with a data folder that cannot be created
    proc = subprocess.run([str(EXE), "scan", str(wheel.path)], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(PKGVET_DATA_DIR=str(blocker / "data")),
                          timeout=120)
    assert proc.returncode == 0 and "warning: result cache" in proc.stderr


def test_cached_results_come_back_in_input_order(tmp_path: Path) -> None:
    wheels = [make_wheel(tmp_path, f"p{i}", "1.0", {f"p{i}/__init__.py": "x = 1\n"})
              for i in range(4)]
    artifacts = [local_artifact(p) for p in wheels]
    cache = ResultCache(tmp_path / "r.sqlite")
    scan_artifacts(artifacts[1:3], ScanOptions(), 2, cache=cache)
    results, _ = scan_artifacts(artifacts, ScanOptions(), 2, cache=cache)
    assert [r.file for r in results] == [p.name for p in wheels]


def test_changing_a_yara_file_changes_the_ruleset_version(tmp_path: Path) -> None:
    copy = tmp_path / "pkgvet"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert ruleset.compute(copy) == ruleset.compute(SRC)
    yar = next((copy / "rules").rglob("*.yar"))
    yar.write_text(yar.read_text(encoding="utf-8") + "\n// changed\n", encoding="utf-8")
    changed = ruleset.compute(copy)
    assert changed != ruleset.compute(SRC)
    toml = next((copy / "rules" / "data" / "rules").glob("*.toml"))
    toml.write_text(toml.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert ruleset.compute(copy) != changed
    verdict = copy / "verdict.py"
    before = ruleset.compute(copy)
    verdict.write_text(verdict.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert ruleset.compute(copy) != before
    readme = copy / "cli.py"  # not part of the rule set: no change
    before = ruleset.compute(copy)
    readme.write_text(readme.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert ruleset.compute(copy) == before


def test_an_entry_of_another_ruleset_is_never_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pkgvet.cache as cache_mod

    wheel = local_artifact(make_wheel(tmp_path, "calm", "1.0", {"calm/__init__.py": "x = 1\n"}))
    cache = ResultCache(tmp_path / "r.sqlite")
    current = cache_mod.RULESET_VERSION
    monkeypatch.setattr(cache_mod, "RULESET_VERSION", "older")
    scan_artifacts([wheel], ScanOptions(), 1, cache=cache)
    assert cache.get(wheel, ScanOptions()) is not None
    monkeypatch.setattr(cache_mod, "RULESET_VERSION", current)
    assert cache.get(wheel, ScanOptions()) is None


def test_the_wheel_ships_no_benchmark_module() -> None:
    import tomllib

    project = tomllib.loads((SRC.parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/pkgvet"]
    assert not list(SRC.rglob("bench*.py"))


def test_every_format_shows_a_partial_result(tmp_path: Path) -> None:
    from pkgvet.model import Report
    from pkgvet.report import Format, render

    crashing = local_artifact(make_wheel(tmp_path, "crashy", "1.0", {"crashy/x.py": "x = 1\n"}))
    options = ScanOptions(extra_analyzers=(analyzer_hooks.spec("crasher"),))
    (result,), _ = scan_artifacts([crashing], options, 1)
    report = Report(results=(result,), tool_version="0", ruleset_version="r")
    data = json.loads(render(report, Format.JSON))["results"][0]
    assert data["partial"] is True and any("test-crasher" in e for e in data["errors"])
    sarif = json.loads(render(report, Format.SARIF))["runs"][0]
    assert sarif["properties"]["partial"] is True
    assert sarif["invocations"][0]["executionSuccessful"] is False
    assert "(PARTIAL)" in render(report, Format.MARKDOWN)
    assert "PARTIAL" in render(report, Format.TERMINAL)


def test_no_module_of_the_scanned_folder_is_imported(tmp_path: Path) -> None:
    """`cd suspect && pkgvet scan .`: modules in the current folder named like pkgvet's own
    imports must never run (the workers' server starts with PYTHONSAFEPATH)."""
    suspect = tmp_path / "suspect"
    suspect.mkdir()
    plant = "from pathlib import Path\nPath(__file__ + '.ran').write_text('imported')\n"
    for name in ("yara", "libcst", "bandit", "multiprocessing", "pkgvet", "ahocorasick_rs"):
        (suspect / f"{name}.py").write_text(plant)
    (suspect / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: suspect\nVersion: 1.0\n")
    proc = subprocess.run([str(EXE), "scan", ".", "-f", "json"], capture_output=True,
                          text=True, cwd=suspect, env=_env(), timeout=120)
    assert json.loads(proc.stdout)["results"], proc.stderr
    assert list(suspect.glob("*.ran")) == []
