"""Metadata and packaging signals: typosquatting, mismatched names, wheel RECORD tampering,
and the dependency-confusion shape.

These are facts about the package file, not about code, so they are `medium` at most
alone — a reason to look, not proof. The verdict function combines them with what the code
does (a typosquat that also beacons at install is suspicious; a tampered RECORD is `high`).
"""

from __future__ import annotations

import base64
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pkgvet.model import ArtifactKind, Confidence, Finding, Phase, Severity
from pkgvet.options import ScanOptions
from pkgvet.package import Package
from pkgvet.registry import rule

NAME = "metadata"
TARGETS = 1000
"""Only names among the most downloaded this many count as typosquatting targets."""
AFFIXES = (
    "python-",
    "py-",
    "py",
    "-python",
    "-py",
    "python3-",
    "py3-",
    "-py3",
    "3",
    "-lib",
    "lib-",
)
HOMOGLYPHS = (("rn", "m"), ("vv", "w"), ("0", "o"), ("1", "l"), ("5", "s"), ("3", "e"), ("4", "a"))


@dataclass(frozen=True, slots=True)
class TopNames:
    ranked: tuple[str, ...]
    known: frozenset[str]
    targets: frozenset[str]
    deletions: dict[str, tuple[str, ...]]
    squashed: dict[str, str]


def _norm(name: str) -> str:
    return str(canonicalize_name(name))


def _deletes(name: str) -> set[str]:
    return {name[:i] + name[i + 1 :] for i in range(len(name))}


@lru_cache(maxsize=1)
def top_names() -> TopNames:
    """The shipped top-PyPI list, indexed once per process: a deletion neighbourhood gives
    every name within one edit in a few dictionary look-ups."""
    text = resources.files("pkgvet.rules").joinpath("data/top-pypi-5000.txt").read_text("utf-8")
    ranked = tuple(_norm(line) for line in text.split() if line.strip())
    deletions: dict[str, list[str]] = {}
    for name in ranked[:TARGETS]:
        for key in _deletes(name) | {name}:
            deletions.setdefault(key, []).append(name)
    return TopNames(
        ranked=ranked,
        known=frozenset(ranked),
        targets=frozenset(ranked[:TARGETS]),
        deletions={k: tuple(v) for k, v in deletions.items()},
        squashed={n.replace("-", ""): n for n in ranked[:TARGETS]},
    )


