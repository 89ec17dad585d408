"""The garbage collector's settings around a scan.

A scan builds millions of small objects that live as long as the scan (syntax trees, facts,
the package's memo) and drops them all at its end. CPython's default collector settings
(a young collection every 700 allocations, and full collections that walk every live object)
spend a third of a large package's scan walking trees that are still in use. So a scan runs
with a larger young generation and no full collection, the package drops its memo when the
scan ends (so its trees are freed by reference counting, not left for the collector), a
worker collects once after each file (after its result is sent), and what a worker built
before its first file (the analyzers, the compiled rules) is frozen out of every collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

SCAN_THRESHOLDS = (50_000, 20, 1_000_000)
"""During a scan: allocations between young collections (CPython's default is 700), young
collections per middle one, and middle ones per full collection, which walks every object
alive: several seconds each on a large package, and nothing of the scan's own trees is
garbage before the scan ends (the package is released, and its memory freed, after it)."""


@contextmanager
def scan_heap() -> Iterator[None]:
    """Run a scan with a larger young generation and no full collection in its middle; the
    previous settings come back after."""
    saved = gc.get_threshold()
    gc.set_threshold(*(max(mine, theirs) for mine, theirs in zip(SCAN_THRESHOLDS, saved,
                                                                strict=True)))
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
