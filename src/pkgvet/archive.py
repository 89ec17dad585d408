"""Safe reading of sdists and wheels: the only module that touches tar and zip members.

Members are streamed one at a time and never written to disk by the scanner, so a hostile
name cannot land anywhere. Every member is checked before its bytes are read: names that
climb out of the tree, absolute names, links that point outside, device files, bombs
(compression ratio), and caps on member count and decompressed bytes. What a check catches
becomes a `Finding` (phase `archive`); the rest of the package is still scanned.

`extract()` is for people who want the files on disk to read them: it writes regular files
only, under the destination, and never creates a link.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import posixpath
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, BinaryIO

from pkgvet.errors import ArchiveError
from pkgvet.model import Category, Confidence, Finding, Phase, Severity

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True, slots=True)
class Limits:
    """Default bounds: generous enough for torch wheels and pyspark sdists, tight for bombs."""

    max_members: int = 50_000
    max_total_bytes: int = 6 * GiB
    max_member_bytes: int = 2 * GiB
    max_ratio: float = 200.0
    ratio_floor: int = 32 * MiB
    max_depth: int = 3


DEFAULT_LIMITS = Limits()


class MemberType(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    """The member's path, normalised to forward slashes with no leading `./`."""
    type: MemberType
    size: int
    link_target: str | None = None


class LimitExceeded(Exception):
    """Raised inside a member stream when a bound is hit; the reader turns it into a finding."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.title)
        self.finding = finding


def _archive_finding(
    rule_id: str,
    title: str,
    severity: Severity,
    path: str | None,
    explanation: str,
    category: Category = Category.ARCHIVE,
    confidence: Confidence = Confidence.HIGH,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        title=title,
        severity=severity,
        confidence=confidence,
        category=category,
        phase=Phase.ARCHIVE,
        path=path,
        line=None,
        snippet=path or "",
        explanation=explanation,
        analyzer="archive",
    )


def unsafe_name_reason(name: str) -> str | None:
    """Why a member name would escape its folder on some platform, or None if it is safe."""
    if "\x00" in name:
        return "contains a NUL byte"
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) > 1 and unified[1] == ":"):
        return "is an absolute path"
    parts = [p for p in unified.split("/") if p not in ("", ".")]
    depth = 0
    for part in parts:
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return "climbs out of the archive with '..'"
    return None


def normalise(name: str) -> str:
    unified = name.replace("\\", "/")
    return posixpath.normpath(unified).lstrip("/") if unified else unified


def link_escapes(member_name: str, target: str) -> bool:
    """True if a link at `member_name` pointing to `target` resolves outside the tree."""
    if target.startswith("/") or "\\" in target or (len(target) > 1 and target[1] == ":"):
        return True
    joined = posixpath.join(posixpath.dirname(normalise(member_name)), target)
    return unsafe_name_reason(joined) is not None or posixpath.normpath(joined).startswith("..")


def detect_format(head: bytes) -> str | None:
    """The container format by magic bytes: extensions lie, magic bytes rarely do."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "gz"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if len(head) > 262 and head[257:262] == b"ustar":
        return "tar"
    return None


