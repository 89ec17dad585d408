"""The fuzzing oracle: one archive in, one verdict on pkgvet's behaviour out.

A case passes when the scan (through the same watched child the CLI uses) returns a
ScanResult or raises a PkgvetError, `extract()` does the same, and nothing appears outside the
case's work folder. Analyzer exceptions are allowed by the pipeline (they mark the result
partial) but counted separately: each one is a bug in an analyzer that the fuzzer found.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from pkgvet import guard
from pkgvet.archive import extract
from pkgvet.errors import PkgvetError
from pkgvet.model import ArtifactKind, ScanResult
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact
from pkgvet.pipeline import _analyzers, scan_artifact


@dataclass
class Outcome:
    name: str
    kind: str
    """result | error | crash"""
    seconds: float
    verdict: str = ""
    detail: str = ""
    analyzer_errors: list[str] = field(default_factory=list)
    written_outside: list[str] = field(default_factory=list)


@dataclass
class Tally:
    cases: int = 0
    results: int = 0
    errors: int = 0
    crashes: list[Outcome] = field(default_factory=list)
    analyzer_errors: list[Outcome] = field(default_factory=list)
    written_outside: list[Outcome] = field(default_factory=list)
    max_seconds: float = 0.0
    slowest: str = ""
    over_30s: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)

    def add(self, o: Outcome) -> None:
        self.cases += 1
        if o.kind == "result":
            self.results += 1
            self.verdicts[o.verdict] = self.verdicts.get(o.verdict, 0) + 1
        elif o.kind == "error":
            self.errors += 1
        else:
            self.crashes.append(o)
        if o.analyzer_errors:
            self.analyzer_errors.append(o)
        if o.written_outside:
            self.written_outside.append(o)
        if o.seconds > self.max_seconds:
            self.max_seconds, self.slowest = o.seconds, o.name
        if o.seconds > 30:
            self.over_30s += 1

    @property
    def ok(self) -> bool:
        return not self.crashes and not self.written_outside and self.over_30s == 0


def _snapshot(root: Path) -> set[str]:
    try:
        return set(os.listdir(root))
    except OSError:
        return set()


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def check(data: bytes, filename: str, options: ScanOptions | None = None,
          isolate: bool = True, also_extract: bool = True) -> Outcome:
    """Scan and extract one candidate archive inside a fresh work folder.

    The work folder holds `box/` (the archive, the current directory during the scan, and
    `box/out/` for extract) and `tmp/`, made the temp root for the case: whatever pkgvet
    spools must be gone when it returns, and nothing may appear anywhere else."""
    options = options or ScanOptions(isolate=isolate)
    _analyzers(options)
    work = Path(tempfile.mkdtemp(prefix="pkgvet-fuzz-"))
    outside: list[str] = []
    saved_tempdir = tempfile.tempdir
    try:
        box = work / "box"
        box.mkdir()
        (work / "tmp").mkdir()
        tempfile.tempdir = str(work / "tmp")
        path = box / filename
        path.write_bytes(data)
        kind = ArtifactKind.WHEEL if filename.endswith((".whl", ".zip")) else ArtifactKind.SDIST
        artifact = Artifact(path, kind, "0" * 64, source=filename)
        cwd = os.getcwd()
        started = time.perf_counter()
        outcome = Outcome(filename, "result", 0.0)
        try:
            os.chdir(box)
            result: ScanResult = guard.isolated(scan_artifact, artifact, options)
            outcome.verdict = result.verdict.value
            outcome.analyzer_errors = [e for e in result.errors if " failed: " in e]
        except PkgvetError as exc:
            outcome.kind, outcome.detail = "error", str(exc)
        except guard.ScanCrashed as exc:
            outcome.kind, outcome.detail = "crash", f"{exc}\n{exc.child_traceback}"
        except Exception as exc:  # the oracle's whole point: anything else is a finding
            outcome.kind, outcome.detail = "crash", "".join(traceback.format_exception(exc))
        finally:
            os.chdir(cwd)
        if also_extract and outcome.kind != "crash":
            try:
                extract(path, box / "out")
            except PkgvetError:
                pass
            except Exception as exc:
                outcome.kind = "crash"
                outcome.detail = "extract: " + "".join(traceback.format_exception(exc))
        outcome.seconds = time.perf_counter() - started
        for name in _tree(box):
            if name != filename and name != "out" and not name.startswith("out" + os.sep):
                outside.append(f"box/{name}")
        outside += [name for name in _snapshot(work) if name not in ("box", "tmp")]
        outside += [f"tmp/{name}" for name in _tree(work / "tmp")]
    finally:
        tempfile.tempdir = saved_tempdir
        shutil.rmtree(work, ignore_errors=True)
    outcome.written_outside = outside
    return outcome
