"""Dynamic evidence: install and import a package in a hardened, network-less container.

`apply` runs the sandbox for each result of a static scan and merges what it saw (the
`sandbox` section and PV8xx findings) into the result, deciding the verdict again from static
and dynamic findings together.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from pkgvet.errors import PkgvetError
from pkgvet.model import ArtifactKind, Report, ScanResult
from pkgvet.package import Artifact
from pkgvet.sandbox.engine import IMAGE, SandboxUnavailable
from pkgvet.sandbox.runner import SandboxSettings, remove_mine, run

__all__ = ["IMAGE", "SandboxSettings", "SandboxUnavailable", "apply", "check_ready", "run"]


def check_ready(settings: SandboxSettings) -> None:
    """Raise SandboxUnavailable (with what to do) unless a container can start now."""
    from pkgvet.sandbox import engine, runtime

    client = engine.client()
    engine.require_image(client, settings.image)
    runtime.choose(client, settings.runtime)  # a runtime asked for by name must be there


def _sandboxed(result: ScanResult, artifact: Artifact, settings: SandboxSettings) -> ScanResult:
    from pkgvet.pipeline import with_findings

    try:
        outcome = run(artifact, settings)
    except PkgvetError as exc:
        return replace(result, errors=(*result.errors, f"sandbox: {exc}"))
    merged = with_findings(result, outcome.findings)
    return replace(merged, sandbox=outcome.report)


def apply(report: Report, artifacts: Sequence[Artifact], settings: SandboxSettings,
          jobs: int = 1) -> Report:
    """`report` with each sdist, wheel or folder result run through the sandbox."""
    by_file = {(a.path.name, a.sha256): a for a in artifacts}
    todo = [(i, r, by_file[(r.file, r.sha256)]) for i, r in enumerate(report.results)
            if (r.file, r.sha256) in by_file and r.kind in (ArtifactKind.SDIST, ArtifactKind.WHEEL,
                                                 ArtifactKind.FOLDER)]
    results = list(report.results)
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo) or 1))) as pool:
        try:
            done = pool.map(lambda item: _sandboxed(item[1], item[2], settings), todo)
            for (i, _, _), result in zip(todo, done, strict=True):
                results[i] = result
        except BaseException:  # Ctrl-C included: no container outlives pkgvet
            remove_mine()
            raise
    return replace(report, results=tuple(results))
