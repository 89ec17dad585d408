"""Where packages come from: local files and folders, or an index (see `pkgvet.fetch`).

`resolve()` turns one command-line target into the artifacts to scan; requirements files and
lockfiles are expanded by `pkgvet.audit` into index targets first.
"""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from pkgvet.errors import UsageError
from pkgvet.package import Artifact
from pkgvet.sources.local import ARCHIVE_SUFFIXES, local_artifact


def looks_local(target: str) -> bool:
    return (
        Path(target).exists()
        or target.lower().endswith(ARCHIVE_SUFFIXES)
        or "/" in target
        or target.startswith(".")
    )


def parse_index_target(target: str) -> tuple[str, str | None]:
    """`name` or `name==version` (or any specifier, resolved to the newest match)."""
    try:
        req = Requirement(target)
    except InvalidRequirement as exc:
        raise UsageError(
            f"'{target}' is neither an existing file or folder nor a requirement like "
            "'name' or 'name==1.2.3'"
        ) from exc
    spec = str(req.specifier) or None
    return req.name, spec


def resolve(
    target: str, *, index_url: str | None = None, all_files: bool = False
) -> list[Artifact]:
    if looks_local(target):
        return [local_artifact(Path(target))]
    from pkgvet import fetch

    name, spec = parse_index_target(target)
    return fetch.fetch(name, spec, index_url=index_url, all_files=all_files)