class _CountingReader:
    """Wraps the raw compressed file to know how many compressed bytes a stream consumed."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.consumed = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.consumed += len(data)
        return data

    def close(self) -> None:
        self._raw.close()


@dataclass(slots=True)
class _Budget:
    limits: Limits
    compressed: _CountingReader | None
    compressed_size: int
    total: int = 0

    def charge(self, member: str, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise LimitExceeded(
                _archive_finding(
                    "PV006",
                    "Analysis evaded: archive decompresses past the size limit",
                    Severity.HIGH,
                    member,
                    f"More than {self.limits.max_total_bytes // MiB} MiB of decompressed data; "
                    "the rest of the archive was not scanned.",
                    category=Category.EVASION,
                )
            )
        if self.compressed is not None and self.total > self.limits.ratio_floor:
            ratio = self.total / max(self.compressed.consumed, 1)
            if ratio > self.limits.max_ratio:
                raise LimitExceeded(_bomb(member, ratio, self.limits))


def _bomb(member: str, ratio: float, limits: Limits) -> Finding:
    return _archive_finding(
        "PV005",
        "Decompression bomb",
        Severity.HIGH,
        member,
        f"Data expands {ratio:.0f}x (limit {limits.max_ratio:.0f}x): a decompression bomb "
        "exhausts disk or memory of whatever unpacks it. The member was not unpacked.",
        category=Category.EVASION,
    )


class _MemberStream:
    """A read-only stream over one member that charges every byte to the budget."""

    def __init__(self, inner: IO[bytes], name: str, budget: _Budget, declared: int) -> None:
        self._inner = inner
        self._name = name
        self._budget = budget
        self._left = budget.limits.max_member_bytes
        self.declared = declared

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            n = self._left + 1
        data = self._inner.read(min(n, self._left + 1))
        self._left -= len(data)
        if self._left < 0:
            raise LimitExceeded(
                _archive_finding(
                    "PV006",
                    "Analysis evaded: member larger than the size limit",
                    Severity.HIGH,
                    self._name,
                    f"A single member over {self._budget.limits.max_member_bytes // MiB} MiB.",
                    category=Category.EVASION,
                )
            )
        self._budget.charge(self._name, len(data))
        return data

    def chunks(self, size: int = 4 * MiB) -> Iterator[bytes]:
        while chunk := self.read(size):
            yield chunk


@dataclass
class ArchiveReader:
    """Iterates the members of one archive; collects findings about hostile members.

    Use as a context manager; `members()` yields `(Member, stream)` pairs where the stream
    is None for anything that is not a regular file. A stream must be consumed (or left)
    before the next member is asked for: tarballs are read in one forward pass.
    """

    path: Path
    limits: Limits = DEFAULT_LIMITS
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False
    _fh: BinaryIO | None = None
    format: str = ""

    def __enter__(self) -> ArchiveReader:
        try:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - closed in __exit__
        except OSError as exc:
            raise ArchiveError(f"cannot read {self.path}: {exc.strerror}") from exc
        head = self._fh.read(512)
        self._fh.seek(0)
        fmt = detect_format(head)
        if fmt is None:
            raise ArchiveError(
                f"{self.path.name} is not a zip or tar archive (sdists are .tar.gz, wheels "
                "are .whl zip files); check that the download is complete"
            )
        self.format = fmt
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()

    def members(self) -> Iterator[tuple[Member, _MemberStream | None]]:
        assert self._fh is not None, "use ArchiveReader as a context manager"
        try:
            if self.format == "zip":
                yield from self._zip_members(self._fh)
            else:
                yield from self._tar_members(self._fh)
        except LimitExceeded as exc:
            self.findings.append(exc.finding)
            self.truncated = True
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, lzma.LZMAError) as exc:
            raise ArchiveError(
                f"{self.path.name} is corrupt or truncated ({exc.__class__.__name__}: {exc}); "
                "download it again or check its sha256"
            ) from exc
        except (zlib.error, ValueError, RuntimeError, NotImplementedError) as exc:
            raise ArchiveError(
                f"{self.path.name} cannot be read ({exc.__class__.__name__}: {exc}); "
                "it is damaged or uses a feature no installer supports"
            ) from exc

    # -- checks shared by both formats -------------------------------------------------------

    def _check(self, member: Member, index: int) -> bool:
        """Records findings for a hostile member; returns False if it must not be read."""
        if index >= self.limits.max_members:
            raise LimitExceeded(
                _archive_finding(
                    "PV007",
                    "Analysis evaded: too many archive members",
                    Severity.HIGH,
                    member.name,
                    f"More than {self.limits.max_members} members; the rest was not scanned. "
                    "Real packages stay far below this.",
                    category=Category.EVASION,
                )
            )
        reason = unsafe_name_reason(member.name)
        if reason is not None:
            rule = "PV002" if "absolute" in reason else "PV001"
            self.findings.append(
                _archive_finding(
                    rule,
                    "Archive member escapes the extraction folder",
                    Severity.HIGH,
                    member.name,
                    f"The member name {reason}: extracting it writes outside the target folder "
                    "(path traversal). No installer produces such names by accident.",
                )
            )
            return False
        if member.type in (MemberType.SYMLINK, MemberType.HARDLINK):
            target = member.link_target or ""
            if member.type is MemberType.HARDLINK:
                escapes = unsafe_name_reason(target) is not None
            else:
                escapes = link_escapes(member.name, target)
            if escapes:
                self.findings.append(
                    _archive_finding(
                        "PV003",
                        "Archive link points outside the package",
                        Severity.HIGH,
                        member.name,
                        f"{member.type.value} to '{target}': an extractor that follows it reads "
                        "or overwrites files outside the package.",
                    )
                )
            return False
        if member.type is MemberType.OTHER:
            self.findings.append(
                _archive_finding(
                    "PV004",
                    "Device or special file in archive",
                    Severity.MEDIUM,
                    member.name,
                    "Device nodes and FIFOs have no place in a Python package.",
                )
            )
            return False
        return member.type is MemberType.FILE

    # -- zip ------------------------------------------------------------------------------

    def _zip_members(self, fh: BinaryIO) -> Iterator[tuple[Member, _MemberStream | None]]:
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
        budget = _Budget(self.limits, None, 0)
        seen: set[str] = set()
        encrypted = [i for i in infos if i.flag_bits & 0x1]
        if encrypted and len(encrypted) == len(infos):
            raise ArchiveError(
                f"{self.path.name} is an encrypted zip; pkgvet cannot read encrypted members "
                "(installers cannot either). Decrypt it first if you trust its source."
            )
        for index, info in enumerate(infos):
            mode = info.external_attr >> 16
            name = info.filename
            if stat.S_ISLNK(mode):
                target = zf.read(info)[:4096].decode("utf-8", "replace")
                member = Member(normalise(name), MemberType.SYMLINK, 0, target)
            elif info.is_dir():
                member = Member(normalise(name), MemberType.DIR, 0)
            else:
                member = Member(normalise(name), MemberType.FILE, info.file_size)
            if not self._check(member, index):
                continue
            if member.name in seen:
                self.findings.append(
                    _archive_finding(
                        "PV008",
                        "Duplicate member name in zip",
                        Severity.MEDIUM,
                        member.name,
                        "Two members share one name: installers and scanners may each see a "
                        "different file, a known way to hide code from review.",
                    )
                )
            seen.add(member.name)
            if info.flag_bits & 0x1:
                self.findings.append(
                    _archive_finding(
                        "PV010",
                        "Encrypted member in zip",
                        Severity.MEDIUM,
                        member.name,
                        "This member is encrypted and cannot be scanned.",
                        category=Category.EVASION,
                    )
                )
                continue
            if info.file_size > self.limits.ratio_floor and info.compress_size > 0:
                ratio = info.file_size / info.compress_size
                if ratio > self.limits.max_ratio:
                    self.findings.append(_bomb(member.name, ratio, self.limits))
                    continue
            if info.file_size > self.limits.max_member_bytes:
                self.findings.append(
                    _archive_finding(
                        "PV006",
                        "Analysis evaded: member larger than the size limit",
                        Severity.HIGH,
                        member.name,
                        f"Declared size {info.file_size // MiB} MiB is over the "
                        f"{self.limits.max_member_bytes // MiB} MiB limit; not scanned.",
                        category=Category.EVASION,
                    )
                )
                continue
            with zf.open(info) as raw:
                yield member, _MemberStream(raw, member.name, budget, info.file_size)

    # -- tar ------------------------------------------------------------------------------

    def _tar_members(self, fh: BinaryIO) -> Iterator[tuple[Member, _MemberStream | None]]:
        counting = _CountingReader(fh)
        budget = _Budget(self.limits, counting, self.path.stat().st_size)
        stream: IO[bytes]
        if self.format == "gz":
            stream = gzip.GzipFile(fileobj=counting)  # type: ignore[arg-type]
        elif self.format == "bz2":
            stream = bz2.BZ2File(counting)  # type: ignore[arg-type]
        elif self.format == "xz":
            stream = lzma.LZMAFile(counting)  # type: ignore[arg-type]
        else:
            stream = counting  # type: ignore[assignment]
            budget = _Budget(self.limits, None, 0)
        tf = tarfile.open(fileobj=stream, mode="r|")
        for index, info in enumerate(tf):
            if info.issym():
                member = Member(normalise(info.name), MemberType.SYMLINK, 0, info.linkname)
            elif info.islnk():
                member = Member(normalise(info.name), MemberType.HARDLINK, 0, info.linkname)
            elif info.isdir():
                member = Member(normalise(info.name), MemberType.DIR, 0)
            elif info.isreg():
                member = Member(normalise(info.name), MemberType.FILE, info.size)
            else:
                member = Member(normalise(info.name), MemberType.OTHER, 0)
            # Headers of skipped members count too: a tar of endless headers is a bomb.
            budget.charge(member.name, 512)
            if not self._check(member, index):
                continue
            if info.size > self.limits.max_member_bytes:
                raise LimitExceeded(
                    _archive_finding(
                        "PV006",
                        "Analysis evaded: member larger than the size limit",
                        Severity.HIGH,
                        member.name,
                        f"Declared size {info.size // MiB} MiB is over the limit; the rest of "
                        "the archive was not scanned.",
                        category=Category.EVASION,
                    )
                )
            raw = tf.extractfile(info)
            if raw is None:
                continue
            yield member, _MemberStream(raw, member.name, budget, info.size)


def extract(path: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> list[Finding]:
    """Write the regular files of an archive under `dest`; links and hostile members are not
    written but returned as findings. Nothing is ever written outside `dest`."""
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with ArchiveReader(path, limits) as reader:
        for member, stream in reader.members():
            if stream is None:
                continue
            target = (dest / member.name).resolve()
            if not target.is_relative_to(dest) or target == dest:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or target.is_dir():
                continue
            with open(target, "wb") as out:
                for chunk in stream.chunks():
                    out.write(chunk)
        return list(reader.findings)
