"""Safe reading of sdists and wheels: the only module that touches tar and zip members.

Members are streamed one at a time and never written to disk by the scanner, so a hostile
name cannot land anywhere. Every member is checked before its bytes are read: names that
climb out of the tree, absolute names, links that point outside, device files, bombs
(compression ratio), and caps on member count and decompressed bytes. What a check catches
becomes a `Finding` (phase `archive`); the rest of the package is still scanned.

The caps live in one `Meter` per package, shared with the archives nested inside it, so a
zip of a thousand small bombs is measured as one bomb. A member stream never raises: when a
bound is hit or the data turns out corrupt, the stream ends early, the reader records a
finding, and the reader decides whether the next member can still be read (zip) or not (a
broken tar stream). A file that is no archive at all, or broken before its first member,
raises `ArchiveError`.

`extract()` is for people who want the files on disk to read them: it writes regular files
only, under the destination, and never creates a link.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import lzma
import os
import posixpath
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, BinaryIO, cast

from pkgvet.errors import ArchiveError
from pkgvet.model import Category, Confidence, Finding, Phase, Severity
from pkgvet.registry import rule

MiB = 1024 * 1024
GiB = 1024 * MiB

READ_ERRORS: tuple[type[BaseException], ...] = (
    tarfile.TarError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    lzma.LZMAError,
    zlib.error,
    ValueError,
    RuntimeError,
    NotImplementedError,
    struct.error,
    OverflowError,
)
"""What the standard library raises on damaged archives (BadGzipFile is an OSError, a wrong
zip password a RuntimeError, an unknown compression method NotImplementedError)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """Default bounds: generous enough for torch wheels and pyspark sdists, tight for bombs."""

    max_members: int = 50_000
    max_total_bytes: int = 6 * GiB
    max_member_bytes: int = 2 * GiB
    max_ratio: float = 200.0
    ratio_floor: int = 32 * MiB
    max_depth: int = 3
    max_header_bytes: int = 1 * MiB
    """Largest tar pax or GNU long-name header: tarfile reads one whole into memory."""


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
    raw_name: str = ""
    """The name as stored, before normalising: what the safety checks judge."""


class LimitExceeded(Exception):
    """A bound was hit; carries the finding that says which. Never leaves this module."""

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
    """A finding of an archive rule declared in rules/data/rules/archive.toml."""
    return rule(rule_id).finding(
        phase=Phase.ARCHIVE,
        path=path,
        snippet=path or title,
        title=title,
        explanation=explanation,
        severity=severity,
        confidence=confidence,
        category=category,
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


def printable_name(name: str) -> str:
    """The name with undecodable bytes as U+FFFD, so every report can encode it.

    tarfile decodes bad UTF-8 as lone surrogates; printing or JSON-encoding one of those
    fails later, far from here."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        errors = "surrogateescape" if _only_escapes(name) else "replace"
        return name.encode("utf-8", errors).decode("utf-8", "replace")
    return name


def _only_escapes(name: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in name)


def normalise(name: str) -> str:
    unified = printable_name(name).replace("\\", "/")
    return posixpath.normpath(unified).lstrip("/") if unified else unified


def link_escapes(member_name: str, target: str) -> bool:
    """True if a link at `member_name` pointing to `target` resolves outside the tree."""
    if target.startswith("/") or "\\" in target or (len(target) > 1 and target[1] == ":"):
        return True
    joined = posixpath.join(posixpath.dirname(normalise(member_name)), target)
    return unsafe_name_reason(joined) is not None or posixpath.normpath(joined).startswith("..")


def _looks_like_tar_header(block: bytes) -> bool:
    """A pre-POSIX (v7) tar has no `ustar` magic; its header checksum still identifies it."""
    if len(block) < 512 or not block[:100].strip(b"\x00"):
        return False
    try:
        tarfile.TarInfo.frombuf(block[:512], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


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
    if _looks_like_tar_header(head):
        return "tar"
    return None


@dataclass(slots=True)
class Meter:
    """Bytes and members of one package, nested archives included: one budget for all.

    `disk_size` is the size of the outermost file; what the whole package decompresses to is
    measured against it, so bombs split over many members or many nested archives add up.
    """

    limits: Limits = DEFAULT_LIMITS
    disk_size: int = 0
    total: int = 0
    members: int = 0

    def count_member(self, name: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise LimitExceeded(
                _archive_finding(
                    "PV007",
                    "Analysis evaded: too many archive members",
                    Severity.HIGH,
                    name,
                    f"More than {self.limits.max_members} members; the rest was not scanned. "
                    "Real packages stay far below this.",
                    category=Category.EVASION,
                )
            )

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
        if self.total > self.limits.ratio_floor:
            ratio = self.total / max(self.disk_size, 1)
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


def _unreadable(member: str | None, exc: BaseException, what: str) -> Finding:
    return _archive_finding(
        "PV011",
        "Analysis evaded: archive member cannot be read",
        Severity.HIGH,
        member,
        f"{what} ({exc.__class__.__name__}: {str(exc)[:200]}). Damaged data or a compression "
        "method this Python cannot read hides the member from review; the rest was scanned "
        "as far as it could be.",
        category=Category.EVASION,
        confidence=Confidence.MEDIUM,
    )


class _CountingReader:
    """Wraps the raw compressed file to know how many compressed bytes a stream consumed."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.consumed = 0
        self._empty_reads = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n)
        self.consumed += len(data)
        if data or n == 0:
            self._empty_reads = 0
        else:
            self._empty_reads += 1
            if self._empty_reads > 1000:
                # Readers that skip forward by reading (tarfile's stream mode) would spin at
                # the end of the file for as long as a forged size says.
                raise EOFError("read past the end of the archive")
        return data

    def close(self) -> None:
        """The reader owns the file; closing a decompressor must not close it."""


