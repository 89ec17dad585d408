"""Source in a codec the package brings: bytes that become different code when imported.

PEP 263 lets the first two lines of a module name the codec that decodes it
(`# -*- coding: name -*-`). Python looks the name up through every search function that
`codecs.register` added, so a package that registers its own codec (from a `.pth` line at
start-up, or from its `__init__`) can ship modules whose bytes read as harmless or as
gibberish and that its decoder turns into other source at import. Nobody reading the file
sees what runs, and no scanner parses it. Codec back-ports register codecs for their users'
files and keep their own in UTF-8; a package whose own files need a codec it registers
itself is hiding them.
"""

from __future__ import annotations

import encodings
import encodings.aliases
import pkgutil
import re
from collections.abc import Mapping
from functools import lru_cache

from pkgvet.analysis.reachability import context_of
from pkgvet.model import Confidence, Finding, Phase, Severity
from pkgvet.package import Package
from pkgvet.registry import rule

COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.M)
REGISTERS = re.compile(r"\bregister\s*\(|\bCodecInfo\s*\(")
"""In a file that imports codecs: `codecs.register(f)`, `c.register(f)` after `import codecs
as c`, `register(f)` after `from codecs import register`, or a codec built by hand."""


def _normal(name: str) -> str:
    return encodings.normalize_encoding(name.lower()).replace("-", "_")


@lru_cache(maxsize=1)
def known_codecs() -> frozenset[str]:
    """Codec names the standard library resolves, read from the `encodings` package's file
    listing and alias table (nothing is looked up, so no search function runs)."""
    names = {_normal(m.name) for m in pkgutil.iter_modules(encodings.__path__)}
    names |= {_normal(k) for k in encodings.aliases.aliases}
    names |= {_normal(v) for v in encodings.aliases.aliases.values()}
    return frozenset(names | {"utf_8_sig", "utf8", "latin_1", "ascii", "iso_8859_1"})


def cookie(data: bytes) -> str | None:
    """The codec a source file names in its first two lines, if any."""
    head = b"\n".join(data[:400].splitlines()[:2])
    m = COOKIE.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


def analyze(pkg: Package, phases: Mapping[str, Phase]) -> list[Finding]:
    """PV112 for each Python file in a codec the standard library does not have."""
    odd: list[tuple[str, str]] = []
    for f in pkg.python_files:
        if f.data is None:
            continue
        name = cookie(f.data)
        if name and _normal(name) not in known_codecs():
            odd.append((f.relpath, name))
    if not odd:
        return []
    registers = any(REGISTERS.search(f.text() or "") for f in pkg.python_files
                    if f.data is not None and b"codecs" in f.data
                    and (b"register" in f.data or b"CodecInfo" in f.data))
    out = []
    for rel, name in odd:
        found = pkg.get(rel)
        if found is None:
            continue
        phase = phases.get(rel, Phase.RUNTIME)
        auto = phase in (Phase.INSTALL, Phase.IMPORT)
        if registers:
            severity = Severity.CRITICAL if auto else Severity.HIGH
            confidence = Confidence.HIGH
            why = (f"decoded by codec {name!r}, which this package registers itself: what runs "
                   "is what its decoder returns, not what the file shows")
        else:
            severity, confidence = Severity.LOW, Confidence.LOW
            why = f"decoded by codec {name!r}, which another package must register"
        out.append(rule("PV112").finding(phase=phase, path=found.path, line=1,
                                         snippet=f"coding: {name}", severity=severity,
                                         confidence=confidence, explanation=why,
                                         context=context_of(pkg, found)))
    return out
