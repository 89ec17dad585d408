"""YARA rules over every member: text patterns (webhooks, stealers, shells, cradles, miners,
decode-then-exec text) and executable headers.

The rule pack lives in `pkgvet/rules/<behaviour>/*.yar`; `--rules` adds the user's files or
folders. Every rule must carry `meta:` id, description, severity, confidence and category,
else loading fails with a message naming the file and the rule. Rules compile once per
process (cache keyed by the rule files' paths, sizes and mtimes).

Text members are matched in `analyze` with a line and snippet. Binaries and oversized members
arrive in windows through `scan_blob`; text rules report there directly, while header rules
(category `binary`) only note the fact: whether an executable is normal depends on the
artifact (a `.so` in a platform wheel is; an ELF in a pure wheel is not), which `analyze`
knows and `scan_blob` does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yara
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from pkgvet.analysis import reachability
from pkgvet.errors import PkgvetError
from pkgvet.model import ArtifactKind, Category, Confidence, Context, Finding, Phase, Severity
from pkgvet.options import ScanOptions
from pkgvet.package import Package, PackageFile, classify_context

NAME = "yara"
RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
RULE_SUFFIXES = (".yar", ".yara")
REQUIRED_META = ("id", "description", "severity", "confidence", "category")
BUILTIN_ID = re.compile(r"^PV6\d\d$")
SNIPPET_CHARS = 200
MATCH_TIMEOUT = 60
"""Seconds per member; YARA's own guard against pathological input."""

DEMOTED = frozenset({Context.TESTS, Context.DOCS, Context.EXAMPLES})
DOC_NAMES = frozenset({"METADATA", "PKG-INFO", "README", "CHANGELOG", "CHANGES", "HISTORY"})
DOC_SUFFIXES = frozenset({".md", ".rst", ".txt", ".html", ".htm", ".adoc"})
"""A README or a long_description describing an attack is documentation, not code."""
CODE_SUFFIXES = frozenset(
    {
        "",
        ".py",
        ".pyw",
        ".pyx",
        ".pxd",
        ".pth",
        ".sh",
        ".bash",
        ".zsh",
        ".ps1",
        ".psm1",
        ".bat",
        ".cmd",
        ".vbs",
        ".js",
        ".mjs",
        ".cjs",
        ".pl",
        ".rb",
        ".php",
        ".lua",
        ".ipynb",
    }
)
"""Files that run. A pattern in any other text (a YAML keyword list of attack strings, a JSON
fixture) describes a behaviour rather than performing it: one severity level lower, and no
import-time phase (an import does not run a YAML file). Code that
reads such a file and runs it is the Python analyzer's to grade."""

NATIVE_SUFFIXES = frozenset(
    {
        "",
        ".exe",
        ".dll",
        ".so",
        ".pyd",
        ".dylib",
        ".bin",
        ".o",
        ".a",
        ".node",
        ".sys",
        ".elf",
        ".jnilib",
        ".bundle",
        ".out",
    }
)
DISGUISE_SUFFIXES = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".ico",
        ".bmp",
        ".webp",
        ".svg",
        ".txt",
        ".md",
        ".rst",
        ".py",
        ".pyw",
        ".pyi",
        ".json",
        ".csv",
        ".xml",
        ".html",
        ".htm",
        ".css",
        ".js",
        ".yaml",
        ".yml",
        ".ini",
        ".cfg",
        ".toml",
        ".log",
        ".wav",
        ".mp3",
        ".mp4",
        ".ttf",
        ".woff",
        ".pdf",
        ".pth",
        ".typed",
    }
)
"""Suffixes of data and text formats: an executable under one is hiding."""
LAUNCHERS = re.compile(
    r"(^|/)distlib/[tw](32|64|64-arm)\.exe$|(^|/)setuptools/(cli|gui)(-32|-64|-arm64)?\.exe$"
)
"""Windows script launchers that pip (vendored distlib) and setuptools ship in pure wheels:
prebuilt stubs the installer copies next to console scripts."""
BUILD_DIRS = frozenset({"build", "dist"})
SDIST_ROOT = re.compile(r"^[A-Za-z0-9_.+-]+-\d[^/]*$")


