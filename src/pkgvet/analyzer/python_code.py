"""Python source analysis: install-time and import-time behaviour, graded by combination.

The analysis itself lives in `pkgvet.analysis` (facts -> names -> reachability -> flows ->
grading); this module is its analyzer entry, found by discovery like every other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pkgvet.analysis.scan import analyze_package
from pkgvet.model import Finding
from pkgvet.options import ScanOptions
from pkgvet.package import Package

NAME = "python-code"


@dataclass(frozen=True, slots=True)
class PythonCodeAnalyzer:
    name: str = NAME

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        yield from analyze_package(pkg)


def create(options: ScanOptions) -> PythonCodeAnalyzer:
    return PythonCodeAnalyzer()
