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