class RuleError(PkgvetError):
    """A YARA rule file does not compile or a rule lacks the required meta."""


@dataclass(frozen=True, slots=True)
class RuleMeta:
    id: str
    description: str
    severity: Severity
    confidence: Confidence
    category: Category
    file: str

    @property
    def header(self) -> bool:
        """Header facts (executables) are graded by where they sit, not reported as is."""
        return self.category is Category.BINARY


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: yara.Rules
    meta: dict[tuple[str, str], RuleMeta]
    """(namespace = file path, rule identifier) -> meta."""

    def match(self, data: bytes) -> list[tuple[RuleMeta, int, bytes]]:
        """(meta, first match offset, matched bytes) for every rule that matches."""
        out: list[tuple[RuleMeta, int, bytes]] = []
        for m in self.rules.match(data=data, timeout=MATCH_TIMEOUT):
            meta = self.meta[(m.namespace, m.rule)]
            first: tuple[int, bytes] | None = None
            for s in m.strings:
                for inst in s.instances:
                    if first is None or inst.offset < first[0]:
                        first = (inst.offset, bytes(inst.matched_data))
            offset, matched = first if first is not None else (0, b"")
            out.append((meta, offset, matched))
        return out


_CACHE: dict[tuple[tuple[str, int, int], ...], RuleSet] = {}


def builtin_rule_files() -> list[Path]:
    """The shipped pack: every `*.yar` in a behaviour folder (not `rules/data/`)."""
    return sorted(
        p
        for p in RULES_DIR.glob("*/*")
        if p.suffix in RULE_SUFFIXES and p.parent.name != "data" and p.is_file()
    )


