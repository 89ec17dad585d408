"""One file against the previous release of the same project, from the store and archives.

Findings are compared by rule, version-less path and snippet (as `pkgvet diff` does); files
and core metadata (URLs, maintainers, `Requires-Dist`) are compared when both archives are on
this machine (read with the safe reader, never extracted or run); provenance from the
stored reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

from pkgvet import RULESET_VERSION, evidence
from pkgvet.store import FileRecord, ResultKind, ResultRecord, Store

FIELDS = ("Home-page", "Download-URL", "Project-URL", "Author", "Author-email", "Maintainer",
          "Maintainer-email", "Requires-Dist")


@dataclass
class Comparison:
    previous: FileRecord
    previous_verdict: str
    new_findings: list[dict[str, Any]] = field(default_factory=list)
    gone_findings: list[dict[str, Any]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    metadata: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    provenance: list[str] = field(default_factory=list)
    archives: bool = False


def latest_result(store: Store, sha256: str, kind: ResultKind = ResultKind.STATIC
                  ) -> ResultRecord | None:
    found = store.get_result(sha256, RULESET_VERSION, kind)
    if found is not None:
        return found
    for result, _ in store.recent_results(limit=2000):
        if result.sha256 == sha256 and result.kind is kind:
            return result
    return None


def _kind(filename: str) -> str:
    return "wheel" if filename.lower().endswith(".whl") else "sdist"


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def previous_file(store: Store, file: FileRecord) -> FileRecord | None:
    current = _version(file.version)
    if current is None:
        return None
    older = [f for f in store.files_of(file.project)
             if _kind(f.filename) == _kind(file.filename)
             and (v := _version(f.version)) is not None and v < current]
    return max(older, key=lambda f: Version(f.version), default=None)


def _strip(path: str, version: str) -> str:
    head, sep, rest = path.partition("/")
    return rest if sep and version in head else path.replace(f"-{version}", "")


def _key(f: dict[str, Any], version: str) -> tuple[str, str, str]:
    return (str(f.get("rule_id")), _strip(str(f.get("path") or ""), version),
            str(f.get("snippet")))


def compare(store: Store, file: FileRecord, report: dict[str, Any],
            archive_dirs: tuple[Any, ...] = ()) -> Comparison | None:
    prev = previous_file(store, file)
    if prev is None:
        return None
    prev_result = latest_result(store, prev.sha256)
    out = Comparison(prev, prev_result.verdict if prev_result else "unvetted")
    old = prev_result.report if prev_result else {}
    old_f = [f for f in old.get("findings") or [] if isinstance(f, dict)]
    new_f = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    old_keys = {_key(f, prev.version) for f in old_f}
    new_keys = {_key(f, file.version) for f in new_f}
    out.new_findings = [f for f in new_f if _key(f, file.version) not in old_keys]
    out.gone_findings = [f for f in old_f if _key(f, prev.version) not in new_keys]
    a, b = old.get("provenance"), report.get("provenance")
    if isinstance(a, dict) and isinstance(b, dict):
        if a.get("status") != b.get("status"):
            out.provenance.append(f"attestation: {a.get('status')} -> {b.get('status')}")
        ids = [sorted(f"{p.get('kind')} {p.get('repository') or p.get('email')} "
                      f"{p.get('workflow') or ''}".strip() for p in x.get("publishers") or [])
               for x in (a, b)]
        if ids[0] != ids[1]:
            out.provenance.append(f"publisher: {'; '.join(ids[0]) or 'none'} -> "
                                  f"{'; '.join(ids[1]) or 'none'}")
    pkg_a = evidence.package_for(prev.sha256, prev.filename, "", archive_dirs)
    pkg_b = evidence.package_for(file.sha256, file.filename, "", archive_dirs)
    if pkg_a is not None and pkg_b is not None:
        out.archives = True
        files_a = {_strip(f.path, prev.version): f.sha256 for f in pkg_a.files}
        files_b = {_strip(f.path, file.version): f.sha256 for f in pkg_b.files}
        out.added = sorted(set(files_b) - set(files_a))
        out.removed = sorted(set(files_a) - set(files_b))
        out.changed = sorted(p for p in set(files_a) & set(files_b) if files_a[p] != files_b[p])
        ma, mb = pkg_a.metadata, pkg_b.metadata
        for name in FIELDS:
            before = {str(v).strip() for v in (ma.get_all(name) or [])} if ma else set()
            after = {str(v).strip() for v in (mb.get_all(name) or [])} if mb else set()
            if before != after:
                out.metadata[name] = {"added": sorted(after - before),
                                      "removed": sorted(before - after)}
    return out
