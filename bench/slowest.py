"""Where the static scan's time goes: per file and per analyzer, the slowest files first.

`python -m bench.slowest --top 300 --slowest 25` scans the newest sdist and wheel of the top
projects (the bench's cached set) in `-j` worker processes, each file in one process as
`pipeline.scan_artifact` does (load with the blob scanners, then every analyzer in turn),
and times each step. It prints the slowest files with the seconds of each step, the total per
step over the whole set, and the CPU seconds (user + sys) of the workers per file, a figure
that other load on the machine does not inflate the way it inflates wall-clock time.
"""

from __future__ import annotations

import json
import multiprocessing
import resource
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pkgvet import heap
from pkgvet.analyzer import BlobAnalyzer
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact, load
from pkgvet.verdict import decide

console = Console()
LOAD = "load+blobs"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_artifact(artifact: Artifact) -> dict[str, Any]:
    """Seconds of each step of one file's scan, in this process, under the collector
    settings of `pipeline.scan_artifact` (a worker collects after each file)."""
    try:
        with heap.scan_heap():
            return _time_artifact(artifact)
    finally:
        heap.release()


def _time_artifact(artifact: Artifact) -> dict[str, Any]:
    from pkgvet import guard
    from pkgvet.pipeline import _analyzers

    options = ScanOptions()
    analyzers = _analyzers(options)
    scanners = [a.scan_blob for a in analyzers if isinstance(a, BlobAnalyzer)]
    steps: dict[str, float] = {}
    cpu = _cpu()
    started = time.perf_counter()
    try:
        pkg = load(artifact, scanners, options.limits)
    except Exception as exc:  # a file that cannot be opened: reported, not timed
        return {"file": artifact.path.name, "error": str(exc), "steps": {}, "seconds": 0.0,
                "cpu": _cpu() - cpu}
    steps[LOAD] = time.perf_counter() - started
    errors: list[str] = list(pkg.errors)
    findings = list(pkg.findings)
    for analyzer in analyzers:
        begun = time.perf_counter()
        found, failed = guard.run_analyzer(analyzer, pkg)
        findings.extend(found)
        errors.extend(failed)
        steps[analyzer.name] = time.perf_counter() - begun
    pkg.release()
    return {"file": artifact.path.name, "steps": steps, "errors": errors,
            "seconds": time.perf_counter() - started, "cpu": _cpu() - cpu,
            "python_files": len(pkg.python_files), "verdict": decide(findings).value,
            "findings": sorted(f"{f.rule_id} {f.severity.label} {f.phase.value} {f.path}:"
                               f"{f.line}" for f in findings)}


def _warm() -> None:
    from pkgvet.pipeline import _analyzers

    _analyzers(ScanOptions())
    heap.freeze()


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def main(
    top: Annotated[int, typer.Option(help="How many top PyPI projects.")] = 300,
    offset: Annotated[int, typer.Option(help="Skip this many top projects first.")] = 0,
    slowest: Annotated[int, typer.Option(help="How many of the slowest files to list.")] = 25,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes.")] = 2,
    only: Annotated[
        list[str] | None, typer.Option(help="Only files whose name contains this (repeatable).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every row here.")] = None,
) -> None:
    """Per-file, per-analyzer seconds over the bench's top-PyPI set."""
    from bench.run import fetch_benign, top_names

    artifacts, _ = fetch_benign(top_names(offset + top)[offset:])
    if only:
        artifacts = [a for a in artifacts if any(word in a.path.name for word in only)]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_warm,
                                                  maxtasksperchild=20) as pool:
        rows = list(pool.imap_unordered(time_artifact, artifacts))
    wall = time.perf_counter() - started
    rows.sort(key=lambda r: -r["seconds"])
    names = sorted({step for r in rows for step in r["steps"]})
    table = Table(title=f"slowest {slowest} of {len(rows)} files (seconds per step)")
    for header in ("file", "py files", "total", "cpu", *names):
        table.add_column(header, justify="left" if header == "file" else "right")
    for r in rows[:slowest]:
        table.add_row(r["file"], str(r.get("python_files", "")), f"{r['seconds']:.1f}",
                      f"{r['cpu']:.1f}", *(f"{r['steps'].get(n, 0.0):.1f}" for n in names))
    console.print(table)
    totals: Counter[str] = Counter()
    for r in rows:
        totals.update(r["steps"])
    n = len(rows) or 1
    console.print("per step over the set (s/file): " + ", ".join(
        f"{step} {seconds / n:.3f}" for step, seconds in totals.most_common()), highlight=False)
    cpu = sum(r["cpu"] for r in rows)
    console.print(f"{len(rows)} files, -j {jobs}: {wall:.1f} s wall, {wall / n:.3f} s/file; "
                  f"worker CPU {cpu:.1f} s, {cpu / n:.3f} CPU s/file", highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    app()
