"""Trust signals: what the index and the world say about a file, beside what it contains.

- release age (`age`): PEP 700 upload time against `--min-age` (PV540);
- known-malicious records (`osv`): OSV MAL- records for the name and version (PV541/PV542);
- provenance (`provenance`): PEP 740 attestations, verified, compared across releases
  (PV543-PV549).

They run after the static scan (and are never cached with it: the world's knowledge of a
file changes, its content does not) and only add findings; the analysis always runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from threading import Lock
from typing import Any
from urllib.parse import urlsplit

from pkgvet.errors import PkgvetError, UsageError
from pkgvet.model import Finding, Report, ScanResult
from pkgvet.package import Artifact
from pkgvet.trust import age
from pkgvet.trust.osv import OsvSource

__all__ = ["TrustSettings", "apply", "apply_one", "from_index"]


@dataclass(frozen=True, slots=True)
class TrustSettings:
    min_age: timedelta | None = None
    osv: OsvSource | None = None
    osv_local_files: bool = False
    """Also look up local files (name and version from their file name)."""
    provenance: bool = False
    index_url: str | None = None
    sigstore_offline: bool = True
    now: datetime | None = None
    """Fixed clock for tests; None: the real time."""


def from_index(artifact: Artifact) -> bool:
    """True for a file downloaded from an index (it has an index file name)."""
    return bool(artifact.index_file)


def remote_index(index_url: str | None) -> bool:
    """True when the index is a network one (not a `file://` folder)."""
    from pkgvet.fetch import default_index_url

    return urlsplit(index_url or default_index_url()).scheme in ("http", "https")


class _Releases:
    """Each project's Simple API page, read once per run (an sdist and a wheel share it)."""

    def __init__(self, index_url: str | None) -> None:
        self.index_url = index_url
        self._pages: dict[str, list[Any]] = {}
        self._lock = Lock()

    def of(self, name: str) -> list[Any]:
        from pkgvet import fetch

        with self._lock:
            if name in self._pages:
                return self._pages[name]
        try:
            releases: list[Any] = fetch.project_releases(name, index_url=self.index_url)
        except PkgvetError:
            releases = []
        with self._lock:
            self._pages[name] = releases
        return releases


def apply_one(
    result: ScanResult,
    artifact: Artifact | None,
    settings: TrustSettings,
    pages: _Releases | None = None,
) -> ScanResult:
    from pkgvet.pipeline import with_findings
    from pkgvet.trust import osv, provenance

    extra: list[Finding] = []
    indexed = artifact is not None and from_index(artifact)
    if settings.min_age is not None and indexed:
        young = age.finding(result.upload_time, settings.min_age, settings.now)
        if young is not None:
            extra.append(young)
    if settings.osv is not None and (indexed or settings.osv_local_files):
        extra.extend(osv.findings(settings.osv, result.name, result.version))
    checked = None
    if settings.provenance and artifact is not None and indexed:
        checked = provenance.check_file(artifact, settings.index_url,
                                        offline=settings.sigstore_offline)
        extra.extend(checked.findings)
        if artifact.name:
            releases = (pages or _Releases(settings.index_url)).of(artifact.name)
            extra.extend(provenance.history(artifact, checked.provenance, releases))
    updated = with_findings(result, extra) if extra else result
    if checked is not None:
        updated = replace(updated, provenance=checked.provenance)
    return updated


def apply(report: Report, artifacts: Sequence[Artifact], settings: TrustSettings) -> Report:
    """The report with trust findings added to each result (verdicts decided again)."""
    by_sha = {a.sha256: a for a in artifacts if a.sha256}
    pages = _Releases(settings.index_url)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda r: apply_one(r, by_sha.get(r.sha256), settings, pages),
                                report.results))
    return replace(report, results=tuple(results))


def default_export_path() -> Path:
    """Where `pkgvet osv update` puts OSV's PyPI export."""
    from pkgvet.cache import data_dir

    return data_dir() / "osv" / "PyPI-all.zip"


def build(
    *,
    min_age: str | None,
    osv_mode: str,
    osv_offline: Path | None,
    provenance: bool | None,
    index_url: str | None,
) -> TrustSettings:
    """Settings from the command line. `osv_mode`: `auto` (on for network indexes), `on`,
    `off`; `provenance` None: on for network indexes."""
    from pkgvet.cache import data_dir
    from pkgvet.trust.osv import OsvOffline, OsvOnline

    remote = remote_index(index_url)
    source: OsvSource | None = None
    if osv_offline is not None:
        if not osv_offline.exists():
            raise UsageError(
                f"no OSV export at {osv_offline}; download one with `pkgvet osv update`"
            )
        source = OsvOffline(osv_offline)
    elif osv_mode == "on" or (osv_mode == "auto" and remote):
        source = OsvOnline(data_dir() / "osv-cache.sqlite")
    elif osv_mode not in ("auto", "off"):
        raise UsageError(f"--osv takes auto, on or off, not '{osv_mode}'")
    return TrustSettings(
        min_age=age.parse_age(min_age) if min_age else None,
        osv=source,
        osv_local_files=osv_offline is not None or osv_mode == "on",
        provenance=remote if provenance is None else provenance,
        index_url=index_url,
    )
