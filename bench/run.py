"""`make bench`: how accurate and how fast pkgvet is on real packages.

Two sets, scanned exactly as `pkgvet scan` scans (`pipeline.scan_artifacts`, one process per
core):

- **benign**: the newest release (sdist and this platform's wheel) of the N most-downloaded
  PyPI projects, fetched with pkgvet's own index client into its cache, so a second run
  downloads nothing. Everything flagged here is a false positive to look at.
- **malware**: every file of the encrypted development corpus, decrypted into a temporary
  folder that is deleted afterwards. Everything called benign here is a miss.

Each set is scanned in a fresh child process, so the wall-clock time includes process
start-up and the peak memory is that set's own: the largest resident set of the child or of
any scan worker. Percentages are of the files in the set; errors are files that could not be
scanned at all. Names that could not be fetched are listed apart: they were never scanned.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pkgvet import RULESET_VERSION, __version__, crosscheck, fetch
from pkgvet.errors import PackageNotFound, PkgvetError
from pkgvet.model import ScanResult, TargetError, Verdict
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact
from pkgvet.pipeline import default_jobs, scan_artifacts
from pkgvet.sources.local import local_artifact

CORPUS_NAMES = ("malicious-dev.zip", "malicious-dev-2.zip")
REPO = Path(__file__).resolve().parent.parent
FETCH_THREADS = 8
TOP_FINDINGS = 3

console = Console()
progress_console = Console(stderr=True)


@dataclass(slots=True)
class SetRun:
    """One set scanned: what went in, what came out, and what it cost."""

    label: str
    files: int
    results: list[ScanResult] = field(default_factory=list)
    errors: list[TargetError] = field(default_factory=list)
    seconds: float = 0.0
    peak_mb: float = 0.0
    cpu_seconds: float = 0.0
    """User + system CPU time of the scanning process and its workers: unlike wall-clock
    seconds, other load on the machine barely changes it."""

    def figures(self) -> dict[str, Any]:
        counts = Counter(r.verdict for r in self.results)
        n = self.files or 1

        def pct(count: int) -> float:
            return round(100.0 * count / n, 1)

        return {
            "files": self.files,
            "malicious_pct": pct(counts[Verdict.MALICIOUS]),
            "suspicious_pct": pct(counts[Verdict.SUSPICIOUS]),
            "benign_pct": pct(counts[Verdict.BENIGN]),
            "errors": len(self.errors),
            "partial": sum(1 for r in self.results if r.partial),
            "flagged_pct": pct(counts[Verdict.MALICIOUS] + counts[Verdict.SUSPICIOUS]),
            "seconds": round(self.seconds, 2),
            "s_per_file": round(self.seconds / n, 3),
            "files_per_min": round(60.0 * self.files / self.seconds, 1) if self.seconds else 0.0,
            "cpu_s_per_file": round(self.cpu_seconds / n, 3),
            "peak_mb": round(self.peak_mb, 1),
        }


# --- the benign set ------------------------------------------------------------------------


def top_names(n: int) -> list[str]:
    """The first `n` names of the shipped top-5000 list (most downloaded first)."""
    data = importlib.resources.files("pkgvet").joinpath("rules", "data", "top-pypi-5000.txt")
    names = [line.strip() for line in data.read_text(encoding="utf-8").splitlines()]
    return [name for name in names if name and not name.startswith("#")][:n]


def _fetch_one(name: str) -> list[Artifact]:
    release = fetch.get_release(name)
    files = fetch.select_files(release)
    if not files:
        raise PackageNotFound(f"release {release.version} has no sdist and no wheel for here")
    return [fetch.download(f, name=release.name, version=release.version) for f in files]


def fetch_benign(
    names: Sequence[str], threads: int = FETCH_THREADS
) -> tuple[list[Artifact], list[TargetError]]:
    """Newest sdist and wheel of each name, in list order; names that fail become errors."""
    found: dict[str, list[Artifact]] = {}
    errors: dict[str, TargetError] = {}
    with _progress() as progress, ThreadPoolExecutor(max_workers=threads) as pool:
        task = progress.add_task("fetching top packages", total=len(names))
        futures = {pool.submit(_fetch_one, name): name for name in names}
        for future in as_completed(futures):
            name = futures[future]
            try:
                found[name] = future.result()
            except PkgvetError as exc:
                errors[name] = TargetError(name, str(exc))
            except Exception as exc:  # a fetcher bug must not stop the bench
                errors[name] = TargetError(name, f"{exc.__class__.__name__}: {exc}")
            progress.advance(task)
    artifacts = [a for name in names for a in found.get(name, [])]
    return artifacts, [errors[name] for name in names if name in errors]


# --- the malware set -----------------------------------------------------------------------


def default_corpora() -> list[Path]:
    """The development corpora in `shared/corpus/` beside the repository
    (`PKGVET_CORPUS_DIR` overrides the folder), those that are there."""
    folder = Path(os.environ.get("PKGVET_CORPUS_DIR") or REPO.parent / "shared" / "corpus")
    return [folder / name for name in CORPUS_NAMES if (folder / name).is_file()]


def corpus_password() -> bytes:
    """The zip password: the samples are encrypted so that no tool opens them by accident.
    It comes from the environment (`make bench` sets the corpus convention's password)."""
    password = os.environ.get("PKGVET_CORPUS_PASSWORD")
    if not password:
        raise typer.BadParameter("set PKGVET_CORPUS_PASSWORD to the corpus zip's password "
                                 "(see shared/corpus/README.md), or run `make bench`")
    return password.encode()


def decrypt_corpus(corpus: Path, dest: Path, limit: int | None = None) -> list[Path]:
    """Write every member of the encrypted zip under `dest`, one folder per member.

    Only the member's base name is used, inside a numbered folder, so no member name can
    place a file outside `dest` or overwrite another.
    """
    paths: list[Path] = []
    with zipfile.ZipFile(corpus) as zf:
        for i, info in enumerate(zf.infolist()):
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            if info.is_dir() or not base or base in (".", ".."):
                continue
            if limit is not None and len(paths) >= limit:
                break
            folder = dest / f"{i:05d}"
            folder.mkdir()
            target = folder / base
            with zf.open(info, pwd=corpus_password()) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1024 * 1024)
            paths.append(target)
    return paths


