"""Where a package's own Python code loads something it carries, and how it decodes it.

The carried analyzer needs, for each Python file, the calls that turn a bundled file into
running code: `pickle.load`/`torch.load`/`joblib.load` of a model, `ctypes.CDLL` or
`ffi.dlopen` of a library, `exec(...)` of a file's content after base64, zlib, XOR, reversal
or low-bit extraction. For each one this module answers: which file (by the literal path the
code names), through which decode steps, from which function, on which line.

Values are followed backwards from the call through assignments, `with ... as`, loops,
comprehensions and one level of local helper functions, within one file and a bounded depth:
enough for the ways code reads its own data, not a general data-flow analysis (that belongs
to the source analyzer's flow step).
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from pkgvet.analysis.aho import Words
from pkgvet.analysis.prefilter import folded
from pkgvet.readers.decoding import Step

MAX_SOURCE = 2 * 1024 * 1024
MAX_DEPTH = 24
MAX_STEPS = 20_000
SINK_TOKENS = (
    "pickle", "Pickle", "dill", "FunctionType", "torch", "joblib", "read_pickle",
    "allow_pickle", "DLL", "LoadLibrary", "dlopen", "run_path", "FileLoader",
    "spec_from_file_location", "load_source", "load_compiled", "jsonpickle", "fileConfig",
)
BARE_SINKS = ("exec(", "eval(", "compile(", "execfile(")
"""Counted only when called bare: `re.compile(` and `model.eval(` are not sinks."""
BARE_MODULES = ("marshal", "builtins")
"""Counted only where not an attribute of something else (`proto.marshal.rules` is not the
marshal module)."""
IO_BUILTINS = ("builtins.open", "builtins.print", "builtins.input")
"""What tests patch (`mock.patch("builtins.open")`): I/O functions, not ways to run code."""
_NOT_ATTR = r"(?<![\w.])"
YAML_UNSAFE = re.compile(
    r"load(?:" + "|".join(f"(?<={_NOT_ATTR}{re.escape(prefix)}load)" for prefix in (
        "", "yaml.", "unsafe_", "full_", "yaml.unsafe_", "yaml.full_")) + r")(?:_all)?\b"
    r"|Loader(?<!SafeLoader)(?<!BaseLoader)\b|YAML(?<!\wYAML)\s*\("
)
"""In a file that names yaml: a loader that builds objects from tags (`load`, `full_load`,
`unsafe_load`, a `Loader` other than the safe and base ones, ruamel's `YAML(...)`). `safe_load`,
`json.load` and `self.load` are not. Each branch begins with its word and looks behind it
for what may stand before: the same texts as one pattern that tries the optional prefixes
first, which is tried at every character of the file (20 times slower on the large modules
that name yaml)."""
READ_TOKENS = (
    "open(", "read_bytes", "read_text", "get_data", "read_binary", "resource_string",
    "readframes", ".read(", ".load(", "read_pickle", "DLL(", "LoadLibrary", "dlopen",
    "run_path", "imread", "getdata", "tobytes", "FileLoader", "spec_from_file_location",
    "load_source", "load_compiled", "fileConfig",
)
"""Substring screens (a C-speed `in` each): a file needs one of each to be parsed."""
SINK_WORDS = re.compile(
    r"pickle|Pickle|marshal|dill|exec|eval|compile|FunctionType|torch|joblib|DLL|LoadLibrary|"
    r"dlopen|run_path|FileLoader|spec_from_file_location|load_source|load_compiled|yaml|"
    r"jsonpickle|fileConfig"
)
"""Lines worth entering: the calls on them are then checked by name."""

PICKLE_LOADERS = frozenset({
    "pickle.load", "pickle.loads", "cPickle.load", "cPickle.loads", "_pickle.load",
    "_pickle.loads", "dill.load", "dill.loads", "cloudpickle.load", "cloudpickle.loads",
    "joblib.load", "torch.load", "pandas.read_pickle", "numpy.load", "pickle.Unpickler",
    "sklearn.externals.joblib.load", "shelve.open", "keras.models.load_model",
})
PICKLE_ENDINGS = (".Unpickler", "pickle.load", "pickle.loads")
"""Pickle loaders known by how their names end (`mylib.compat.Unpickler`)."""
NATIVE_ENDINGS = (".dlopen", "LoadLibrary")
"""Native loaders known by how their names end (`ffi.dlopen`, `windll.LoadLibrary`)."""
YAML_LOADERS = frozenset({
    "yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.unsafe_load_all",
    "yaml.full_load", "yaml.full_load_all", "ruamel.yaml.YAML.load", "jsonpickle.decode",
    "jsonpickle.loads", "yaml.Loader", "yaml.UnsafeLoader",
})
"""Loaders of YAML/JSON that build Python objects from tags (`!!python/object/apply:`,
jsonpickle's `py/reduce`): a call of any function the document names. `yaml.load` with a
`SafeLoader`/`BaseLoader` does not, and is left out."""
LOGCONF_LOADERS = frozenset({"logging.config.fileConfig"})
"""`fileConfig` evaluates each handler's `args=`/`kwargs=` and calls its `class=`: an INI
file whose values are Python expressions run at the load."""
MARSHAL_LOADERS = frozenset({"marshal.load", "marshal.loads",
                             "importlib.machinery.SourcelessFileLoader"})
SOURCE_LOADERS = frozenset({"importlib.machinery.SourceFileLoader",
                            "importlib.util.spec_from_file_location", "imp.load_source",
                            "imp.load_compiled", "importlib._bootstrap_external.SourceFileLoader"})
"""Import machinery that runs a file as Python whatever its name (path is argument 2)."""
NATIVE_LOADERS = frozenset({
    "ctypes.CDLL", "ctypes.PyDLL", "ctypes.WinDLL", "ctypes.OleDLL", "ctypes.cdll.LoadLibrary",
    "ctypes.windll.LoadLibrary", "ctypes.pydll.LoadLibrary", "ctypes.oledll.LoadLibrary",
    "_ctypes.dlopen", "_ctypes.LoadLibrary", "cffi.FFI.dlopen", "ctypes.LibraryLoader",
})
EXEC_SINKS = frozenset({
    "exec", "eval", "compile", "builtins.exec", "builtins.eval", "builtins.compile",
    "types.FunctionType", "runpy.run_path", "execfile",
}) | SOURCE_LOADERS
PATH_TAKERS = frozenset({
    "logging.config.fileConfig",
    "torch.load", "joblib.load", "numpy.load", "pandas.read_pickle", "shelve.open",
    "runpy.run_path", "execfile", "keras.models.load_model", "sklearn.externals.joblib.load",
}) | NATIVE_LOADERS | SOURCE_LOADERS | {"importlib.machinery.SourcelessFileLoader"}
DECODERS = {
    "base64.b64decode": "b64", "base64.urlsafe_b64decode": "b64",
    "base64.standard_b64decode": "b64",
    "base64.decodebytes": "b64", "base64.decodestring": "b64",
    "binascii.a2b_base64": "b64",
    "base64.b32decode": "b32", "base64.b85decode": "b85", "base64.a85decode": "a85",
    "binascii.unhexlify": "hex", "binascii.a2b_hex": "hex", "bytes.fromhex": "hex",
    "bytearray.fromhex": "hex", "zlib.decompress": "zlib", "gzip.decompress": "gzip",
    "bz2.decompress": "bz2", "lzma.decompress": "lzma",
}
CODEC_STEPS = {"rot13": "rot13", "rot_13": "rot13", "hex": "hex", "hex_codec": "hex",
               "base64": "b64", "base64_codec": "b64", "zlib": "zlib", "zlib_codec": "zlib",
               "bz2": "bz2", "bz2_codec": "bz2"}
READ_METHODS = frozenset({"read", "readlines", "read_bytes", "read_text", "getvalue", "readframes",
                          "getdata", "tobytes", "load", "getbuffer", "readline"})
OPENERS = frozenset({"open", "builtins.open", "io.open", "codecs.open", "io.FileIO",
                     "pathlib.Path", "os.path.join", "pathlib.PurePath", "pathlib.PosixPath",
                     "os.fspath", "os.path.abspath", "os.path.realpath"})
MEDIA_OPENERS = {"wave.open": "wave", "PIL.Image.open": "image", "Image.open": "image",
                 "imageio.imread": "image", "cv2.imread": "image", "soundfile.read": "wave",
                 "scipy.io.wavfile.read": "wave"}
COMPRESSED_OPENERS = {"gzip.open": "gzip", "gzip.GzipFile": "gzip", "bz2.open": "bz2",
                      "bz2.BZ2File": "bz2", "lzma.open": "lzma", "lzma.LZMAFile": "lzma"}
RESOURCE_READERS = frozenset({"pkgutil.get_data", "importlib.resources.read_binary",
                              "importlib.resources.read_text", "pkg_resources.resource_string",
                              "pkg_resources.resource_stream", "importlib.resources.open_binary"})
TRANSPARENT = frozenset({"bytes", "bytearray", "str", "list", "tuple", "enumerate", "zip",
                         "memoryview", "iter", "reversed", "chr", "ord", "int", "map", "filter",
                         "itertools.cycle", "sorted", "b''.join", "''.join", "compile",
                         "builtins.compile"})


@dataclass(slots=True)
class Prov:
    """Where a value comes from: file paths named on the way, decode steps in the order
    they apply, and the kind of source (`file`, `wave`, `image`)."""

    paths: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    opaque: list[str] = field(default_factory=list)
    """Calls the value passes through that this module cannot follow (a custom decrypt)."""
    literal: bytes | None = None

    def merge(self, other: Prov) -> Prov:
        return Prov(self.paths + other.paths, self.steps + other.steps, self.kinds | other.kinds,
                    self.opaque + other.opaque, self.literal or other.literal)

    @property
    def from_file(self) -> bool:
        return bool(self.paths) and bool(self.kinds)


@dataclass(frozen=True, slots=True)
class Load:
    """One call that turns carried bytes into running code."""

    kind: str
    """pickle | marshal | native | exec"""
    relpath: str
    line: int
    scope: str
    """`<module>` or the name of the enclosing function."""
    call: str
    paths: tuple[str, ...]
    steps: tuple[Step, ...]
    sources: frozenset[str]
    opaque: tuple[str, ...]


MODULE = "<module>"
MUTATORS = frozenset({"append", "extend", "write", "insert", "update", "appendleft"})


class _File:
    """One parsed file, indexed statement by statement (expressions are where the nodes are,
    so they are entered only on the lines that name a loader)."""

    def __init__(self, tree: ast.Module, relpath: str, text: str) -> None:
        self.tree = tree
        self.relpath = relpath
        self.aliases: dict[str, str] = {}
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.assigns: dict[str, dict[str, list[ast.AST]]] = {}
        self.spans: list[tuple[int, int, str]] = []
        self.simple: list[ast.stmt] = []
        self._statements(tree, MODULE)
        self.calls = self._candidate_calls(text)

    def _statements(self, root: ast.Module, scope: str) -> None:
        stack: list[tuple[list[ast.stmt], str]] = [(root.body, scope)]
        while stack:
            body, sc = stack.pop()
            table = self.assigns.setdefault(sc, {})
            for stmt in body:
                self.simple.append(stmt)
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.functions.setdefault(stmt.name, stmt)
                    self.spans.append((stmt.lineno, stmt.end_lineno or stmt.lineno, stmt.name))
                    stack.append((stmt.body, stmt.name))
                    continue
                self._record(stmt, table)
                for field_name in ("body", "orelse", "finalbody"):
                    inner = getattr(stmt, field_name, None)
                    if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                        stack.append((inner, sc))
                for handler in getattr(stmt, "handlers", []) or []:
                    stack.append((handler.body, sc))
                for case in getattr(stmt, "cases", []) or []:
                    stack.append((case.body, sc))
        self.spans.sort(key=lambda span: span[1] - span[0])

    def _record(self, stmt: ast.stmt, table: dict[str, list[ast.AST]]) -> None:
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                self.aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else \
                    a.name.split(".")[0]
        elif isinstance(stmt, ast.ImportFrom) and stmt.module:
            for a in stmt.names:
                self.aliases[a.asname or a.name] = f"{stmt.module}.{a.name}"
        elif isinstance(stmt, ast.Assign):
            for t in stmt.targets:
                for name in _target_names(t):
                    table.setdefault(name, []).append(stmt.value)
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign) and stmt.value is not None:
            for name in _target_names(stmt.target):
                table.setdefault(name, []).append(stmt.value)
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            if isinstance(call.func, ast.Attribute) and call.func.attr in MUTATORS \
                    and isinstance(call.func.value, ast.Name):
                table.setdefault(call.func.value.id, []).extend(call.args)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                if item.optional_vars is not None:
                    for name in _target_names(item.optional_vars):
                        table.setdefault(name, []).append(item.context_expr)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            for name in _target_names(stmt.target):
                table.setdefault(name, []).append(stmt.iter)

    def _candidate_calls(self, text: str) -> list[ast.Call]:
        """Calls on lines that name a loader or sink, directly or through an import alias."""
        aliased = [re.escape(alias) for alias, q in self.aliases.items()
                   if alias != q.split(".")[0] and (_kind_name(q) or q.split(".")[0] in (
                       "pickle", "marshal", "ctypes", "cffi", "torch", "joblib", "dill"))]
        pattern = SINK_WORDS if not aliased else re.compile(
            SINK_WORDS.pattern + r"|\b(?:" + "|".join(aliased) + r")\b")
        lines: set[int] = set()
        line, last = 1, 0
        for m in pattern.finditer(text):
            line += text.count("\n", last, m.start())
            last = m.start()
            lines.add(line)
        ordered = sorted(lines)
        calls: list[ast.Call] = []
        for stmt in self.simple:
            end = stmt.end_lineno or stmt.lineno
            at = bisect.bisect_left(ordered, stmt.lineno)
            if at >= len(ordered) or ordered[at] > end:
                continue
            for node in _own_nodes(stmt):
                if isinstance(node, ast.Call) and node.args:
                    calls.append(node)
        return calls

    def qualified(self, node: ast.AST) -> str:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):
            inner = self.qualified(node.func)
            if inner.endswith("FFI"):
                parts.append(inner)
                return ".".join(reversed(parts))
            if inner in ("pathlib.Path", "Path"):
                return "pathlib.Path." + ".".join(reversed(parts))
            return ""
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            prefix = "''" if isinstance(node.value, str) else "b''"
            return ".".join([prefix, *reversed(parts)])
        if not isinstance(node, ast.Name):
            return ""
        base = self.aliases.get(node.id, node.id)
        return ".".join([base, *reversed(parts)])

    def scope_of(self, node: ast.AST) -> str:
        """The innermost function whose lines hold `node` (spans sorted shortest first)."""
        line = getattr(node, "lineno", 0)
        for start, end, name in self.spans:
            if start <= line <= end:
                return name
        return MODULE

    def lookup(self, name: str, scope: str) -> list[ast.AST]:
        found = self.assigns.get(scope, {}).get(name)
        if found:
            return found
        return self.assigns.get(MODULE, {}).get(name, [])


def _target_names(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Tuple | ast.List):
        for elt in node.elts:
            yield from _target_names(elt)
    elif isinstance(node, ast.Starred):
        yield from _target_names(node.value)


def _const_key(node: ast.AST, f: _File, scope: str, depth: int = 0,
               comp: dict[str, ast.AST] | None = None) -> bytes | None:
    """An XOR key: an int or a str/bytes literal, directly or through a name or subscript."""
    if depth > 6:
        return None
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, int) and not isinstance(v, bool):
            return bytes([v & 0xFF])
        if isinstance(v, str):
            return v.encode("latin-1", "replace")
        if isinstance(v, bytes):
            return v
    if isinstance(node, ast.Name):
        values = ([comp[node.id]] if comp and node.id in comp else []) + list(
            reversed(f.lookup(node.id, scope)))
        for value in values:
            key = _const_key(value, f, scope, depth + 1, comp)
            if key is not None:
                return key
    if isinstance(node, ast.Subscript):
        return _const_key(node.value, f, scope, depth + 1, comp)
    if isinstance(node, ast.Call) and f.qualified(node.func) in ("ord", "int") and node.args:
        return _const_key(node.args[0], f, scope, depth + 1, comp)
    if isinstance(node, ast.Call) and f.qualified(node.func) in (
            "zip", "itertools.cycle", "cycle", "enumerate", "bytes", "bytearray"):
        for arg in reversed(node.args):
            key = _const_key(arg, f, scope, depth + 1, comp)
            if key is not None:
                return key
    if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "encode":
        return _const_key(node.func.value, f, scope, depth + 1, comp)
    return None


def _strings(node: ast.AST, f: _File, scope: str, depth: int,
             env: dict[str, Prov] | None = None) -> list[str]:
    """String literals in a path expression, through names (and the parameters of a helper
    being followed, in `env`); joined pieces come first."""
    found: list[str] = []
    parts: list[str] = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            parts.append(sub.value)
        elif isinstance(sub, ast.Name) and env and sub.id in env:
            bound = env[sub.id]
            if bound.literal is not None:
                parts.append(bound.literal.decode("latin-1"))
            parts.extend(bound.paths)
        elif isinstance(sub, ast.Name) and depth < 6 and sub.id not in ("__file__",):
            for value in f.lookup(sub.id, scope)[-2:]:
                parts.extend(_strings(value, f, scope, depth + 1, env))
    if len(parts) > 1:
        found.append("/".join(p.strip("/") for p in parts if p and p not in ("r", "rb", "w")))
    found.extend(parts)
    return [p for p in found if p and len(p) < 300]


class _Tracer:
    """Follows values backwards; every answer for a node is computed once per file (while no
    helper's parameters are bound), and the whole file gets MAX_STEPS node visits."""

    def __init__(self, f: _File) -> None:
        self.f = f
        self.env: dict[str, Prov] = {}
        self.steps = 0
        self.memo: dict[tuple[int, str], Prov] = {}
        self.active: set[tuple[int, str]] = set()
        self.comp: dict[str, ast.AST] = {}
        """Comprehension targets in scope -> the iterable they run over."""

    def prov(self, node: ast.AST, scope: str, depth: int = 0) -> Prov:
        key = (id(node), scope)
        if not self.env and key in self.memo:
            return _copy(self.memo[key])
        if key in self.active:
            return Prov()
        self.steps += 1
        if depth > MAX_DEPTH or self.steps > MAX_STEPS:
            return Prov(opaque=["(too deep)"])
        self.active.add(key)
        try:
            out = self._prov(node, scope, depth)
        finally:
            self.active.discard(key)
        if not self.env:
            self.memo[key] = _copy(out)
        return out

    def _prov(self, node: ast.AST, scope: str, depth: int) -> Prov:
        d = depth + 1
        f = self.f
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str | bytes):
                raw = node.value.encode("latin-1", "replace") if isinstance(node.value, str) \
                    else node.value
                return Prov(literal=raw)
            return Prov()
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            out = Prov()
            for value in f.lookup(node.id, scope)[-3:]:
                if value is node:
                    continue
                got = self.prov(value, scope, d)
                if got.from_file or got.steps:
                    return got
                out = out.merge(got)
            return out
        if isinstance(node, ast.Subscript):
            inner = self.prov(node.value, scope, d)
            sl = node.slice
            if isinstance(sl, ast.Slice) and sl.step is not None and isinstance(
                    sl.step, ast.UnaryOp) and isinstance(sl.step.op, ast.USub):
                inner.steps.append(Step("reverse"))
            return inner
        if isinstance(node, ast.BinOp):
            left, right = self.prov(node.left, scope, d), self.prov(node.right, scope, d)
            if isinstance(node.op, ast.BitXor):
                data, key_node = (left, node.right) if left.from_file or left.steps or \
                    not right.from_file else (right, node.left)
                key = _const_key(key_node, f, scope, 0, self.comp)
                data.steps.append(Step("xor", key or b""))
                if key is None:
                    data.opaque.append("xor with a computed key")
                return data
            if isinstance(node.op, ast.BitAnd) and _is_one(node.right):
                left.steps.append(Step("lsb"))
                return left
            return left.merge(right)
        if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp):
            saved, saved_comp = dict(self.env), dict(self.comp)
            for gen in node.generators:
                src = self.prov(gen.iter, scope, d)
                for name in _target_names(gen.target):
                    self.comp[name] = gen.iter
                    self.env[name] = Prov(list(src.paths), list(src.steps), set(src.kinds),
                                          list(src.opaque), src.literal)
            out = self.prov(node.elt, scope, d)
            self.env, self.comp = saved, saved_comp
            return out
        if isinstance(node, ast.Await | ast.Starred):
            return self.prov(node.value, scope, d)
        if isinstance(node, ast.JoinedStr | ast.List | ast.Tuple):
            out = Prov()
            for child in ast.iter_child_nodes(node):
                out = out.merge(self.prov(child, scope, d))
            return out
        if isinstance(node, ast.Call):
            return self._call(node, scope, d)
        return Prov()

    def _call(self, node: ast.Call, scope: str, d: int) -> Prov:
        f = self.f
        q = f.qualified(node.func)
        args = node.args
        first = self.prov(args[0], scope, d) if args else Prov()
        if q in OPENERS or q.startswith("pathlib.Path"):
            if q.startswith("pathlib.Path.") and isinstance(node.func, ast.Attribute):
                base = self.prov(node.func.value, scope, d)
                if node.func.attr in READ_METHODS:
                    return base
                extra = _strings(node, f, scope, 0, self.env) if args else []
                return Prov(base.paths + extra, base.steps, base.kinds | {"file"})
            paths = _strings(args[0], f, scope, 0, self.env) if args else []
            if q in ("os.path.join",) and len(args) > 1:
                paths = _strings(ast.List(elts=list(args)), f, scope, 0, self.env)
            return Prov(paths, [], {"file"})
        if q in COMPRESSED_OPENERS:
            return Prov(_strings(args[0], f, scope, 0, self.env) if args else [],
                        [Step(COMPRESSED_OPENERS[q])], {"file"})
        if q in MEDIA_OPENERS:
            return Prov(_strings(args[0], f, scope, 0, self.env) if args else [], [],
                        {"file", MEDIA_OPENERS[q]})
        if q in RESOURCE_READERS:
            target = args[1] if len(args) > 1 else (args[0] if args else None)
            paths = _strings(target, f, scope, 0, self.env) if target is not None else []
            return Prov(paths, [], {"file"})
        if q in DECODERS:
            first.steps.append(Step(DECODERS[q]))
            return first
        if q in ("codecs.decode", "codecs.encode") and len(args) > 1 and isinstance(
                args[1], ast.Constant) and str(args[1].value).lower() in CODEC_STEPS:
            first.steps.append(Step(CODEC_STEPS[str(args[1].value).lower()]))
            return first
        if q in TRANSPARENT or q.endswith(".join") or q == "builtins.bytes":
            out = first
            for other_arg in args[1:]:
                more = self.prov(other_arg, scope, d)
                if more.from_file and not out.from_file:
                    out = more
            return out
        if isinstance(node.func, ast.Attribute):
            attr = node.func.attr
            owner = self.prov(node.func.value, scope, d)
            if attr in READ_METHODS or attr in ("decode", "encode", "strip", "split", "join",
                                                "replace", "rstrip", "lstrip", "splitlines"):
                if attr == "join" and args:
                    return self.prov(args[0], scope, d)
                if attr == "decode" and args and isinstance(args[0], ast.Constant) \
                        and str(args[0].value).lower() in CODEC_STEPS:
                    owner.steps.append(Step(CODEC_STEPS[str(args[0].value).lower()]))
                return owner
            if attr in ("joinpath", "open", "files", "readframes") or attr.startswith("read"):
                extra = _strings(node, f, scope, 0, self.env) if args else []
                return Prov(owner.paths + extra, owner.steps, owner.kinds | {"file"},
                            owner.opaque)
        local = f.functions.get(q)
        if local is not None and d < MAX_DEPTH // 2:
            return self._through(local, args, scope, d)
        if first.from_file or first.steps:
            first.opaque.append(q or "a computed call")
        return first

    def _through(self, fn: ast.FunctionDef | ast.AsyncFunctionDef, args: list[ast.expr],
                 scope: str, d: int) -> Prov:
        """A call of a helper defined in the same file: its return value, with its
        parameters bound to the caller's arguments."""
        saved = dict(self.env)
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        for name, arg in zip(params, args, strict=False):
            self.env[name] = self.prov(arg, scope, d)
        out = Prov()
        for node in ast.walk(fn):
            if isinstance(node, ast.Return) and node.value is not None:
                got = self.prov(node.value, fn.name, d)
                if got.from_file or got.steps:
                    out = got
                    break
        self.env = saved
        return out


def _copy(p: Prov) -> Prov:
    return Prov(list(p.paths), list(p.steps), set(p.kinds), list(p.opaque), p.literal)


def _is_one(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value == 1


_STMT_FIELDS = frozenset({"body", "orelse", "finalbody", "handlers", "cases"})


def _own_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The expression nodes of one statement, not those of the statements it contains."""
    stack: list[ast.AST] = []
    for name, value in ast.iter_fields(stmt):
        if name in _STMT_FIELDS:
            continue
        if isinstance(value, ast.AST):
            stack.append(value)
        elif isinstance(value, list):
            stack.extend(v for v in value if isinstance(v, ast.AST))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _kind_name(q: str) -> str:
    return "x" if (q in PICKLE_LOADERS or q in MARSHAL_LOADERS or q in NATIVE_LOADERS
                   or q in EXEC_SINKS or q in YAML_LOADERS or q in LOGCONF_LOADERS) else ""


def _kind(q: str, node: ast.Call) -> str:
    if q in PICKLE_LOADERS or q.endswith(PICKLE_ENDINGS):
        if q == "numpy.load" and not any(
                k.arg == "allow_pickle" and isinstance(k.value, ast.Constant) and k.value.value
                for k in node.keywords):
            return ""
        return "pickle"
    if q in MARSHAL_LOADERS:
        return "marshal"
    if q in YAML_LOADERS:
        safe = any(k.arg == "Loader" and re.search(r"Safe|Base", ast.unparse(k.value))
                   for k in node.keywords) or any(
            re.search(r"Safe|Base", ast.unparse(a)) for a in node.args[1:2])
        return "" if safe else "yaml"
    if q in NATIVE_LOADERS or q.endswith(NATIVE_ENDINGS):
        return "native"
    if q in EXEC_SINKS:
        return "exec"
    if q in LOGCONF_LOADERS:
        return "logconf"
    return ""


def scan_file(text: str, relpath: str, tree: ast.Module | None = None,
              parse: Callable[[], ast.Module | None] | None = None,
              ) -> tuple[list[Load], frozenset[str]]:
    """Every load of carried bytes in one Python file, and the names of the file's functions
    that run when the module runs (see `top_level_calls`); nothing when it does not parse.
    `tree`: `ast.parse(text)`, when the caller has it already; `parse`: how to get it, asked
    only when the file names a loader and a sink (the package's shared parse). The text is
    read with its names folded as the parser folds them (full-width `pickle.load` is
    `pickle.load`)."""
    text = folded(text)
    if len(text) > MAX_SOURCE or not _worth_parsing(text):
        return [], frozenset()
    if tree is None and parse is not None:
        tree = parse()
        if tree is None:
            return [], frozenset()
    if tree is None:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return [], frozenset()
    try:
        found = list(_loads(_File(tree, relpath, text)))
        inner = any(ld.scope != MODULE for ld in found)
        return found, _top_level_calls(tree) if inner else frozenset()
    except RecursionError:
        return [], frozenset()


def _worth_parsing(text: str) -> bool:
    return _names_reader_and_sink(text) and _may_call_a_loader(text)


def _loader_tails() -> frozenset[str]:
    """The last name of every loader and sink `_kind` knows (`loads` of `pickle.loads`, and
    the endings it matches), but `open` and `decode`: those of `shelve.open` and
    `jsonpickle.decode` are too common, so their modules' names stand for them."""
    every = (PICKLE_LOADERS | YAML_LOADERS | LOGCONF_LOADERS | MARSHAL_LOADERS
             | NATIVE_LOADERS | EXEC_SINKS)
    tails = {q.rsplit(".", 1)[-1] for q in (*every, *PICKLE_ENDINGS, *NATIVE_ENDINGS)}
    return frozenset(tails - {"open", "decode"})


_TAILS = "|".join(sorted(map(re.escape, _loader_tails())))
_LOADER_CALL = re.compile(rf"\b(?:{_TAILS})[\s\\)]*\([\s\\]*[^\s\\)]")
"""A loader called with an argument, by its own last name (`pickle.loads(b`, `CDLL(p`),
also in parentheses or across a continued line (`(pickle.loads)(b`, `loads \\` ...)."""
_LOADER_RENAMED = re.compile(rf"\b(?:{_TAILS})\s+as\s+\w")
"""A loader imported under another name (`from pickle import loads as L`)."""


def _may_call_a_loader(text: str) -> bool:
    """Whether any call can be one `_loads` keeps: its qualified name is a loader's, so the
    call ends in the loader's last name, or in a name it was imported as; and a call without
    an argument is not kept. A file that names `torch` and opens files but loads nothing
    (most of a deep-learning package) needs no parse."""
    return bool(_LOADER_CALL.search(text) or _LOADER_RENAMED.search(text)
                or "shelve" in text or "jsonpickle" in text)


def _names_reader_and_sink(text: str) -> bool:
    present = _tokens_in(text)
    if not present & _READ:
        return False
    if present & _SINK:
        return True
    if any(text.count(w) > text.count("." + w) for w in BARE_SINKS if w in present):
        return True
    if "yaml" in present and YAML_UNSAFE.search(text):
        return True
    for w in BARE_MODULES:
        if w in present:
            named = text.count(w) - text.count("." + w) - text.count("_" + w)
            if w == "builtins":
                named -= sum(text.count(io) for io in IO_BUILTINS)
            if named > 0:
                return True
    return False


_READ, _SINK = frozenset(READ_TOKENS), frozenset(SINK_TOKENS)


@lru_cache(maxsize=1)
def _token_screen() -> Words:
    return Words([*READ_TOKENS, *SINK_TOKENS, *BARE_SINKS, *BARE_MODULES, "yaml"])


def _tokens_in(text: str) -> set[str]:
    """The screen's tokens that occur in `text`: one pass of an Aho-Corasick automaton instead
    of a substring search per token (each of which read the whole file when absent)."""
    return set(_token_screen().present(text))


def loads_in(text: str, relpath: str) -> list[Load]:
    return scan_file(text, relpath)[0]


def _loads(f: _File) -> Iterator[Load]:
    candidates: list[tuple[ast.Call, str, str]] = []
    for node in f.calls:
        q = f.qualified(node.func)
        kind = _kind(q, node)
        if kind:
            candidates.append((node, q, kind))
    if not candidates:
        return
    tracer = _Tracer(f)
    for node, q, kind in candidates:
        scope = f.scope_of(node)
        second = q in SOURCE_LOADERS or q.endswith("SourcelessFileLoader")
        if second and len(node.args) < 2:
            continue
        arg = node.args[1] if second else node.args[0]
        if q in PATH_TAKERS:
            prov = tracer.prov(arg, scope)
            paths = prov.paths or _strings(arg, f, scope, 0)
            prov = Prov(paths, prov.steps, prov.kinds | {"file"}, prov.opaque)
        else:
            prov = tracer.prov(arg, scope)
        if not prov.paths:
            continue
        yield Load(kind, f.relpath, node.lineno, scope, q, tuple(prov.paths), tuple(prov.steps),
                   frozenset(prov.kinds), tuple(prov.opaque))


def top_level_calls(text: str) -> frozenset[str]:
    """Names of this file's functions that run when the module runs: called from module
    level (or a class body), and the functions those call, within the file."""
    try:
        return _top_level_calls(ast.parse(text))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()


def _main_guard(node: ast.AST) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    names = [n for n in ast.walk(node.test) if isinstance(n, ast.Name)]
    consts = [n.value for n in ast.walk(node.test) if isinstance(n, ast.Constant)]
    return any(n.id == "__name__" for n in names) and "__main__" in consts


def _top_level_calls(tree: ast.Module) -> frozenset[str]:
    functions = {n.name: n for n in ast.walk(tree)
                 if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}

    def called(root: ast.AST, skip_defs: bool) -> set[str]:
        out: set[str] = set()
        stack = list(ast.iter_child_nodes(root))
        while stack:
            node = stack.pop()
            if skip_defs and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                for deco in getattr(node, "decorator_list", []):
                    stack.append(deco)
                continue
            if skip_defs and _main_guard(node):
                continue  # runs only when the file is run as a script
            if isinstance(node, ast.Name) and node.id in functions:
                out.add(node.id)  # called, or passed as a callback (Thread target, atexit)
            elif isinstance(node, ast.Attribute) and node.attr in functions:
                out.add(node.attr)
            stack.extend(ast.iter_child_nodes(node))
        return out

    reached = called(tree, True)
    todo = list(reached)
    while todo and len(reached) < 500:
        name = todo.pop()
        for more in called(functions[name], False):
            if more not in reached:
                reached.add(more)
                todo.append(more)
    return frozenset(reached)
