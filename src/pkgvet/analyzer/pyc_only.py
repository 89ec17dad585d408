"""Compiled Python without its source: code that no reviewer and no source analyzer can read.

Wheels and sdists ship `.py` files; `pip` compiles them on install. A package whose
importable modules exist only as `.pyc` ships code nobody can review, a known way to hide a
payload (and to pin it to one interpreter version). A `.pyc` next to its own `.py` is
packaging noise (a stray `__pycache__`), worth a note only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from pkgvet.model import Context, Finding, Phase, Severity
from pkgvet.options import ScanOptions
from pkgvet.package import Package, PackageFile
from pkgvet.registry import rule

NAME = "pyc-only"
BYTECODE = (".pyc", ".pyo")


def source_of(relpath: str) -> str:
    """The `.py` a bytecode file was compiled from: `a/__pycache__/m.cpython-311.pyc` and
    `a/m.pyc` both come from `a/m.py`."""
    path = PurePosixPath(relpath)
    stem = path.stem
    parent = path.parent
    if parent.name == "__pycache__":
        stem = stem.split(".", 1)[0]
        parent = parent.parent
    return str(parent / f"{stem}.py") if str(parent) != "." else f"{stem}.py"


@dataclass(frozen=True, slots=True)
class PycOnlyAnalyzer:
    name: str = NAME

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        sources = {f.relpath for f in pkg.files if f.suffix in (".py", ".pyw")}
        orphans: list[PackageFile] = []
        strays: list[PackageFile] = []
        for f in pkg.files:
            if f.suffix not in BYTECODE:
                continue
            (strays if source_of(f.relpath) in sources else orphans).append(f)
        shipped = [f for f in orphans if f.context in (Context.PACKAGE, Context.BUILD)]
        if orphans:
            worst = shipped or orphans
            no_source_at_all = not sources
            yield rule("PV908").finding(
                severity=Severity.HIGH if no_source_at_all else Severity.MEDIUM,
                phase=Phase.IMPORT,
                path=worst[0].path,
                snippet=f"{len(orphans)} .pyc without .py",
                explanation=(
                    f"{len(orphans)} bytecode file(s) have no matching source"
                    + (" and the package ships no Python source at all" if no_source_at_all else "")
                    + ": that code runs on import but cannot be reviewed or analysed. "
                    "Ordinary packages ship .py files and let the installer compile them."
                ),
                context=worst[0].context,
            )
        if strays:
            yield rule("PV909").finding(
                phase=Phase.ARCHIVE,
                path=strays[0].path,
                snippet=f"{len(strays)} stray .pyc",
                context=strays[0].context,
            )


def create(options: ScanOptions) -> PycOnlyAnalyzer:
    return PycOnlyAnalyzer()