def expand_extra(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
            if not found:
                raise RuleError(f"--rules folder {path} holds no *.yar or *.yara files")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise RuleError(f"--rules path {path} does not exist; give a .yar file or a folder")
    return files


def load_rules(extra: Sequence[Path] = ()) -> RuleSet:
    """The compiled pack plus the user's rules; compiled once per process per set of files."""
    files = builtin_rule_files() + expand_extra(extra)
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    cached = _CACHE.get(key)
    if cached is None:
        cached = _CACHE[key] = _compile(files)
    return cached


def _compile(files: list[Path]) -> RuleSet:
    """Each file compiles alone first (the compiled set does not say which file a rule came
    from, and errors must name it), then all together under their paths as namespaces."""
    builtin = set(builtin_rule_files())
    metas: dict[tuple[str, str], RuleMeta] = {}
    owners: dict[str, str] = {}
    for path in files:
        for rule in _compile_one(path):
            meta = _validate(str(path), rule.identifier, dict(rule.meta), path in builtin)
            where = f"rule '{rule.identifier}' in {path}"
            if meta.id in owners:
                raise RuleError(
                    f"YARA {where} reuses id {meta.id} of {owners[meta.id]}; ids must be unique"
                )
            owners[meta.id] = where
            metas[(str(path), rule.identifier)] = meta
    return RuleSet(_compile_one(*files), metas)


def _compile_one(*files: Path) -> yara.Rules:
    try:
        return yara.compile(filepaths={str(p): str(p) for p in files})
    except yara.SyntaxError as exc:
        raise RuleError(f"YARA rules do not compile: {exc}; fix or remove the file") from exc
    except yara.Error as exc:
        raise RuleError(f"YARA rules cannot be read: {exc}") from exc


def _validate(file: str, ident: str, raw: dict[str, object], builtin: bool) -> RuleMeta:
    where = f"YARA rule '{ident}' in {file}"
    missing = [k for k in REQUIRED_META if not isinstance(raw.get(k), str) or not raw.get(k)]
    if missing:
        raise RuleError(
            f"{where} lacks meta {', '.join(missing)}; every rule needs {', '.join(REQUIRED_META)}"
        )
    values = {k: str(raw[k]) for k in REQUIRED_META}
    if builtin and not BUILTIN_ID.match(values["id"]):
        raise RuleError(f"{where} has id {values['id']!r}; shipped rules use PV601-PV699")
    try:
        severity = Severity[values["severity"].upper()]
        confidence = Confidence[values["confidence"].upper()]
        category = Category(values["category"])
    except (KeyError, ValueError) as exc:
        raise RuleError(
            f"{where} has an invalid value {exc}; severity is info|low|medium|high|critical, "
            "confidence low|medium|high, category one of " + "|".join(c.value for c in Category)
        ) from exc
    return RuleMeta(values["id"], values["description"], severity, confidence, category, file)


# -- findings ------------------------------------------------------------------------------


def _printable(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return "".join(c if c.isprintable() else "." for c in text).strip()[:SNIPPET_CHARS]


def _line_and_snippet(data: bytes, offset: int) -> tuple[int, str]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    end = len(data) if end == -1 else end
    if end - start > SNIPPET_CHARS:  # minified or one-line payloads: show around the match
        start = max(start, offset - 60)
        end = min(end, start + SNIPPET_CHARS)
    return line, _printable(data[start:end])


def _text_context(pkg: Package, f: PackageFile) -> Context:
    context = reachability.context_of(pkg, f) if f.is_python else f.context
    if context is Context.PACKAGE and (f.name in DOC_NAMES or f.suffix in DOC_SUFFIXES):
        return Context.DOCS
    return context


def _phase(pkg: Package, f: PackageFile, context: Context) -> Phase:
    if f.is_python:
        phase = reachability.phase_of_module(pkg, f)
    elif context is Context.BUILD:
        phase = Phase.INSTALL
    elif f.suffix == ".pth" or context is Context.PACKAGE:
        phase = Phase.IMPORT
    else:
        phase = Phase.RUNTIME
    if context in DEMOTED and phase is not Phase.INSTALL:
        return Phase.RUNTIME
    return phase


def _finding(
    meta: RuleMeta,
    path: str,
    line: int | None,
    snippet: str,
    phase: Phase,
    context: Context,
    explanation: str = "",
    severity: Severity | None = None,
    title: str | None = None,
) -> Finding:
    return Finding(
        rule_id=meta.id,
        title=title or meta.description,
        severity=meta.severity if severity is None else severity,
        confidence=meta.confidence,
        category=meta.category,
        phase=phase,
        path=path,
        line=line,
        snippet=snippet,
        explanation=explanation or f"YARA rule {meta.id} ({meta.description}) matched.",
        analyzer=NAME,
        context=context,
    )


def _blob_context(path: str) -> Context:
    """Context of a streamed member from its path alone (the sdist root guessed away)."""
    if "!/" in path:
        path = path.split("!/", 1)[0]
    parts = path.split("/")
    if len(parts) > 1 and SDIST_ROOT.match(parts[0]) and not parts[0].endswith(".dist-info"):
        path = "/".join(parts[1:])
    return classify_context(path)


def pure_wheel(pkg: Package) -> bool:
    if pkg.artifact.kind is not ArtifactKind.WHEEL:
        return False
    try:
        _, _, _, tags = parse_wheel_filename(pkg.artifact.path.name)
    except InvalidWheelFilename:
        return pkg.artifact.path.name.endswith("-any.whl")
    return all(tag.platform == "any" for tag in tags)


def grade_executable(pkg: Package, f: PackageFile, meta: RuleMeta) -> Finding | None:
    """Where an executable sits decides what it means.

    A platform wheel or a local folder holds native code by design: no finding. A pure wheel
    or an sdist outside `build/`/`dist/` holds it where no build would put one: `medium`,
    which alone does not change the verdict (phase `archive`), because real projects do ship
    prebuilt helpers. pip's and setuptools' Windows script launchers are `info`. An
    executable under a data or text suffix (`logo.png`, `notes.txt`) is hiding: `high`."""
    relpath = f.relpath.split("!/", 1)[-1] if "!/" in f.relpath else f.relpath
    suffix = PurePosixPath(relpath).suffix.lower()
    name = PurePosixPath(relpath).name.lower()
    kind = pkg.artifact.kind
    if suffix in DISGUISE_SUFFIXES and ".so." not in name:
        return _finding(
            meta,
            f.path,
            None,
            f"{meta.description} named {PurePosixPath(relpath).name}",
            Phase.ARCHIVE,
            f.context,
            severity=Severity.HIGH,
            title=f"{meta.description} disguised as a {suffix} file",
            explanation=(
                f"The file has a {meta.description} header but a {suffix} name. Builds never "
                "name an executable like a data or text file; droppers do, to slip a payload "
                "past reviewers and scanners."
            ),
        )
    if kind is ArtifactKind.FOLDER:
        return None
    if kind is ArtifactKind.WHEEL:
        if not pure_wheel(pkg):
            return None
        where = "a pure-Python wheel (tag *-none-any)"
    else:
        if PurePosixPath(relpath).parts[0].lower() in BUILD_DIRS:
            return None
        where = "an sdist, outside build/ and dist/"
    if LAUNCHERS.search(relpath):
        return _finding(
            meta,
            f.path,
            None,
            relpath,
            Phase.ARCHIVE,
            f.context,
            severity=Severity.INFO,
            title=f"{meta.description}: known Windows script launcher",
            explanation=(
                "pip (vendored distlib) and setuptools ship prebuilt Windows launchers for "
                "console scripts at this path; recorded, not counted."
            ),
        )
    return _finding(
        meta,
        f.path,
        None,
        relpath,
        Phase.ARCHIVE,
        f.context,
        title=f"Native executable ({meta.description}) where no build would put one",
        explanation=(
            f"{meta.description} inside {where}. A pure package needs no native code; a "
            "prebuilt executable here is either a bundled tool or a payload. Check what runs it."
        ),
    )


@dataclass(slots=True)
class YaraAnalyzer:
    ruleset: RuleSet
    name: str = NAME
    _last_blob: str | None = None
    _headers: list[tuple[str, RuleMeta]] = field(default_factory=list)
    _blob_seen: set[tuple[str, str]] = field(default_factory=set)

    def scan_blob(self, path: str, data: bytes) -> list[Finding]:
        first_window = path != self._last_blob
        self._last_blob = path
        try:
            matches = self.ruleset.match(data)
        except yara.Error:
            return []
        found: list[Finding] = []
        context = _blob_context(path)
        for meta, _, matched in matches:
            if meta.header:
                if first_window:
                    self._headers.append((path, meta))
                continue
            if (path, meta.id) in self._blob_seen:
                continue
            self._blob_seen.add((path, meta.id))
            phase = {Context.BUILD: Phase.INSTALL, Context.PACKAGE: Phase.IMPORT}.get(
                context, Phase.RUNTIME
            )
            found.append(_finding(meta, path, None, _printable(matched), phase, context))
        return found

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        headers, self._headers = self._headers, []
        self._last_blob = None
        self._blob_seen.clear()
        for f in pkg.files:
            if f.data is None or f.binary:
                continue
            matches = self.ruleset.match(f.data)
            if not matches:
                continue
            context = _text_context(pkg, f)
            phase = _phase(pkg, f, context)
            data_file = (
                context is not Context.DOCS and not f.is_python and (f.suffix not in CODE_SUFFIXES)
            )
            if data_file and phase is Phase.IMPORT:
                phase = Phase.RUNTIME  # data is read, not run, by an import
            for meta, offset, _ in matches:
                if meta.header:
                    continue
                line, snippet = _line_and_snippet(f.data, offset)
                severity = Severity(max(meta.severity - 1, Severity.INFO)) if data_file else None
                yield _finding(meta, f.path, line, snippet, phase, context, severity=severity)
        by_path = {f.path: f for f in pkg.files}
        for path, meta in headers:
            member = by_path.get(path)
            if member is not None:
                graded = grade_executable(pkg, member, meta)
                if graded is not None:
                    yield graded


def create(options: ScanOptions) -> YaraAnalyzer:
    return YaraAnalyzer(load_rules(options.extra_rules))
