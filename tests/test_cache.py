"""The SQLite result cache: hits skip scanning, a new rule set re-scans, writers can share it."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

import pkgvet.cache as cache_mod
from builders import make_wheel
from pkgvet import pipeline
from pkgvet.cache import ResultCache
from pkgvet.options import ScanOptions
from pkgvet.sources.local import local_artifact

OPTIONS = ScanOptions(isolate=False)


def _wheels(tmp_path: Path, count: int) -> list[Path]:
    return [make_wheel(tmp_path, f"pkg{i}", "1.0", {f"pkg{i}/__init__.py": f"X = {i}\n"})
            for i in range(count)]


def test_second_scan_answers_from_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ResultCache(tmp_path / "r.sqlite")
    artifacts = [local_artifact(p) for p in _wheels(tmp_path, 3)]
    first, _ = pipeline.scan_artifacts(artifacts, OPTIONS, 1, cache=cache)
    calls: list[str] = []
    real = pipeline.scan_artifact
    monkeypatch.setattr(pipeline, "scan_artifact",
                        lambda a, o: calls.append(a.path.name) or real(a, o))
    second, _ = pipeline.scan_artifacts(artifacts, OPTIONS, 1, cache=cache)
    assert calls == []
    assert [(r.sha256, r.verdict, r.findings) for r in second] == [
        (r.sha256, r.verdict, r.findings) for r in first
    ]
    assert cache.info()["entries"] == 3


def test_new_ruleset_rescans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ResultCache(tmp_path / "r.sqlite")
    artifact = local_artifact(_wheels(tmp_path, 1)[0])
    pipeline.scan_artifacts([artifact], OPTIONS, 1, cache=cache)
    assert cache.get(artifact, OPTIONS) is not None
    monkeypatch.setattr(cache_mod, "RULESET_VERSION", "next")
    assert cache.get(artifact, OPTIONS) is None
    assert cache.clear() == 1


def _writer(path: str, wheel_dir: str, rounds: int) -> None:
    cache = ResultCache(Path(path))
    artifacts = [local_artifact(p) for p in sorted(Path(wheel_dir).glob("*.whl"))]
    for _ in range(rounds):
        pipeline.scan_artifacts(artifacts, OPTIONS, 1, cache=cache)
        for a in artifacts:
            assert cache.get(a, OPTIONS) is not None


def test_concurrent_processes_share_the_store(tmp_path: Path) -> None:
    _wheels(tmp_path, 5)
    path = tmp_path / "shared.sqlite"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), str(tmp_path), 5)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert ResultCache(path).info()["entries"] == 5
