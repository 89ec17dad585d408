"""Parsing, guarded: CPython's parser first, newer syntax shimmed, hostile files refused
cleanly; and payloads carried in string literals decoded statically and analysed as code."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pkgvet.analysis.facts import (
    ENV_LAUNCHERS,
    MODULE,
    Catalog,
    FileFacts,
    ast_facts,
    catalog,
    text_facts,
)
from pkgvet.analysis.graph_scan import graph_facts
from pkgvet.analysis.prefilter import folded, has_ingredient
from pkgvet.analysis.reexports import expander, names_capability, star_capability
from pkgvet.package import Package, PackageFile
from pkgvet.readers.decoding import literal_layers
from pkgvet.readers.pickle_ops import dangerous_global, literal_pickle

LONG_LINE = 1024 * 1024
HUGE_LINE_HINT = 100_000


def parse_guard(text: str) -> tuple[str, str, ast.Module | None]:
    """('ok'|'deep'|'syntax'|'long', detail, tree): CPython's parser first, because libcst's
    native parser overflows the C stack on pathological nesting and takes the process with it;
    CPython's has guards and refuses such files cleanly."""
    verdict, detail, tree, _ = _parse_guard(text)
    return verdict, detail, tree


def _parse_guard(text: str, tree: ast.Module | None = None,
                 ) -> tuple[str, str, ast.Module | None, bool]:
    """`parse_guard`, and whether the tree is `ast.parse(text)` itself (not a shimmed text).
    `tree`: `ast.parse(text)` made already (by `plain_tree`)."""
    if len(text) > HUGE_LINE_HINT:
        longest = max((len(line) for line in text.splitlines()), default=0)
        if longest > LONG_LINE:
            return "long", f"longest line {longest // 1024} KiB", None, False
    if tree is not None:
        return "ok", "", tree, True
    try:
        tree = ast.parse(text)
    except RecursionError:
        return "deep", "expression nesting exceeds the parser's recursion limit", None, False
    except MemoryError:
        return "deep", "parser ran out of memory", None, False
    except SyntaxError as exc:
        msg = str(exc.msg)
        if "too many nested" in msg or "too complex" in msg:
            return "deep", msg, None, False
        newer = _parse_newer_syntax(text)
        if newer is not None:
            return "ok", "", newer, False
        return "syntax", f"line {exc.lineno}: {msg}", None, False
    except ValueError as exc:  # NUL bytes in source
        return "syntax", str(exc), None, False
    return "ok", "", tree, True


# Python 3.12's type statements and type parameters (PEP 695), which this interpreter's
# parser refuses. Rewritten in place, line for line, into what it reads (`type X = ...` to
# `X = ...`, `def f[T](` to `def f(`), so that modern packages get the precise front-end
# instead of the text scan. A regular expression, not a parser: anything it cannot rewrite
# (nested brackets in the parameters) still fails to parse and goes to the text scan.
_TYPE_ALIAS = re.compile(r"^([ \t]*)type[ \t]+([A-Za-z_]\w*)[ \t]*(?:\[[^\]\n]*\])?[ \t]*=", re.M)
_TYPE_PARAMS = re.compile(
    r"^([ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+[A-Za-z_]\w*)\[[^\]\n]*\](?=[ \t]*[(:])", re.M
)


def _parse_newer_syntax(text: str) -> ast.Module | None:
    shimmed = text
    if "type " in text or "[" in text:
        shimmed = _TYPE_PARAMS.sub(r"\1", _TYPE_ALIAS.sub(r"\1\2 =", text))
    if "f'" in shimmed or 'f"' in shimmed or "F'" in shimmed or 'F"' in shimmed:
        shimmed = _F_LINE.sub(lambda m: _requote(m.group()), shimmed)
    if shimmed == text:
        return None
    try:
        return ast.parse(shimmed)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


