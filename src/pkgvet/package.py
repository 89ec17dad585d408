"""An artifact (sdist, wheel or folder) opened for analysis: its files, roles and metadata.

`load()` streams every member once. Text members up to `KEEP_BYTES` are kept in memory for
the analyzers; binaries and oversized members are never kept: they are handed to the
analyzers' `scan_blob` in overlapping windows while streaming, so a 500 MB wheel costs
window-sized memory. Every member's sha256 is computed on the way (RECORD check, diff).
"""

from __future__ import annotations

import email.parser
import hashlib
import io
import os
import tempfile
import tokenize
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property
from pathlib import Path, PurePosixPath

from pkgvet.archive import DEFAULT_LIMITS, ArchiveReader, Limits, Member, MemberType
from pkgvet.errors import ArchiveError
from pkgvet.model import (
    ArtifactKind,
    Category,
    Confidence,
    Context,
    FileEntry,
    Finding,
    Phase,
    Severity,
)

MiB = 1024 * 1024
KEEP_BYTES = 32 * MiB
WINDOW = 16 * MiB
OVERLAP = 64 * 1024
NESTED_MAX_BYTES = 256 * MiB

BINARY_SUFFIXES = frozenset(
    ".so .pyd .dll .exe .dylib .bin .pyc .pyo .a .o .lib .jar .class .png .jpg .jpeg .gif .ico "
    ".bmp .webp .pdf .woff .woff2 .ttf .otf .eot .gz .bz2 .xz .zst .7z .rar .npy .npz .pkl .db "
    ".sqlite .mo .wasm .node .onnx .pt .h5 .parquet .avro .dat".split()
)
NESTED_SUFFIXES = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".egg")
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
        return PurePosixPath(self.relpath).name

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.relpath).suffix.lower()

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


def decode_source(data: bytes) -> str:
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def classify_context(relpath: str) -> Context:
    parts = [p.lower() for p in PurePosixPath(relpath).parts]
    dirs, name = parts[:-1], parts[-1] if parts else ""
    if relpath == "setup.py" or (len(parts) == 1 and name in ("setup.py", "build.py")):
        return Context.BUILD
    if any(d in TEST_DIRS for d in dirs) or name.startswith("test_") or name == "conftest.py" \
            or name.endswith("_test.py"):
        return Context.TESTS
    if any(d in DOC_DIRS for d in dirs):
        return Context.DOCS
    if any(d in EXAMPLE_DIRS for d in dirs):
        return Context.EXAMPLES
    return Context.PACKAGE


def looks_binary(relpath: str, head: bytes) -> bool:
    if PurePosixPath(relpath).suffix.lower() in BINARY_SUFFIXES:
        return True
    return b"\x00" in head[:8192]


@dataclass
class Package:
    artifact: Artifact
    files: list[PackageFile] = field(default_factory=list)
    links: list[Member] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    root: str = ""

    @cached_property
    def by_relpath(self) -> dict[str, PackageFile]:
        return {f.relpath: f for f in self.files}

    def get(self, relpath: str) -> PackageFile | None:
        return self.by_relpath.get(relpath)

    @property
    def python_files(self) -> list[PackageFile]:
        return [f for f in self.files if f.is_python and f.data is not None]

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

    def phase_of_module(self, f: PackageFile) -> Phase:
        """When the top level of a Python file runs: install for build code, else import."""
        if f.context is Context.BUILD or f.relpath in self.build_backend_files:
            return Phase.INSTALL
        return Phase.IMPORT

    @cached_property
    def build_backend_files(self) -> frozenset[str]:
        """Files of an in-tree build backend (pyproject `backend-path`): they run at install."""
        pyproject = self.get("pyproject.toml")
        if pyproject is None or pyproject.text() is None:
            return frozenset()
        import tomllib

        try:
            data = tomllib.loads(pyproject.text() or "")
        except tomllib.TOMLDecodeError:
            return frozenset()
        system = data.get("build-system", {})
        paths = system.get("backend-path", []) if isinstance(system, dict) else []
        if not isinstance(paths, list):
            return frozenset()
        found: set[str] = set()
        for base in paths:
            if not isinstance(base, str):
                continue
            prefix = str(PurePosixPath(base)).strip("./")
            for f in self.files:
                if f.is_python and (not prefix or f.relpath.startswith(prefix + "/")):
                    found.add(f.relpath)
        return frozenset(found)


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
        _load_archive(pkg, artifact.path, "", scanner_list, limits, depth=0)
    names = [f.path for f in pkg.files if "!/" not in f.path]
    pkg.root = _strip_root(names, artifact.kind)
    for f in pkg.files:
        if "!/" not in f.path and pkg.root and f.path.startswith(pkg.root):
            f.relpath = f.path[len(pkg.root):]
            f.context = classify_context(f.relpath)
    return pkg


