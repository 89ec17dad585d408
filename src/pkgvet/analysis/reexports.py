"""Libraries reached through another module of the package.

`from . import compat` then `compat.requests_.post(...)`, where `compat.py` holds
`import requests as requests_`, calls `requests.post`: hiding the import in a sibling module
changes nothing at run time, so it changes nothing here. The same holds when the package
names itself absolutely (`from ev import compat`, `import ev.compat as compat`,
`from ev.compat import requests_`), and through more than one hop (`_util.py` re-exports
`run` from `_base.py`, which holds `from os import system as run`). Each module's
module-level imports and plain aliases (`run = os.system`) are read once per package (a line
scan, not a parse), and a dotted name that runs through package modules into an outside
name is rewritten to that name.

Star imports pass names on too (`from ._base import *`). A file that names no capability
itself, but calls or imports such a re-exported name (`from ._util import run; run(...)`),
is parsed in full like any file that names one (`names_capability`, `star_capability`): the
prefilter reads words, and the word is in the sibling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pkgvet.analysis.prefilter import folded
from pkgvet.package import Package

MAX_HOPS = 6
"""Package modules one name may pass through before it reaches an outside name."""

_BINDING = re.compile(
    r"\n(?:import[ \t]+([\w.]+)(?:[ \t]+as[ \t]+(\w+))?[ \t]*(?:[#;][^\n]*)?(?=\n)"
    r"|from[ \t]+([\w.]+)[ \t]+import[ \t]*(?:\(([^)]{0,2000})\)"
    r"|([\w \t,*]+?)[ \t]*(?:[#;][^\n]*)?(?=\n))"
    r"|(\w+)[ \t]*=[ \t]*([A-Za-z_][\w.]*)[ \t]*(?:[#;][^\n]*)?(?=\n))")
"""One pass over a module for the column-0 lines that bind names: `import a.b as c`,
`from m import (x as y, z)`, `from m import *` and `name = dotted.name`. Every branch starts
after a newline, so the regular-expression engine jumps from line start to line start (a
pattern anchored with `^` in multi-line mode is tried at every character, several times
slower)."""
_BLOCK = re.compile(r"\n(?:try|else|(?:if|elif|except)\b[^\n]{0,300})[ \t]*:[ \t]*(?:#[^\n]*)?"
                    r"((?:\n[ \t]+[^\n]*|\n[ \t]*(?=\n))+)")
"""A column-0 `try:`, `if ...:`, `else:` or `except ...:` block: imports one level inside it
bind the module's names too (`try:\n    from os import system as run`)."""
_COMMENT = re.compile(r"#[^\n]*")
STAR = re.compile(r"\nfrom[ \t]+([\w.]+)[ \t]+import[ \t]+\*")


def join(module: str, name: str) -> str:
    """`module.name`, or `.name` / `..name` for the relative packages `.` and `..`."""
    return f"{module}{name}" if module.endswith(".") else f"{module}.{name}"


def _bindings(text: str) -> dict[str, str]:
    """Local name -> the dotted name a module binds: absolute (`os.system`) or relative to
    the module (`._base.run`), from imports at column 0 or one level inside a column-0
    `try`/`if` block, and plain aliases at column 0 (`run = os.system`). Modules star-imported
    are listed under `*`, separated by spaces."""
    if "import" not in text:
        return {}
    padded = f"\n{text}\n"
    found = _lines(padded, aliases=True)
    if "\ntry" in padded or "\nif " in padded:
        for block in _BLOCK.findall(padded):
            body = block.lstrip("\n")
            indent = body[: len(body) - len(body.lstrip(" \t"))]
            inner = [line[len(indent):] for line in block.split("\n")
                     if line.startswith(indent) and not line[len(indent):len(indent) + 1].isspace()]
            for name, bound in _lines("\n" + "\n".join(inner) + "\n", aliases=False).items():
                if name != "*":
                    found.setdefault(name, bound)
    return found


def _lines(padded: str, aliases: bool) -> dict[str, str]:
    found: dict[str, str] = {}
    assigned: list[tuple[str, str]] = []
    for module, alias, source, grouped, plain, name, value in _BINDING.findall(padded):
        if module:
            if alias:
                found[alias] = module
            else:
                found.setdefault(module.split(".")[0], module.split(".")[0])
        elif source:
            names = _COMMENT.sub("", grouped) if grouped else plain
            for part in names.split(","):
                bits = part.split()
                if len(bits) == 3 and bits[1] == "as":
                    found[bits[2]] = join(source, bits[0])
                elif bits == ["*"]:
                    found["*"] = f"{found.get('*', '')} {source}".strip()
                elif len(bits) == 1:
                    found[bits[0]] = join(source, bits[0])
        elif name and aliases:
            assigned.append((name, value))
    for name, value in assigned:
        head, dot, rest = value.partition(".")
        if head in found and name != head:
            found[name] = found[head] + dot + rest
    return found


