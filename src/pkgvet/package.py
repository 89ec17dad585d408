"""An artifact (sdist, wheel or folder) opened for analysis: its files, roles and metadata.

`load()` streams every member once. Text members up to `KEEP_BYTES` (Python source up to
`PY_KEEP_BYTES`) are kept in memory for the analyzers, up to `KEEP_TOTAL_BYTES` per package;
binaries and oversized members are never kept: they are handed to the analyzers'
`scan_blob` in overlapping windows while streaming, so a 500 MB wheel costs window-sized
memory. Every member's sha256 is computed on the way (RECORD check, diff).

Memory is bounded by these caps, not by an address-space limit: what is kept is capped per
file and per package, everything else streams, and nested archives share the outer
archive's `Meter` (bytes, members, ratio). What the caps leave unparsed is reported as an
"analysis evaded" finding, never dropped silently.
"""

from __future__ import annotations

import email.parser
import hashlib
import io
import os
import re
import tempfile
import tokenize
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from email.message import Message
from functools import cached_property, lru_cache
from pathlib import Path
from typing import IO

from pkgvet.archive import (
    DEFAULT_LIMITS,
    ArchiveReader,
    Limits,
    Member,
    MemberType,
    Meter,
    printable_name,
)
from pkgvet.errors import ArchiveError
from pkgvet.model import (
    ArtifactKind,
    Context,
    FileEntry,
    Finding,
    Phase,
    Severity,
)
from pkgvet.registry import rule

MiB = 1024 * 1024
KEEP_BYTES = 32 * MiB
PY_KEEP_BYTES = 10 * MiB
"""Python source over this is not parsed: generated tables stay far below, hidden code not."""
KEEP_TOTAL_BYTES = 256 * MiB
"""Text kept in memory per package; past it, files are only byte-scanned (and reported)."""
WINDOW = 16 * MiB
OVERLAP = 64 * 1024
NESTED_MAX_BYTES = 256 * MiB

BINARY_SUFFIXES = frozenset({
    ".so", ".pyd", ".dll", ".exe", ".dylib", ".bin", ".pyc", ".pyo", ".a", ".o", ".lib", ".jar",
    ".class", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".bmp", ".webp", ".pdf", ".woff", ".woff2",
    ".ttf", ".otf", ".eot", ".gz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".npy", ".npz", ".pkl",
    ".db", ".sqlite", ".mo", ".wasm", ".node", ".onnx", ".pt", ".h5", ".parquet", ".avro", ".dat",
})
NESTED_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".egg")
ZIP_DOCUMENTS = (".xlsx", ".xlsm", ".docx", ".pptx", ".odt", ".ods", ".odp", ".jar", ".apk",
                 ".npz", ".pt", ".pth", ".keras", ".epub", ".xpi", ".kmz", ".nupkg", ".vsix",
                 ".3mf", ".key", ".numbers", ".pages", ".aar", ".war", ".ear", ".ipynb")
"""Formats built on zip that no importer reads as one (opened by their own readers)."""
TEST_DIRS = frozenset({"tests", "test", "testing", "unittests", "unit_tests", "__tests__"})
DOC_DIRS = frozenset({"docs", "doc", "documentation", "_docs", "site-docs"})
EXAMPLE_DIRS = frozenset({"examples", "example", "samples", "sample", "demo", "demos",
                          "benchmarks", "benchmark", "bench", "tutorial", "tutorials"})


