"""The sdist and the wheel of one release, compared: a wheel must be built from its source.

pip installs the wheel when there is one; people read the sdist (or the repository it
mirrors). A wheel that ships a top-level module the sdist lacks (PV530), a Python file whose
code differs from the sdist's copy beyond version strings (PV531), an entry point the sdist
never declares (PV532), or other dependencies (PV533) was not built from that source. Build
tools generate some files (`_version.py`, `-nspkg.pth`, compiled extensions); those are left
out by shape, not by package name.

Runs after the scan, over results of the same name and version in one run, and attaches its
findings to the wheel's result. The texts it reads from one side whatever the other holds
(declarations, the sdist's root build files: `kept`) are taken by the scan while it holds them
(`carry`, on `ScanResult.carried`), for the files of a batch that may meet their counterpart
(`worth_carrying`); the archive is opened again, through the same safe reader,
only for the Python files whose hashes differ (normally none) and for texts a result does not
carry (one from the cache or a remote worker).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pkgvet import declared
from pkgvet.archive import ArchiveReader, MemberType
from pkgvet.declared import Declared
from pkgvet.errors import PkgvetError
from pkgvet.model import ArtifactKind, Confidence, Finding, Phase, ScanResult, Severity
from pkgvet.package import Artifact, Package, decode_source
from pkgvet.registry import rule
from pkgvet.verdict import decide

MAX_TEXT = 1024 * 1024
MAX_COMPARED = 40
"""Python files whose texts are read and compared per release pair."""
MAX_DIFF_LINES = 2000
SOURCE_SUFFIXES = (".py", ".pyx", ".pxd", ".pyi", ".c", ".cc", ".cpp", ".rs", ".f90", ".pth")
GENERATED = re.compile(
    r"(^|/)(_?version|_version_info|__version__|_build_info|_buildinfo|version_info|"
    r"_git_version|__about__|_commit|_build|_release|_cli_version|_generated_version)\.py$"
    r"|_pb2(_grpc)?\.py$|-nspkg\.pth$|(^|/)__editable__"
)
VERSIONISH = re.compile(
    r"version|revision|commit|git_|build|date|timestamp|__date__|sha\b|hash|release|tag",
    re.IGNORECASE,
)
RISKY = re.compile(
    r"\b(exec|eval|compile|__import__|subprocess|os\.system|popen|socket|urlopen|requests\.|"
    r"http\.client|b64decode|marshal|pickle|ctypes)\b"
)


@dataclass(frozen=True, slots=True)
class Side:
    artifact: Artifact
    result: ScanResult
    files: dict[str, str]
    """relpath (sdist root stripped) -> sha256."""
    root: str
    twice: frozenset[str] = frozenset()
    """Relpaths two members share (`_layout`)."""


def _strip_root(paths: list[str], kind: ArtifactKind) -> str:
    if kind is not ArtifactKind.SDIST or not paths:
        return ""
    tops = {p.split("/", 1)[0] for p in paths}
    return tops.pop() + "/" if len(tops) == 1 and any("/" in p for p in paths) else ""


def _rel(path: str, root: str) -> str:
    """A member's relpath as `_read_texts` matches it."""
    return path[len(root):] if path.startswith(root) else path


def _layout(paths: Iterable[str], kind: ArtifactKind) -> tuple[str, frozenset[str]]:
    """The root folder an sdist's members share, and the relpaths two members share, of an
    archive's own members (`paths`, nested archives' members left out)."""
    top = [p for p in paths if "!/" not in p]
    root = _strip_root(top, kind)
    counts = Counter(_rel(p, root) for p in top)
    return root, frozenset(rel for rel, n in counts.items() if n > 1)


def _side(artifact: Artifact, result: ScanResult) -> Side:
    root, twice = _layout((f.path for f in result.files), result.kind)
    files = {f.path[len(root):]: f.sha256 for f in result.files
             if "!/" not in f.path and f.path.startswith(root)}
    return Side(artifact, result, files, root, twice)


def kept(relpath: str, kind: ArtifactKind) -> bool:
    """Files whose texts the cross-check reads from one side whatever the other side holds:
    the declarations (both sides) and the root files an sdist's build reads or runs."""
    return declared.wanted(relpath) or (kind is ArtifactKind.SDIST and _build_file(relpath))


def _project(artifact: Artifact) -> str | None:
    """The project an sdist or wheel belongs to, from the index or the file name; None when
    neither says."""
    if artifact.name:
        return str(canonicalize_name(artifact.name))
    try:
        if artifact.kind is ArtifactKind.WHEEL:
            return str(parse_wheel_filename(artifact.path.name)[0])
        if artifact.kind is ArtifactKind.SDIST:
            return str(parse_sdist_filename(artifact.path.name)[0])
    except (InvalidSdistFilename, InvalidWheelFilename):
        return None
    return None


