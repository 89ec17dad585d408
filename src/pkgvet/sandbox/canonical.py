"""The name a package file must have for pip to install it, read from its own metadata.

Malware feeds and repositories name files by hash or by path (`adcpu__5.94__adcpu-5.94.tar.gz`,
a wheel saved as `x-1.0-py3-none-any.tar.gz`); pip goes by the file name and stops before any
code runs. The sandbox stages the file under the name its contents declare: a wheel
`{name}-{version}-{tags}.whl` from its WHEEL and METADATA files, an sdist
`{name}-{version}.tar.gz` (or `.zip`) from its PKG-INFO, falling back to the archive's top
folder. Only member names and two small text members are read; nothing is extracted.
"""

from __future__ import annotations

import re
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name

_MAX_METADATA = 1 << 20
_VERSIONED_FOLDER = re.compile(r"^(?P<name>.+?)-(?P<version>\d[\w.!+-]*)$")


def _wheel_name(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def _headers(text: str) -> tuple[str, str]:
    parsed = HeaderParser().parsestr(text)
    return str(parsed.get("Name") or "").strip(), str(parsed.get("Version") or "").strip()


def _wheel(zf: zipfile.ZipFile) -> str | None:
    names = zf.namelist()
    info = next((n for n in names if n.count("/") == 1
                 and n.endswith(".dist-info/WHEEL")), None)
    metadata = next((n for n in names if n.count("/") == 1
                     and n.endswith(".dist-info/METADATA")), None)
    if info is None or metadata is None:
        return None
    name, version = _headers(zf.read(metadata)[:_MAX_METADATA].decode("utf-8", "replace"))
    if not name or not version:
        return None
    tags = [t for t in HeaderParser().parsestr(
        zf.read(info)[:_MAX_METADATA].decode("utf-8", "replace")).get_all("Tag") or []]
    parts = [t.strip().split("-") for t in tags if t.strip().count("-") == 2]
    if not parts:
        parts = [["py3", "none", "any"]]
    joined = ["." .join(dict.fromkeys(p[i] for p in parts)) for i in range(3)]
    return f"{_wheel_name(name)}-{version.replace('-', '_')}-{'-'.join(joined)}.whl"


def _sdist_from_members(members: list[str], read: dict[str, str]) -> str | None:
    tops = {PurePosixPath(m).parts[0] for m in members if PurePosixPath(m).parts}
    for text in read.values():
        name, version = _headers(text)
        if name and version:
            return f"{canonicalize_name(name)}-{version}"
    if len(tops) == 1:
        top = next(iter(tops))
        m = _VERSIONED_FOLDER.match(top)
        if m:
            return f"{canonicalize_name(m['name'])}-{m['version']}"
        return f"{canonicalize_name(top) or 'package'}-0.0.0"
    return None


def _pkg_info_members(members: list[str]) -> list[str]:
    return [m for m in members if PurePosixPath(m).name == "PKG-INFO"
            and len(PurePosixPath(m).parts) == 2]


def _tar_suffix(path: Path) -> str:
    """The suffix pip reads the compression from, by the file's magic bytes."""
    with path.open("rb") as fh:
        head = fh.read(6)
    if head.startswith(b"\x1f\x8b"):
        return ".tar.gz"
    if head.startswith(b"BZh"):
        return ".tar.bz2"
    if head.startswith(b"\xfd7zXZ"):
        return ".tar.xz"
    return ".tar"


def canonical_name(path: Path) -> str:
    """The file name pip needs for `path` (its own name when the contents say nothing)."""
    if path.is_dir():
        return path.name
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                wheel = _wheel(zf)
                if wheel:
                    return wheel
                members = zf.namelist()
                read = {m: zf.read(m)[:_MAX_METADATA].decode("utf-8", "replace")
                        for m in _pkg_info_members(members)}
                stem = _sdist_from_members(members, read)
                return f"{stem}.zip" if stem else path.name
        if tarfile.is_tarfile(path):
            with tarfile.open(path) as tar:
                entries = tar.getmembers()
                members = [e.name for e in entries]
                read = {}
                wanted = set(_pkg_info_members(members))
                for entry in entries:
                    if entry.isfile() and entry.name in wanted:
                        fh = tar.extractfile(entry)
                        if fh is not None:
                            read[entry.name] = fh.read(_MAX_METADATA).decode("utf-8", "replace")
                stem = _sdist_from_members(members, read)
                return f"{stem}{_tar_suffix(path)}" if stem else path.name
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError, ValueError):
        return path.name
    return path.name
