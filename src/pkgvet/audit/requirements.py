"""requirements.txt as pip reads it, without pip: the subset that names index packages.

pip's own parser is not a public API, and pip-requirements-parser style libraries bring more
than needed, so this reads the file format directly: comments, `\\` continuations, `-r`/
`--requirement` includes relative to the including file, `-c` constraints (ignored: they
install nothing), `--index-url`, per-line `--hash=sha256:` options, environment markers
(evaluated for this interpreter with packaging). Editable, URL and VCS lines cannot be
vetted from an index and are reported as such, never fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pkgvet.errors import UsageError
from pkgvet.model import Publisher

_HASH = re.compile(r"--hash[=\s]+sha256:([0-9a-fA-F]{64})")
_OPTION = re.compile(r"\s--hash[=\s]+\S+")


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    specifier: str
    hashes: frozenset[str]
    source: str
    """Where the line came from: `file:line`."""
    identities: tuple[Publisher, ...] = ()
    """PEP 751 `attestation-identities`: the publishers a lock file expects to have signed."""


@dataclass(frozen=True, slots=True)
class Unvettable:
    line: str
    source: str
    reason: str


@dataclass(slots=True)
class Parsed:
    entries: list[Entry]
    unvettable: list[Unvettable]
    index_url: str | None = None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            lines.append((start, buffer.strip()))
        buffer = ""
    if buffer.strip():
        lines.append((start, buffer.strip()))
    return lines


def parse(path: Path, _seen: frozenset[Path] = frozenset()) -> Parsed:
    path = path.resolve()
    if path in _seen:
        raise UsageError(f"{path} includes itself through -r; remove the loop")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    result = Parsed([], [])
    for number, line in _logical_lines(text):
        where = f"{path.name}:{number}"
        words = line.split()
        head = words[0]
        if head in ("-r", "--requirement") or head.startswith("--requirement="):
            target = words[1] if len(words) > 1 else head.split("=", 1)[1]
            inner = parse(path.parent / target, _seen | {path})
            result.entries += inner.entries
            result.unvettable += inner.unvettable
            result.index_url = result.index_url or inner.index_url
            continue
        if head in ("-c", "--constraint") or head.startswith("--constraint="):
            continue
        if head in ("-i", "--index-url") or head.startswith("--index-url="):
            result.index_url = words[1] if len(words) > 1 else head.split("=", 1)[1]
            continue
        if head in ("-e", "--editable"):
            result.unvettable.append(Unvettable(line, where, "editable install: no index file"))
            continue
        if head.startswith("-"):
            continue  # other pip options (--pre, --find-links, --no-binary...) name nothing
        hashes = frozenset(_HASH.findall(line))
        requirement_text = _OPTION.sub("", line).strip()
        try:
            req = Requirement(requirement_text)
        except InvalidRequirement:
            reason = "a URL or path, not an index requirement"
            result.unvettable.append(Unvettable(line, where, reason))
            continue
        if req.url:
            result.unvettable.append(Unvettable(line, where, "direct URL requirement"))
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        result.entries.append(Entry(req.name, str(req.specifier), hashes, where))
    return result
