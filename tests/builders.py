"""Build real sdists and wheels in tests: tar and zip files written byte by byte.

Payloads in fixtures are inert: they point at 127.0.0.1 or *.invalid names and never run.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

Files = dict[str, str | bytes]


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def pkg_info(name: str, version: str, extra: str = "") -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test fixture\n{extra}"


def make_sdist(
    dest: Path,
    name: str,
    version: str,
    files: Files,
    *,
    with_pkg_info: bool = True,
    compression: str = "gz",
) -> Path:
    """An sdist `name-version.tar.gz` whose members live under `name-version/`."""
    root = f"{name}-{version}"
    suffix = {"gz": "tar.gz", "bz2": "tar.bz2", "xz": "tar.xz"}[compression]
    path = dest / f"{root}.{suffix}"
    members = dict(files)
    if with_pkg_info and "PKG-INFO" not in members:
        members["PKG-INFO"] = pkg_info(name, version)
    with tarfile.open(path, f"w:{compression}") as tf:
        for rel, content in sorted(members.items()):
            data = _bytes(content)
            info = tarfile.TarInfo(f"{root}/{rel}")
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(
    dest: Path,
    name: str,
    version: str,
    files: Files,
    *,
    tag: str = "py3-none-any",
    record: bool = True,
    record_overrides: dict[str, str] | None = None,
) -> Path:
    """A wheel with METADATA, WHEEL and a correct RECORD (unless told otherwise)."""
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    members: dict[str, bytes] = {k: _bytes(v) for k, v in files.items()}
    members.setdefault(f"{dist_info}/METADATA", _bytes(pkg_info(name, version)))
    members.setdefault(
        f"{dist_info}/WHEEL",
        _bytes(f"Wheel-Version: 1.0\nGenerator: pkgvet-tests\nRoot-Is-Purelib: true\nTag: {tag}\n"),
    )
    path = dest / f"{name.replace('-', '_')}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        lines = []
        for rel, data in sorted(members.items()):
            zf.writestr(rel, data)
            digest = (record_overrides or {}).get(rel, _record_hash(data))
            lines.append(f"{rel},{digest},{len(data)}")
        if record:
            lines.append(f"{dist_info}/RECORD,,")
            zf.writestr(f"{dist_info}/RECORD", "\n".join(lines) + "\n")
    return path


BENIGN_SETUP = """\
from setuptools import setup, find_packages

setup(
    name="{name}",
    version="{version}",
    packages=find_packages(),
)
"""


def base64_exec_sdist(dest: Path, payload: bytes = b"print('inert')") -> Path:
    """evil-1.0: setup.py decodes and execs an (inert) payload at install time, line 3."""
    encoded = base64.b64encode(payload).decode()
    setup = (
        "import base64\n"
        "from setuptools import setup\n"
        f"exec(base64.b64decode('{encoded}'))\n"
        "setup(name='evil', version='1.0')\n"
    )
    return make_sdist(dest, "evil", "1.0", {"setup.py": setup})
