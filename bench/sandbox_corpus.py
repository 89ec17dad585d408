"""The sandbox alone on real packages: `python -m bench.sandbox_corpus --corpus ... -n N`.

For a seeded sample of N sdists of a development corpus (decrypted into a temporary folder
that is deleted afterwards) and, with `--top M`, the sdists of the M most-used PyPI projects,
each package runs through the sandbox on its own (no static scan) and the table says:

- **setup ran**: pip started the package's setup.py or build back-end;
- **through setup**: that step finished (the install went on to resolve, build or install),
  installed or not;
- **installed**: pip installed it (offline, from the wheelhouse);
- **flagged**: the sandbox's own findings call it suspicious or malicious (on the top
  projects every flag is a false positive);
- the median seconds per package.

Run it with `nice`: it starts one container at a time. `PKGVET_CORPUS_DIR` and
`PKGVET_CORPUS_PASSWORD` are read as `make bench` sets them.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from bench.run import CORPUS_NAMES, decrypt_corpus, default_corpora, fetch_benign, top_names
from pkgvet.model import ArtifactKind, Finding, Severity, Verdict
from pkgvet.package import Artifact
from pkgvet.sandbox.observe import REPLAY_LABEL
from pkgvet.sources.local import local_artifact

SETUP_MARKERS = ("<pip-setuptools-caller>", "_in_process.py")
SETUP_FAILED = ("metadata-generation-failed", "did not run successfully",
                "subprocess-exited-with-error")
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar")

app = typer.Typer(add_completion=False)


def _is_sdist(path: Path) -> bool:
    return path.name.endswith(SDIST_SUFFIXES) and not path.name.endswith(".whl")


def setup_ran(records: Sequence[dict[str, Any]]) -> bool:
    """pip started setup.py or a back-end's hooks (the replay of setup.py does not count)."""
    return any(r.get("type") == "syscall" and r.get("call") == "execve"
               and r.get("phase") == "install"
               and any(m in " ".join(map(str, r.get("argv") or ())) for m in SETUP_MARKERS)
               for r in records)


def through_setup(records: Sequence[dict[str, Any]], installed: bool) -> bool:
    """setup.py (or the back-end's hooks) finished in at least one install attempt."""
    if installed:
        return True
    ends = [r for r in records if r.get("type") == "phase_end" and r.get("phase") == "install"
            and r.get("label") != REPLAY_LABEL]
    return setup_ran(records) and any(
        not r.get("timed_out") and not any(m in str(r.get("output_tail", ""))
                                           for m in SETUP_FAILED) for r in ends)


def flagged(findings: Sequence[Finding]) -> bool:
    from pkgvet.verdict import decide

    graded = [f for f in findings if f.severity > Severity.INFO]
    return decide(graded) is not Verdict.BENIGN


def run_one(artifact: Artifact, install_seconds: float, image: str | None,
            wheelhouse: Path | None, runtime: str | None = None) -> dict[str, Any]:
    from pkgvet.errors import PkgvetError
    from pkgvet.sandbox import SandboxSettings
    from pkgvet.sandbox.runner import run

    options: dict[str, Any] = {"install_seconds": install_seconds,
                               "import_seconds": max(5.0, install_seconds / 3),
                               "max_modules": 5}
    if image:
        options["image"] = image
    if wheelhouse:
        options["wheelhouse"] = wheelhouse
    if runtime:
        options["runtime"] = runtime
    started = time.perf_counter()
    try:
        outcome = run(artifact, SandboxSettings(**options))
    except PkgvetError as exc:
        return {"file": artifact.path.name, "error": str(exc)[:300],
                "seconds": round(time.perf_counter() - started, 1)}
    box = outcome.report
    return {
        "file": artifact.path.name,
        "setup_ran": setup_ran(outcome.records) or box.installable,
        "through_setup": through_setup(outcome.records, box.installable),
        "installed": box.installable,
        "flagged": flagged(outcome.findings),
        "findings": sorted({f.rule_id for f in outcome.findings if f.severity > Severity.INFO}),
        "seconds": round(time.perf_counter() - started, 1),
        "runtime": box.runtime,
        "last_line": box.log_tail.strip().splitlines()[-1][:160] if box.log_tail.strip() else "",
    }


