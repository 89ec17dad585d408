"""Options that change what a scan does, shared by the CLI, the pipeline and the analyzers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pkgvet.archive import DEFAULT_LIMITS, Limits


@dataclass(frozen=True, slots=True)
class ScanOptions:
    extra_rules: tuple[Path, ...] = ()
    """Folders or files of the user's own YARA rules (`--rules`)."""
    limits: Limits = DEFAULT_LIMITS
    disabled: frozenset[str] = field(default_factory=frozenset)
    """Analyzer names to skip (`--skip`)."""
    isolate: bool = True
    """Scan each file in a forked, watched child (`pkgvet.guard`); off only for debugging."""
    analyzer_seconds: float = 20.0
    """Base time budget of each analyzer on one package; past it: PV902, result partial."""
    analyzer_seconds_per_mib: float = 0.5
    """Added to the budget per MiB of package content (big real packages need longer)."""
    load_seconds: float = 120.0
    """Time budget for reading the archive (bounded by `limits`; this catches library hangs)."""
    memory_limit: int = 8 * 1024**3
    """Address-space limit of the scanning child in bytes (0: none)."""
    extra_analyzers: tuple[str, ...] = ()
    """Analyzers added for testing pkgvet itself, as `/path/to/file.py:factory` (the factory
    takes the options and returns an analyzer). Set only by the person running pkgvet
    (`PKGVET_TEST_ANALYZERS`, see `from_environment`), never by anything scanned."""


TEST_ANALYZERS_ENV = "PKGVET_TEST_ANALYZERS"


def from_environment(**fields: object) -> ScanOptions:
    """Options for a CLI command: `fields`, plus the test analyzers named in
    `PKGVET_TEST_ANALYZERS` (separated by `;`), used by pkgvet's own tests to make a scan
    hang or crash on purpose."""
    import os

    extra = tuple(e for e in os.environ.get(TEST_ANALYZERS_ENV, "").split(";") if e.strip())
    return ScanOptions(extra_analyzers=extra, **fields)  # type: ignore[arg-type]