# --- scanning ------------------------------------------------------------------------------


def _peak_mb() -> float:
    """Largest resident set so far of this process or any child it waited for."""
    peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _scan_child(artifacts: list[Artifact], jobs: int, label: str, conn: Connection) -> None:
    try:
        with _progress() as progress:
            task = progress.add_task(f"scanning {label}", total=len(artifacts))
            results, errors = scan_artifacts(
                artifacts, ScanOptions(), jobs, on_result=lambda _: progress.advance(task)
            )
            results = crosscheck.apply(results, artifacts)
        conn.send((results, errors, _peak_mb()))
    finally:
        conn.close()


def scan_set(label: str, artifacts: list[Artifact], jobs: int) -> SetRun:
    """Scan in a fresh child process: time from its start, memory of it and its workers.
    Spawned, not forked: this process ran fetch threads."""
    run = SetRun(label, len(artifacts))
    if not artifacts:
        return run
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    started = time.perf_counter()
    child = context.Process(target=_scan_child, args=(artifacts, jobs, label, sender))
    child.start()
    sampler = _CpuSampler(child.pid or 0)
    sampler.start()
    sender.close()
    try:
        run.results, run.errors, run.peak_mb = receiver.recv()
    except EOFError:
        run.errors = [TargetError(label, f"the scanning process died (exit code {child.exitcode})")]
    child.join()
    run.seconds = time.perf_counter() - started
    run.cpu_seconds = sampler.stop()
    return run


class _CpuSampler(threading.Thread):
    """CPU seconds (user + system) of a process and all its descendants, read from /proc
    every `interval` seconds: the scan workers are children of multiprocessing's forkserver,
    not of the scanning process, so `RUSAGE_CHILDREN` never sees them. The last fraction of
    an interval of each process that ends is lost (workers live for many files); 0.0 where
    /proc is missing."""

    def __init__(self, root: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.seen: dict[int, float] = {}
        self.done = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        proc = Path("/proc")
        parents: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for entry in proc.iterdir() if proc.is_dir() else ():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rfind(")") + 2:].split()
            parents[int(entry.name)] = int(fields[1])
            cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / self.tick
        tree = {self.root}
        grew = True
        while grew:
            found = {pid for pid, parent in parents.items() if parent in tree} - tree
            tree |= found
            grew = bool(found)
        for pid in tree & cpu.keys():
            self.seen[pid] = max(self.seen.get(pid, 0.0), cpu[pid])

    def stop(self) -> float:
        self.done.set()
        self.join()
        return sum(self.seen.values())


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=progress_console,
        transient=True,
    )


