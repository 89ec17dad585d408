"""Analyzers: one module each, found by discovery so that adding one is adding a file.

A module in this package is an analyzer if it defines `create(options) -> Analyzer | None`.
`analyze(pkg)` sees the whole package (text files kept in memory); `scan_blob(path, data)`,
if defined, sees every member that is not kept (binaries, oversized text) in windows while
the archive is streamed.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from pkgvet.model import Finding
from pkgvet.options import ScanOptions
from pkgvet.package import Package


@runtime_checkable
class Analyzer(Protocol):
    name: str

    def analyze(self, pkg: Package) -> Iterable[Finding]: ...


@runtime_checkable
class BlobAnalyzer(Analyzer, Protocol):
    def scan_blob(self, path: str, data: bytes) -> Iterable[Finding]: ...


def module_names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def create_all(options: ScanOptions) -> list[Analyzer]:
    """Instantiate every enabled analyzer, in a stable order."""
    analyzers: list[Analyzer] = []
    for name in module_names():
        if name in options.disabled:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        create = getattr(module, "create", None)
        if create is None:
            continue
        analyzer = create(options)
        if analyzer is not None:
            analyzers.append(analyzer)
    analyzers.extend(_load_extra(spec, options) for spec in options.extra_analyzers)
    return analyzers


def _load_extra(spec: str, options: ScanOptions) -> Analyzer:
    """`/path/to/file.py:factory` -> factory(options): the test hook of `ScanOptions`."""
    import importlib.util

    path, _, factory = spec.rpartition(":")
    module_spec = importlib.util.spec_from_file_location(f"pkgvet_test_analyzer_{abs(hash(path))}",
                                                         path)
    if module_spec is None or module_spec.loader is None or not factory:
        raise ValueError(f"test analyzer {spec!r}: expected /path/to/file.py:factory")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    analyzer: Analyzer = getattr(module, factory)(options)
    return analyzer