def _damerau1(a: str, b: str) -> bool:
    """True if a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _fold(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).lower()
    folded = "".join(unicodedata.normalize("NFKD", ch)[0] if ord(ch) > 127 else ch for ch in folded)
    confusable = {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "ο": "o",
        "ν": "v",
        "α": "a",
        "ѕ": "s",
        "ј": "j",
        "ԁ": "d",
        "ɡ": "g",
    }
    return "".join(confusable.get(ch, ch) for ch in folded)


def typosquat_target(raw_name: str) -> tuple[str, str] | None:
    """(target, how) if `raw_name` imitates a top-1000 project, else None."""
    top = top_names()
    folded = _fold(raw_name)
    name = _norm(folded)
    if _norm(raw_name) in top.known or not name:
        return None
    if folded != raw_name.lower() and name in top.known:
        return name, "look-alike characters"
    squashed = name.replace("-", "")
    target = top.squashed.get(squashed)
    if target and target != name:
        return target, "separators changed"
    for affix in AFFIXES:
        suffix = affix.startswith("-") or affix == "3"
        stripped = name.removesuffix(affix) if suffix else name.removeprefix(affix)
        if stripped != name and stripped in top.targets:
            return stripped, f"'{affix}' added to the name"
    for a, b in HOMOGLYPHS:
        swapped = name.replace(a, b)
        if swapped != name and swapped in top.targets:
            return swapped, f"'{a}' in place of '{b}'"
    candidates: set[str] = set()
    for key in _deletes(name) | {name}:
        candidates.update(top.deletions.get(key, ()))
    hits = sorted((c for c in candidates if _damerau1(name, c)), key=top.ranked.index)
    if hits and len(name) >= 4:
        return hits[0], "one character away"
    return None


def _finding(
    rule_id: str,
    snippet: str,
    *,
    title: str | None = None,
    severity: Severity | None = None,
    confidence: Confidence | None = None,
    explanation: str | None = None,
    path: str | None = None,
) -> Finding:
    return rule(rule_id).finding(
        phase=Phase.METADATA,
        path=path,
        snippet=snippet,
        title=title,
        severity=severity,
        confidence=confidence,
        explanation=explanation,
    )


def _typosquat(pkg: Package) -> Iterator[Finding]:
    name = pkg.name
    if not name:
        return
    hit = typosquat_target(name)
    if hit is None:
        return
    target, how = hit
    rank = top_names().ranked.index(target) + 1
    yield _finding(
        "PV501",
        f"{name} ~ {target}",
        confidence=Confidence.HIGH if rank <= 100 else Confidence.MEDIUM,
        explanation=f"'{name}' differs from '{target}' (#{rank} on PyPI) by {how}: a mistyped "
        "install gets this package instead.",
    )


def _mismatch(pkg: Package) -> Iterator[Finding]:
    meta = pkg.metadata
    art = pkg.artifact
    if meta is None or art.kind is ArtifactKind.FOLDER or not art.name:
        return
    declared_name, declared_version = meta.get("Name"), meta.get("Version")
    if declared_name and _norm(str(declared_name)) != _norm(art.name):
        yield _finding(
            "PV502",
            f"{declared_name} vs {art.name}",
            title="Package name in metadata does not match the file name",
        )
    if declared_version and art.version:
        try:
            same = Version(str(declared_version)) == Version(art.version)
        except InvalidVersion:
            same = str(declared_version).strip() == art.version
        if not same:
            yield _finding(
                "PV502",
                f"{declared_version} vs {art.version}",
                title="Version in metadata does not match the file name",
                explanation="The version inside the package differs from the one the file "
                "name states.",
            )


def _urlsafe(hex_digest: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).rstrip(b"=").decode()


RECORD_EXEMPT = re.compile(r"\.dist-info/(RECORD|RECORD\.jws|RECORD\.p7s)$")
UNLISTED_MATTERS = re.compile(
    r"\.(py|pyw|pth|so|pyd|dll|dylib|pyc)$|\.data/(scripts|data|purelib|platlib)/|"
    r"\.dist-info/entry_points\.txt$"
)
"""Members whose absence from RECORD matters: code, commands, and what decides what runs."""
STRONG_ALGORITHMS = frozenset({"sha256", "sha384", "sha512", "sha3_256", "sha3_384",
                               "sha3_512", "blake2b", "blake2s"})


def _record(pkg: Package) -> Iterator[Finding]:
    if pkg.artifact.kind is not ArtifactKind.WHEEL:
        return
    records = [
        f
        for f in pkg.files
        if f.relpath.count("/") == 1 and f.relpath.endswith(".dist-info/RECORD")
    ]
    if not records:
        yield _finding("PV507", "")
        return
    text = records[0].text() or ""
    listed: dict[str, str] = {}
    for row in csv.reader(io.StringIO(text)):
        if row and row[0]:
            listed[row[0]] = row[1] if len(row) > 1 else ""
    actual = {f.relpath: f for f in pkg.files if "!/" not in f.path}
    weak: list[str] = []
    for path, digest in listed.items():
        member = actual.get(path)
        if member is None:
            continue
        algo, _, value = digest.partition("=")
        if algo == "sha256" and value and value != _urlsafe(member.sha256):
            yield _finding("PV504", path, path=member.path)
        elif (algo not in STRONG_ALGORITHMS or not value) and not RECORD_EXEMPT.search(path) \
                and UNLISTED_MATTERS.search(path):
            weak.append(path)
    if weak:
        yield _finding(
            "PV520",
            ", ".join(weak[:5]) + (f" and {len(weak) - 5} more" if len(weak) > 5 else ""),
            path=actual[weak[0]].path,
        )
    for path, member in actual.items():
        if path in listed or RECORD_EXEMPT.search(path) or not UNLISTED_MATTERS.search(path):
            continue
        yield _finding("PV505", path, path=member.path)


def _confusion(pkg: Package) -> Iterator[Finding]:
    version = pkg.version
    try:
        major = Version(version).major if version else 0
    except InvalidVersion:
        return
    if major < 99:
        return
    setup = pkg.get("setup.py")
    hook = setup is not None and re.search(
        r"cmdclass|subprocess|os\.system|urlopen|requests\.|socket", setup.text() or ""
    )
    yield _finding(
        "PV508",
        f"{pkg.name} {version}",
        severity=Severity.MEDIUM if hook else Severity.LOW,
        confidence=Confidence.MEDIUM if hook else Confidence.LOW,
        explanation="A version like 999.x outranks any internal package of the same name, so "
        "pip picks it from the public index" + (", and setup.py runs code at install." if hook
                                                else "."),
    )


@dataclass(frozen=True, slots=True)
class MetadataAnalyzer:
    name: str = NAME

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        yield from _typosquat(pkg)
        yield from _mismatch(pkg)
        yield from _record(pkg)
        yield from _confusion(pkg)


def create(options: ScanOptions) -> MetadataAnalyzer:
    return MetadataAnalyzer()