class _InflateGuard:
    """The decompressed tar stream, checked as tarfile reads it: headers and skipped members
    too, because tarfile reads both without asking us (a pax header can be a gigabyte)."""

    def __init__(self, inner: IO[bytes], counting: _CountingReader, limits: Limits) -> None:
        self._inner = inner
        self._counting = counting
        self._limits = limits
        self.produced = 0
        self._empty_reads = 0

    def read(self, n: int = -1) -> bytes:
        data = self._inner.read(n if n >= 0 else 4 * MiB)
        self.produced += len(data)
        self._empty_reads = 0 if data or n == 0 else self._empty_reads + 1
        if self._empty_reads > 1000:
            raise EOFError("read past the end of the compressed stream")
        if self.produced > self._limits.max_total_bytes:
            raise LimitExceeded(
                _archive_finding(
                    "PV006",
                    "Analysis evaded: archive decompresses past the size limit",
                    Severity.HIGH,
                    None,
                    f"The compressed stream expands past {self._limits.max_total_bytes // MiB} "
                    "MiB; the rest of the archive was not scanned.",
                    category=Category.EVASION,
                )
            )
        if self.produced > self._limits.ratio_floor:
            ratio = self.produced / max(self._counting.consumed, 1)
            if ratio > self._limits.max_ratio:
                raise LimitExceeded(_bomb("(compressed stream)", ratio, self._limits))
        return data

    def close(self) -> None:
        self._inner.close()


class _MemberStream:
    """A read-only stream over one member that charges every byte to the meter.

    It never raises: a bound or a read error ends the stream, and `failed` says so; the
    finding goes to the reader."""

    def __init__(
        self, inner: IO[bytes], name: str, reader: ArchiveReader, declared: int
    ) -> None:
        self._inner = inner
        self._name = name
        self._reader = reader
        assert reader.meter is not None
        self._meter = reader.meter
        self._left = reader.limits.max_member_bytes
        self.declared = declared
        self.failed = False

    def read(self, n: int = -1) -> bytes:
        if self.failed:
            return b""
        if n < 0:
            n = self._left + 1
        try:
            data = self._inner.read(min(n, self._left + 1))
            self._left -= len(data)
            if self._left < 0:
                raise LimitExceeded(
                    _archive_finding(
                        "PV006",
                        "Analysis evaded: member larger than the size limit",
                        Severity.HIGH,
                        self._name,
                        f"A single member over {self._reader.limits.max_member_bytes // MiB} "
                        "MiB.",
                        category=Category.EVASION,
                    )
                )
            self._meter.charge(self._name, len(data))
        except LimitExceeded as exc:
            self.failed = True
            self._reader.stop(exc.finding)
            return b""
        except Exception as exc:  # a library's bug on hostile data is damage too
            self.failed = True
            self._reader.member_failed(self._name, exc)
            return b""
        return data

    def chunks(self, size: int = 4 * MiB) -> Iterator[bytes]:
        while chunk := self.read(size):
            yield chunk


