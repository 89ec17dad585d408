"""The wheelhouse: what the sandbox installs from, with no network.

Build back-ends (always), and with `--top N` the N most-depended-on projects of the shipped
top list, so that packages install with their dependencies. pkgvet fetches them on the host
through its own fetcher (index from pip's configuration, sha256-verified, cached): pure
`py3-none-any` wheels, and for the top projects also CPython 3.11 manylinux x86_64 wheels up
to `BINARY_LIMIT` bytes. It follows their dependencies (evaluated for the image's Python 3.11
on Linux). What cannot be resolved is reported, never fatal. Nothing here builds or runs
anything.
"""

from __future__ import annotations

import os
import shutil
import tomllib
import zipfile
from collections import deque
from email.parser import BytesHeaderParser
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from pkgvet import fetch
from pkgvet.errors import PkgvetError
from pkgvet.model import ArtifactKind

IMAGE_PYTHON = "3.11"
ENVIRONMENT = {
    "python_version": IMAGE_PYTHON, "python_full_version": f"{IMAGE_PYTHON}.2",
    "implementation_name": "cpython", "platform_python_implementation": "CPython",
    "sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
    "platform_machine": "x86_64", "extra": "",
}
WHEELHOUSE_ENV = "PKGVET_WHEELHOUSE"
BINARY_LIMIT = 8 * 2**20
"""Largest compiled wheel the wheelhouse takes (numpy-sized wheels stay out)."""
_BINARY_INTERPRETERS = ("cp311", "cp37", "cp38", "cp39", "cp310", "cp32", "cp33", "cp34",
                        "cp35", "cp36")


def default_dir() -> Path:
    override = os.environ.get(WHEELHOUSE_ENV)
    return Path(override) if override else fetch.cache_dir() / "wheelhouse"


def requirements() -> list[str]:
    import importlib.resources

    data = importlib.resources.files("pkgvet").joinpath("rules", "data", "sandbox.toml")
    return list(tomllib.loads(data.read_text(encoding="utf-8"))["wheelhouse"]["requirements"])


def wheels_in(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.whl")) if folder.is_dir() else []:
        try:
            name = canonicalize_name(parse_wheel_filename(path.name)[0])
        except ValueError:
            continue
        found[name] = path
    return found


def top_projects(n: int) -> list[str]:
    """The first `n` names of the shipped top-PyPI list (most used first)."""
    import importlib.resources

    data = importlib.resources.files("pkgvet").joinpath("rules", "data", "top-pypi-5000.txt")
    names = [line.strip() for line in data.read_text(encoding="utf-8").splitlines()]
    return [name for name in names if name and not name.startswith("#")][:n]


def _fits(file: fetch.IndexFile, binary: bool) -> bool:
    """A wheel the image's CPython 3.11 on x86_64 Linux installs."""
    for tag in parse_wheel_filename(file.filename)[3]:
        if tag.abi == "none" and tag.platform == "any" and tag.interpreter.startswith("py3"):
            return True
        abi_ok = (tag.abi == "cp311" and tag.interpreter == "cp311") or (
            tag.abi == "abi3" and tag.interpreter in _BINARY_INTERPRETERS)
        small = (file.size or BINARY_LIMIT + 1) <= BINARY_LIMIT
        if binary and small and abi_ok and tag.platform.startswith(("manylinux", "linux")) \
                and tag.platform.endswith("x86_64"):
            return True
    return False


def _pure_wheel(name: str, specifier: SpecifierSet, index_url: str | None,
                binary: bool = False) -> fetch.IndexFile:
    versions = sorted((Version(v) for v in fetch.versions(name, index_url=index_url)),
                      reverse=True)
    for version in versions:
        if version.is_prerelease or version not in specifier:
            continue
        release = fetch.get_release(name, f"=={version}", index_url=index_url)
        for file in release.files:
            if file.kind is not ArtifactKind.WHEEL or file.yanked:
                continue
            if file.requires_python and IMAGE_PYTHON + ".2" not in SpecifierSet(
                    file.requires_python):
                continue
            tags = parse_wheel_filename(file.filename)[3]
            if any(t.abi == "none" and t.platform == "any" and t.interpreter.startswith("py3")
                   for t in tags):
                return file
    raise PkgvetError(f"no pure-Python wheel of {name}{specifier} for Python {IMAGE_PYTHON} "
                      "on the index; the wheelhouse cannot include it")


def _dependencies(wheel: Path, extras: frozenset[str] = frozenset()) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as zf:
        metadata = next(n for n in zf.namelist()
                        if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        headers = BytesHeaderParser().parsebytes(zf.read(metadata))
    found = []
    for line in headers.get_all("Requires-Dist") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        wanted = req.marker is None or any(
            req.marker.evaluate({**ENVIRONMENT, "extra": extra}) for extra in ("", *extras))
        if wanted:
            found.append(req)
    return found


def _satisfying(folder: Path, req: Requirement) -> Path | None:
    best: tuple[Version, Path] | None = None
    for path in folder.glob("*.whl"):
        try:
            name, version, _, _ = parse_wheel_filename(path.name)
        except ValueError:
            continue
        wanted = name == canonicalize_name(req.name) and version in req.specifier
        if wanted and (best is None or version > best[0]):
            best = (version, path)
    return best[1] if best else None


def prepare(folder: Path | None = None, *, index_url: str | None = None,
            missing: list[str] | None = None, top: int = 0) -> list[Path]:
    """Fill `folder` with the back-ends and their dependencies; returns the wheels in it.

    Each listed back-end comes in its newest release and in the newest release of the
    major version before it, because build requirements often cap the major version
    (`flit_core >=3.2,<4`). Dependencies come in their newest matching release. With a
    `missing` list, a requirement the index cannot satisfy is noted there and skipped;
    without one it is an error. With `top`, the first `top` projects of the top list come
    too (pure or small compiled wheels), with their dependencies.
    """
    folder = folder or default_dir()
    folder.mkdir(parents=True, exist_ok=True)
    listed = [Requirement(r) for r in requirements()]
    queue = deque((req, True) for req in listed)
    queue.extend((Requirement(name), False) for name in top_projects(top))
    done: set[str] = set()
    while queue:
        req, backend = queue.popleft()
        key = f"{canonicalize_name(req.name)}{sorted(req.extras)}{req.specifier}"
        if key in done:
            continue
        done.add(key)
        wheel = _satisfying(folder, req)
        if wheel is None:
            try:
                file = _pure_wheel(req.name, req.specifier, index_url, binary=top > 0)
                artifact = fetch.download(file)
            except PkgvetError as exc:
                if missing is None:
                    raise
                missing.append(f"{req}: {exc}")
                continue
            wheel = folder / file.filename
            shutil.copyfile(artifact.path, wheel)
        if backend and not req.specifier:
            major = parse_wheel_filename(wheel.name)[1].major
            if major > 1:
                queue.append((Requirement(f"{req.name}<{major}"), False))
        queue.extend((dep, False) for dep in _dependencies(wheel, frozenset(req.extras)))
    for path in folder.iterdir():
        path.chmod(0o755 if path.is_dir() else 0o644)
    folder.chmod(0o755)
    return sorted(folder.glob("*.whl"))
