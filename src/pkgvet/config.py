"""`[tool.pkgvet]`: accepted packages and suppressed rules, from the user, never from the
package being vetted.

    [tool.pkgvet]
    allow = [
      { package = "internal-tool", index = "https://pypi.internal/simple/", reason = "ours" },
      { package = "somepkg", version = "1.4.2", reason = "vendored, reviewed 2026-10" },
      { package = "otherpkg", sha256 = "9f86d0...", reason = "this exact file, reviewed" },
    ]
    suppress = [
      { rule = "PV103", package = "setuptools", reason = "build tool runs compilers" },
      { rule = "PV105", reason = "our telemetry check" },
    ]

Where it comes from (`resolve`): `--config`, else `PKGVET_CONFIG`, else the pyproject.toml of
the project being vetted *against*: the folder holding the requirements or lock file given
to `audit`, the current folder for `scan` (searched upward). A pyproject.toml inside a
folder that is itself being scanned is the suspect's own file: it is ignored, with a note,
so a package cannot write its own verdict.

Allow entries are precise. One matches a file only when the name in its file name and the
name in its metadata agree (a look-alike `other-1.0.tar.gz` claiming `Name: internal-tool`
matches nothing) and the entry's key matches: `version`, `sha256` and/or `index`. An entry
with the name alone applies only to files fetched from the index in effect (`--index-url`,
the lock file's, or pip's), never to a local file, and the suppression reason says so.
A name-mismatch finding (PV502) is never suppressed by an allow.

Every entry needs a reason: an exception nobody can explain later is a hole. Suppressed
findings stay in the report, marked, with the reason; they no longer count for the verdict.

Decisions exported from the triage console (`pkgvet.ui.decisions`) narrow an entry to one
release (`version`) or one file (`sha256`), and may block what a person found malicious:

    allow = [{ package = "somepkg", version = "1.2", sha256 = "ab12...", reason = "..." }]
    block = [{ package = "evilpkg", version = "0.1", reason = "steals tokens", decided_by = "ann" }]

A blocked file gets a critical PV551 finding that cites the reason.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pkgvet.errors import UsageError
from pkgvet.model import ArtifactKind, Finding, Report, ScanResult
from pkgvet.verdict import decide

CONFIG_ENV = "PKGVET_CONFIG"
NEVER_ALLOWED = frozenset({"PV502"})
"""Findings an allow entry never hides: a file whose name and metadata disagree is exactly
what a look-alike of an allowed package looks like."""


def agreed_name(result: ScanResult) -> str | None:
    """The canonical name when the file name and the metadata name the same project."""
    from pkgvet.sources.local import name_version_from_filename

    if result.kind is ArtifactKind.FOLDER or not result.name:
        return None
    from_file, _ = name_version_from_filename(result.file)
    if from_file is None or canonicalize_name(from_file) != canonicalize_name(result.name):
        return None
    return str(canonicalize_name(result.name))


def _same_version(a: str | None, b: str) -> bool:
    if a is None:
        return False
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _index_key(url: str) -> str:
    return url.strip().rstrip("/").lower()


def from_index(result: ScanResult) -> bool:
    """Fetched from the index in this run (local files and folders have a path as source)."""
    return "://" in result.source


@dataclass(frozen=True, slots=True)
class Allow:
    package: str | None
    """None only with `sha256`: the exact file, whatever it is called."""
    reason: str
    version: str | None = None
    sha256: str | None = None
    index: str | None = None

    def why(self, result: ScanResult, run_index: str) -> str | None:
        """The suppression reason when this entry accepts `result`, else None."""
        if self.package is not None and agreed_name(result) != self.package:
            return None
        from pkgvet.sources.local import name_version_from_filename

        keys: list[str] = []
        if self.version is not None:
            _, file_version = name_version_from_filename(result.file)
            if not (_same_version(result.version, self.version)
                    and _same_version(file_version, self.version)):
                return None
            keys.append(f"version {self.version}")
        if self.sha256 is not None:
            if result.sha256.lower() != self.sha256.lower():
                return None
            keys.append(f"sha256 {self.sha256[:12]}")
        if self.index is not None:
            if not from_index(result) or _index_key(run_index) != _index_key(self.index):
                return None
            keys.append(f"from {self.index}")
        if not keys:
            if not from_index(result) or not run_index:
                return None
            keys.append(f"by name, for files from {run_index}")
        return f"allowed ({', '.join(keys)}): {self.reason}"


@dataclass(frozen=True, slots=True)
class Suppression:
    rule: str | None
    package: str | None
    reason: str
    version: str | None = None
    sha256: str | None = None

    def applies_to(self, result: ScanResult) -> bool:
        """Suppressions follow the name the file and its metadata agree on; `block` entries
        (`blocks`) take either name, so a look-alike cannot slip past a block."""
        if self.package and agreed_name(result) != self.package:
            return False
        return self._same_release(result)

    def blocks(self, result: ScanResult) -> bool:
        from pkgvet.sources.local import name_version_from_filename

        if self.package:
            from_file, _ = name_version_from_filename(result.file)
            names = {canonicalize_name(n) for n in (result.name, from_file) if n}
            if self.package not in names:
                return False
        return self._same_release(result)

    def _same_release(self, result: ScanResult) -> bool:
        if self.version and not _same_version(result.version, self.version):
            return False
        return not (self.sha256 and result.sha256.lower() != self.sha256)

    def matches(self, result: ScanResult, finding: Finding) -> bool:
        if not self.applies_to(result):
            return False
        return self.rule is None or finding.rule_id == self.rule


@dataclass(frozen=True, slots=True)
class Config:
    suppressions: tuple[Suppression, ...] = ()
    source: str = ""
    allows: tuple[Allow, ...] = ()
    notes: tuple[str, ...] = field(default=())
    """What the user should know about where the configuration came from."""
    blocks: tuple[Suppression, ...] = ()
    """`block` entries: the files they match are reported malicious (PV551)."""

    def apply(self, report: Report, index_url: str = "") -> Report:
        """Mark suppressed findings and decide again. `index_url`: the index files were
        fetched from in this run (name-only allow entries apply to those files only)."""
        if not self.suppressions and not self.allows and not self.blocks:
            return report
        return replace(report, results=tuple(self._apply(r, index_url) for r in report.results))

    def _apply(self, result: ScanResult, index_url: str) -> ScanResult:
        from pkgvet.model import Phase
        from pkgvet.registry import rule as declared

        allowed = next((w for a in self.allows if (w := a.why(result, index_url))), None)
        findings = [
            declared("PV551").finding(
                phase=Phase.METADATA,
                snippet=f"blocked: {b.reason} ({self.source})",
            )
            for b in self.blocks if b.blocks(result)
        ]
        for f in result.findings:
            reason = allowed if f.rule_id not in NEVER_ALLOWED else None
            if reason is None:
                rule = next((s for s in self.suppressions if s.matches(result, f)), None)
                reason = rule.reason if rule is not None else None
            if reason is not None and not f.suppressed:
                f = replace(f, suppressed=True, suppression_reason=f"{reason} ({self.source})")
            findings.append(f)
        return replace(result, findings=tuple(findings), verdict=decide(findings))


def _entries(table: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    entries = table.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise UsageError(f"{source}: [tool.pkgvet] {key} must be a list of tables")
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise UsageError(
                f"{source}: [tool.pkgvet] {key} entry {entry} has no reason; "
                "say why it is safe, e.g. reason = \"reviewed 2026-11, vendored\""
            )
    return entries


def load(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from exc
    table = data.get("tool", {}).get("pkgvet", {})
    if not table:
        return Config()
    source = str(path)
    allows = [_allow(e, source) for e in _entries(table, "allow", source)]
    suppressions = [
        Suppression(
            str(e["rule"]) if e.get("rule") else None,
            str(canonicalize_name(e["package"])) if e.get("package") else None,
            str(e["reason"]),
        )
        for e in _entries(table, "suppress", source)
    ]
    blocks = [_narrowed(None, e, str(e["reason"])) for e in _entries(table, "block", source)]
    return Config(tuple(suppressions), source, tuple(allows), blocks=tuple(blocks))


def _narrowed(rule: str | None, entry: dict[str, Any], reason: str) -> Suppression:
    package = entry.get("package")
    return Suppression(
        rule,
        str(canonicalize_name(str(package))) if package else None,
        reason,
        version=str(entry["version"]) if entry.get("version") else None,
        sha256=str(entry["sha256"]).lower() if entry.get("sha256") else None,
    )


def _allow(entry: dict[str, Any], source: str) -> Allow:
    unknown = set(entry) - {"package", "version", "sha256", "index", "reason", "decided_by",
                            "decided"}
    if not ("package" in entry or "sha256" in entry) or unknown:
        raise UsageError(
            f"{source}: [tool.pkgvet] allow entry {entry} needs `package` (or `sha256`) and may "
            "have `version`, `sha256` or `index` (and `reason`)"
        )

    def opt(key: str) -> str | None:
        value = entry.get(key)
        return None if value is None else str(value).strip()

    package = entry.get("package")
    return Allow(str(canonicalize_name(str(package))) if package else None, str(entry["reason"]),
                 opt("version"), opt("sha256"), opt("index"))


def discover(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml from `start` (the current folder) upward."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def resolve(
    explicit: Path | None, project_dir: Path | None = None, scanned: Sequence[Path] = ()
) -> Config:
    """The user's configuration: `explicit` (`--config`), else `PKGVET_CONFIG`, else the
    nearest pyproject.toml from `project_dir` (default: the current folder) upward, unless
    that file lies inside one of the `scanned` folders: then it belongs to the suspect and
    is ignored, with a note."""
    if explicit is not None:
        return load(explicit)
    from_env = os.environ.get(CONFIG_ENV, "").strip()
    if from_env:
        return load(Path(from_env))
    found = discover(project_dir)
    if found is None:
        return Config()
    folder = found.parent.resolve()
    for target in scanned:
        if target.is_dir() and _inside(folder, target.resolve()):
            return Config(notes=(
                f"ignoring {found}: it belongs to the folder being scanned ({target}), and a "
                "package must not configure its own verdict; pass --config or set "
                f"{CONFIG_ENV} to use a configuration",
            ))
    return load(found)
