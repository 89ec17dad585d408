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
    sandbox: bool = False
    disabled: frozenset[str] = field(default_factory=frozenset)
    """Analyzer names to skip (`--skip`)."""
