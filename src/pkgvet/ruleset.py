"""The rule-set version, derived from what decides findings and verdicts, never typed.

Cached results are keyed by it (`pkgvet.cache`), so it must change whenever anything that
can change a result changes: rule data and YARA files (`rules/**`), the analyzers, the
loader and archive reader that emit findings, the watchdog, the registry and the verdict
function, and the sandbox observer. It is `<base>+<12 hex digits>`: the hash of those
files' relative paths and bytes. Computed once per process, in a few milliseconds.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

BASE = "2026.12"
"""Human part of the version; the hash after it is what tells rule sets apart."""

HASHED = (
    "rules",
    "analyzer",
    "archive.py",
    "package.py",
    "guard.py",
    "registry.py",
    "verdict.py",
    "sandbox/observe.py",
)
"""Paths under the package folder whose content decides findings and verdicts."""
SUFFIXES = frozenset({".py", ".yar", ".yara", ".toml", ".txt", ".json"})


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for entry in HASHED:
        path = root / entry
        if path.is_file():
            found.append(path)
        elif path.is_dir():
            found.extend(p for p in path.rglob("*")
                         if p.is_file() and p.suffix in SUFFIXES and "__pycache__" not in p.parts)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def compute(root: Path) -> str:
    """The version of the rule set in the package folder `root`."""
    digest = hashlib.sha256()
    for path in _files(root):
        data = path.read_bytes()
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(len(data).to_bytes(8, "big") + data)
    return f"{BASE}+{digest.hexdigest()[:12]}"


@cache
def version() -> str:
    return compute(Path(__file__).resolve().parent)