def worth_carrying(artifacts: Sequence[Artifact]) -> frozenset[tuple[str, str]]:
    """(file name, sha256) of the artifacts whose scan should `carry` texts: sdists and wheels
    that may meet a file of the other kind of the same project in `apply`. A batch of one
    file, or of wheels only, carries nothing: the texts would cross the worker pipe for no
    one. Decided before the scan, from the index's names or the file names, so an artifact
    whose project is unknown is carried whenever the batch holds the other kind. Only speed
    depends on it: `apply` reads from the archive whatever a result does not carry."""
    kinds: dict[str | None, set[ArtifactKind]] = {}
    for a in artifacts:
        if a.kind in (ArtifactKind.SDIST, ArtifactKind.WHEEL):
            kinds.setdefault(_project(a), set()).add(a.kind)
    unknown = kinds.get(None, set())
    every = set().union(*kinds.values()) if kinds else set()
    out: set[tuple[str, str]] = set()
    for a in artifacts:
        if a.kind not in (ArtifactKind.SDIST, ArtifactKind.WHEEL):
            continue
        project = _project(a)
        other = every if project is None else kinds.get(project, set()) | unknown
        if other - {a.kind}:
            out.add((a.path.name, a.sha256))
    return frozenset(out)


def carry(pkg: Package) -> tuple[tuple[str, str], ...]:
    """(relpath, text) of `pkg`'s `kept` files, taken by the scan while it holds them and
    keyed as `_side` keys them. Left for `_read_texts`: files the scan did not keep in
    memory (binary-looking, over the text budget, cut short), texts over MAX_TEXT, and
    relpaths two members share."""
    kind = pkg.artifact.kind
    if kind not in (ArtifactKind.SDIST, ArtifactKind.WHEEL):
        return ()
    root, twice = _layout((f.path for f in pkg.files), kind)
    out: list[tuple[str, str]] = []
    for f in pkg.files:
        if "!/" in f.path or not f.path.startswith(root) or f.size > MAX_TEXT:
            continue
        rel = f.path[len(root):]
        if rel in twice or not kept(rel, kind):
            continue
        text = f.text()
        if text is not None:
            out.append((rel, text))
    return tuple(out)


def _read_texts(side: Side, wanted: set[str]) -> dict[str, str]:
    """Texts of `wanted` relpaths, through the safe reader; {} if the archive fails."""
    texts: dict[str, str] = {}
    root = side.root
    try:
        with ArchiveReader(side.artifact.path) as reader:
            for member, stream in reader.members():
                if stream is None or member.type is not MemberType.FILE:
                    continue
                rel = _rel(member.name, root)
                if rel not in wanted:
                    continue
                data = stream.read(MAX_TEXT + 1)
                if len(data) <= MAX_TEXT and not stream.failed:
                    texts[rel] = decode_source(data)
                if len(texts) == len(wanted):
                    break
    except PkgvetError:
        return texts
    return texts


def _texts(side: Side, wanted: set[str]) -> dict[str, str]:
    """Texts of `wanted` relpaths: those the scan carried, the rest from the archive. A
    relpath two members share is never carried; with one among the rest, the archive is
    read for all of `wanted`, as it always was: which copy `_read_texts` keeps depends on
    where it stops."""
    texts = {rel: text for rel, text in side.result.carried if rel in wanted}
    missing = wanted - texts.keys()
    if not missing:
        return texts
    if missing & side.twice:
        return _read_texts(side, wanted)
    return texts | _read_texts(side, missing)


def _declared(side: Side, texts: dict[str, str]) -> Declared:
    return declared.read(side.files, texts.get)


# -- top-level modules ---------------------------------------------------------------------

def _build_file(rel: str) -> bool:
    """Root files a build reads or runs: they may write files the sdist does not hold."""
    return "/" not in rel and rel.endswith((".py", ".toml", ".cfg", ".in"))


def _wheel_install_path(rel: str) -> str | None:
    """Where a wheel member lands relative to site-packages (None: metadata or not code)."""
    parts = rel.split("/")
    if parts[0].endswith(".dist-info"):
        return None
    if parts[0].endswith(".data"):
        if len(parts) > 2 and parts[1] in ("purelib", "platlib"):
            return "/".join(parts[2:])
        return None
    return rel


def _suffix_stem(name: str) -> tuple[str, str]:
    """`PurePosixPath(name)`'s suffix and stem, by string operations: asked for every file of
    every sdist, building path objects was the largest part of the cross-check."""
    dot = name.rfind(".")
    return (name[dot:], name[:dot]) if 0 < dot < len(name) - 1 else ("", name)