def _zip_directory(fh: BinaryIO) -> tuple[int, int] | None:
    """(declared entry count, central directory size) from the end record, or None.

    Read before `ZipFile` parses the whole directory into objects: a 400 MB directory of
    ten million empty names would cost gigabytes of memory before any check could run.
    zipfile's own end-record reader is private, so the lookup goes through getattr."""
    end_rec = getattr(zipfile, "_EndRecData", None)
    if end_rec is None:
        return None
    try:
        rec = end_rec(fh)
    except READ_ERRORS:
        return None
    finally:
        fh.seek(0)
    if not rec:
        return None
    return int(rec[4]), int(rec[5])  # _ECD_ENTRIES_TOTAL, _ECD_SIZE


@dataclass
class ArchiveReader:
    """Iterates the members of one archive; collects findings about hostile members.

    Use as a context manager; `members()` yields `(Member, stream)` pairs where the stream
    is None for anything that is not a regular file. A stream must be consumed (or left)
    before the next member is asked for: tarballs are read in one forward pass.

    `source` is a path or an open binary file (nested archives are read from a spool);
    `meter` is shared with the enclosing archive's reader, if any.
    """

    source: Path | IO[bytes]
    limits: Limits = DEFAULT_LIMITS
    meter: Meter | None = None
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False
    format: str = ""
    _fh: IO[bytes] | None = None
    _owned: bool = False
    _yielded: int = 0
    _stopped: bool = False

    @property
    def label(self) -> str:
        return self.source.name if isinstance(self.source, Path) else "nested archive"

    @property
    def path(self) -> Path | None:
        return self.source if isinstance(self.source, Path) else None

    def __enter__(self) -> ArchiveReader:
        if isinstance(self.source, Path):
            try:
                self._fh = open(self.source, "rb")
            except OSError as exc:
                raise ArchiveError(f"cannot read {self.source}: {exc.strerror}") from exc
            self._owned = True
        else:
            self._fh = self.source
        fh = self._fh
        try:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(0)
            head = fh.read(512)
            fh.seek(0)
        except OSError as exc:
            self.__exit__()
            raise ArchiveError(f"cannot read {self.label}: {exc}") from exc
        if self.meter is None:
            self.meter = Meter(self.limits, disk_size=size)
        fmt = detect_format(head)
        if fmt is None:
            self.__exit__()
            raise ArchiveError(
                f"{self.label} is not a zip or tar archive (sdists are .tar.gz, wheels "
                "are .whl zip files); check that the download is complete"
            )
        self.format = fmt
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None and self._owned:
            self._fh.close()
        self._fh = None

    # -- what streams report back ---------------------------------------------------------

    def stop(self, finding: Finding) -> None:
        """A bound was hit: record it and read no further member."""
        self.findings.append(finding)
        self.truncated = True
        self._stopped = True

    def member_failed(self, name: str, exc: BaseException) -> None:
        """A member's data is damaged: a zip goes on with the next member, a tar cannot."""
        if self.format == "zip":
            self.findings.append(_unreadable(name, exc, "the member's data is damaged"))
        else:
            self.stop(_unreadable(name, exc, "the compressed stream breaks inside this member"))

    def members(self) -> Iterator[tuple[Member, _MemberStream | None]]:
        assert self._fh is not None, "use ArchiveReader as a context manager"
        inner: Generator[tuple[Member, _MemberStream | None], None, None] = (
            self._zip_members(self._fh) if self.format == "zip" else self._tar_members(self._fh)
        )
        try:
            for item in inner:
                if self._stopped:
                    return
                self._yielded += 1
                yield item
                if self._stopped:
                    return
        except LimitExceeded as exc:
            self.stop(exc.finding)
        except ArchiveError:
            raise
        except Exception as exc:  # READ_ERRORS, and library bugs on hostile data
            if self._yielded == 0:
                raise ArchiveError(
                    f"{self.label} is corrupt, truncated or uses a feature no installer "
                    f"supports ({exc.__class__.__name__}: {str(exc)[:200]}); download it "
                    "again or check its sha256"
                ) from exc
            self.stop(_unreadable(None, exc, "the archive is damaged after its first members"))
        finally:
            inner.close()

    # -- checks shared by both formats -------------------------------------------------------

    def _check(self, member: Member) -> bool:
        """Records findings for a hostile member; returns False if it must not be read."""
        assert self.meter is not None
        self.meter.count_member(member.name)
        reason = unsafe_name_reason(member.raw_name or member.name)
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

    def _too_many(self, declared: int) -> LimitExceeded:
        return LimitExceeded(
            _archive_finding(
                "PV007",
                "Analysis evaded: too many archive members",
                Severity.HIGH,
                None,
                f"The zip directory declares about {declared} members, over the "
                f"{self.limits.max_members} limit; the archive was not scanned. Real packages "
                "stay far below this.",
                category=Category.EVASION,
            )
        )

    # -- zip ------------------------------------------------------------------------------

    def _zip_members(
        self, fh: IO[bytes]
    ) -> Generator[tuple[Member, _MemberStream | None], None, None]:
        directory = _zip_directory(fh)  # type: ignore[arg-type]
        if directory is not None:
            declared, cd_size = directory
            if declared > self.limits.max_members:
                raise self._too_many(declared)
            if cd_size > self.limits.max_members * 1024:
                raise self._too_many(cd_size // 46)
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
        seen: set[str] = set()
        encrypted = [i for i in infos if i.flag_bits & 0x1]
        if encrypted and len(encrypted) == len(infos):
            raise ArchiveError(
                f"{self.label} is an encrypted zip; pkgvet cannot read encrypted members "
                "(installers cannot either). Decrypt it first if you trust its source."
            )
        for info in infos:
            mode = info.external_attr >> 16 if info.create_system == 3 else 0
            name = normalise(info.filename)
            stored = printable_name(info.filename)
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                target = self._zip_link_target(zf, info)
                if target is None:
                    continue
                member = Member(name, MemberType.SYMLINK, 0, target, stored)
            elif info.filename.endswith("/") or kind == stat.S_IFDIR:
                member = Member(name, MemberType.DIR, 0, None, stored)
            elif kind in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK):
                member = Member(name, MemberType.OTHER, 0, None, stored)
            else:
                member = Member(name, MemberType.FILE, info.file_size, None, stored)
            if not self._check(member):
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
            if info.file_size > self.limits.ratio_floor:
                ratio = info.file_size / max(info.compress_size, 1)
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
            try:
                raw = zf.open(info)
            except READ_ERRORS as exc:
                self.findings.append(_unreadable(member.name, exc, "the member cannot be opened"))
                continue
            with raw:
                yield member, _MemberStream(raw, member.name, self, info.file_size)

    def _zip_link_target(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
        """A zip symlink's target is its data; read 4 KiB at most (a link can be a bomb)."""
        try:
            with zf.open(info) as raw:
                return raw.read(4096).decode("utf-8", "replace")
        except READ_ERRORS as exc:
            self.findings.append(_unreadable(normalise(info.filename), exc,
                                             "the link's target cannot be read"))
            return None

    # -- tar ------------------------------------------------------------------------------

    def _tar_members(
        self, fh: IO[bytes]
    ) -> Generator[tuple[Member, _MemberStream | None], None, None]:
        counting = _CountingReader(fh)
        raw = cast(IO[bytes], counting)
        stream: IO[bytes]
        if self.format == "gz":
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
        elif self.format == "bz2":
            stream = cast(IO[bytes], bz2.BZ2File(raw))
        elif self.format == "xz":
            stream = cast(IO[bytes], lzma.LZMAFile(raw))  # noqa: SIM115 - tf owns it
        else:
            stream = raw
        if self.format != "tar":
            stream = cast(IO[bytes], _InflateGuard(stream, counting, self.limits))
        tarinfo = _bounded_tarinfo(self.limits.max_header_bytes, self.limits.max_member_bytes)
        tf = tarfile.open(fileobj=stream, mode="r|", tarinfo=tarinfo)  # noqa: SIM115
        for info in tf:
            name = normalise(info.name)
            stored = printable_name(info.name)
            link = printable_name(info.linkname)
            if info.issym():
                member = Member(name, MemberType.SYMLINK, 0, link, stored)
            elif info.islnk():
                member = Member(name, MemberType.HARDLINK, 0, link, stored)
            elif info.isdir():
                member = Member(name, MemberType.DIR, 0, None, stored)
            elif info.isreg():
                member = Member(name, MemberType.FILE, info.size, None, stored)
            else:
                member = Member(name, MemberType.OTHER, 0, None, stored)
            if not self._check(member):
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
            data = tf.extractfile(info)
            if data is None:
                continue
            yield member, _MemberStream(data, member.name, self, info.size)


_LONG_HEADERS = frozenset(
    {tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
     tarfile.GNUTYPE_LONGLINK}
)


def _bounded_tarinfo(max_header: int, max_member: int) -> type[tarfile.TarInfo]:
    """A TarInfo that refuses pax and GNU long-name headers over `max_header` bytes.

    tarfile reads such a header's whole body into memory and parses it before yielding the
    member, so no check on members can see it coming. `fromtarfile` is the documented hook
    for TarInfo subclasses; its body is tarfile's own, plus the size check."""

    class BoundedTarInfo(tarfile.TarInfo):
        @classmethod
        def fromtarfile(cls, tarfile_: tarfile.TarFile) -> BoundedTarInfo:
            assert tarfile_.fileobj is not None
            buf = tarfile_.fileobj.read(tarfile.BLOCKSIZE)
            obj = cls.frombuf(buf, tarfile_.encoding or "utf-8", tarfile_.errors or "strict")
            obj.offset = tarfile_.fileobj.tell() - tarfile.BLOCKSIZE
            if obj.size > max_member and obj.type not in _LONG_HEADERS:
                # Checked here, not after the member is yielded: tarfile skips the data of
                # members nobody reads by reading forward, block by block, past the end of
                # the file if the size says so (a 2**95-byte directory spins forever).
                raise LimitExceeded(
                    _archive_finding(
                        "PV006",
                        "Analysis evaded: member larger than the size limit",
                        Severity.HIGH,
                        printable_name(obj.name),
                        f"Declared size {obj.size // MiB} MiB is over the "
                        f"{max_member // MiB} MiB limit; the rest was not scanned.",
                        category=Category.EVASION,
                    )
                )
            if obj.type in _LONG_HEADERS and obj.size > max_header:
                raise LimitExceeded(
                    _archive_finding(
                        "PV006",
                        "Analysis evaded: oversized tar header",
                        Severity.HIGH,
                        printable_name(obj.name),
                        f"A {obj.size // 1024} KiB extended header (limit "
                        f"{max_header // 1024} KiB): no packaging tool writes one; it exhausts "
                        "the memory of tools that read it. The rest was not scanned.",
                        category=Category.EVASION,
                    )
                )
            return cast(BoundedTarInfo, obj._proc_member(tarfile_))  # type: ignore[attr-defined]

    return BoundedTarInfo


def _collision(name: str, exc: OSError) -> Finding:
    return _archive_finding(
        "PV012",
        "Archive member cannot be written",
        Severity.MEDIUM,
        name,
        f"Not written: {exc.strerror or exc}. The name collides with another member (a file "
        "where a folder is needed, or the reverse) or is not valid on this system.",
    )


def extract(path: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> list[Finding]:
    """Write the regular files of an archive under `dest`; links and hostile members are not
    written but returned as findings. Nothing is ever written outside `dest`."""
    dest = dest.resolve()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create {dest}: {exc.strerror or exc}") from exc
    extra: list[Finding] = []
    with ArchiveReader(path, limits) as reader:
        for member, stream in reader.members():
            if stream is None:
                continue
            try:
                _write_member(dest, member.name, stream)
            except OSError as exc:
                extra.append(_collision(member.name, exc))
        return [*reader.findings, *extra]


def _write_member(dest: Path, name: str, stream: _MemberStream) -> None:
    target = Path(os.path.normpath(dest / name))
    if not target.is_relative_to(dest) or target == dest:
        return
    parent = target.parent
    if not parent.resolve().is_relative_to(dest):
        return  # a folder under `dest` that is a link to elsewhere (pkgvet never makes one)
    parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return
        raise
    with os.fdopen(fd, "wb") as out:
        for chunk in stream.chunks():
            out.write(chunk)
