"""The garbage collector's settings around a scan.

A scan builds millions of small objects that live as long as the scan (syntax trees, facts,
the package's memo) and drops them all at its end. CPython's default collector settings
(a young collection every 700 allocations, each one also walking what survived the last
ones) spend a third of a large package's scan walking trees that are still in use, and leave
the dead package's cycles for a full collection that comes only much later, while the next
package pays for walking them. So a scan runs with a larger young generation, a worker
collects once after each file (after its result is sent), and what a worker built before its
first file (the analyzers, the compiled rules) is frozen out of every collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

SCAN_THRESHOLD = 50_000
"""Allocations between young collections during a scan (CPython's default is 700)."""


@contextmanager
def scan_heap() -> Iterator[None]:
    """Run a scan with a larger young generation; the previous settings come back after."""
    saved = gc.get_threshold()
    gc.set_threshold(max(SCAN_THRESHOLD, saved[0]), *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def release() -> None:
    """Free the last scan's cycles now, not during the next scan."""
    gc.collect()


def freeze() -> None:
    """Keep what exists now (modules, analyzers, compiled rules) out of later collections;
    in a process that forks workers it also keeps those pages shared."""
    gc.collect()
    gc.freeze()