def _sdist_names(sdist: Side) -> set[str]:
    names: set[str] = set()
    for rel in sdist.files:
        *folders, name = rel.split("/")
        names.update(folders)
        suffix, stem = _suffix_stem(name)
        if suffix in SOURCE_SUFFIXES:
            names.add(name)
            names.add(stem)
    return names


def _new_top_levels(sdist: Side, wheel: Side) -> list[tuple[str, str]]:
    """(top-level name, an example member) for wheel code the sdist has no trace of."""
    names = _sdist_names(sdist)
    found: dict[str, str] = {}
    for rel in wheel.files:
        installed = _wheel_install_path(rel)
        if installed is None or GENERATED.search(installed):
            continue
        parts = installed.split("/")
        suffix, stem = _suffix_stem(parts[-1])
        if len(parts) == 1 and suffix == ".pth":
            top = parts[0]
        elif suffix == ".py":
            top = parts[0] if len(parts) > 1 else stem
        else:
            continue
        if top not in names and top not in found:
            found[top] = rel
    return sorted(found.items())


# -- same files, other code ----------------------------------------------------------------

def _counterparts(sdist: Side, wheel: Side) -> list[tuple[str, str]]:
    """(wheel relpath, sdist relpath) for Python files present in both with other bytes."""
    by_name: dict[str, list[str]] = {}
    for rel in sdist.files:
        if rel.endswith(".py"):
            by_name.setdefault(rel.rpartition("/")[2], []).append(rel)
    pairs: list[tuple[str, str]] = []
    for rel, digest in wheel.files.items():
        installed = _wheel_install_path(rel)
        if installed is None or not installed.endswith(".py") or GENERATED.search(installed):
            continue
        tail = "/" + installed  # the sdist's copy may sit deeper (src/, a project folder)
        candidates = [c for c in by_name.get(installed.rpartition("/")[2], ())
                      if c == installed or c.endswith(tail)]
        if not candidates or any(sdist.files[c] == digest for c in candidates):
            continue  # some copy in the sdist (one per Python version, say) is this file
        pairs.append((rel, min(candidates, key=len)))
    return pairs[:MAX_COMPARED]