def summary(label: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows) or 1

    def count(key: str) -> int:
        return sum(bool(r.get(key)) for r in rows)

    return {
        "set": label, "packages": len(rows), "setup_ran": count("setup_ran"),
        "through_setup": count("through_setup"), "installed": count("installed"),
        "flagged": count("flagged"), "errors": count("error"),
        "through_setup_pct": round(100 * count("through_setup") / n, 1),
        "flagged_pct": round(100 * count("flagged") / n, 1),
        "median_seconds": statistics.median([r["seconds"] for r in rows]) if rows else 0.0,
    }


def _run_set(label: str, artifacts: list[Artifact], install_seconds: float, image: str | None,
             wheelhouse: Path | None, runtime: str | None = None) -> dict[str, Any]:
    rows = []
    for i, artifact in enumerate(artifacts, 1):
        row = run_one(artifact, install_seconds, image, wheelhouse, runtime)
        rows.append(row)
        print(f"[{label} {i}/{len(artifacts)}] {row['file']}: "
              f"{'error ' + row['error'] if 'error' in row else ''}"
              f"setup {'ran' if row.get('setup_ran') else 'no'}"
              f"{'/through' if row.get('through_setup') else ''}, "
              f"installed {row.get('installed')}, flagged {row.get('flagged')} "
              f"{row.get('findings')}, {row['seconds']} s  {row.get('last_line', '')}",
              file=sys.stderr, flush=True)
    return {"summary": summary(label, rows), "runs": rows}


@app.command()
def main(
    corpus: Annotated[list[str] | None, typer.Option(
        "--corpus", help=f"Corpus zip (path or one of {', '.join(CORPUS_NAMES)}); "
                         "repeatable. Default: both development corpora.")] = None,
    n: Annotated[int, typer.Option("-n", help="Sdists sampled per corpus (0: no corpus).")] = 40,
    top: Annotated[int, typer.Option("--top", help="Also the sdists of the N most-used "
                                     "projects (0: none).")] = 0,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    install_seconds: Annotated[float, typer.Option("--timeout")] = 30.0,
    image: Annotated[str | None, typer.Option("--image")] = None,
    wheelhouse: Annotated[Path | None, typer.Option("--wheelhouse")] = None,
    out: Annotated[Path | None, typer.Option("--json", help="Write every run here.")] = None,
    runtime: Annotated[str | None, typer.Option(
        "--runtime", help="runsc, runc or auto (default: $PKGVET_SANDBOX_RUNTIME, auto).")] = None,
) -> None:
    corpora = default_corpora() if n > 0 else []
    if corpus and n > 0:
        by_name = {p.name: p for p in corpora}
        corpora = [by_name.get(c, Path(c)) for c in corpus]
    results: dict[str, Any] = {}
    for zip_path in corpora:
        with tempfile.TemporaryDirectory(prefix="bench-corpus-") as tmp:
            files = sorted(p for p in decrypt_corpus(zip_path, Path(tmp)) if _is_sdist(p))
            sample = random.Random(seed).sample(files, min(n, len(files)))
            artifacts = [local_artifact(p) for p in sample]
            results[zip_path.name] = _run_set(zip_path.name, artifacts, install_seconds, image,
                                              wheelhouse, runtime)
    if top:
        fetched, _ = fetch_benign(top_names(top))
        sdists = [a for a in fetched if a.kind is ArtifactKind.SDIST]
        results[f"top-{top}"] = _run_set(f"top-{top}", sdists, install_seconds, image,
                                         wheelhouse, runtime)
    print(f"{'set':<22}{'pkgs':>6}{'setup ran':>11}{'through':>9}{'installed':>11}"
          f"{'flagged':>9}{'median s':>10}")
    for label, result in results.items():
        s = result["summary"]
        print(f"{label:<22}{s['packages']:>6}{s['setup_ran']:>11}{s['through_setup']:>9}"
              f"{s['installed']:>11}{s['flagged']:>9}{s['median_seconds']:>10.1f}")
    if out:
        out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    app()