# Python 3.12's f-strings (PEP 701) may reuse their own quote and hold backslashes inside
# the braces (`f"{cfg["a"]}"`, `f"{'\n'.join(x)}"`), which this parser refuses: a whole
# module would fall to the text scan, where nothing is folded. Rewritten in place, character
# for character, on one-line f-strings: the quote inside the braces becomes the other quote,
# a backslash there becomes a space (a literal's value changes, never the code's shape).
_F_LINE = re.compile(r"^[^\n]*(?<![\w])[rRbB]?[fF][rR]?['\"][^\n]*$", re.M)
_F_START = re.compile(r"(?<![\w'\"])[rR]?[fF][rR]?(['\"])")


def _requote(line: str) -> str:
    out: list[str] = []
    at = 0
    while (m := _F_START.search(line, at)) is not None:
        quote = m.group(1)
        other = "'" if quote == '"' else '"'
        out.append(line[at:m.end()])
        i, depth = m.end(), 0
        while i < len(line):
            c = line[i]
            if depth == 0:
                if c == quote:
                    break
                if c == "\\":
                    out.append(line[i:i + 2])
                    i += 2
                    continue
                if c == "{" and line[i + 1:i + 2] != "{":
                    depth = 1
                elif c == "{":
                    out.append("{{")
                    i += 2
                    continue
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == quote:
                c = other
            elif c == "\\":
                c = " "
            out.append(c)
            i += 1
        out.append(line[i:i + 1])
        at = i + 1
    out.append(line[at:])
    return "".join(out)


_PYTHON_C = re.compile(r"""python[0-9.]*(?:\.exe)?\s+-c\s+(["'])(.+?)\1""", re.DOTALL)
_ESCAPES = re.compile(r"\\x[0-9a-fA-F]{2}|\\[0-7]{3}")
UNPACK_DEPTH = 2
UNPACK_MAX = 64
UNPACK_BYTES = 4 * 1024 * 1024


def decodings(text: str) -> Iterator[str]:
    """Texts an embedded literal may carry: itself, `python -c` bodies, and base64, hex and
    zlib/bz2/lzma layers decoded statically (decoding data runs none of it)."""
    yield text
    for m in _PYTHON_C.finditer(text):
        yield m.group(2)
    for layer in literal_layers(text):
        try:
            decoded = layer.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if decoded.isprintable() or "\n" in decoded:
            yield decoded


def _pickle_caps(cat: Catalog, name: str) -> frozenset[str]:
    """What calling `name` from a pickle does, as the catalog says of a call in code (the
    pickler writes `os.system` as `posix.system`); `exec` when the catalog names nothing:
    a pickle that calls any code-running global runs code."""
    module, _, attr = name.rpartition(".")
    for candidate in (name, f"os.{attr}" if module in ("posix", "nt") else "",
                      attr if module in ("builtins", "__builtin__") else ""):
        if candidate and (caps := cat.caps_for(candidate)):
            return caps
    return frozenset({"exec"})


def unpack_embedded(ff: FileFacts, depth: int = 0) -> None:
    """Analyze code hidden in string literals (written to disk, passed to `python -c`, or
    base64/zlib encoded) as if it stood where the literal stands. A pickle in a literal
    counts as the calls its opcodes make (`os.system` in a pickle is a call of os.system)."""
    cat = catalog()
    for line, scope, text in ff.embedded[:UNPACK_MAX]:
        pickled = literal_pickle(text)
        if pickled is not None and pickled.calls:
            for name in dict.fromkeys(g for g in pickled.globals if dangerous_global(g)):
                for cap in _pickle_caps(cat, name):
                    ff.add(cap, line, scope, f"a pickle in a literal calls {name}")
                ff.add("decoded_code", line, scope, "code decoded from an embedded literal")
        for i, candidate in enumerate(decodings(text)):
            if i > 0:
                for cap in cat.literal_caps(candidate[:4096]):
                    ff.add(f"lit:{cap}", line, scope, candidate[:200])
            if i == 0 and not CODE_HINT.search(candidate):
                continue
            try:
                tree = ast.parse(candidate)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            try:
                inner = ast_facts(tree)
            except RecursionError:
                continue
            if depth < UNPACK_DEPTH and inner.embedded:
                unpack_embedded(inner, depth + 1)
            for fact in inner.facts:
                ff.add(fact.cap, line, scope, fact.detail)
            if i > 0:
                ff.add("decoded_code", line, scope, "code decoded from an embedded literal")


