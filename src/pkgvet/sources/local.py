"""Local targets: an sdist or wheel file on disk, or an unpacked project folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from pkgvet.errors import UsageError
from pkgvet.model import ArtifactKind
from pkgvet.package import Artifact

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar", ".whl")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def name_version_from_filename(filename: str) -> tuple[str | None, str | None]:
    """Name and version as the file name states them (PEP 427 / PEP 625), if it follows them."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return str(name), str(version)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    stem = filename
    for suffix in ARCHIVE_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    head, sep, tail = stem.rpartition("-")
    if sep and head and tail[:1].isdigit():
        return head, tail
    return None, None


def local_artifact(path: Path) -> Artifact:
    if not path.exists():
        raise UsageError(f"{path} does not exist; give a package name, a file or a folder")
    if path.is_dir():
        return Artifact(path=path, kind=ArtifactKind.FOLDER, sha256="", source=str(path))
    kind = ArtifactKind.WHEEL if path.name.endswith(".whl") else ArtifactKind.SDIST
    name, version = name_version_from_filename(path.name)
    return Artifact(
        path=path,
        kind=kind,
        sha256=sha256_file(path),
        name=name,
        version=version,
        source=str(path),
    )
