"""Imported by the scan workers' forkserver before it forks any worker (`pkgvet.workers`):
the analyzers are imported and built, and the YARA rules compiled, once for all workers."""

from __future__ import annotations

import contextlib

from pkgvet import heap
from pkgvet.options import ScanOptions
from pkgvet.pipeline import warm

with contextlib.suppress(Exception):  # each worker builds them again and reports what fails
    warm(ScanOptions())
heap.freeze()
