"""Compare two versions of a package: what a new release adds is what a pin cannot stop.

Files are compared by sha256 with the version taken out of their paths (the sdist root
`six-1.16.0/`, the wheel's `six-1.16.0.dist-info/`), findings by rule, path and snippet (not
line numbers, so unrelated edits that shift lines do not count as new), and the core metadata
fields a takeover changes: URLs, maintainers, dependencies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pkgvet.errors import UsageError
from pkgvet.model import ArtifactKind, Finding, ScanResult, Verdict
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact, load
from pkgvet.pipeline import scan_artifact
from pkgvet.report.json_format import finding_dict
from pkgvet.sources import resolve

if TYPE_CHECKING:
    from pkgvet.trust import TrustSettings

METADATA_FIELDS = (
    "Home-page",
    "Download-URL",
    "Project-URL",
    "Author",
    "Author-email",
    "Maintainer",
    "Maintainer-email",
    "Requires-Dist",
)


@dataclass(frozen=True, slots=True)
class Side:
    artifact: Artifact
    result: ScanResult
    metadata: dict[str, frozenset[str]]


@dataclass
class Diff:
    a: Side
    b: Side
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    gone_findings: list[Finding] = field(default_factory=list)
    unchanged_findings: list[Finding] = field(default_factory=list)
    metadata_changes: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        if self.b.result.verdict is Verdict.MALICIOUS:
            return 2
        return 1 if self.b.result.verdict.rank > self.a.result.verdict.rank else 0


def _pick(artifacts: Sequence[Artifact], kind: ArtifactKind, target: str) -> Artifact:
    if len(artifacts) == 1:
        return artifacts[0]
    for artifact in artifacts:
        if artifact.kind is kind:
            return artifact
    raise UsageError(f"{target} has no {kind.value} to compare; try the other kind (--wheel)")


def _side(target: str, kind: ArtifactKind, options: ScanOptions, index_url: str | None) -> Side:
    artifact = _pick(resolve(target, index_url=index_url, all_files=True), kind, target)
    result = scan_artifact(artifact, options)
    meta = load(artifact).metadata
    fields = (
        {
            name: frozenset(str(v).strip() for v in (meta.get_all(name) or []) if str(v).strip())
            for name in METADATA_FIELDS
        }
        if meta is not None
        else {}
    )
    return Side(artifact, result, fields)


def _versionless(path: str, result: ScanResult) -> str:
    """`six-1.16.0/six.py` -> `six.py`; `six-1.16.0.dist-info/RECORD` -> `six.dist-info/RECORD`."""
    if result.kind is ArtifactKind.SDIST and "/" in path:
        path = path.split("/", 1)[1]
    if result.version:
        path = re.sub(rf"-{re.escape(result.version)}(?=\.(dist-info|data)/)", "", path)
    return path


def _key(f: Finding, result: ScanResult) -> tuple[str, str, str]:
    return (f.rule_id, _versionless(f.path or "", result), f.snippet)


def compare(
    a: str,
    b: str,
    options: ScanOptions,
    *,
    wheel: bool = False,
    index_url: str | None = None,
    trust: TrustSettings | None = None,
) -> Diff:
    kind = ArtifactKind.WHEEL if wheel else ArtifactKind.SDIST
    side_a, side_b = _side(a, kind, options, index_url), _side(b, kind, options, index_url)
    if trust is not None:
        from dataclasses import replace

        from pkgvet.trust import apply_one

        side_a = replace(side_a, result=apply_one(side_a.result, side_a.artifact, trust))
        side_b = replace(side_b, result=apply_one(side_b.result, side_b.artifact, trust))
    diff = Diff(side_a, side_b)
    files_a = {_versionless(e.path, side_a.result): e.sha256 for e in side_a.result.files}
    files_b = {_versionless(e.path, side_b.result): e.sha256 for e in side_b.result.files}
    diff.added = sorted(set(files_b) - set(files_a))
    diff.removed = sorted(set(files_a) - set(files_b))
    diff.changed = sorted(p for p in set(files_a) & set(files_b) if files_a[p] != files_b[p])
    keys_a = {_key(f, side_a.result) for f in side_a.result.findings}
    keys_b = {_key(f, side_b.result) for f in side_b.result.findings}
    diff.new_findings = [f for f in side_b.result.findings if _key(f, side_b.result) not in keys_a]
    diff.gone_findings = [f for f in side_a.result.findings if _key(f, side_a.result) not in keys_b]
    diff.unchanged_findings = [
        f for f in side_b.result.findings if _key(f, side_b.result) in keys_a
    ]
    for name in METADATA_FIELDS:
        before, after = (
            side_a.metadata.get(name, frozenset()),
            side_b.metadata.get(name, frozenset()),
        )
        if before != after:
            diff.metadata_changes[name] = {
                "added": sorted(after - before),
                "removed": sorted(before - after),
            }
    return diff


def provenance_changes(diff: Diff) -> list[str]:
    """How the origin changed: attestation status and publisher identities (PEP 740)."""
    a, b = diff.a.result.provenance, diff.b.result.provenance
    if a is None or b is None:
        return []
    out: list[str] = []
    if a.status is not b.status:
        out.append(f"attestation: {a.status.value} -> {b.status.value}")
    before = sorted(p.identity for p in a.publishers)
    after = sorted(p.identity for p in b.publishers)
    if before != after:
        out.append(f"publisher: {'; '.join(before) or 'none'} -> {'; '.join(after) or 'none'}")
    return out


def to_dict(diff: Diff) -> dict[str, Any]:
    def side(s: Side) -> dict[str, Any]:
        r = s.result
        return {
            "file": r.file,
            "name": r.name,
            "version": r.version,
            "sha256": r.sha256,
            "verdict": r.verdict.value,
        }

    return {
        "schema": "pkgvet-diff",
        "schema_version": 1,
        "a": side(diff.a),
        "b": side(diff.b),
        "added": diff.added,
        "removed": diff.removed,
        "changed": diff.changed,
        "new_findings": [finding_dict(f) for f in diff.new_findings],
        "gone_findings": [finding_dict(f) for f in diff.gone_findings],
        "unchanged_findings": [finding_dict(f) for f in diff.unchanged_findings],
        "metadata_changes": diff.metadata_changes,
        "provenance_changes": provenance_changes(diff),
    }


def render_json(diff: Diff) -> str:
    return json.dumps(to_dict(diff), indent=2) + "\n"


def render_markdown(diff: Diff) -> str:
    a, b = diff.a.result, diff.b.result
    lines = [
        f"# pkgvet diff: {a.name} {a.version} -> {b.version}",
        "",
        f"Verdict: **{a.verdict.value}** -> **{b.verdict.value}**",
        "",
        f"Files: {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed",
        "",
        "## New findings",
        "",
    ]
    if not diff.new_findings:
        lines.append("None.")
    for f in diff.new_findings:
        lines += [
            f"- **{f.severity.label.upper()}** {f.rule_id} {f.title} ({f.phase.value}) "
            f"`{f.path}:{f.line}`",
            f"  - {f.snippet[:200].replace('`', chr(39))}",
        ]
    if provenance_changes(diff):
        lines += ["", "## Provenance changes", ""]
        lines += [f"- {c}" for c in provenance_changes(diff)]
    if diff.metadata_changes:
        lines += ["", "## Metadata changes", ""]
        for name, change in diff.metadata_changes.items():
            for value in change["added"]:
                lines.append(f"- {name} added: {value}")
            for value in change["removed"]:
                lines.append(f"- {name} removed: {value}")
    for title, items in (
        ("Added files", diff.added),
        ("Removed files", diff.removed),
        ("Changed files", diff.changed),
    ):
        if items:
            lines += ["", f"## {title}", ""] + [f"- `{p}`" for p in items[:200]]
    return "\n".join(lines) + "\n"


def render_terminal(diff: Diff) -> str:
    a, b = diff.a.result, diff.b.result
    out = [
        f"{a.name} {a.version} ({a.verdict.value}) -> {b.version} ({b.verdict.value})",
        f"files: +{len(diff.added)} -{len(diff.removed)} ~{len(diff.changed)}",
        f"findings: {len(diff.new_findings)} new, {len(diff.gone_findings)} gone, "
        f"{len(diff.unchanged_findings)} unchanged",
    ]
    for f in diff.new_findings:
        out.append(
            f"  NEW {f.severity.label:8} {f.rule_id} {f.title} [{f.phase.value}] {f.path}:{f.line}"
        )
        if f.snippet:
            out.append(f"      {f.snippet[:160]}")
    for name, change in diff.metadata_changes.items():
        for value in change["added"]:
            out.append(f"  META + {name}: {value}")
        for value in change["removed"]:
            out.append(f"  META - {name}: {value}")
    out += [f"  PROV {c}" for c in provenance_changes(diff)]
    for label, items in (("+", diff.added), ("-", diff.removed), ("~", diff.changed)):
        out += [f"  {label} {p}" for p in items[:50]]
    return "\n".join(out) + "\n"