BlobScanner = Callable[[str, bytes], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Artifact:
    """A package file on local disk, with what the index said about it."""

    path: Path
    kind: ArtifactKind
    sha256: str
    name: str | None = None
    version: str | None = None
    source: str = ""
    yanked: bool = False
    yanked_reason: str = ""
    upload_time: str | None = None
    """PEP 700 upload time from the index (ISO 8601); None for local files."""
    provenance_url: str | None = None
    """PEP 740 provenance object URL from the index, when it states one."""
    index_file: str = ""
    """The file name the index lists (empty for local files): the name attestations sign."""


@dataclass(slots=True)
class PackageFile:
    path: str
    """Path as shown to users (archive member name; nested members as `outer!/inner`)."""
    relpath: str
    """Path inside the package root (the sdist's top folder stripped)."""
    size: int
    sha256: str
    data: bytes | None
    binary: bool
    context: Context
    _text: str | None = None

    @property
    def name(self) -> str:
        return self.relpath.rpartition("/")[2]

    @property
    def suffix(self) -> str:
        return path_suffix(self.relpath)

    @property
    def is_python(self) -> bool:
        if self.suffix in (".py", ".pyw", ".pyi"):
            return self.suffix != ".pyi"
        return (
            self.data is not None
            and self.suffix == ""
            and self.data.startswith(b"#!")
            and b"python" in self.data[:80]
        )

    def text(self) -> str | None:
        """The decoded text (PEP 263 cookie, else UTF-8, else Latin-1); None for binaries."""
        if self.data is None or self.binary:
            return None
        if self._text is None:
            self._text = decode_source(self.data)
        return self._text


SLOW_CODECS = frozenset({"punycode", "idna"})
"""Codecs a PEP 263 cookie may name whose decoding is quadratic in the input size."""


def decode_source(data: bytes) -> str:
    """PEP 263 cookie, else UTF-8, else Latin-1: always a str, whatever the bytes or cookie.

    A cookie can name any text codec, and some fail with plain UnicodeError (punycode) or
    take quadratic time (punycode, idna on large input): those fall back like bad bytes."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        if encoding in SLOW_CODECS and len(data) > 64 * 1024:
            raise LookupError(encoding)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeError, ValueError):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def path_suffix(relpath: str) -> str:
    """`PurePosixPath(relpath).suffix.lower()`, by string operations (asked for every member,
    many times: building a path object each time was a tenth of loading a large sdist)."""
    name = relpath.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


_WORD_BREAK = re.compile(r"[\s_.-]+")


@lru_cache(maxsize=8192)
def _words(name: str) -> frozenset[str]:
    """The words of a folder or file name, once per name: every member of an archive asks
    for each folder above it, and a large sdist has tens of thousands of members."""
    return frozenset(_WORD_BREAK.split(name))


def classify_context(relpath: str) -> Context:
    """Where a file that no installed package holds lives, guessed from folder words (split,
    so `manual tests/`, `integration-tests/` and `unit_tests/` count as tests). A file inside
    an installed package is never tests, docs or examples: `Package.context_of` decides that
    first, and the package graph (`pkgvet.analysis.reachability`) overrides both for every
    file an entry point reaches."""
    parts = [p.lower() for p in relpath.split("/") if p and p != "."]
    dirs, name = parts[:-1], parts[-1] if parts else ""
    if relpath == "setup.py":
        return Context.BUILD
    dir_words = [_words(d) for d in dirs]
    if (
        any(w & TEST_DIRS for w in dir_words)
        or name.startswith("test_")
        or name == "conftest.py"
        or name.endswith("_test.py")
    ):
        return Context.TESTS
    if any(w & DOC_DIRS for w in dir_words):
        return Context.DOCS
    if any(w & EXAMPLE_DIRS for w in dir_words):
        return Context.EXAMPLES
    return Context.PACKAGE


def looks_binary(relpath: str, head: bytes) -> bool:
    """Binary by suffix, else by a NUL byte in the head, except Python source: calling a
    setup.py binary because of one NUL byte would hide it from every analyzer, so it stays
    text and gets a PV910 finding."""
    if path_suffix(relpath) in BINARY_SUFFIXES:
        return True
    if _python_named(relpath, head):
        return False
    return b"\x00" in head[:8192]


@dataclass
class Package:
    artifact: Artifact
    files: list[PackageFile] = field(default_factory=list)
    links: list[Member] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    root: str = ""
    kept_bytes: int = 0
    over_budget: list[str] = field(default_factory=list)
    """Text files not kept because the package's text budget was spent (see PV907)."""

    @cached_property
    def by_relpath(self) -> dict[str, PackageFile]:
        return {f.relpath: f for f in self.files}

    def get(self, relpath: str) -> PackageFile | None:
        return self.by_relpath.get(relpath)

    @property
    def python_files(self) -> list[PackageFile]:
        """Python sources kept in memory (cached once the file list stops growing)."""
        key = len(self.files)
        cached = self.memo.get("python_files")
        if isinstance(cached, tuple) and cached[0] == key:
            return list(cached[1])
        found = [f for f in self.files if f.is_python and f.data is not None]
        self.memo["python_files"] = (key, found)
        return list(found)

    @cached_property
    def metadata(self) -> Message | None:
        """Core metadata: PKG-INFO at the sdist root or METADATA in the wheel's dist-info."""
        candidates = [f for f in self.files if f.relpath == "PKG-INFO"]
        candidates += [
            f for f in self.files
            if f.relpath.count("/") == 1 and f.relpath.endswith(".dist-info/METADATA")
        ]
        for f in candidates:
            text = f.text()
            if text is not None:
                return email.parser.Parser().parsestr(text, headersonly=True)
        return None

    @property
    def name(self) -> str | None:
        meta = self.metadata
        if meta is not None and meta.get("Name"):
            return str(meta["Name"]).strip()
        return self.artifact.name

    @property
    def version(self) -> str | None:
        meta = self.metadata
        if meta is not None and meta.get("Version"):
            return str(meta["Version"]).strip()
        return self.artifact.version

    def entries(self) -> tuple[FileEntry, ...]:
        return tuple(FileEntry(f.path, f.size, f.sha256) for f in self.files)

    memo: dict[str, object] = field(default_factory=dict)
    """Views that higher layers derive from the files once per package (the package graph)."""

    def release(self) -> None:
        """Drop the memoised views once the scan is over. They refer back to the package, so
        without this the parsed trees of a large package (millions of objects) wait for a
        full collection instead of being freed at once."""
        self.memo.clear()

    @cached_property
    def installed_tops(self) -> frozenset[str]:
        """Top-level folders (relpaths) that install as import packages: in a wheel every
        top-level folder with an `__init__.py`; in an sdist those at the root or under `src/`,
        except folders named like tests, docs or examples when the sdist has another package
        (a project's own top-level package named `testing` is installed, its `tests/` is not).
        """
        wheel = self.artifact.kind is ArtifactKind.WHEEL
        candidates: set[str] = set()
        for f in self.files:
            if "!/" in f.relpath or not f.relpath.endswith("/__init__.py"):
                continue
            parts = f.relpath.split("/")
            if wheel and len(parts) >= 4 and parts[0].endswith(".data") \
                    and parts[1] in ("purelib", "platlib"):
                parts = parts[:2] + parts[2:]
                candidates.add("/".join(parts[:3]))
            elif len(parts) == 2:
                candidates.add(parts[0])
            elif len(parts) == 3 and parts[0] == "src" and not wheel:
                candidates.add("/".join(parts[:2]))
        if wheel:
            return frozenset(candidates)
        side = {c for c in candidates if _words(c.rsplit("/", 1)[-1].lower())
                & (TEST_DIRS | DOC_DIRS | EXAMPLE_DIRS)}
        main = candidates - side
        project = (self.name or "").lower().replace("-", "_")
        kept = main | {c for c in side if c.rsplit("/", 1)[-1].lower() == project}
        return frozenset(kept if kept else candidates)

    def is_installed(self, relpath: str) -> bool:
        """Inside an installed package, or a top-level module of a wheel."""
        if "!/" in relpath:
            return False
        if self.artifact.kind is ArtifactKind.WHEEL and "/" not in relpath \
                and relpath.endswith(".py"):
            return True
        return any(relpath.startswith(top + "/") for top in self.installed_tops)

    def context_of(self, f: PackageFile) -> Context:
        """Context from structure first (installed code is `package`), folder words second."""
        if f.context is Context.BUILD:
            return f.context
        if self.is_installed(f.relpath):
            return Context.PACKAGE
        return f.context


def _strip_root(names: list[str], kind: ArtifactKind) -> str:
    if kind is not ArtifactKind.SDIST or not names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and any("/" in n for n in names):
        return tops.pop() + "/"
    return ""


def load(
    artifact: Artifact,
    scanners: Iterable[BlobScanner] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Package:
    """Open an artifact and read what analyzers need; raise ArchiveError if unreadable."""
    pkg = Package(artifact)
    scanner_list = list(scanners)
    if artifact.kind is ArtifactKind.FOLDER:
        _load_folder(pkg, artifact.path, scanner_list, limits)
    else:
        _load_archive(pkg, artifact.path, "", scanner_list, limits, 0, None)
    if pkg.over_budget:
        pkg.findings.append(_over_budget(pkg.over_budget))
    pkg.errors.extend(  # what could not be read was not analysed: the result is partial
        f"{f.path or 'the rest of the archive'} could not be read; not analysed"
        for f in pkg.findings if f.rule_id == "PV011"
    )
    names = [f.path for f in pkg.files if "!/" not in f.path]
    pkg.root = _strip_root(names, artifact.kind)
    for f in pkg.files:
        if "!/" not in f.path and pkg.root and f.path.startswith(pkg.root):
            f.relpath = f.path[len(pkg.root):]
            f.context = classify_context(f.relpath)
    for f in pkg.files:
        f.context = pkg.context_of(f)
    return pkg


def _consume(
    pkg: Package,
    display: str,
    relpath: str,
    chunks: Iterable[bytes],
    scanners: list[BlobScanner],
    limits: Limits,
    depth: int,
    meter: Meter | None = None,
) -> bool:
    """Read one member: keep text, window binaries through the scanners, recurse archives.

    Returns False if the member's text could not be kept because the package's text budget
    is spent."""
    digest = hashlib.sha256()
    kept = bytearray()
    keep = True
    binary: bool | None = None
    size = 0
    tail = b""
    nested_spool: tempfile.SpooledTemporaryFile[bytes] | None = None
    is_nested = relpath.lower().endswith(NESTED_SUFFIXES)
    cap = KEEP_BYTES
    budget_left = KEEP_TOTAL_BYTES - pkg.kept_bytes
    over_budget = False
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if binary is None:
            binary = looks_binary(relpath, chunk)
            if _python_named(relpath, chunk):
                cap = PY_KEEP_BYTES
            if not is_nested and chunk.startswith(b"PK\x03\x04") \
                    and not relpath.lower().endswith(ZIP_DOCUMENTS):
                # a zip under another name (`fonts.dat`): `sys.path` and zipimport read it
                # as one whatever it is called
                is_nested = True
            if is_nested:
                nested_spool = tempfile.SpooledTemporaryFile(max_size=32 * MiB)  # noqa: SIM115
        if nested_spool is not None:
            if size <= NESTED_MAX_BYTES:
                nested_spool.write(chunk)
            else:
                nested_spool.close()
                nested_spool = None
                pkg.findings.append(_nested_finding(
                    display, "nested archive too large to open",
                    f"An inner archive over {NESTED_MAX_BYTES // MiB} MiB was byte-scanned "
                    "but not opened; its members were not analysed.",
                ))
        if keep and not binary and size <= cap:
            if size <= budget_left:
                kept += chunk
                continue
            over_budget = True
        if keep:
            # Switching from keeping to streaming: scan what was kept first.
            keep = False
            if kept:
                _scan_windows(pkg, display, bytes(kept), scanners)
                tail = bytes(kept[-OVERLAP:])
                kept = bytearray()
        window = tail + chunk
        for start in range(0, len(window), WINDOW):
            piece = window[start:start + WINDOW + OVERLAP]
            _scan_windows(pkg, display, piece, scanners)
        tail = window[-OVERLAP:]
    if binary is None:
        binary = False
    data = bytes(kept) if keep else None
    if data is not None and cap == PY_KEEP_BYTES and b"\x00" in data:
        pkg.findings.append(_nul_in_source(display, data.count(b"\n", 0, data.index(b"\x00")) + 1))
    if keep:
        pkg.kept_bytes += len(kept)
    elif over_budget:
        pkg.over_budget.append(display)
    elif size > cap and not binary:
        pkg.findings.append(_too_large(display, size, relpath, cap))
    pkg.files.append(
        PackageFile(display, relpath, size, digest.hexdigest(), data, binary,
                    classify_context(relpath))
    )
    if nested_spool is not None:
        try:
            nested_spool.seek(0)
            _load_nested(pkg, display, nested_spool, scanners, limits, depth + 1, meter)
        finally:
            nested_spool.close()
    return not over_budget


def _python_named(relpath: str, head: bytes) -> bool:
    suffix = path_suffix(relpath)
    if suffix in (".py", ".pyw", ".pth"):
        return True
    return suffix == "" and head.startswith(b"#!") and b"python" in head[:80]


def _too_large(display: str, size: int, relpath: str, cap: int) -> Finding:
    python = cap == PY_KEEP_BYTES
    return rule("PV901").finding(
        phase=Phase.ARCHIVE,
        severity=Severity.HIGH if python else Severity.INFO,
        path=display,
        snippet=f"{size // MiB} MiB",
        explanation=(
            f"{size // MiB} MiB of {'Python source' if python else 'text'} is over the "
            f"{cap // MiB} MiB parse limit; only the byte-pattern rules saw it. Huge source "
            "files are a way to hide code."
        ),
    )


def _nul_in_source(display: str, line: int) -> Finding:
    return rule("PV910").finding(phase=Phase.ARCHIVE, path=display, line=line, snippet="\\x00")


def _over_budget(paths: list[str]) -> Finding:
    python = [p for p in paths if _python_named(p, b"")]
    return rule("PV907").finding(
        phase=Phase.ARCHIVE,
        severity=Severity.HIGH if python else Severity.LOW,
        path=(python or paths)[0],
        snippet=f"{len(paths)} files ({len(python)} Python)",
        explanation=(
            f"The package holds over {KEEP_TOTAL_BYTES // MiB} MiB of text; {len(paths)} files "
            f"({len(python)} of them Python) past that were only byte-scanned, not parsed. "
            "Padding a package with text is a way to push code past a scanner."
        ),
    )


def _scan_windows(pkg: Package, display: str, data: bytes, scanners: list[BlobScanner]) -> None:
    for scan in scanners:
        pkg.findings.extend(scan(display, data))


def _nested_finding(path: str, what: str, explanation: str) -> Finding:
    return rule("PV009").finding(
        phase=Phase.ARCHIVE, title=f"Analysis evaded: {what}", path=path, snippet=path,
        explanation=explanation,
    )


def _load_nested(
    pkg: Package,
    outer: str,
    spool: IO[bytes],
    scanners: list[BlobScanner],
    limits: Limits,
    depth: int,
    meter: Meter | None,
) -> None:
    if depth > limits.max_depth:
        pkg.findings.append(_nested_finding(
            outer, "archives nested too deep",
            f"Archive nesting deeper than {limits.max_depth} levels was not opened; nesting is "
            "a way to hide a payload from scanners.",
        ))
        return
    try:
        _load_archive(pkg, spool, outer + "!/", scanners, limits, depth, meter)
    except ArchiveError:
        return  # A file named like an archive that is not one: scanned as bytes already.


def _load_archive(
    pkg: Package,
    source: Path | IO[bytes],
    prefix: str,
    scanners: list[BlobScanner],
    limits: Limits,
    depth: int,
    meter: Meter | None,
) -> None:
    with ArchiveReader(source, limits, meter) as reader:
        for member, stream in reader.members():
            if member.type in (MemberType.SYMLINK, MemberType.HARDLINK):
                pkg.links.append(member)
            if stream is None:
                continue
            display = prefix + member.name
            relpath = member.name if not prefix else display
            _consume(pkg, display, relpath, stream.chunks(), scanners, limits, depth,
                     reader.meter)
            if stream.failed and pkg.files and pkg.files[-1].path == display:
                pkg.files[-1].data = None  # cut short: what was read is not the file
        for finding in reader.findings:
            if prefix and finding.path:
                finding = _with_path(finding, prefix + finding.path)
                # A hostile member inside a nested archive counts where that archive lives:
                # test fixtures (distlib ships deliberately bad tarballs) are not installed.
                finding = replace(finding, context=classify_context(prefix.rstrip("!/")))
            pkg.findings.append(finding)


def _with_path(finding: Finding, path: str) -> Finding:
    from dataclasses import replace

    return replace(finding, path=path, snippet=path)


SKIP_DIRS = frozenset({".git", ".hg", ".venv", "__pycache__"})


def _file_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    while chunk := fh.read(4 * MiB):
        yield chunk


def _load_folder(pkg: Package, root: Path, scanners: list[BlobScanner], limits: Limits) -> None:
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for filename in sorted(filenames):
            full = Path(dirpath) / filename
            rel = printable_name(full.relative_to(root).as_posix())
            if full.is_symlink():
                target = printable_name(os.readlink(full))
                pkg.links.append(Member(rel, MemberType.SYMLINK, 0, target))
                continue
            if not full.is_file():
                continue
            count += 1
            if count > limits.max_members:
                pkg.errors.append(f"more than {limits.max_members} files; the rest not scanned")
                return
            try:
                with open(full, "rb") as fh:
                    _consume(pkg, rel, rel, _file_chunks(fh), scanners, limits, 0)
            except OSError as exc:
                pkg.errors.append(f"cannot read {rel}: {exc.strerror or exc}")
