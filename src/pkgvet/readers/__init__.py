"""Bounded readers for what a package carries: bytecode, pickles, native libraries, media.

Every reader here parses bytes it does not trust and runs none of them: no `marshal.loads`,
no `pickle.loads`, no `dlopen`, no image library. Each takes a `Budget` (bytes, depth,
steps, seconds) and raises `Evaded` when hostile input would exceed it, so a caller reports
"analysis evaded" instead of hanging or crashing.
"""

from pkgvet.readers.budget import Budget, Evaded

__all__ = ["Budget", "Evaded"]
