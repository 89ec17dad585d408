"""Libraries reached through another module of the package.

`from . import compat` then `compat.requests_.post(...)`, where `compat.py` holds
`import requests as requests_`, calls `requests.post`: hiding the import in a sibling module
changes nothing at run time, so it changes nothing here. Each module's module-level imports
of outside names are read once per package (a line scan, not a parse), and a dotted name that
runs through a package module into one of them is rewritten to the outside name.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pkgvet.package import Package

_IMPORT = re.compile(r"^import[ \t]+([\w.]+)(?:[ \t]+as[ \t]+(\w+))?[ \t]*(?:#.*)?$", re.M)
_FROM = re.compile(r"^from[ \t]+([\w.]+)[ \t]+import[ \t]+([\w \t,]+?)[ \t]*(?:#.*)?$", re.M)


def _bindings(text: str) -> dict[str, str]:
    """Local name -> the outside dotted name a module binds at column 0 (absolute imports)."""
    found: dict[str, str] = {}
    if "import" not in text:
        return found
    for m in _IMPORT.finditer(text):
        module, alias = m.group(1), m.group(2)
        if alias:
            found[alias] = module
        else:
            found.setdefault(module.split(".")[0], module.split(".")[0])
    for m in _FROM.finditer(text):
        module = m.group(1)
        for part in m.group(2).split(","):
            bits = part.split()
            if len(bits) == 3 and bits[1] == "as":
                found[bits[2]] = f"{module}.{bits[0]}"
            elif len(bits) == 1:
                found[bits[0]] = f"{module}.{bits[0]}"
    return found


def expander(pkg: Package, importer: str) -> Callable[[str], str | None]:
    """For names qualified in `importer`: the outside name a dotted name reaches through
    another package module's import, or None."""
    from pkgvet.analysis.reachability import _Index

    index = _Index.of(pkg)
    memo = pkg.memo.setdefault("reexports", {})
    assert isinstance(memo, dict)
    tops = memo.get("")
    if not isinstance(tops, frozenset):
        tops = frozenset(name.split(".")[0] for name in index.by_name)
        memo[""] = tops

    def bindings(rel: str) -> dict[str, str]:
        found = memo.get(rel)
        if not isinstance(found, dict):
            f = pkg.get(rel)
            text = f.text() if f is not None else None
            found = {k: v for k, v in _bindings(text or "").items()
                     if v.split(".")[0] not in tops}
            memo[rel] = found
        return found

    def expand(dotted: str) -> str | None:
        if not dotted.startswith("."):
            return None  # asked only for relative names
        hit = index.resolve_call(dotted, importer, False)
        if hit is None:
            return None
        target, rest = hit
        if target == importer:
            return None
        head, _, tail = rest.partition(".")
        outside = bindings(target).get(head)
        if outside is None:
            return None
        return f"{outside}.{tail}" if tail else outside

    return expand