CODE_HINT = re.compile(r"\bimport\s+\w|\bexec\s*\(|\beval\s*\(|urlopen|os\.system|socket\.")




# -- facts of a package file, once ------------------------------------------------------------


_ESCAPES_MIN = 40


@dataclass(slots=True)
class Parsed:
    """A file's facts and how its parse went (`ok`, `deep`, `long`, `syntax`)."""

    facts: FileFacts
    verdict: str
    detail: str
    tree: ast.Module | None


def parsed(pkg: Package, f: PackageFile) -> Parsed | None:
    """Parse and collect a file once per package (the graph and the grading share it)."""
    memo = pkg.memo.setdefault("parsed", {})
    assert isinstance(memo, dict)
    if f.relpath in memo:
        found = memo[f.relpath]
        return found if isinstance(found, Parsed) else None
    text = f.text()
    result: Parsed | None = None
    if text is not None:
        trees = pkg.memo.setdefault("ast", {})
        assert isinstance(trees, dict)
        made = trees.get(f.relpath)
        verdict, detail, tree, plain = _parse_guard(
            text, made if isinstance(made, ast.Module) else None)
        if plain:
            trees[f.relpath] = tree
        ff: FileFacts | None = None
        if tree is not None:
            try:
                expand = expander(pkg, f.relpath)
                ff = ast_facts(tree, expand, expand.own)
            except RecursionError:
                ff = None
        if ff is None:
            ff = text_facts(text)
        unpack_embedded(ff)
        escapes = _ESCAPES.findall(text, 0, 200_000)
        if len(escapes) >= _ESCAPES_MIN:
            first = _ESCAPES.search(text)
            line = text.count("\n", 0, first.start()) + 1 if first else 0
            ff.add("escaped_strings", line, MODULE, f"{len(escapes)} escape sequences")
        result = Parsed(ff, verdict, detail, tree)
    memo[f.relpath] = result
    return result


def shared_tree(pkg: Package, f: PackageFile) -> ast.Module | None:
    """`ast.parse` of a file's text when `parsed` has made it already (None otherwise): the
    other analyzers that walk a module's syntax read the same tree instead of parsing the
    file again. Nobody changes a tree."""
    trees = pkg.memo.get("ast")
    found = trees.get(f.relpath) if isinstance(trees, dict) else None
    return found if isinstance(found, ast.Module) else None


def plain_tree(pkg: Package, f: PackageFile) -> ast.Module | None:
    """`ast.parse` of a file's text, once per package: `shared_tree`'s, or parsed now and
    kept for `parsed` (the carried-payload analyzer asks first for some files the source
    analysis reads later). None when it does not parse as it stands."""
    tree = shared_tree(pkg, f)
    if tree is not None:
        return tree
    failed = pkg.memo.setdefault("unparsable", set())
    assert isinstance(failed, set)
    text = f.text()
    if text is None or f.relpath in failed:
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        failed.add(f.relpath)
        return None
    trees = pkg.memo.setdefault("ast", {})
    assert isinstance(trees, dict)
    trees[f.relpath] = tree
    return tree


def ingredient(pkg: Package, rel: str, text: str) -> bool:
    """`prefilter.has_ingredient`, once per file."""
    memo = pkg.memo.setdefault("ingredient", {})
    assert isinstance(memo, dict)
    if rel not in memo:
        memo[rel] = has_ingredient(text)
    return bool(memo[rel])