def _consume(
    pkg: Package,
    display: str,
    relpath: str,
    chunks: Iterable[bytes],
    scanners: list[BlobScanner],
    limits: Limits,
    depth: int,
) -> None:
    """Read one member: keep text, window binaries through the scanners, recurse archives."""
    digest = hashlib.sha256()
    kept = bytearray()
    keep = True
    binary: bool | None = None
    size = 0
    tail = b""
    nested_spool: tempfile.SpooledTemporaryFile[bytes] | None = None
    is_nested = relpath.lower().endswith(NESTED_SUFFIXES)
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if binary is None:
            binary = looks_binary(relpath, chunk)
            if is_nested:
                nested_spool = tempfile.SpooledTemporaryFile(max_size=32 * MiB)
        if nested_spool is not None:
            if size <= NESTED_MAX_BYTES:
                nested_spool.write(chunk)
            else:
                nested_spool.close()
                nested_spool = None
        if keep and not binary and size <= KEEP_BYTES:
            kept += chunk
            continue
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
    if not keep and size > KEEP_BYTES and not binary:
        pkg.findings.append(_too_large(display, size, relpath))
    pkg.files.append(
        PackageFile(display, relpath, size, digest.hexdigest(), data, binary,
                    classify_context(relpath))
    )
    if nested_spool is not None:
        try:
            nested_spool.seek(0)
            _load_nested(pkg, display, nested_spool, scanners, limits, depth + 1)
        finally:
            nested_spool.close()


def _too_large(display: str, size: int, relpath: str) -> Finding:
    python = relpath.endswith((".py", ".pyw", ".pth"))
    return Finding(
        rule_id="PV901",
        title="Analysis evaded: text file too large to parse",
        severity=Severity.MEDIUM if python else Severity.INFO,
        confidence=Confidence.MEDIUM,
        category=Category.EVASION,
        phase=Phase.ARCHIVE,
        path=display,
        line=None,
        snippet=f"{size // MiB} MiB",
        explanation=(
            f"{size // MiB} MiB of text is over the {KEEP_BYTES // MiB} MiB parse limit; only "
            "the byte-pattern rules saw it. Huge source files are a way to hide code."
        ),
        analyzer="loader",
    )


def _scan_windows(pkg: Package, display: str, data: bytes, scanners: list[BlobScanner]) -> None:
    for scan in scanners:
        pkg.findings.extend(scan(display, data))


def _load_nested(
    pkg: Package,
    outer: str,
    spool: tempfile.SpooledTemporaryFile[bytes],
    scanners: list[BlobScanner],
    limits: Limits,
    depth: int,
) -> None:
    if depth > limits.max_depth:
        pkg.findings.append(
            Finding(
                rule_id="PV009",
                title="Analysis evaded: archives nested too deep",
                severity=Severity.MEDIUM,
                confidence=Confidence.MEDIUM,
                category=Category.EVASION,
                phase=Phase.ARCHIVE,
                path=outer,
                line=None,
                snippet=outer,
                explanation=f"Archive nesting deeper than {limits.max_depth} levels was not "
                "opened; nesting is a way to hide a payload from scanners.",
                analyzer="loader",
            )
        )
        return
    with tempfile.TemporaryDirectory(prefix="pkgvet-nested-") as tmp:
        path = Path(tmp) / "nested"
        with open(path, "wb") as out:
            while chunk := spool.read(4 * MiB):
                out.write(chunk)
        try:
            _load_archive(pkg, path, outer + "!/", scanners, limits, depth)
        except ArchiveError:
            return  # A file named like an archive that is not one: scanned as bytes already.


def _load_archive(
    pkg: Package,
    path: Path,
    prefix: str,
    scanners: list[BlobScanner],
    limits: Limits,
    depth: int,
) -> None:
    with ArchiveReader(path, limits) as reader:
        for member, stream in reader.members():
            if member.type in (MemberType.SYMLINK, MemberType.HARDLINK):
                pkg.links.append(member)
            if stream is None:
                continue
            display = prefix + member.name
            relpath = member.name if not prefix else display
            _consume(pkg, display, relpath, stream.chunks(), scanners, limits, depth)
        for finding in reader.findings:
            if prefix and finding.path:
                finding = _with_path(finding, prefix + finding.path)
            pkg.findings.append(finding)


def _with_path(finding: Finding, path: str) -> Finding:
    from dataclasses import replace

    return replace(finding, path=path, snippet=path)


def _load_folder(pkg: Package, root: Path, scanners: list[BlobScanner], limits: Limits) -> None:
    count = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in (".git", ".hg", ".venv", "__pycache__"))
        for filename in sorted(filenames):
            full = Path(dirpath) / filename
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                pkg.links.append(Member(rel, MemberType.SYMLINK, 0, os.readlink(full)))
                continue
            if not full.is_file():
                continue
            count += 1
            if count > limits.max_members:
                pkg.errors.append(f"more than {limits.max_members} files; the rest not scanned")
                return
            with open(full, "rb") as fh:
                _consume(pkg, rel, rel, iter(lambda fh=fh: fh.read(4 * MiB), b""), scanners,
                         limits, 0)

