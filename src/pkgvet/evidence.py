"""Evidence views: the code around a finding, and payloads decoded from its literals.

Both the HTML report and the triage console show a finding with a few lines of its code,
read from the package archive through pkgvet's own safe reader (`pkgvet.package.load`: in
memory, size-capped, nothing extracted, nothing run). Encoded literals on the finding's line
are decoded statically (base64, hex, zlib layers: decoding data runs none of it) and shown
beside the literal. Everything returned here is plain text; escaping is the templates' job.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any

from pkgvet.errors import PkgvetError
from pkgvet.model import ArtifactKind
from pkgvet.package import Artifact, Package, load
from pkgvet.sources.local import sha256_file

RADIUS = 3
LINE_CAP = 400
DECODED_CAP = 2000
MAX_CONTEXTS = 200
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
"""Larger archives are not opened for evidence views (their findings show the snippet)."""
_LITERAL = re.compile(r"""(?P<q>['"])(?P<body>[A-Za-z0-9+/=_\-\\x\s]{12,})(?P=q)""")


@dataclass(frozen=True, slots=True)
class CodeLine:
    number: int
    text: str
    hit: bool


@dataclass(frozen=True, slots=True)
class Decoded:
    literal: str
    text: str


@dataclass(frozen=True, slots=True)
class CodeContext:
    path: str
    lines: tuple[CodeLine, ...]
    decoded: tuple[Decoded, ...] = ()


def cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more]"


def archive_path(
    sha256: str, filename: str, source: str = "", extra_dirs: Iterable[Path] = ()
) -> Path | None:
    """The archive with this sha256: pkgvet's download cache (or another folder laid out like
    it, `<dir>/<sha[:2]>/<sha>/<file>`), else the scanned local path. Only a file whose hash
    matches is returned."""
    from pkgvet.fetch import cache_dir

    if not re.fullmatch(r"[0-9a-f]{64}", sha256 or ""):
        return None
    candidates = []
    for root in (cache_dir() / "files", *extra_dirs):
        folder = Path(root) / sha256[:2] / sha256
        if filename and "/" not in filename and "\\" not in filename:
            candidates.append(folder / filename)
        if folder.is_dir():
            candidates.extend(sorted(folder.iterdir())[:4])
    if source and "://" not in source:
        candidates.append(Path(source))
    for path in candidates:
        try:
            if (path.is_file() and path.stat().st_size <= MAX_ARCHIVE_BYTES
                    and sha256_file(path) == sha256):
                return path
        except OSError:
            continue
    return None


class _Packages:
    """A few recently opened packages, so a page with many findings opens its archive once."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[str, Package | None] = OrderedDict()
        self._lock = Lock()

    def cached(self, sha256: str) -> tuple[bool, Package | None]:
        with self._lock:
            if sha256 in self._items:
                self._items.move_to_end(sha256)
                return True, self._items[sha256]
        return False, None

    def get(self, sha256: str, path: Path) -> Package | None:
        hit, known = self.cached(sha256)
        if hit:
            return known
        kind = ArtifactKind.WHEEL if path.name.lower().endswith(".whl") else ArtifactKind.SDIST
        try:
            pkg: Package | None = load(Artifact(path=path, kind=kind, sha256=sha256))
        except (PkgvetError, OSError, ValueError):
            pkg = None
        with self._lock:
            self._items[sha256] = pkg
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return pkg


_PACKAGES = _Packages()


def decode_literals(line: str) -> tuple[Decoded, ...]:
    from pkgvet.analysis.parse import decodings

    out: list[Decoded] = []
    for m in _LITERAL.finditer(line):
        body = m.group("body")
        for text in list(decodings(body))[1:]:
            if text.strip() and text != body:
                out.append(Decoded(cap(body, 120), cap(text, DECODED_CAP)))
                break
        if len(out) >= 3:
            break
    return tuple(out)


def package_for(
    sha256: str, filename: str, source: str = "", extra_dirs: Iterable[Path] = ()
) -> Package | None:
    """The package read (safely, in memory) from its archive, when the archive is here."""
    hit, pkg = _PACKAGES.cached(sha256)
    if hit and pkg is not None:
        return pkg
    path = archive_path(sha256, filename, source, extra_dirs)
    return None if path is None else _PACKAGES.get(sha256, path)


def contexts(
    result: Mapping[str, Any],
    findings: Iterable[Mapping[str, Any]],
    radius: int = RADIUS,
    extra_dirs: Iterable[Path] = (),
) -> dict[tuple[str, int], CodeContext]:
    """Code around each finding with a path and line, keyed by (path, line)."""
    wanted = [(f.get("path"), f.get("line")) for f in findings]
    wanted_set = {(p, n) for p, n in wanted if isinstance(p, str) and isinstance(n, int)}
    if not wanted_set:
        return {}
    pkg = package_for(str(result.get("sha256") or ""), str(result.get("file") or ""),
                      str(result.get("source") or ""), extra_dirs)
    if pkg is None:
        return {}
    by_path = {f.path: f for f in pkg.files}
    out: dict[tuple[str, int], CodeContext] = {}
    for member, number in sorted(wanted_set)[:MAX_CONTEXTS]:
        file = by_path.get(member)
        text = file.text() if file is not None else None
        if text is None:
            continue
        lines = text.splitlines()
        if not 1 <= number <= len(lines):
            continue
        first, last = max(1, number - radius), min(len(lines), number + radius)
        shown = tuple(CodeLine(n, cap(lines[n - 1], LINE_CAP), n == number)
                      for n in range(first, last + 1))
        out[(member, number)] = CodeContext(member, shown, decode_literals(lines[number - 1]))
    return out
