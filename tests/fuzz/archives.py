"""Hostile archives written member by member: names, links and types no packaging tool makes.

`tarfile` and `zipfile` write whatever `TarInfo` / `ZipInfo` they are given, so these
helpers only fill in the fields; the hostility is in the arguments.
"""

from __future__ import annotations

import gzip
import io
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

MiB = 1024 * 1024


@dataclass(frozen=True)
class T:
    """One tar member: a file unless `kind` says otherwise (tarfile type constants)."""

    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    link: str = ""
    size: int | None = None
    """Declared size if it must differ from len(data) (sparse and lying headers)."""


@dataclass(frozen=True)
class Z:
    """One zip member; `link` makes it a unix symlink whose data is the target."""

    name: str
    data: bytes = b""
    link: str | None = None
    mode: int | None = None
    encrypted: bool = False
    method: int = zipfile.ZIP_DEFLATED


def tar_bytes(members: list[T], compression: str = "gz", fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    mode = "w:" + compression if compression else "w"
    with tarfile.open(fileobj=buf, mode=mode, format=fmt) as tf:  # type: ignore[call-overload]
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.type = m.kind
            info.linkname = m.link
            info.mode = 0o755 if m.kind == tarfile.DIRTYPE else 0o644
            if m.kind in (tarfile.REGTYPE, tarfile.AREGTYPE):
                info.size = len(m.data) if m.size is None else m.size
                tf.addfile(info, io.BytesIO(m.data))
            else:
                tf.addfile(info)
    return buf.getvalue()


def zip_bytes(members: list[Z]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for m in members:
            info = zipfile.ZipInfo(m.name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = m.method
            info.create_system = 3
            if m.link is not None:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, m.link.encode())
                continue
            if m.mode is not None:
                info.external_attr = m.mode << 16
            else:
                info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, m.data)
    data = bytearray(buf.getvalue())
    for m in members:
        if m.encrypted:
            _set_encrypted(data, m.name.encode())
    return bytes(data)


def _set_encrypted(data: bytearray, name: bytes) -> None:
    """zipfile cannot write encrypted members; set the flag bit in both headers by hand."""
    for sig, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            if data[at + name_at:at + name_at + len(name)] == name:
                data[at + flag_at] |= 0x1
            start = at + 4


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def zeros_tar_gz(path: Path, size: int, root: str = "bomb-1.0") -> Path:
    """A tar.gz whose last member is `size` zero bytes, about 1 MiB on disk per GiB.

    Built as concatenated gzip members (legal, and read by every gzip reader), one per
    4 MiB of zeros, so the test does not spend seconds compressing a gigabyte."""
    setup = b"from setuptools import setup\nsetup(name='bomb', version='1.0')\n"
    info = tarfile.TarInfo(f"{root}/setup.py")
    info.size = len(setup)
    head = info.tobuf(tarfile.GNU_FORMAT) + setup + bytes(-len(setup) % 512)
    info = tarfile.TarInfo(f"{root}/data.bin")
    info.size = size - size % 512
    head += info.tobuf(tarfile.GNU_FORMAT)
    block = gzip.compress(bytes(4 * MiB), compresslevel=9)
    with open(path, "wb") as out:
        out.write(gzip.compress(head))
        left = info.size
        while left >= 4 * MiB:
            out.write(block)
            left -= 4 * MiB
        out.write(gzip.compress(bytes(left + 1024)))
    return path


def zeros_zip(path: Path, size: int, name: str = "bomb/data.bin") -> Path:
    """A zip with one deflated member of `size` zero bytes, streamed (never in memory)."""
    block = bytes(4 * MiB)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as out:
            left = size
            while left > 0:
                n = min(left, len(block))
                out.write(block[:n])
                left -= n
        zf.writestr("bomb/__init__.py", "")
    return path


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