def _meaningful_diff(old: str, new: str) -> tuple[list[str], list[str]]:
    """Lines added in the wheel and removed from the sdist, without version stamping."""
    added: list[str] = []
    removed: list[str] = []
    a = old.splitlines()[:MAX_DIFF_LINES]
    b = new.splitlines()[:MAX_DIFF_LINES]
    for line in difflib.unified_diff(a, b, lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        body = line[1:].strip()
        if not body or body.startswith("#") or VERSIONISH.search(body):
            continue
        (added if line.startswith("+") else removed).append(body)
    return added, removed


# -- entry points and dependencies -----------------------------------------------------------

def _sdist_entry_points(decl: Declared) -> set[tuple[str, str, str]] | None:
    """The sdist's declared entry points, or None when they cannot be known statically."""
    points = {(e.group, e.name, e.target.replace(" ", "")) for e in decl.entry_points}
    if points:
        return points
    if declared.SETUP_PY in decl.sources and decl.setup_py_partial:
        return None
    return points


def _install_names(deps: Iterable[declared.Dependency]) -> set[str]:
    return {d.name for d in deps if d.name and d.extra is None}


def _sdist_dependencies(decl: Declared) -> set[str] | None:
    for sources in (["PKG-INFO"], [s for s in decl.sources if s.endswith("requires.txt")],
                    ["pyproject.toml"], ["setup.cfg"]):
        deps = decl.dependencies_from(sources)
        if deps:
            return _install_names(deps)
    if declared.SETUP_PY in decl.sources and not decl.setup_py_partial:
        return _install_names(decl.dependencies_from([declared.SETUP_PY]))
    return None


def _finding(rule_id: str, wheel: Side, snippet: str, explanation: str, path: str | None = None,
             severity: Severity | None = None, confidence: Confidence | None = None) -> Finding:
    r = rule(rule_id)
    return r.finding(phase=Phase.METADATA, path=path or wheel.result.file, snippet=snippet[:240],
                     explanation=f"{explanation} {r.explanation}", severity=severity,
                     confidence=confidence)


def compare_sides(sdist: Side, wheel: Side) -> list[Finding]:
    findings: list[Finding] = []
    new_tops = _new_top_levels(sdist, wheel)
    pairs = _counterparts(sdist, wheel)
    wheel_decl_files = {r for r in wheel.files if kept(r, ArtifactKind.WHEEL)}
    sdist_decl_files = {r for r in sdist.files if kept(r, ArtifactKind.SDIST)}
    wheel_texts = _texts(wheel, wheel_decl_files | {w for w, _ in pairs})
    sdist_texts = _texts(sdist, sdist_decl_files | {s for _, s in pairs})
    wired: set[str] = set()
    for wrel, srel in pairs:
        if wrel not in wheel_texts or srel not in sdist_texts:
            continue
        added, removed = _meaningful_diff(sdist_texts[srel], wheel_texts[wrel])
        if not added and not removed:
            continue
        wired.update(top for top, _ in new_tops
                     if any(re.search(rf"\b{re.escape(_suffix_stem(top)[1])}\b", line)
                            for line in added))
        risky = [line for line in added if RISKY.search(line)]
        findings.append(_finding(
            "PV531", wheel, (risky or added or removed)[0],
            f"{wrel} in the wheel differs from {srel} in the sdist: {len(added)} line(s) "
            f"added, {len(removed)} removed" + (", among them calls that run code or reach the "
                                                 "network." if risky else "."),
            path=wrel, severity=Severity.MEDIUM if risky else None,
            confidence=Confidence.MEDIUM if risky else None))
    build_texts = [t for r, t in sdist_texts.items() if _build_file(r)]
    for top, example in new_tops:
        pth = top.endswith(".pth")
        stem = _suffix_stem(top)[1]
        if any(stem in text for text in build_texts):
            findings.append(_finding(
                "PV530", wheel, f"{top} ({example})",
                f"{wheel.result.file} installs `{top}`, which no sdist file holds; the sdist's "
                "build scripts name it, so the build writes it.", path=example,
                severity=Severity.LOW))
            continue
        findings.append(_finding(
            "PV530", wheel, f"{top} ({example})",
            f"{wheel.result.file} installs `{top}`; {sdist.result.file} has no file or folder "
            "of that name and its build scripts never name it" + (
                ", and the wheel's changed code imports it." if top in wired else
                ": it runs at every interpreter start." if pth else "."),
            path=example, severity=Severity.HIGH if pth or top in wired else None))
    wdecl, sdecl = _declared(wheel, wheel_texts), _declared(sdist, sdist_texts)
    known = _sdist_entry_points(sdecl)
    if known is not None:
        names = {(g, n) for g, n, _ in known}
        for ep in wdecl.entry_points:
            key = (ep.group, ep.name, ep.target.replace(" ", ""))
            if key in known:
                continue
            changed = (ep.group, ep.name) in names
            findings.append(_finding(
                "PV532", wheel, f"{ep.name} = {ep.target} ({ep.group})",
                f"The wheel's entry point `{ep.name}` in [{ep.group}] "
                + ("points elsewhere than in the sdist." if changed else
                   "is declared nowhere in the sdist."),
                path=ep.source))
    sdeps = _sdist_dependencies(sdecl)
    wdeps = _install_names(wdecl.dependencies_from(
        [s for s in wdecl.sources if s.endswith("/METADATA")]))
    if sdeps is not None and (sdeps or wdeps):
        only_wheel, only_sdist = sorted(wdeps - sdeps), sorted(sdeps - wdeps)
        if only_wheel or only_sdist:
            findings.append(_finding(
                "PV533", wheel,
                f"only in the wheel: {', '.join(only_wheel) or '-'}; only in the sdist: "
                f"{', '.join(only_sdist) or '-'}",
                "The wheel and the sdist of this release ask for different packages."))
    return findings


def _key(result: ScanResult) -> tuple[str, str] | None:
    if not result.name or not result.version:
        return None
    try:
        version = str(Version(result.version))
    except InvalidVersion:
        version = result.version
    return str(canonicalize_name(result.name)), version


def apply(results: Sequence[ScanResult], artifacts: Sequence[Artifact]) -> list[ScanResult]:
    """`results`, with each wheel whose sdist was scanned in the same run cross-checked, and
    without the texts the scan carried for it."""
    by_file = {(a.path.name, a.sha256): a for a in artifacts}
    groups: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(results):
        key = _key(r)
        if key is not None and (r.file, r.sha256) in by_file:
            groups.setdefault(key, []).append(i)
    out = list(results)
    for members in groups.values():
        sdists = [i for i in members if results[i].kind is ArtifactKind.SDIST]
        wheels = [i for i in members if results[i].kind is ArtifactKind.WHEEL]
        if not sdists or not wheels:
            continue
        s = results[sdists[0]]
        sdist = _side(by_file[(s.file, s.sha256)], s)
        for i in wheels:
            w = results[i]
            try:
                extra = compare_sides(sdist, _side(by_file[(w.file, w.sha256)], w))
            except Exception as exc:  # a bug here must not lose the scan's results
                out[i] = replace(w, errors=(*w.errors, f"sdist/wheel cross-check failed "
                                            f"({exc.__class__.__name__}: {exc})"))
                continue
            if extra:
                findings = sorted([*w.findings, *extra], key=Finding.sort_key)
                out[i] = replace(w, findings=tuple(findings), verdict=decide(findings))
    return [replace(r, carried=()) if r.carried else r for r in out]  # read by nothing else
