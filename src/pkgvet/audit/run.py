"""Audit: requirements entries -> the exact index files -> scans -> one report and pins."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from pkgvet import RULESET_VERSION, __version__, fetch, workers
from pkgvet.audit.lockfiles import parse_any
from pkgvet.audit.requirements import Entry
from pkgvet.cache import ResultCache
from pkgvet.errors import PkgvetError
from pkgvet.model import Report, ScanResult, TargetError, Verdict
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact
from pkgvet.pipeline import Backend, ResultHook, scan_artifacts
from pkgvet.trust import TrustSettings


@dataclass(frozen=True, slots=True)
class Resolved:
    entry: Entry
    artifacts: tuple[Artifact, ...]
    version: str


def _resolve(entry: Entry, index_url: str | None) -> Resolved | TargetError:
    target = f"{entry.name}{entry.specifier} ({entry.source})"
    try:
        release = fetch.get_release(entry.name, entry.specifier or None, index_url=index_url)
        if entry.hashes:
            # The files the lock vouches for; of those, the ones pip would install here.
            locked = [f for f in release.files if f.sha256 in entry.hashes]
            files = fetch.select_files(replace(release, files=tuple(locked))) or locked
            if not files:
                return TargetError(
                    target,
                    f"none of the {len(entry.hashes)} --hash values matches a file of "
                    f"{release.name} {release.version} on the index: the pinned file changed "
                    "or the hashes are wrong; do not install until you know which",
                )
        else:
            files = fetch.select_files(release)
        artifacts = tuple(
            fetch.download(f, name=release.name, version=release.version) for f in files
        )
    except PkgvetError as exc:
        return TargetError(target, str(exc))
    return Resolved(entry, artifacts, release.version)


def index_in_effect(path: Path, index_url: str | None) -> str:
    """The index an audit of `path` fetches from: `--index-url`, the file's own, or pip's."""
    return index_url or parse_any(path).index_url or fetch.default_index_url()


def audit(
    path: Path,
    options: ScanOptions,
    jobs: int,
    index_url: str | None = None,
    on_result: ResultHook | None = None,
    on_resolved: Callable[[Resolved], None] | None = None,
    cache: ResultCache | None = None,
    trust: TrustSettings | None = None,
    backend: Backend | None = None,
) -> tuple[Report, list[Resolved]]:
    parsed = parse_any(path)
    index = index_url or parsed.index_url
    errors = [
        TargetError(f"{u.line} ({u.source})", f"not vettable: {u.reason}")
        for u in parsed.unvettable
    ]
    resolved: list[Resolved] = []
    if options.isolate:
        workers.warm_up()  # the scan workers' server preloads while the index answers
    with ThreadPoolExecutor(max_workers=max(1, min(8, 2 * jobs))) as pool:
        for outcome in pool.map(lambda e: _resolve(e, index), parsed.entries):
            if isinstance(outcome, TargetError):
                errors.append(outcome)
            else:
                resolved.append(outcome)
                if on_resolved is not None:
                    on_resolved(outcome)
    artifacts = [a for r in resolved for a in r.artifacts]
    results, scan_errors = scan_artifacts(artifacts, options, jobs, on_result, cache, backend)
    report = Report(
        results=tuple(results),
        errors=tuple(errors + scan_errors),
        tool_version=__version__,
        ruleset_version=RULESET_VERSION,
    )
    if trust is not None:
        from pkgvet import trust as trust_mod

        report = trust_mod.apply(report, artifacts, replace(trust, index_url=index))
    report = _check_identities(report, resolved, index,
                               trust.sigstore_offline if trust is not None else True)
    return report, resolved


def _check_identities(
    report: Report, resolved: list[Resolved], index_url: str | None, offline: bool
) -> Report:
    """PEP 751 `attestation-identities`: each locked file must be attested by one of them."""
    from pkgvet.pipeline import with_findings
    from pkgvet.trust import provenance

    expected = {a.sha256: (item.entry.identities, a) for item in resolved
                for a in item.artifacts if item.entry.identities}
    if not expected:
        return report
    results = []
    for result in report.results:
        if result.sha256 not in expected:
            results.append(result)
            continue
        identities, artifact = expected[result.sha256]
        current = result.provenance
        if current is None:
            checked = provenance.check_file(artifact, index_url, offline=offline)
            current = checked.provenance
            result = replace(with_findings(result, checked.findings), provenance=current)
        extra = provenance.identity_findings(identities, current,
                                             artifact.index_file or result.file)
        results.append(with_findings(result, extra) if extra else result)
    return replace(report, results=tuple(results))


def pin_lines(report: Report, resolved: list[Resolved]) -> str:
    """A requirements file for `pip install --require-hashes`: every package whose files all
    came out benign from a complete scan, pinned with every scanned file's hash; the others
    left out, with why (a partial result is not known to be benign)."""
    by_sha = {r.sha256: r for r in report.results}
    out = ["# Written by pkgvet audit: benign packages pinned by hash; others left out.", ""]
    for item in sorted(resolved, key=lambda r: r.entry.name.lower()):
        results = [by_sha[a.sha256] for a in item.artifacts if a.sha256 in by_sha]
        worst = _worst(results)
        name = results[0].name if results else item.entry.name
        partial = [r for r in results if r.partial]
        if results and len(results) == len(item.artifacts) and worst is Verdict.BENIGN \
                and not partial:
            hashes = " \\\n    ".join(f"--hash=sha256:{r.sha256}" for r in results)
            out.append(f"{name}=={item.version} \\\n    {hashes}")
        elif worst is Verdict.BENIGN and partial:
            why = "; ".join(partial[0].errors)[:300]
            out.append(f"# {name}=={item.version} left out: partial scan of {partial[0].file}, "
                       f"not known to be benign ({why})")
        else:
            why = worst.value if results else "not scanned"
            top = next((f for r in results for f in r.findings if not f.suppressed), None)
            detail = f": {top.rule_id} {top.title} ({top.path}:{top.line})" if top else ""
            out.append(f"# {name}=={item.version} left out: {why}{detail}")
    return "\n".join(out) + "\n"


def _worst(results: list[ScanResult]) -> Verdict:
    return max((r.verdict for r in results), key=lambda v: v.rank, default=Verdict.BENIGN)