@dataclass(frozen=True, slots=True)
class Expander:
    """For names qualified in `importer`: the outside name a dotted name reaches through
    the package's own modules, or None. `own` holds the top-level names of those modules,
    so a caller asks only about names that start in the package (relative or `own`)."""

    pkg: Package
    importer: str
    own: frozenset[str]

    def __call__(self, dotted: str) -> str | None:
        if dotted.startswith("."):
            return self._follow(dotted, self.importer, MAX_HOPS)
        # An absolute name means the same in every module: large packages name their own
        # classes absolutely from hundreds of modules, so each is followed once.
        memo = self.pkg.memo.setdefault("reexported", {})
        assert isinstance(memo, dict)
        if dotted not in memo:
            memo[dotted] = self._follow(dotted, "", MAX_HOPS)
        found = memo[dotted]
        return found if isinstance(found, str) else None

    def _follow(self, name: str, importer: str, hops: int) -> str | None:
        from pkgvet.analysis.reachability import _Index

        if hops <= 0:
            return None
        hit = _Index.of(self.pkg).resolve_call(name, importer, False)
        if hit is None or hit[0] == importer:
            return None
        target, rest = hit
        head, _, tail = rest.partition(".")
        bindings = self._bindings(target)
        bound = bindings.get(head)
        if bound is None:
            # `from ._base import *` passes on whatever `_base` binds
            for star in bindings.get("*", "").split():
                found = self._follow(join(star, rest), target, hops - 1)
                if found is not None:
                    return found
            return None
        name = f"{bound}.{tail}" if tail else bound
        if not self.inside(bound):
            return name
        return self._follow(name, target, hops - 1)

    def inside(self, dotted: str) -> bool:
        """Whether a dotted name starts in the package (relative, or one of its modules)."""
        return dotted.startswith(".") or dotted.partition(".")[0] in self.own

    def _bindings(self, rel: str) -> dict[str, str]:
        memo = self.pkg.memo.setdefault("reexports", {})
        assert isinstance(memo, dict)
        found = memo.get(rel)
        if not isinstance(found, dict):
            f = self.pkg.get(rel)
            text = f.text() if f is not None else None
            found = _bindings(folded(text or ""))
            memo[rel] = found
        return found


def expander(pkg: Package, importer: str) -> Expander:
    """The expander for names qualified in `importer` (the package's own top-level module
    names are listed once per package)."""
    from pkgvet.analysis.reachability import _Index

    tops = pkg.memo.get("own-tops")
    if not isinstance(tops, frozenset):
        tops = frozenset(name.split(".")[0] for name in _Index.of(pkg).by_name)
        pkg.memo["own-tops"] = tops
    return Expander(pkg, importer, tops)


def names_capability(pkg: Package, importer: str, names: Iterable[str]) -> bool:
    """Whether any of `names` (dotted names a file calls or imports, as the graph scan read
    them) reaches, through the package's own modules, a name the catalog gives a
    capability (`._util.run` -> `os.system`)."""
    from pkgvet.analysis.facts import catalog

    expand = expander(pkg, importer)
    cat = catalog()
    own = expand.own
    for dotted in names:
        if not dotted.startswith(".") and dotted.partition(".")[0] not in own:
            continue
        outside = expand(dotted)
        if outside is not None and cat.caps_for(outside):
            return True
    return False


MAX_STARRED = 200
"""Called names tried against a file's star imports (a bound for generated files)."""


def star_capability(pkg: Package, importer: str, text: str, called: Iterable[str]) -> bool:
    """Whether a name the file calls without importing it comes from a package module it
    star-imports (`from ._util import *`) and reaches a capability there."""
    expand = expander(pkg, importer)
    bases = [b for b in STAR.findall(f"\n{text}") if expand.inside(b)]
    if not bases:
        return False
    names = [n for n in dict.fromkeys(called) if n.isidentifier()][:MAX_STARRED]
    return names_capability(pkg, importer, [join(b, n) for b in bases for n in names])