# --- output --------------------------------------------------------------------------------


def figures_table(runs: Sequence[SetRun], fetch_errors: int | None) -> Table:
    table = Table(title=f"pkgvet {__version__} bench (ruleset {RULESET_VERSION})")
    for header in ("set", "files", "malicious %", "suspicious %", "benign %", "errors",
                   "flagged %", "s/file", "CPU s/file", "files/min", "peak MB"):
        table.add_column(header, justify="left" if header == "set" else "right")
    for run in runs:
        f = run.figures()
        label = run.label
        if run.label == "benign" and fetch_errors:
            label += f" ({fetch_errors} not fetched)"
        table.add_row(
            label, str(f["files"]), f"{f['malicious_pct']:.1f}", f"{f['suspicious_pct']:.1f}",
            f"{f['benign_pct']:.1f}", str(f["errors"]), f"{f['flagged_pct']:.1f}",
            f"{f['s_per_file']:.3f}", f"{f['cpu_s_per_file']:.3f}", f"{f['files_per_min']:.0f}",
            f"{f['peak_mb']:.0f}",
        )
    return table


def flagged_benign(run: SetRun) -> list[dict[str, Any]]:
    """Benign-set files that came out non-benign, with their strongest findings."""
    out = []
    for r in sorted(run.results, key=lambda r: (-r.verdict.rank, r.file)):
        if r.verdict is Verdict.BENIGN:
            continue
        top = [f for f in r.findings if not f.suppressed][:TOP_FINDINGS]
        out.append({
            "file": r.file,
            "verdict": r.verdict.value,
            "findings": [
                {"rule_id": f.rule_id, "severity": f.severity.label, "title": f.title,
                 "path": f.path, "line": f.line}
                for f in top
            ],
        })
    return out


def missed_malware(run: SetRun) -> list[str]:
    return sorted(r.file for r in run.results if r.verdict is Verdict.BENIGN)


def print_lists(
    benign: SetRun | None, malware_runs: list[SetRun], fetch_errors: list[TargetError]
) -> None:
    if benign is not None:
        flagged = flagged_benign(benign)
        console.rule(f"benign-set files flagged ({len(flagged)})")
        for item in flagged:
            console.print(f"[bold]{item['file']}[/]  {item['verdict']}", highlight=False)
            for f in item["findings"]:
                where = f"{f['path'] or '-'}{':' + str(f['line']) if f['line'] else ''}"
                console.print(f"    {f['rule_id']} {f['severity']:<8} {where}  {f['title']}",
                              highlight=False, markup=False)
    for malware in malware_runs:
        missed = missed_malware(malware)
        console.rule(f"{malware.label}: files called benign ({len(missed)})")
        if missed:
            console.print(Columns(missed, padding=(0, 2)), highlight=False)
    errors = [*(benign.errors if benign else []), *(e for m in malware_runs for e in m.errors)]
    if errors:
        console.rule(f"scan errors ({len(errors)})")
        for e in errors:
            console.print(f"{e.target}: {e.message}", highlight=False, markup=False)
    if fetch_errors:
        console.rule(f"fetch errors ({len(fetch_errors)}; not scanned)")
        for e in fetch_errors:
            console.print(f"{e.target}: {e.message}", highlight=False, markup=False)


def report_json(
    runs: Sequence[SetRun],
    benign: SetRun | None,
    malware_runs: list[SetRun],
    fetch_errors: list[TargetError],
    settings: dict[str, Any],
) -> dict[str, Any]:
    return {
        "tool_version": __version__,
        "ruleset_version": RULESET_VERSION,
        "settings": settings,
        "sets": {run.label: run.figures() for run in runs},
        "benign_flagged": flagged_benign(benign) if benign else [],
        "malware_missed": {m.label: missed_malware(m) for m in malware_runs},
        "scan_errors": [{"target": e.target, "message": e.message}
                        for run in runs for e in run.errors],
        "fetch_errors": [{"name": e.target, "message": e.message} for e in fetch_errors],
    }


# --- command -------------------------------------------------------------------------------

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


