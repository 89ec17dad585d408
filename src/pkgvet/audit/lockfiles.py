"""Lock files and pyproject dependencies, read with tomllib per each format's own layout.

- `uv.lock`: `[[package]]` with `name`, `version`, `source`, `sdist.hash`, `wheels[].hash`;
  the project itself (`source = {editable|virtual = ...}`) is not on an index and is skipped.
- `poetry.lock`: `[[package]]` with `name`, `version`, `files[] = {file, hash}`.
- `pylock.toml` (PEP 751): `[[packages]]` with `name`, `version`, `sdist.hashes`,
  `wheels[].hashes` and `attestation-identities` (checked against the files' verified
  PEP 740 publishers, PV550); entries with `vcs`, `directory` or `archive` are not index
  packages.
- `pyproject.toml`: `[project] dependencies`; ranges resolve to the newest matching release.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

from pkgvet.audit.requirements import Entry, Parsed, Unvettable
from pkgvet.audit.requirements import parse as parse_requirements
from pkgvet.errors import UsageError
from pkgvet.model import Publisher


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path.name} as TOML: {exc}") from exc


def _sha(value: object) -> str | None:
    if isinstance(value, str) and value.startswith("sha256:"):
        return value.removeprefix("sha256:")
    if isinstance(value, dict) and isinstance(value.get("sha256"), str):
        return str(value["sha256"])
    return None


def _entry(pkg: dict[str, Any], hashes: set[str], where: str) -> Entry:
    return Entry(str(pkg["name"]), f"=={pkg['version']}", frozenset(hashes), where)


def parse_uv(path: Path) -> Parsed:
    out = Parsed([], [])
    for pkg in _load(path).get("package", []):
        source = pkg.get("source", {})
        where = f"{path.name}:{pkg.get('name')}"
        if "registry" not in source:
            if not ({"editable", "virtual"} & set(source)):
                out.unvettable.append(
                    Unvettable(str(pkg.get("name")), where, f"not from an index: {source}")
                )
            continue
        hashes = {h for h in [_sha(pkg.get("sdist", {}).get("hash"))] if h}
        hashes |= {h for w in pkg.get("wheels", []) if (h := _sha(w.get("hash")))}
        out.entries.append(_entry(pkg, hashes, where))
    return out


def parse_poetry(path: Path) -> Parsed:
    out = Parsed([], [])
    for pkg in _load(path).get("package", []):
        where = f"{path.name}:{pkg.get('name')}"
        source = pkg.get("source", {})
        if source.get("type") in ("git", "directory", "file", "url"):
            out.unvettable.append(
                Unvettable(
                    str(pkg.get("name")), where, f"{source.get('type')} source, not an index"
                )
            )
            continue
        hashes = {h for f in pkg.get("files", []) if (h := _sha(f.get("hash")))}
        out.entries.append(_entry(pkg, hashes, where))
    return out


def parse_pylock(path: Path) -> Parsed:
    out = Parsed([], [])
    for pkg in _load(path).get("packages", []):
        where = f"{path.name}:{pkg.get('name')}"
        if pkg.get("directory", {}).get("path") == ".":
            continue  # the project being locked, not a dependency
        if {"vcs", "directory", "archive"} & set(pkg):
            out.unvettable.append(
                Unvettable(str(pkg.get("name")), where, "vcs, directory or archive source")
            )
            continue
        if "version" not in pkg:
            out.unvettable.append(Unvettable(str(pkg.get("name")), where, "no version locked"))
            continue
        hashes = {h for h in [_sha(pkg.get("sdist", {}).get("hashes"))] if h}
        hashes |= {h for w in pkg.get("wheels", []) if (h := _sha(w.get("hashes")))}
        entry = _entry(pkg, hashes, where)
        identities = _identities(pkg.get("attestation-identities"))
        out.entries.append(replace(entry, identities=identities) if identities else entry)
    return out


def _identities(value: object) -> tuple[Publisher, ...]:
    """PEP 751 `attestation-identities`: tables with `kind` and the kind's own keys."""
    if not isinstance(value, list):
        return ()
    found = []
    for item in value:
        if isinstance(item, dict) and isinstance(item.get("kind"), str):
            found.append(Publisher(
                kind=item["kind"],
                repository=str(item.get("repository") or item.get("project") or ""),
                workflow=str(item.get("workflow") or item.get("workflow_filepath") or ""),
                environment=str(item.get("environment") or ""),
                email=str(item.get("email") or ""),
            ))
    return tuple(found)


def parse_pyproject(path: Path) -> Parsed:
    out = Parsed([], [])
    deps = _load(path).get("project", {}).get("dependencies", [])
    for raw in deps:
        where = f"{path.name}:[project].dependencies"
        try:
            req = Requirement(raw)
        except InvalidRequirement:
            out.unvettable.append(Unvettable(raw, where, "not a valid requirement"))
            continue
        if req.url:
            out.unvettable.append(Unvettable(raw, where, "direct URL requirement"))
            continue
        if req.marker is not None and not req.marker.evaluate():
            continue
        out.entries.append(Entry(req.name, str(req.specifier), frozenset(), where))
    return out


def parse_any(path: Path) -> Parsed:
    """Pick the reader by file name, as the tools that write these files name them."""
    name = path.name
    if name == "uv.lock":
        return parse_uv(path)
    if name == "poetry.lock":
        return parse_poetry(path)
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return parse_pylock(path)
    if name == "pyproject.toml":
        return parse_pyproject(path)
    return parse_requirements(path)
