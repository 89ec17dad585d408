"""The rule-set version, derived from what decides findings and verdicts, never typed.

Cached results are keyed by it (`pkgvet.cache`), so it must change whenever anything that
can change a result changes: rule data and YARA files (`rules/**`), the analyzers and the
readers they use, the loader and archive reader that emit findings, the watchdog, the
registry, the verdict function and the sandbox observer. So every source and data file of
the package is hashed except those that only fetch, present or carry results (`OUTSIDE`):
a new module that produces findings is covered without anyone remembering to list it, and
a change outside the rules costs at most a re-scan, never a stale verdict. It is
`<base>+<12 hex digits>`: the hash of those files' relative paths and bytes. Computed once
per process, in a few milliseconds.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

BASE = "2026.12"
"""Human part of the version; the hash after it is what tells rule sets apart."""

OUTSIDE = frozenset({
    "__init__.py", "ruleset.py", "cli.py", "config.py", "cache.py", "fetch.py", "diff.py",
    "errors.py", "options.py", "workers.py", "_preload.py", "audit", "report", "sources", "serve",
    "store",
    "worker", "ui", "sandbox/doctor.py", "sandbox/engine.py", "sandbox/image.py",
    "sandbox/wheelhouse.py",
})
"""Paths under the package folder that do not decide findings or verdicts: the command line,
fetching, caching, output formats, services, the sandbox's plumbing (not its observer)."""
SUFFIXES = frozenset({".py", ".yar", ".yara", ".toml", ".txt", ".json"})


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if (not path.is_file() or path.suffix not in SUFFIXES or "__pycache__" in rel.parts
                or rel.parts[0] in OUTSIDE or rel.as_posix() in OUTSIDE):
            continue
        found.append(path)
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