@app.command()
def bench(
    top: Annotated[int, typer.Option("--top", help="How many top PyPI projects to fetch.")] = 300,
    offset: Annotated[
        int, typer.Option("--offset", help="Skip this many of the top projects first (e.g. "
                          "--offset 300 --top 300: ranks 301-600, an out-of-sample benign set).")
    ] = 0,
    malware: Annotated[bool, typer.Option(help="Scan the malware corpus.")] = True,
    techniques: Annotated[
        bool, typer.Option(help="Also print the per-technique table over the inert fixtures "
                           "(tests/techniques, tests/carried_fixtures).")
    ] = True,
    benign: Annotated[bool, typer.Option(help="Scan the top PyPI projects.")] = True,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Scan processes (default: cores).")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the figures to this JSON file.")
    ] = None,
    cache_bench: Annotated[
        bool, typer.Option("--cache-bench", help="Scan the benign set twice (pkgvet.cache).")
    ] = False,
    cache_ratio: Annotated[
        int, typer.Option("--cache-ratio", help="Only this: `pkgvet scan` of N corpus files "
                          "as a user runs it, with the default result cache and with "
                          "--no-cache; prints both times, their ratio and the errors.")
    ] = 0,
    corpus: Annotated[
        list[Path] | None,
        typer.Option(help="Encrypted malware zip, repeatable (default: every development "
                     "corpus in ../shared/corpus/, each reported as its own set)."),
    ] = None,
    sandbox_malware: Annotated[
        int, typer.Option("--sandbox-malware", help="Also sandbox N corpus samples (evenly "
                          "spread), one at a time: what the sandbox alone catches.")
    ] = 0,
    sandbox_n: Annotated[
        int, typer.Option("--sandbox", help="Also sandbox the sdists of the first N top "
                          "projects, one at a time (needs the engine and the image).")
    ] = 0,
) -> None:
    """Accuracy and speed on the top PyPI packages and the malware corpus, then the
    per-technique table over the inert fixtures."""
    if not console.is_terminal:
        console.width = max(console.width, 140)  # logs and pipes: keep the table readable
    jobs = jobs or default_jobs()
    if cache_ratio:
        _cache_ratio(corpus or default_corpora(), cache_ratio, jobs, json_out)
        return
    runs: list[SetRun] = []
    benign_run: SetRun | None = None
    malware_runs: list[SetRun] = []
    fetch_errors: list[TargetError] = []
    settings: dict[str, Any] = {"top": top if benign else 0, "offset": offset, "jobs": jobs}

    if benign:
        started = time.perf_counter()
        artifacts, fetch_errors = fetch_benign(top_names(offset + top)[offset:])
        settings["fetch_seconds"] = round(time.perf_counter() - started, 2)
        console.print(
            f"fetched {len(artifacts)} files of {top - len(fetch_errors)} projects in "
            f"{settings['fetch_seconds']:.1f} s (cache: {fetch.cache_dir()})",
            highlight=False,
        )
        benign_run = scan_set("benign", artifacts, jobs)
        runs.append(benign_run)
        if cache_bench:
            _cache_bench(artifacts, jobs, runs.append)
        if sandbox_n:
            settings["sandbox"] = _sandbox_bench(artifacts, sandbox_n)

    if malware:
        paths = corpus or default_corpora()
        if not paths:
            console.print("[yellow]no malware corpus found in ../shared/corpus/; "
                          "pass --corpus or set PKGVET_CORPUS_DIR[/]")
        for path in paths:
            label = f"malware {path.stem}"
            with tempfile.TemporaryDirectory(prefix="pkgvet-bench-malware-") as tmp:
                samples = [local_artifact(p) for p in decrypt_corpus(path, Path(tmp))]
                malware_run = scan_set(label, samples, jobs)
                malware_runs.append(malware_run)
                if sandbox_malware:
                    step = max(1, len(samples) // sandbox_malware)
                    settings[f"sandbox {label}"] = _sandbox_malware(
                        samples[::step][:sandbox_malware])
            runs.append(malware_run)

    if techniques:
        from bench import techniques as technique_table

        technique_table.main()
    console.print(figures_table(runs, len(fetch_errors) if benign else None))
    print_lists(benign_run, malware_runs, fetch_errors)
    if json_out is not None:
        data = report_json(runs, benign_run, malware_runs, fetch_errors, settings)
        json_out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        console.print(f"figures written to {json_out}", highlight=False)


def _cache_bench(artifacts: list[Artifact], jobs: int, add: Callable[[SetRun], None]) -> None:
    """A 50-package lock file audited twice against a fresh result cache: the second pass
    answers from SQLite. Prints cold and warm wall-clock seconds and their ratio."""
    import tempfile

    from pkgvet.cache import ResultCache
    from pkgvet.options import ScanOptions
    from pkgvet.pipeline import scan_artifacts

    projects: dict[str, list[Artifact]] = {}
    for artifact in artifacts:
        key = (artifact.name or artifact.path.name).lower()
        if key in projects or len(projects) < 50:
            projects.setdefault(key, []).append(artifact)
    chosen = [a for group in projects.values() for a in group]
    with tempfile.TemporaryDirectory(prefix="pkgvet-cache-bench-") as tmp:
        cache = ResultCache(Path(tmp) / "results.sqlite")
        started = time.perf_counter()
        scan_artifacts(chosen, ScanOptions(), jobs, cache=cache)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        warm_results, _ = scan_artifacts(chosen, ScanOptions(), jobs, cache=cache)
        warm = time.perf_counter() - started
    run = SetRun("50 packages (warm cache)", len(chosen), results=warm_results, seconds=warm)
    add(run)
    console.print(
        f"cache: {len(projects)} packages, {len(chosen)} files: first audit {cold:.2f} s, "
        f"second audit {warm:.3f} s from the cache ({cold / max(warm, 1e-9):.0f}x faster)",
        highlight=False,
    )


def _cli_scan(files: list[Path], jobs: int, data_dir: Path, *extra: str) -> dict[str, Any]:
    """One `pkgvet scan FILES -f json` through the installed console script, timed."""
    import subprocess

    exe = Path(sys.executable).with_name("pkgvet")
    env = {**os.environ, "PKGVET_DATA_DIR": str(data_dir)}
    started = time.perf_counter()
    proc = subprocess.run([str(exe), "scan", *map(str, files), "-j", str(jobs), "-f", "json",
                           *extra], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"seconds": seconds, "results": 0, "errors": len(files), "partial": 0,
                "exit": proc.returncode, "stderr": proc.stderr[-2000:]}
    return {"seconds": round(seconds, 2), "results": len(report["results"]),
            "errors": len(report["errors"]),
            "partial": sum(1 for r in report["results"] if r["partial"]),
            "exit": proc.returncode,
            "error_messages": [e["message"] for e in report["errors"]][:5],
            "partial_files": {r["file"]: r["errors"] for r in report["results"] if r["partial"]}}


def _cache_ratio(corpora: list[Path], n: int, jobs: int, json_out: Path | None,
                 rounds: int = 2) -> None:
    """The issue-10 check: the default command (result cache on, empty) must cost at most
    1.2x `--no-cache` on the same files, with no errors. The two runs alternate for `rounds`
    rounds (each cached run with a fresh, empty cache) and the best time of each counts, so
    load from other processes on the machine weighs on both alike. A last run answers from
    the filled cache."""
    if not corpora:
        raise typer.BadParameter("no corpus: pass --corpus or set PKGVET_CORPUS_DIR")
    runs: dict[str, list[dict[str, Any]]] = {"--no-cache": [], "default cache, empty": []}
    with tempfile.TemporaryDirectory(prefix="pkgvet-bench-ratio-") as tmp:
        folder = Path(tmp) / "samples"
        folder.mkdir()
        samples = decrypt_corpus(corpora[0], folder, n)
        for i in range(rounds):
            data = Path(tmp) / f"data{i}"
            pair = [("--no-cache", ("--no-cache",)), ("default cache, empty", ())]
            for label, extra in pair if i % 2 == 0 else pair[::-1]:
                runs[label].append(_cli_scan(samples, jobs, data, *extra))
        warm = _cli_scan(samples, jobs, Path(tmp) / "data0")
    best = {label: min(rs, key=lambda r: r["seconds"]) for label, rs in runs.items()}
    no_cache, cold = best["--no-cache"], best["default cache, empty"]
    ratio = cold["seconds"] / max(no_cache["seconds"], 1e-9)
    table = Table(title=f"pkgvet scan of {len(samples)} files of {corpora[0].name}, -j {jobs}, "
                  f"best of {rounds}")
    for header in ("run", "seconds", "all rounds", "results", "errors", "partial", "exit"):
        table.add_column(header, justify="left" if header == "run" else "right")
    for label, run in (*best.items(), ("default cache, filled", warm)):
        every = ", ".join(f"{r['seconds']:.1f}" for r in runs.get(label, [run]))
        table.add_row(label, f"{run['seconds']:.2f}", every, str(run["results"]),
                      str(run["errors"]), str(run["partial"]), str(run["exit"]))
    console.print(table)
    for label, rs in runs.items():
        for r in rs:
            for file, why in r.get("partial_files", {}).items():
                console.print(f"partial in {label}: {file}: {'; '.join(why)}", highlight=False,
                              markup=False)
    errors = sum(r["errors"] for rs in runs.values() for r in rs)
    ok = ratio <= 1.2 and errors == 0
    console.print(f"cached / no-cache: {ratio:.2f}x (target <= 1.2x, 0 errors; {errors} "
                  f"errors): {'[green]ok[/]' if ok else '[red]FAILED[/]'}", highlight=False)
    if json_out is not None:
        json_out.write_text(json.dumps({"files": len(samples), "jobs": jobs, "ratio":
                                        round(ratio, 3), "runs": runs, "warm": warm},
                                       indent=2) + "\n", encoding="utf-8")


def _sandbox_malware(samples: list[Artifact]) -> dict[str, Any]:
    """Sandbox real malware samples one at a time; the share the sandbox alone calls
    malicious or suspicious, among all and among those that installed offline."""
    from pkgvet.sandbox import SandboxSettings, check_ready
    from pkgvet.sandbox.runner import run
    from pkgvet.verdict import decide

    settings = SandboxSettings(install_seconds=60.0, import_seconds=20.0, max_modules=5)
    check_ready(settings)
    rows: list[dict[str, Any]] = []
    for artifact in samples:
        outcome = run(artifact, settings)
        verdict = decide(outcome.findings)
        rows.append({"file": artifact.path.name, "verdict": verdict.value,
                     "installable": outcome.report.installable,
                     "seconds": outcome.report.seconds,
                     "findings": sorted({f.rule_id for f in outcome.findings if f.severity > 0})})
        console.print(f"sandbox {artifact.path.name}: {verdict.value}, installable "
                      f"{outcome.report.installable}, {rows[-1]['findings']}", highlight=False)
    flagged = [r for r in rows if r["verdict"] != "benign"]
    installed = [r for r in rows if r["installable"]]
    caught_installed = [r for r in installed if r["verdict"] != "benign"]
    console.print(
        f"sandbox on malware: {len(flagged)}/{len(rows)} flagged by the sandbox alone "
        f"({sum(r['verdict'] == 'malicious' for r in rows)} malicious); "
        f"{len(installed)} installed offline, {len(caught_installed)} of them flagged",
        highlight=False)
    return {"samples": len(rows), "flagged": len(flagged), "installed": len(installed),
            "flagged_installed": len(caught_installed), "runs": rows}


def _sandbox_bench(artifacts: list[Artifact], n: int) -> dict[str, Any]:
    """Install and import the sdists of the first `n` projects in the sandbox, one at a
    time; prints each run and the median wall-clock seconds per sdist."""
    import statistics

    from pkgvet.model import ArtifactKind
    from pkgvet.sandbox import SandboxSettings, check_ready
    from pkgvet.sandbox.runner import run

    settings = SandboxSettings()
    check_ready(settings)
    sdists = [a for a in artifacts if a.kind is ArtifactKind.SDIST][:n]
    rows: list[dict[str, Any]] = []
    seconds: list[float] = []
    installed = 0
    for artifact in sdists:
        outcome = run(artifact, settings)
        box = outcome.report
        seconds.append(box.seconds)
        installed += box.installable
        rows.append({"file": artifact.path.name, "seconds": box.seconds,
                     "installable": box.installable, "modules": list(box.modules),
                     "findings": [f.rule_id for f in outcome.findings if f.severity > 0]})
        console.print(f"sandbox {artifact.path.name}: {box.seconds:.1f} s, installable "
                      f"{box.installable}, findings {rows[-1]['findings'] or 'none'}",
                      highlight=False)
    median = statistics.median(seconds) if seconds else 0.0
    console.print(f"sandbox: {len(rows)} sdists, median {median:.1f} s per sdist, "
                  f"{installed} installed offline", highlight=False)
    return {"median_seconds": median, "runs": rows}


if __name__ == "__main__":
    app()
