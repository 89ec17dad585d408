"""Analyzers that misbehave on purpose, loaded through `PKGVET_TEST_ANALYZERS` /
`ScanOptions.extra_analyzers` (`/path/to/analyzer_hooks.py:factory`) into the real scan
workers: a worker is a fresh process, so a monkeypatch in the test would not reach it.

Each one acts only on packages whose name starts with its trigger, so a batch can hold
files it leaves alone. `PKGVET_TEST_MARKER` names a file the sleeper touches when it starts
sleeping (so a test knows the worker is stuck before it signals pkgvet).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from pkgvet.model import Finding
from pkgvet.options import ScanOptions
from pkgvet.package import Package

HERE = Path(__file__).resolve()


def spec(factory: str) -> str:
    return f"{HERE}:{factory}"


class Sleeper:
    name = "test-sleeper"

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        if (pkg.name or "").startswith("hang"):
            marker = os.environ.get("PKGVET_TEST_MARKER")
            if marker:
                # Written aside and renamed, so a test never reads the file half written.
                part = Path(f"{marker}.{os.getpid()}")
                part.write_text(str(os.getpid()))
                os.replace(part, marker)
            time.sleep(3600)
        yield from ()


class Crasher:
    name = "test-crasher"

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        if (pkg.name or "").startswith("crash"):
            raise RuntimeError("analyzer bug on purpose")
        yield from ()


class Segfaulter:
    """Dies the way a C extension does on a stack overflow: by SIGSEGV."""

    name = "test-segfaulter"

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        if (pkg.name or "").startswith("segv"):
            os.kill(os.getpid(), signal.SIGSEGV)
        yield from ()


def segfaulter(options: ScanOptions) -> Segfaulter:
    return Segfaulter()


def sleeper(options: ScanOptions) -> Sleeper:
    return Sleeper()


def crasher(options: ScanOptions) -> Crasher:
    return Crasher()