def file_facts(pkg: Package, f: PackageFile) -> FileFacts | None:
    """Facts for the package graph and flows: the full parse where the file holds any
    ingredient of a capability, the cheap graph scan where it holds none. A file whose graph
    scan calls or imports a name that a sibling module re-exports from a capability
    (`from ._util import run`, `_util.py` holding `from os import system as run`) names that
    capability as surely as if the word stood there: it gets the full parse, and counts as
    holding an ingredient from then on."""
    found = pkg.memo.setdefault("parsed", {})
    assert isinstance(found, dict)
    done = found.get(f.relpath)
    if isinstance(done, Parsed):
        return done.facts
    text = f.text()
    if text is None:
        return None
    whole = pkg.memo.get("reach")
    in_whole = whole is not None and f.relpath in getattr(whole, "whole", ())
    if not in_whole and not ingredient(pkg, f.relpath, text):
        light = pkg.memo.setdefault("graph", {})
        assert isinstance(light, dict)
        result = light.get(f.relpath)
        if isinstance(result, FileFacts):
            return result
        result = graph_facts(folded(text))
        if not _runs_a_program(result, text) \
                and not _reexported_capability(pkg, f.relpath, result, text):
            light[f.relpath] = result
            return result
        ingredients = pkg.memo.setdefault("ingredient", {})
        assert isinstance(ingredients, dict)
        ingredients[f.relpath] = True
    full = parsed(pkg, f)
    return full.facts if full is not None else None


PROCESS_MODULES = frozenset({"os", "subprocess", "pty", "posix", "nt", "_posixsubprocess",
                             "_winapi", "commands", "asyncio"})


_PROCESS_VALUE = re.compile(
    r"\.(?:system|popen|Popen|call|check_call|check_output|getoutput|spawn\w*|exec[lv]\w*|"
    r"posix_spawnp?|fork_exec)\b(?![ \t]*\()")
"""A process function named as a value, not called where it is named (`run = os.system`,
handed to a thread, a pool, partial, map)."""


_GETATTR_OS = re.compile(r"getattr\s*\(\s*(?:os|asyncio)\s*,")


def _runs_a_program(light: FileFacts, text: str) -> bool:
    """Whether a graph-scanned file calls a function that starts a process (`os.system`,
    `subprocess.call`...) or one that runs what an environment setting names
    (`webbrowser.open`, `breakpoint()`, `pydoc.pager`). The process words alone do not make
    a file worth the full parse (they are everywhere), but in a file the package graph
    reaches, what the command is decides the grade, and a command built from pieces
    (`"c" + "url ... | sh"`) holds no word of its own: only folding its argument shows it."""
    cat = catalog()
    if any("process" in cat.caps_for(dotted) or dotted in ENV_LAUNCHERS
           for called in light.qualified_calls.values() for dotted in called):
        return True
    if any("process" in cat.caps_for(target) for _, target, _ in light.imports):
        return True  # `from os import system as run`
    simple = set().union(*light.calls.values()) if light.calls else set()
    if simple & {"breakpoint", "help"}:
        return True
    tops = {target.partition(".")[0] for _, target, _ in light.imports}
    if not tops & PROCESS_MODULES:
        return False
    # `getattr(subprocess, "ca" + "ll")`: a process module's function by a built name (os
    # and asyncio, imported by most modules for other things, only when getattr reads
    # them by name); `Thread(target=os.system, args=(cmd,))`: handed on
    if "getattr" in simple and (tops & (PROCESS_MODULES - {"os", "asyncio"})
                                or _GETATTR_OS.search(text) is not None):
        return True
    return _PROCESS_VALUE.search(text) is not None


def _reexported_capability(pkg: Package, rel: str, light: FileFacts, text: str) -> bool:
    """Whether a graph-scanned file calls or imports a capability through a sibling's
    re-export (asked once per file, from what the graph scan read)."""
    names = {dotted for called in light.qualified_calls.values() for dotted in called}
    names.update(target for _, target, _ in light.imports)
    if names and names_capability(pkg, rel, names):
        return True
    if "import *" not in text:
        return False
    called = {n for simple in light.calls.values() for n in simple} - set(light.functions)
    return star_capability(pkg, rel, text, sorted(called))
