"""Facts, the first step: what each piece of a Python file can do, and where.

One collector (`ast_facts`) walks CPython's `ast` once per file and records capability facts
per scope (module top level, `if __name__ == "__main__"`, each function), resolving names
through the file's imports (`import base64 as b; b.b64decode(x)` is `base64.b64decode`) and
through `pkgvet.analysis.names` (folded strings, aliases of builtins). It also records the
call graph inside the file, the imports and the files opened (for the package graph in
`reachability`), and which sink calls are fed by decoded, downloaded or obfuscated data.
`text_facts()` is the tolerant fallback for files that do not parse (Python 2 sources).

Facts are not findings: `grading` weighs combinations of facts by phase.
"""

from __future__ import annotations

import ast
import math
import re
import sys
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import ClassVar

from ahocorasick_rs import AhoCorasick

from pkgvet.analysis.aho import find
from pkgvet.analysis.clitools import (
    browser_opener,
    credential_cli,
    destructive,
    environment_printer,
    publisher,
)
from pkgvet.analysis.names import BUILTIN_NAMES, Folder
from pkgvet.readers.pickle_ops import dangerous_global, literal_pickle

MODULE = "<module>"
MAIN = "<main>"
"""Scope of `if __name__ == "__main__":` blocks: they run only when the file is a script."""


@dataclass(frozen=True, slots=True)
class Fact:
    cap: str
    line: int
    scope: str
    detail: str
    column: int = 0
    file: str = ""
    """The relpath the fact came from, set when facts of several files are graded together."""


@dataclass(slots=True)
class FileFacts:
    facts: list[Fact] = field(default_factory=list)
    calls: dict[str, set[str]] = field(default_factory=dict)
    """Function key -> simple names it calls (an intra-file call graph)."""
    functions: dict[str, str] = field(default_factory=dict)
    """Simple function name -> function key (`Class.method` or `func`)."""
    classes: dict[str, list[str]] = field(default_factory=dict)
    """Class name -> base class dotted names."""
    parsed: bool = True
    embedded: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, scope, text) of string literals that may hold code or an encoded payload."""
    decoded_code: list[tuple[int, str, str]] = field(default_factory=list)
    """(line, scope, text) of code that an exec call receives once its argument is folded."""
    imports: list[tuple[str, str, int]] = field(default_factory=list)
    """(scope, dotted module or module.name, line); relative names keep their dots."""
    qualified_calls: dict[str, set[str]] = field(default_factory=dict)
    """Scope -> dotted names it calls through imports (`helper.steal`, `.util.send`)."""
    opened: list[tuple[str, str, int]] = field(default_factory=list)
    """(scope, path pieces joined by '/', line) of files opened, run or loaded."""
    patches: list[tuple[str, str, str]] = field(default_factory=list)
    """(scope, patched dotted name, local function): another library's function replaced."""
    ran: list[tuple[str, str, int]] = field(default_factory=list)
    """(scope, path, line) of scripts a process call runs (`[sys.executable, "tools/x.py"]`,
    `["bash", "post.sh"]`): they run in the caller's phase, in a child process."""

    def add(self, cap: str, line: int, scope: str, detail: str, column: int = 0) -> None:
        self.facts.append(Fact(cap, line, scope, detail[:300], column))


@dataclass(frozen=True, slots=True)
class Catalog:
    exact: dict[str, frozenset[str]]
    prefixes: tuple[tuple[str, str], ...]
    tails: dict[str, frozenset[str]]
    literals: dict[str, tuple[re.Pattern[str], ...]]
    any_literal: re.Pattern[str]
    """All literal patterns in one alternation: most literals match none, one search says so."""
    word_caps: dict[str, list[str]]
    """Caps of short alphanumeric literals (`whoami`, `pip`), looked up instead of searched."""
    screen: AhoCorasick
    """Aho-Corasick automaton of [screen] words: a literal without one is skipped."""

    def caps_for(self, qualified: str) -> frozenset[str]:
        caps = self.exact.get(qualified)
        if caps is not None:
            return caps
        found = {cap for prefix, cap in self.prefixes if qualified.startswith(prefix)}
        return frozenset(found)

    def literal_caps(self, text: str) -> list[str]:
        if len(text) < 2:
            return []
        if len(text) < 40 and text.isalnum():
            return self.word_caps.get(text.lower(), [])
        if self is catalog():
            return list(_searched(text))
        return self._search(text)

    def _search(self, text: str) -> list[str]:
        if not find(self.screen, text.lower(), overlapping=False):
            return []
        if not self.any_literal.search(text):
            return []
        return [
            cap for cap, patterns in self.literals.items() if any(p.search(text) for p in patterns)
        ]


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    raw = (
        resources.files("pkgvet.rules").joinpath("data/python-capabilities.toml").read_text("utf-8")
    )
    data = tomllib.loads(raw)
    exact: dict[str, set[str]] = {}
    prefixes: list[tuple[str, str]] = []
    tails: dict[str, set[str]] = {}
    for cap, names in data["calls"].items():
        for name in names:
            if name.endswith(".*"):
                prefixes.append((name[:-1], cap))
                continue
            exact.setdefault(name, set()).add(cap)
            parts = name.split(".")
            if len(parts) >= 2:
                tails.setdefault(".".join(parts[-2:]), set()).add(cap)
    literals = {
        cap: tuple(re.compile(p, re.IGNORECASE) for p in patterns)
        for cap, patterns in data["literals"].items()
    }
    combined = "|".join(f"(?:{p})" for patterns in data["literals"].values() for p in patterns)
    # Any short alphanumeric literal that a pattern can match is made of a pattern's own letters.
    vocabulary = {
        w.lower()
        for patterns in data["literals"].values()
        for p in patterns
        for w in re.findall(r"[A-Za-z0-9]+", p)
    }
    word_caps = {
        w: [cap for cap, pats in literals.items() if any(x.search(w) for x in pats)]
        for w in vocabulary
    }
    return Catalog(
        exact={k: frozenset(v) for k, v in exact.items()},
        prefixes=tuple(prefixes),
        tails={k: frozenset(v) for k, v in tails.items()},
        literals=literals,
        any_literal=re.compile(combined, re.IGNORECASE),
        word_caps={w: caps for w, caps in word_caps.items() if caps},
        screen=_automaton(data["screen"]["words"]),
    )


@lru_cache(maxsize=4096)
def _searched(text: str) -> tuple[str, ...]:
    """`Catalog._search` of the shipped catalog, remembered: generated SDKs repeat the same
    long docstrings in every API version, and each costs a pass of every pattern."""
    return tuple(catalog()._search(text))


def _automaton(words: list[str]) -> AhoCorasick:
    return AhoCorasick(words)


def shannon_entropy(text: str) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_B64ISH = re.compile(r"^[A-Za-z0-9+/=_\-\s]+$")
_HEXISH = re.compile(r"^(?:[0-9a-fA-F]{2}|\\x[0-9a-fA-F]{2})+$")


def is_blob(text: str, min_len: int = 120) -> bool:
    """A literal that looks like an encoded payload: long, dense, base64/hex alphabet."""
    if len(text) < min_len:
        return False
    compact = text.strip()
    if _HEXISH.match(compact):
        return True
    if _B64ISH.match(compact) and " " not in compact[:200]:
        return shannon_entropy(compact[:4096]) > 4.2
    return False


JUNK_NAME = re.compile(
    r"^(_0x[0-9a-f]{3,}|[Il1]{6,}|[O0]{6,}|_{2,}[Il1O0]{4,}|[lI]{3,}[1lI]{3,}|_{4,}|"
    r"[oO0]{2,}[oO0_]{4,})$"
)
CODE_MARKERS = re.compile(
    r"\bimport\s+\w|\bexec\s*\(|\beval\s*\(|urlopen|os\.system|subprocess|socket\.|"
    r"__import__|python[0-9.]*(\.exe)?\s+-c\s"
)


_MARKER_WORDS = ("import", "exec", "eval", "urlopen", "os.system", "subprocess", "socket.",
                 "python")
"""A word every CODE_MARKERS match contains: substring tests first, the pattern only where
one is present (most long literals are prose)."""
PICKLE_HEAD = re.compile(r"\x80[\x01-\x05]|\(*[ci][\w.]+\n[\w.]+\n")
"""A pickle stream's start: a protocol 2+ header, or a protocol 0/1 import (GLOBAL, INST)."""


def plain_pickle(text: str) -> bool:
    """A literal that is a pickle of plain data: read to its end, it calls nothing that runs
    code (a table of defaults shipped as a pickle is data, not a hidden payload)."""
    facts = literal_pickle(text)
    return facts is not None and not any(dangerous_global(g) for g in facts.globals)


def embedded_candidate(text: str) -> bool:
    """A literal worth unpacking: code-like text, a pickle, or a long encoded blob."""
    if len(text) < 16:
        return False
    head = text[:20000]
    if any(word in head for word in _MARKER_WORDS) and CODE_MARKERS.search(head):
        return True
    return bool(PICKLE_HEAD.match(text)) or is_blob(text, min_len=40)


@lru_cache(maxsize=65_536)
def junk_identifier(name: str) -> bool:
    if JUNK_NAME.match(name):
        return True
    # Identifiers in CJK or mixed scripts in otherwise-ASCII code: a generator's fingerprint.
    return len(name) >= 6 and sum(1 for ch in name if ord(ch) > 0x2E80) >= len(name) // 2


EXEC_CAPS = frozenset({"exec", "deserialize"})
SINKS = {
    "exec": "exec",
    "deserialize": "exec",
    "process": "process",
    "network": "net",
    "send": "net",
    "download": "net",
}


def sink_kinds(caps: set[str]) -> set[str]:
    return {SINKS[c] for c in caps if c in SINKS}


ENVIRON_NAMES = frozenset({"os.environ", "os.environb", "posix.environ"})
RUNNER_ENV = frozenset({
    "BROWSER", "EDITOR", "VISUAL", "PAGER", "MANPAGER", "GIT_PAGER", "GIT_EDITOR",
    "GIT_SSH_COMMAND", "GIT_SSH", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_EXTERNAL_DIFF", "LESSOPEN",
    "LESSCLOSE", "BASH_ENV",
})
PROPERTY_DECORATORS = frozenset({"property", "cached_property", "cache_readonly",
                                 "lazy_property", "reify"})
"""Decorators that make a method run when its attribute is read."""

HANDED_KEYWORDS = frozenset({"target", "function", "func", "fn", "callback", "callable"})
"""Keywords under which a callable is handed to code that calls it (`Thread(target=)`)."""


@lru_cache(maxsize=1)
def _runner_tails() -> frozenset[str]:
    """Last names of the catalog's process and exec functions (`system`, `Popen`, `exec`)."""
    cat = catalog()
    return frozenset(name.rsplit(".", 1)[-1] for name, caps in cat.exact.items()
                     if caps & {"process", "exec"})


ENV_LAUNCHERS = frozenset({
    "webbrowser.open", "webbrowser.open_new", "webbrowser.open_new_tab", "webbrowser.get",
    "pydoc.pager", "pydoc.help", "builtins.help", "builtins.breakpoint", "breakpoint", "help",
})
"""Calls that run what an environment setting names (`RUNNER_ENV`, `PYTHONBREAKPOINT`)."""
"""Environment settings whose value a library or tool runs as a command line: `webbrowser`
(`BROWSER`), `pydoc`/`help()` (`PAGER`), git and ssh, less, `bash -c`. Setting one and then
calling the harmless-looking function that reads it starts the program without any process
call in the code."""
SUSPICIOUS_METHODS = {
    "b64decode": "decode",
    "decodebytes": "decode",
    "decompress": "decode",
    "decrypt": "decode",
    "unhexlify": "decode",
    "fromhex": "decode",
    "urlopen": "download",
    "urlretrieve": "download",
    "sendall": "send",
    "sendto": "send",
    "sendmail": "send",
    "system": "process",
    "popen": "process",
    "startfile": "process",
    # libc through ctypes (`ctypes.CDLL("libc.so.6").execl(b"/bin/sh", ...)`)
    **dict.fromkeys(("execl", "execlp", "execle", "execv", "execvp", "execve", "execvpe",
                     "posix_spawn", "posix_spawnp"), "process"),
    "memfd_create": "memfd",
}
NETWORK_READ_ATTRS = frozenset(
    {"read", "text", "content", "json", "readlines", "recv", "iter_content"}
)


MESSAGE_CAPS = frozenset({"download_cmd", "pip_cmd", "shell_cmd", "shell_bin"})
"""Command-line literals that, inside a message for people (an exception, print, a log line,
a warning), are instructions ("install it with: curl ... | sh"), not commands pkgvet should
weigh."""
_MESSAGE_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception",
                              "critical", "fatal", "echo", "secho"})


TEXT_SHAPERS = frozenset({"dedent", "indent", "fill", "wrap", "format", "strip", "lstrip",
                          "rstrip", "replace", "join"})
"""Calls that only reshape text: inside a message, what they return is still the message."""
METADATA_CALLS = frozenset({"setup", "setuptools.setup", "distutils.core.setup"})
"""`setup(keywords=["ps", "ifconfig", "who"], description=...)`: literals given directly to
the package metadata are words for an index and its readers, not commands."""
METADATA_KEYWORDS = frozenset({"keywords", "classifiers", "description", "long_description",
                               "summary", "platforms"})
"""The same metadata fields, given as keywords to a `dict(...)` that `setup(**kw)` receives."""


def is_prose(value: str) -> bool:
    """Several lines of sentences (a help text, a long description): a `pip install` in it
    is advice to a reader."""
    return value.count("\n") >= 2 and len(value.split()) >= 12 and (
        re.search(r"[a-z]\.\s", value) is not None)


def is_message_call(simple: str | None, qualified: str | None = None) -> bool:
    """`print(...)`, `warnings.warn(...)`, `log.info(...)`, `click.echo(...)`, and building
    an exception or warning (`RuntimeError(...)`, `raise ImportError(...)`)."""
    if not simple:
        return False
    return (simple == "print" or simple in _MESSAGE_METHODS
            or qualified in ("warnings.warn", "sys.exit") or simple == "SystemExit"
            or simple.endswith(("Error", "Exception", "Warning")))


# -- the collector ----------------------------------------------------------------------------

BUILTINS = BUILTIN_NAMES
THREAD_TARGETS = frozenset({"target", "func", "fn", "callback", "function", "handler"})
CODE_READS = frozenset({
    "inspect.stack", "inspect.getsource", "inspect.getsourcelines", "inspect.currentframe",
    "inspect.getouterframes", "inspect.getframeinfo", "sys._getframe", "traceback.extract_stack",
    "inspect.getfile", "inspect.getmodule",
})
ADDRESS_LOOKUPS = frozenset({"socket.getaddrinfo", "socket.gethostbyname",
                             "socket.gethostbyname_ex"})
"""The system resolver's answers are addresses it picked, not content a server sent: ray
passes the resolved head address to `ray start --node-ip-address=...`. (A resolver query for
TXT records, `dns.resolver.resolve`, does bring content and stays a source.)"""
FUNCTION_MAKERS = frozenset({
    "functools.partial", "operator.attrgetter", "operator.methodcaller", "operator.itemgetter",
    "builtins.eval", "builtins.vars", "builtins.globals", "builtins.locals", "builtins.compile",
    "types.FunctionType", "types.MethodType", "types.LambdaType", "pydoc.locate",
    "functools.reduce", "builtins.staticmethod", "builtins.classmethod",
})
"""Calls whose result is a function or a namespace of functions: one kept in a container and
called by index is still a hidden call."""
CARRIED_SOURCES = frozenset({"download", "resolved", "packed", "ptr_answer"})
"""What the wider paths (return values, container fills, loop and unpacking bindings) carry:
network content, never the obfuscation hints (a reversal, chr, a blob) that a large
library's unrelated code has somewhere along such paths."""
CODE_FIRST = frozenset({"builtins.exec", "builtins.eval", "exec", "eval"})
"""Sinks whose second argument is a namespace (globals), not code."""
FACTORY_KEYS = frozenset({"()", "class"})
FACTORY_DANGER = frozenset({"process", "exec", "send"})
NAME_RESOLVERS = frozenset({"pydoc.locate", "pkgutil.resolve_name"})
"""Functions that return the object a dotted name names."""
CONTAINER_FILLS = frozenset({"append", "extend", "insert", "appendleft", "add", "update"})
LOOKUP_METHODS = {"getaddrinfo": "address", "gethostbyname": "address",
                  "gethostbyname_ex": "address", "gethostbyaddr": "ptr", "getnameinfo": "ptr"}
"""Resolver calls by method name, whatever the object (`loop.getaddrinfo`, a gevent or
trio resolver)."""
NAME_LOOKUPS = frozenset({"socket.gethostbyaddr", "socket.getnameinfo"})
BYTE_PACKERS = frozenset({"builtins.bytes", "builtins.bytearray", "socket.inet_aton",
                          "socket.inet_pton", "struct.pack", "array.array", "builtins.chr",
                          "ipaddress.ip_address", "ipaddress.IPv4Address",
                          "ipaddress.IPv6Address", "builtins.memoryview"})
"""Calls that turn numbers or addresses into bytes or characters."""
HIDDEN_SOURCES = frozenset({"decode", "chr_join", "reverse", "blob", "xor", "exception"})


class Collector(ast.NodeVisitor):
    """One walk over a module: capability facts per scope, the call graph (including callbacks
    handed to threads, atexit, signal handlers, map/filter, decorators, hooks assigned to
    `sys.excepthook`), imports for the package graph, and sink calls with what feeds them."""

    def __init__(self, out: FileFacts,
                 expand: Callable[[str], str | None] | None = None,
                 own: frozenset[str] = frozenset()) -> None:
        self.out = out
        self.expand = expand
        """Package context: `.compat.requests_.post` -> `requests.post` when the sibling module
        `compat` imports `requests as requests_` (a library reached through another module's
        import is still that library). Asked for names imported relatively (`from . import
        compat`) or through the package's own top-level names (`own`: `from ev import
        compat`), the ways a package reaches its own modules."""
        self.own = own
        self.stars: list[str] = []
        """Package modules this file star-imports (`from ._util import *`)."""
        self.starred_names: dict[str, str | None] = {}
        self.cat = catalog()
        self.aliases: dict[str, str] = {}
        self.scopes: list[str] = [MODULE]
        self.classes: list[str] = []
        self.assignments: dict[tuple[str, str], list[ast.expr]] = {}
        self.fed: dict[tuple[str, str], list[ast.expr]] = {}
        """(scope, name) -> what `name.append(x)`, `name.extend(xs)`, `name.update(d)` put
        in the container the name holds."""
        self.bound_by: dict[tuple[str, str], list[ast.expr]] = {}
        """(scope, name) -> what a `for` loop or comprehension binding the name iterates, or
        the call whose result a tuple assignment unpacks into it. Followed only for names
        never assigned plainly in the scope: a name reused across a long function (`l`,
        `x`) would otherwise join unrelated values."""
        self.returns: dict[str, list[ast.expr]] = {}
        self.source_memo: dict[tuple[int, str, int], frozenset[str]] = {}
        """Function key -> the values it returns."""
        self.exec_calls: list[tuple[ast.Call, str, str, str]] = []
        self.helpers: set[str] = set()
        self.messages = 0
        """1 while visiting the arguments of a message call (print, log, an exception)."""
        self.params: dict[str, list[str]] = {}
        self.raised: dict[str, list[ast.expr]] = {}
        self.unix_sockets: list[tuple[int, str, str, int]] = []
        self.rebinds_unix = False
        """Scope -> arguments of exceptions raised there (a command can travel in one)."""
        self.handlers: dict[tuple[str, str], str] = {}
        self.bound: dict[str, set[str]] = {}
        """Names a function binds locally (parameters aside): data, never a function."""
        self.folder = Folder(self._lookup, self.qualify)
        self.breakpoint_hook: ast.expr | None = None
        """The value the file gives `PYTHONBREAKPOINT`: the function `breakpoint()` calls."""
        self._names: dict[int, tuple[str | None, int, int, bool, ast.expr]] = {}
        """Within one outermost `qualify` call (nothing the walk knows changes during it):
        node id -> (name, depth asked, deepest depth the answer looked at, tricky, the node,
        kept so that its id is not reused for another)."""
        self._active = 0
        self._deepest = 0

    @property
    def scope(self) -> str:
        return self.scopes[-1]

    # names ---------------------------------------------------------------------------------
    def _lookup(self, name: str) -> ast.expr | None:
        for scope in (self.scope, MODULE):
            values = self.assignments.get((scope, name))
            if values:
                return values[-1] if len(values) <= 3 else None
        return None

    def _stdlib_attribute(self, func: ast.expr) -> bool:
        """Whether a call's target is an attribute of a standard-library module this file
        imports (`os.environ.get`, `json.load`): never a function or method of this file, so
        its simple name is no call-graph edge (a method `get` of a class is not what
        `os.environ.get(...)` runs)."""
        if not isinstance(func, ast.Attribute):
            return False
        root: ast.expr = func.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            return False
        bound = self.aliases.get(root.id)
        return bound is not None and bound.partition(".")[0] in sys.stdlib_module_names

    def qualify(self, node: ast.expr, depth: int = 0) -> str | None:
        """The dotted name an expression refers to, through imports, aliases (`e = exec`),
        `__import__`/`import_module` of folded names and `getattr` with a folded name.

        Answers are remembered for the length of the outermost call: resolving `y` in
        `x = a.b(); y = x.c(); y.d()` asks for each alias's callee several times (is it
        dynamic, is it a client, what is it), which doubles the work at every link of the
        chain. An answer computed at one depth holds at another when the depth limit was not
        reached on its way, nor would be from the new depth."""
        if self._active == 0 and self._names:
            self._names.clear()
        known = self._names.get(id(node))
        if known is not None:
            name, asked, deepest, tricky, _ = known
            if depth == asked or depth + deepest - asked <= 8:
                self.reached(depth + deepest - asked)
                if tricky:
                    self._trick(True)
                return name
        outer_deepest, outer_trick = self._deepest, self._pending_trick
        self._deepest, self._pending_trick = depth, False
        self._active += 1
        try:
            name = self._qualify(node, depth)
        finally:
            self._active -= 1
            deepest, tricky = self._deepest, self._pending_trick
            self._deepest = max(outer_deepest, deepest)
            self._pending_trick = outer_trick or tricky
        self._names[id(node)] = (name, depth, deepest, tricky, node)
        return name

    def reached(self, depth: int) -> None:
        """Note that an answer being computed looked `depth` levels deep (see `qualify`)."""
        self._deepest = max(self._deepest, depth)

    def _qualify(self, node: ast.expr, depth: int) -> str | None:
        if depth > 8:
            return None
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if parts and parts[0] == "__call__":
            parts = parts[1:]  # `exec.__call__(x)` is `exec(x)`
        head: str | None
        if isinstance(node, ast.Name):
            head = self.aliases.get(node.id)
            if head is None:
                assigned = self._alias_of(node.id, depth)
                if assigned is not None:
                    head = self.qualify(assigned, depth + 1)
            if head is None:
                if node.id in ("__builtins__", "__builtin__"):
                    head = "builtins"
                else:
                    head = f"builtins.{node.id}" if node.id in BUILTINS else node.id
                    if self.stars and head == node.id and node.id not in self.out.functions:
                        head = self._starred(node.id) or head
        elif isinstance(node, ast.Call):
            # `boto3.Session().get_credentials` reads as `boto3.Session.get_credentials`.
            head = self._dynamic_target(node, depth) or self.qualify(node.func, depth + 1)
        elif isinstance(node, ast.Subscript):
            head = self._subscript_target(node, depth)
        else:
            return None
        if head is None:
            return None
        name = ".".join([head, *reversed(parts)])
        if self.expand is not None and (head.startswith(".") or head.partition(".")[0]
                                        in self.own) and not self.cat.caps_for(name):
            # only names the catalog does not know: a package that ships its own `requests`
            # (a typosquat) still calls `requests.get` as the catalog knows it
            return self.expand(name) or name
        return name

    def _starred(self, name: str) -> str | None:
        """`._util.run` for a bare `run` that a star import from a package module brings
        (asked once per name)."""
        if name not in self.starred_names:
            found = None
            for base in self.stars:
                dotted = f"{base}{name}" if base.endswith(".") else f"{base}.{name}"
                if self.expand is not None and self.expand(dotted) is not None:
                    found = dotted
                    break
            self.starred_names[name] = found
        return self.starred_names[name]

    def _alias_of(self, name: str, depth: int) -> ast.expr | None:
        """`e = exec`, `s = os.system`, `g = getattr(builtins, "ex" + "ec")`: a name assigned
        once from something callable is that thing."""
        for scope in (self.scope, MODULE):
            values = self.assignments.get((scope, name))
            value = values[0] if values and len(values) == 1 else None
            if isinstance(value, ast.IfExp):
                value = value.body
            if value is not None and isinstance(
                value, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)
            ) and not (isinstance(value, ast.Name) and value.id == name):
                if isinstance(value, ast.Call) and not self._is_dynamic_call(value, depth) \
                        and not self._is_client(value, depth):
                    return None
                return value
        return None

    def _is_client(self, node: ast.Call, depth: int) -> bool:
        """`s = requests.Session()`, `c = aiohttp.ClientSession()`: an object of a class the
        catalog knows, whose methods are then `requests.Session.post` and so on."""
        if isinstance(node.func, ast.Call):
            return False
        name = self.qualify(node.func, depth + 1)
        return bool(name) and bool(self.cat.caps_for(name or ""))

    def _is_dynamic_call(self, node: ast.Call, depth: int) -> bool:
        if isinstance(node.func, ast.Call):
            return False
        name = self.qualify(node.func, depth + 1)
        return name in ("builtins.getattr", "builtins.__import__", "importlib.import_module",
                        *NAME_RESOLVERS, "functools.reduce")

    def _dynamic_target(self, node: ast.Call, depth: int) -> str | None:
        """`__import__("o" + "s")` -> os; `getattr(os, "sy" + "stem")` -> os.system."""
        fname = self.qualify(node.func, depth + 1) if not isinstance(node.func, ast.Call) else None
        if isinstance(node.func, ast.Call) and not node.args:
            return None
        if fname in ("builtins.__import__", "importlib.import_module") and node.args:
            folded = self.folder.fold_str(self._configured(node.args[0], depth))
            if folded is not None and _dotted_ok(folded.value):
                self._trick(folded.tricky)
                return str(folded.value)
            return None
        if fname in NAME_RESOLVERS and node.args:
            # `pydoc.locate("os.system")`, `pkgutil.resolve_name("os:system")`.
            folded = self.folder.fold_str(node.args[0])
            if folded is not None and isinstance(folded.value, str):
                name = folded.value.replace(":", ".")
                if _dotted_ok(name):
                    self._trick(folded.tricky)
                    return name
            return None
        if fname == "functools.reduce" and len(node.args) >= 3 \
                and self.qualify(node.args[0], depth + 1) == "builtins.getattr" \
                and isinstance(node.args[1], (ast.List, ast.Tuple)):
            # `functools.reduce(getattr, ["path", "join"], os)`: a walk nobody needs to write.
            base = self.qualify(node.args[2], depth + 1)
            names = [self.folder.fold_str(e) for e in node.args[1].elts]
            if base and names and all(n is not None and _dotted_ok(n.value) for n in names):
                self._trick(True)
                return ".".join([base, *(str(n.value) for n in names if n is not None)])
            return None
        if isinstance(node.func, ast.Call) and node.args and node.func.args \
                and self.qualify(node.func.func, depth + 1) == "operator.attrgetter":
            # `operator.attrgetter("system")(os)`.
            base = self.qualify(node.args[0], depth + 1)
            folded = self.folder.fold_str(node.func.args[0])
            if base and folded is not None and _dotted_ok(folded.value):
                self._trick(True)
                return f"{base}.{folded.value!s}"
            return None
        if fname == "builtins.getattr" and len(node.args) >= 2:
            base = self.qualify(node.args[0], depth + 1)
            folded = self.folder.fold_str(self._configured(node.args[1], depth))
            if base and folded is not None and _dotted_ok(folded.value):
                self._trick(folded.tricky)
                name = str(folded.value)
                if base in ("builtins", "__builtin__", "builtins.__builtins__"):
                    return f"builtins.{name}"
                return f"{base}.{name}"
        return None

    def _configured(self, node: ast.expr, depth: int) -> ast.expr:
        """`os.environ.get("BACKEND", "subprocess")`, `os.getenv(k, d)`: the module a
        setting names when it is not set, which is what runs on a fresh machine."""
        if isinstance(node, ast.Call) and len(node.args) == 2 \
                and self.qualify(node.func, depth + 1) in ("os.environ.get", "os.getenv"):
            return node.args[1]
        return node

    def _subscript_target(self, node: ast.Subscript, depth: int) -> str | None:
        """`vars(builtins)["exec"]`, `__builtins__.__dict__[k]`, `globals()["__builtins__"][k]`;
        and a callable kept in a literal container: `[exec][0]`, `{"f": exec}["f"]`."""
        item = self._container_item(node, depth)
        if item is not None:
            # A function kept in a container and called by index hides the call; an object
            # a call made (`conns = [client, socket.create_connection(a)]`, a proxy relaying
            # between the two) is only data picked from a list.
            self._trick(not self._made_object(item, depth))
            return self.qualify(item, depth + 1)
        if not _is_namespace(node.value, self, depth):
            return None
        folded = self.folder.fold_str(node.slice)
        if folded is None or not _dotted_ok(folded.value):
            return None
        self._trick(folded.tricky)
        name = str(folded.value)
        if name in ("__builtins__", "builtins"):
            return "builtins"
        return f"builtins.{name}"

    def _made_object(self, item: ast.expr, depth: int) -> bool:
        """An instance returned by a call (directly or through a name assigned once from
        it), not a function reference nor a name fetched by `getattr`/`__import__`."""
        if isinstance(item, ast.Name):
            values = self.assignments.get((self.scope, item.id)) or \
                self.assignments.get((MODULE, item.id))
            item = values[0] if values and len(values) == 1 else item
        return isinstance(item, ast.Call) and not isinstance(item.func, ast.Call) \
            and not self._is_dynamic_call(item, depth) \
            and self.qualify(item.func, depth + 1) not in FUNCTION_MAKERS

    def _container_item(self, node: ast.Subscript, depth: int) -> ast.expr | None:
        container: ast.expr | None = node.value
        if isinstance(container, ast.Name):
            values = self.assignments.get((self.scope, container.id)) or \
                self.assignments.get((MODULE, container.id))
            container = values[0] if values and len(values) == 1 else None
        if not isinstance(container, (ast.List, ast.Tuple, ast.Dict)):
            return None
        key = self.folder.fold(node.slice)
        if key is None:
            return None
        if isinstance(container, ast.Dict):
            for k, v in zip(container.keys, container.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == key.value:
                    return v
            return None
        index = key.value
        if isinstance(index, int) and -len(container.elts) <= index < len(container.elts):
            return container.elts[index]
        return None

    _pending_trick = False

    def _trick(self, tricky: bool) -> None:
        self._pending_trick = self._pending_trick or tricky

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top
            self.out.imports.append((self.scope, alias.name, node.lineno))

    lazy_annotations = False

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module == "__future__" and any(a.name == "annotations" for a in node.names):
            self.lazy_annotations = True
        base = "." * node.level + (node.module or "")
        if self.expand is not None and node.names[0].name == "*" \
                and (node.level or base.partition(".")[0] in self.own):
            self.stars.append(base)
        for alias in node.names:
            if node.module and not node.level:
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            else:
                self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}" \
                    if node.module else f"{base}{alias.name}"
            target = f"{base}.{alias.name}" if node.module else f"{base}{alias.name}"
            self.out.imports.append((self.scope, target, node.lineno))
            self.out.imports.append((self.scope, base, node.lineno))

    # structure -----------------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [q for q in (self.qualify(b) for b in node.bases) if q]
        self.out.classes[node.name] = bases
        if junk_identifier(node.name):
            self.out.add("junk_names", node.lineno, self.scope, node.name, node.col_offset)
        # Defining a class runs code besides its body: its decorators, its metaclass
        # (`__prepare__`, `__new__`, `__init__`), its bases' `__init_subclass__`.
        calls = self.out.calls.setdefault(self.scope, set())
        for deco in node.decorator_list:
            if isinstance(deco, (ast.Name, ast.Attribute)):
                self._handed(deco, calls, whole=False)
            self.visit(deco)
        for kw in node.keywords:
            if kw.arg == "metaclass":
                self._handed(kw.value, calls, whole=False)
            self.visit(kw.value)
        for base in node.bases:
            if isinstance(base, ast.Name) and f"{base.id}.__init_subclass__" in self.out.calls:
                calls.add(f"{base.id}.__init_subclass__")
            elif isinstance(base, (ast.Name, ast.Attribute)):
                imported = self.qualify(base)
                if imported and "." in imported and not imported.startswith("builtins."):
                    self.out.qualified_calls.setdefault(self.scope, set()).add(
                        imported + ".__init_subclass__")
        self.classes.append(node.name)
        for stmt in node.body:
            self.visit(stmt)
        self.classes.pop()

    def _handed(self, value: ast.expr, calls: set[str], whole: bool) -> None:
        """A function or class given to code that will call it: an edge to it (`whole`: a
        class the receiver drives, all its methods), across modules when it is imported."""
        suffix = ".*" if whole else ""
        if isinstance(value, ast.Name):
            target = self.aliases.get(value.id)
            if target is not None and "." in target:
                self.out.qualified_calls.setdefault(self.scope, set()).add(target + suffix)
            else:
                calls.add(value.id + suffix)
        elif isinstance(value, ast.Attribute):
            qualified = self.qualify(value)
            if qualified and "." in qualified and not qualified.startswith("builtins."):
                self.out.qualified_calls.setdefault(self.scope, set()).add(qualified + suffix)
            calls.add(value.attr)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
                  name: str) -> None:
        key = ".".join([*self.classes, name]) if self.classes else name
        if self.scope not in (MODULE, MAIN):
            key = f"{self.scope}.{key}"
        self.out.functions.setdefault(name, key)
        self.out.calls.setdefault(key, set())
        if self.scope == MODULE and not self.classes and name in ("__getattr__", "__dir__"):
            # PEP 562: the module's own hook runs for a missing name (a star import of an
            # `__all__` it serves, `from mod import name`, `hasattr`) while importers load.
            self.out.calls.setdefault(MODULE, set()).add(name)
        self.params[key] = [a.arg for a in node.args.args + node.args.kwonlyargs]
        if isinstance(node, ast.Lambda):
            for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
                self.visit(default)  # evaluated where the lambda is made
            self.scopes.append(key)
            self.visit(node.body)
            self.scopes.pop()
            return
        if junk_identifier(name):
            self.out.add("junk_names", node.lineno, self.scope, name, node.col_offset)
        for deco in node.decorator_list:
            # A decorator runs when the function is defined; `@atexit.register` also hands
            # the function to code that will call it without the user.
            target = deco.func if isinstance(deco, ast.Call) else deco
            simple = target.attr if isinstance(target, ast.Attribute) else (
                target.id if isinstance(target, ast.Name) else "")
            if simple and not isinstance(deco, ast.Call):
                self.out.calls.setdefault(self.scope, set()).add(simple)
            if self.qualify(deco) in CALLBACK_DECORATORS:
                self.out.calls.setdefault(self.scope, set()).add(name)
            if self.classes and simple in PROPERTY_DECORATORS:
                # reading the attribute runs the getter, as a descriptor's `__get__`
                get = ".".join([*self.classes, "__get__"])
                self.out.calls.setdefault(get, set()).add(name)
            self.visit(deco)
        for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(default)
        if not self.lazy_annotations:
            # Annotations are evaluated when the function is defined (before 3.14, without
            # `from __future__ import annotations`): code in them runs at import.
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs,
                        *([args.vararg] if args.vararg else []),
                        *([args.kwarg] if args.kwarg else [])]:
                if arg.annotation is not None and not isinstance(arg.annotation, ast.Constant):
                    self.visit(arg.annotation)
            if node.returns is not None and not isinstance(node.returns, ast.Constant):
                self.visit(node.returns)
        args = node.args
        for annotation in [a.annotation for a in [*args.posonlyargs, *args.args,
                                                  *args.kwonlyargs, args.vararg, args.kwarg]
                           if a is not None] + [getattr(node, "returns", None)]:
            self._string_annotation(annotation)
        self.scopes.append(key)
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        name = f"<lambda:{node.lineno}:{node.col_offset}>"
        self._function(node, name)
        self.out.calls.setdefault(self.scope, set()).add(name)

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        if (
            self.scope == MODULE
            and isinstance(test, ast.Compare)
            and isinstance(test.left, ast.Name)
            and test.left.id == "__name__"
        ):
            self.visit(test)
            self.scopes.append(MAIN)
            for stmt in node.body:
                self.visit(stmt)
            self.scopes.pop()
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store) and node.id == "AF_UNIX":
            self.rebinds_unix = True
        if isinstance(node.ctx, ast.Store) and self.scope not in (MODULE, MAIN):
            self.bound.setdefault(self.scope, set()).add(node.id)
        if junk_identifier(node.id):
            self.out.add("junk_names", node.lineno, self.scope, node.id, node.col_offset)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.assignments.setdefault((self.scope, target.id), []).append(node.value)
                if isinstance(node.value, ast.Lambda):
                    self.out.functions.setdefault(target.id, self._lambda_key(node.value))
            elif isinstance(target, ast.Attribute):
                self._attribute_store(target, node.value, node.lineno)
            elif isinstance(target, ast.Subscript) and self.qualify(target.value) == "sys.modules":
                # `sys.modules["getpass"] = _Spy()`: every later import of that module gets
                # this object, and other code calls its methods.
                self.out.add("monkeypatch", node.lineno, self.scope,
                             f"sys.modules[{ast.unparse(target.slice)[:60]}]", target.col_offset)
                value = node.value.func if isinstance(node.value, ast.Call) else node.value
                if isinstance(value, (ast.Name, ast.Attribute)):
                    self._handed(value, self.out.calls.setdefault(self.scope, set()), True)
            elif isinstance(target, ast.Subscript) \
                    and self.qualify(target.value) in ENVIRON_NAMES:
                self._env_setting(target.slice, node.value)
            elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                # Containers carry data between functions: d["k"] = secret.
                self.assignments.setdefault((self.scope, target.value.id), []).append(node.value)
            elif isinstance(target, (ast.Tuple, ast.List)):
                # `data, addr = s.recvfrom(n)`, `typ, msg = imap.fetch(...)`: each name holds
                # part of what the call returned (kept for flows, not for aliases).
                for elt in target.elts:
                    inner = elt.value if isinstance(elt, ast.Starred) else elt
                    if isinstance(inner, ast.Name):
                        self.bound_by.setdefault((self.scope, inner.id), []).append(node.value)
        self.generic_visit(node)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        # `with httpx.Client() as c:` binds `c` as `c = httpx.Client()` would (its
        # `__enter__` returns the client for every HTTP, socket and websocket library).
        for item in node.items:
            if isinstance(item.optional_vars, ast.Name) and isinstance(item.context_expr,
                                                                        ast.Call):
                self.assignments.setdefault((self.scope, item.optional_vars.id),
                                            []).append(item.context_expr)
        self.generic_visit(node)

    visit_AsyncWith = visit_With

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        # `f"{os.environ}"`: every variable, formatted into one string.
        if isinstance(node.value, (ast.Name, ast.Attribute)) \
                and self.qualify(node.value) in ENVIRON_NAMES:
            self.out.add("env_dump", node.lineno, self.scope, "os.environ", node.col_offset)
        self.generic_visit(node)

    def _lambda_key(self, node: ast.Lambda) -> str:
        key = f"<lambda:{node.lineno}:{node.col_offset}>"
        return key if self.scope in (MODULE, MAIN) else f"{self.scope}.{key}"

    def _env_setting(self, key: ast.expr, value: ast.expr) -> None:
        """`os.environ["BROWSER"] = cmd` (or `setdefault`, `putenv`, `update({...})`): a
        command line that `webbrowser.open`, `help()` or git runs later, read as the process
        it becomes. `PYTHONBREAKPOINT` names the function `breakpoint(...)` calls."""
        name = self.folder.fold_str(key)
        if name is None or not isinstance(name.value, str):
            return
        setting = name.value.upper()
        if setting == "PYTHONBREAKPOINT":
            self.breakpoint_hook = value
        elif setting in RUNNER_ENV and self.folder.fold_str(value) is not None:
            run = ast.Call(func=ast.Attribute(value=ast.Name(id="subprocess", ctx=ast.Load()),
                                              attr="getoutput", ctx=ast.Load()),
                           args=[value], keywords=[])
            self.visit_Call(ast.copy_location(run, value))

    def _built_names(self, args: list[ast.expr], line: int, col: int) -> None:
        for arg in args:
            if isinstance(arg, ast.BinOp | ast.JoinedStr | ast.Call | ast.Subscript):
                folded = self.folder.fold_str(arg)
                if folded is not None and isinstance(folded.value, str):
                    self._literal(folded.value, line, col, decoded=True)

    def _runs_code(self, value: ast.expr) -> bool:
        """`os.system`, `exec`, `subprocess.call` named as a value (not called)."""
        tail = value.id if isinstance(value, ast.Name) else \
            value.attr if isinstance(value, ast.Attribute) else None
        if tail is None or tail not in _runner_tails():
            return False
        return bool(self.cat.caps_for(self.qualify(value) or "") & {"process", "exec"})

    def _handed_call(self, node: ast.Call) -> ast.Call | None:
        """`Thread(target=os.system, args=(cmd,))`, `pool.submit(os.system, cmd)`,
        `functools.partial(os.system, cmd)`, `atexit.register(exec, code)`,
        `Timer(1, os.system, [cmd])`, `map(os.system, [cmd])`: a process or exec function
        handed, with its arguments, to code that calls it. Read as the call it becomes."""
        func: ast.expr | None = None
        rest: list[ast.expr] = []
        for i, arg in enumerate(node.args[:3]):
            if self._runs_code(arg):
                func, rest = arg, list(node.args[i + 1:])
                break
        if func is None:
            func = next((k.value for k in node.keywords
                         if k.arg in HANDED_KEYWORDS and self._runs_code(k.value)), None)
            if func is None:
                return None
        extra = next((k.value for k in node.keywords if k.arg == "args"), None)
        if isinstance(extra, ast.Tuple | ast.List):
            rest = list(extra.elts)
        elif len(rest) == 1 and isinstance(rest[0], ast.Tuple | ast.List):
            # Timer's argument list; map/filter call the function once per element
            one = self.qualify(node.func) in ("builtins.map", "builtins.filter", "map", "filter")
            rest = list(rest[0].elts[:1] if one else rest[0].elts)
        call = ast.Call(func=func, args=rest[:8], keywords=[])
        return ast.copy_location(call, node)

    def _env_settings(self, mapping: ast.Dict) -> None:
        for key, value in zip(mapping.keys, mapping.values, strict=True):
            if key is not None:
                self._env_setting(key, value)

    def _attribute_store(self, target: ast.Attribute, value: ast.expr, line: int) -> None:
        """`sys.excepthook = f`, `lib.Account.sign = f`: a function handed to other code."""
        base = self.qualify(target.value)
        if target.attr == "AF_UNIX":
            self.rebinds_unix = True
        handed = isinstance(value, (ast.Name, ast.Lambda, ast.Attribute))
        root = base.split(".")[0] if base else ""
        foreign = bool(base) and root in self.aliases.values() and root not in ("self", "cls")
        if isinstance(value, ast.Name) and self._local_data(value.id):
            # `sys.stdout = saved`, `sys.last_value = value`: a value the function holds
            # (a parameter, a saved attribute, an unpacked tuple) put back, not a function
            # of this package handed to other code.
            handed = False
        if handed and isinstance(value, ast.Name) and foreign:
            # sys.excepthook = f, otherlib.Client.send = f: other code will call f.
            self.out.calls.setdefault(self.scope, set()).add(value.id)
        if base and handed and foreign:
            label = f"{base}.{target.attr}"
            self.out.add("monkeypatch", line, self.scope, label, target.col_offset)
            if isinstance(value, ast.Name):
                self.out.patches.append((self.scope, label, value.id))
        if isinstance(target.value, ast.Name):
            key = (self.scope, f"{target.value.id}.{target.attr}")
            self.assignments.setdefault(key, []).append(value)

    def _local_data(self, name: str) -> bool:
        if self.scope in (MODULE, MAIN):
            return False
        if name in self.params.get(self.scope, ()):
            return True
        if name not in self.bound.get(self.scope, ()):
            return False
        values = self.assignments.get((self.scope, name), [])
        return not any(isinstance(v, ast.Lambda) for v in values)

    def visit_For(self, node: ast.For) -> None:
        self._iterates(node.target, node.iter)
        self.generic_visit(node)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self._iterates(node.target, node.iter)
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self._iterates(node.target, node.iter)
        self.generic_visit(node)

    def _iterates(self, target: ast.expr, it: ast.expr) -> None:
        names = [target] if isinstance(target, ast.Name) else [
            e for e in getattr(target, "elts", []) if isinstance(e, ast.Name)]
        for name in names:
            self.bound_by.setdefault((self.scope, name.id), []).append(it)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None and self.scope not in (MODULE, MAIN):
            self.returns.setdefault(self.scope, []).append(node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.assignments.setdefault((self.scope, node.target.id), []).append(node.value)
        elif isinstance(node.target, ast.Attribute) \
                and isinstance(node.value, (ast.List, ast.Tuple)) \
                and f"{self.qualify(node.target)}.extend" in CALLBACK_APIS:
            # `gc.callbacks += [f]` is `gc.callbacks.extend([f])`.
            for value in node.value.elts:
                if isinstance(value, ast.Name):
                    self.out.calls.setdefault(self.scope, set()).add(value.id)
        elif isinstance(node.value, ast.Dict) and self.qualify(node.target) in ENVIRON_NAMES:
            self._env_settings(node.value)  # `os.environ |= {"BROWSER": cmd}`
        self.generic_visit(node)

    def _string_annotation(self, node: ast.expr | None) -> None:
        """`x: "__import__('os').system(...)"`: `typing.get_type_hints`, pydantic and
        dataclass tools evaluate string annotations; one that calls something is code."""
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and "(" in node.value and len(node.value) < 2000):
            return
        try:
            expr = ast.parse(node.value.strip(), mode="eval").body
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            return
        if not any(isinstance(sub, ast.Call) for sub in ast.walk(expr)):
            return
        for sub in ast.walk(expr):
            if "lineno" in sub._attributes:
                sub.lineno, sub.col_offset = node.lineno, node.col_offset  # type: ignore[attr-defined]
                sub.end_lineno, sub.end_col_offset = node.end_lineno, node.end_col_offset  # type: ignore[attr-defined]
        self.visit(expr)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._string_annotation(node.annotation)
        if node.value is not None and isinstance(node.target, ast.Name):
            self.assignments.setdefault((self.scope, node.target.id), []).append(node.value)
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        if isinstance(node.exc, ast.Call):
            self.raised.setdefault(self.scope, []).extend(node.exc.args[:2])
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.handlers[(self.scope, node.name)] = self.scope
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        sl = node.slice
        if (
            isinstance(sl, ast.Slice)
            and sl.lower is None
            and sl.upper is None
            and isinstance(sl.step, ast.UnaryOp)
            and isinstance(sl.step.op, ast.USub)
        ):
            self.out.add("reverse", node.lineno, self.scope, "[::-1]", node.col_offset)
        if not isinstance(sl, ast.Constant | ast.Name | ast.Slice) \
                and self.qualify(node.value) in ENVIRON_NAMES:
            self._built_names([sl], node.lineno, node.col_offset)  # os.environ["AWS_" + k]
        if isinstance(node.value, ast.Name) and node.value.id in self.out.classes:
            # `Model[int]` runs the class's `__class_getitem__` (PEP 560) without a call
            self.out.calls.setdefault(self.scope, set()).add(node.value.id)
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        # A bare string statement is a docstring or a comment in disguise: it never runs.
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return
        self.generic_visit(node)

    def visit_keyword(self, node: ast.keyword) -> None:
        if node.arg in METADATA_KEYWORDS:
            outer, self.messages = self.messages, 1
            self.generic_visit(node)
            self.messages = outer
            return
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in FACTORY_KEYS:
                # logging.config.dictConfig calls what `"()"` (or a handler's `"class"`)
                # names, with the other keys as arguments: a call through a string.
                folded = self.folder.fold_str(value)
                if folded is not None and _dotted_ok(folded.value) \
                        and self.cat.caps_for(str(folded.value)) & FACTORY_DANGER:
                    self.out.add("hidden_name", node.lineno, self.scope, str(folded.value),
                                 node.col_offset)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if not isinstance(value, str) or len(value) < 3:
            return
        self._literal(value, node.lineno, node.col_offset)

    def _literal(self, value: str, line: int, col: int, decoded: bool = False) -> None:
        probe = value[:4096]
        for cap in self.cat.literal_caps(probe):
            if self.messages and cap in MESSAGE_CAPS:
                continue
            if cap == "pip_cmd" and is_prose(value):
                continue
            self.out.add(f"lit:{cap}", line, self.scope, value[:200], col)
        if value.startswith(("http://", "https://")):
            host = value.split("://", 1)[1].split("/", 1)[0].split(":")[0].lower()
            if host:
                self.out.add("url", line, self.scope, host, col)
        if decoded:
            return
        if is_blob(value):
            self.out.add("blob", line, self.scope, f"{len(value)} chars", col)
        if embedded_candidate(value):
            self.out.embedded.append((line, self.scope, value))

    # calls ---------------------------------------------------------------------------------
    def call_caps(self, node: ast.Call) -> tuple[set[str], str, str]:
        qualified = self.qualify(node.func) or ""
        if qualified == "operator.methodcaller" and node.args and isinstance(node.func, ast.Call) \
                and node.func.args:
            # `operator.methodcaller("system", cmd)(os)` calls `os.system(cmd)`.
            base = self.qualify(node.args[0])
            folded = self.folder.fold_str(node.func.args[0])
            if base and folded is not None and _dotted_ok(folded.value):
                self._trick(True)
                qualified = f"{base}.{folded.value!s}"
        caps = set(self.cat.caps_for(qualified)) if qualified else set()
        if not caps and qualified.startswith("builtins."):
            caps = set(self.cat.caps_for(qualified[len("builtins.") :]))
        simple = (
            node.func.attr
            if isinstance(node.func, ast.Attribute)
            else (node.func.id if isinstance(node.func, ast.Name) else "")
        )
        if not caps and isinstance(node.func, ast.Attribute) and simple in SUSPICIOUS_METHODS:
            caps.add(SUSPICIOUS_METHODS[simple])
        return caps, qualified, simple

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Attribute) and len(node.args) >= 2 and (
                (node.func.attr in ("setdefault", "__setitem__")
                 and self.qualify(node.func.value) in ENVIRON_NAMES)
                or self.qualify(node.func) == "os.putenv"):
            self._env_setting(node.args[0], node.args[1])
        elif isinstance(node.func, ast.Attribute) and node.func.attr == "update" \
                and self.qualify(node.func.value) in ENVIRON_NAMES:
            if node.args and isinstance(node.args[0], ast.Dict):
                self._env_settings(node.args[0])
            for kw in node.keywords:
                if kw.arg is not None:
                    self._env_setting(ast.copy_location(ast.Constant(kw.arg), kw.value),
                                      kw.value)
        if node.args or node.keywords:
            given = self._handed_call(node)
            if given is not None:
                self.visit_Call(given)
        if self.breakpoint_hook is not None and isinstance(node.func, ast.Name) \
                and node.func.id == "breakpoint":
            # `breakpoint(cmd)` with PYTHONBREAKPOINT="os.system": `pydoc.locate`'s call
            hook = ast.Call(func=ast.Attribute(value=ast.Name(id="pydoc", ctx=ast.Load()),
                                               attr="locate", ctx=ast.Load()),
                            args=[self.breakpoint_hook], keywords=[])
            run = ast.Call(func=ast.copy_location(hook, node), args=node.args,
                           keywords=node.keywords)
            self.breakpoint_hook, held = None, self.breakpoint_hook
            self.visit_Call(ast.copy_location(run, node))
            self.breakpoint_hook = held
            return
        self._pending_trick = False
        caps, qualified, simple = self.call_caps(node)
        tricky = self._pending_trick
        self._pending_trick = False
        line, col = node.lineno, node.col_offset
        if tricky and (caps or qualified in CODE_READS):
            # The name of what is called was built at run time (chr, concatenation, decoding):
            # nobody writes `getattr(os, "sy" + "stem")` except to hide the call. Folded back
            # to a known function, it is graded by what that function does (celery reaches
            # `sys._getframe` as `getattr(sys, "emarfteg_"[::-1])`: a frame read, kept as a
            # `code_read` source below, not a call whose target stays unknown).
            self.out.add("hidden_name", line, self.scope, qualified, col)
        elif not caps and self._hidden_target(node):
            self.out.add("hidden_call", line, self.scope, qualified or "<computed>", col)
        if qualified in ZIP_LOADS and node.args:
            # `zipimport.zipimporter(bundle).load_module("x")`: a module of a bundled zip.
            folded = self.folder.fold_str(node.args[0])
            if folded is not None and _dotted_ok(folded.value):
                self.out.imports.append((self.scope, str(folded.value), line))
        if qualified in ("builtins.__import__", "importlib.import_module") and node.args:
            folded = self.folder.fold_str(node.args[0])
            if folded is not None and folded.tricky:
                self.out.add("hidden_name", line, self.scope, f"import {folded.value!s}", col)
        if qualified in PATH_JOINS:
            # os.path.join(appdata, "Microsoft", "Windows", "Start Menu", ...): the place a
            # path names is in its pieces; read them as the path they make.
            pieces = [a.value for a in node.args
                      if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if len(pieces) >= 2:
                for sep in ("/", "\\"):
                    self._literal(sep + sep.join(pieces), line, col, decoded=True)
        if qualified in ("shutil.rmtree", "os.removedirs") and node.args \
                and _home_or_root(node.args[0], self.qualify):
            self.out.add("wipe", line, self.scope, qualified, col)
        if qualified in BACKGROUND:
            self.out.add("background", line, self.scope, qualified, col)
        if qualified in CODE_READS:
            self.out.add("code_read", line, self.scope, qualified, col)
        if qualified == "builtins.setattr" and len(node.args) >= 3:
            # `setattr(sys, "excepthook", f)` is `sys.excepthook = f`.
            folded = self.folder.fold_str(node.args[1])
            if folded is not None and isinstance(folded.value, str) \
                    and folded.value.isidentifier():
                target = ast.copy_location(
                    ast.Attribute(value=node.args[0], attr=folded.value, ctx=ast.Store()), node)
                self._attribute_store(target, node.args[2], line)
        if simple == "getattr" and node.args and self._is_builtins(node.args[0]):
            self.out.add("builtins_access", line, self.scope, "getattr(builtins, ...)", col)
        if isinstance(node.func, ast.Name) and simple == "int" and len(node.args) == 2 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value == 2 \
                and not isinstance(node.args[0], ast.Constant):
            # `int(bits, 2)` over text built at run time: bits spelled as characters (tabs and
            # spaces, zero-width marks) read back into bytes, a decoder like b64decode.
            self.out.add("decode", line, self.scope, "int(..., 2)", col)
        if simple == "join" and node.args and _mentions_chr(node.args[0]):
            self.out.add("chr_join", line, self.scope, "''.join(chr(...))", col)
        # `child_env.update(os.environ)` merges the environment into the mapping a child
        # process gets (`env=`): the environment is handed on, not read out.
        merges = isinstance(node.func, ast.Attribute) and simple == "update"
        for arg in node.args:
            if not merges and self.qualify(arg) in ENVIRON_NAMES:
                self.out.add("env_dump", line, self.scope, "os.environ", col)
        label = qualified or simple or "<call>"
        if "network" in caps and qualified == "socket.socket" and self._unix_family(node):
            # A Unix-domain socket talks to this host's processes (put back by
            # `ast_facts` if the file rebinds `AF_UNIX`).
            caps.discard("network")
            self.unix_sockets.append((line, self.scope, label, col))
        if "dns" in caps and node.args and _built_name(node.args[0]):
            # gethostbyname(secret + ".attacker.example"): data leaves in the query name.
            caps.add("dns_exfil")
        for cap in caps:
            self.out.add(cap, line, self.scope, label, col)
        for kind in sink_kinds(caps):
            self.exec_calls.append((node, self.scope, label, kind))
            self._fold_sink_argument(node, kind, line, col)
        if simple in CONTAINER_FILLS and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.args:
            self.fed.setdefault((self.scope, node.func.value.id), []).append(node.args[-1])
        if simple and not self._stdlib_attribute(node.func):
            self.out.calls.setdefault(self.scope, set()).add(simple)
        if qualified and "." in qualified and not qualified.startswith("builtins."):
            self.out.qualified_calls.setdefault(self.scope, set()).add(qualified)
        # Functions handed to code that runs them without the user: Thread(target=f),
        # atexit.register(f), signal.signal(s, f), map(f, xs), executor.submit(f).
        if (qualified == "mmap.mmap" and "PROT_EXEC" in ast.unparse(node)[:2000]) or (
                simple == "mprotect" and len(node.args) >= 3):
            self.out.add("exec_memory", line, self.scope, f"{label}: executable memory", col)
        if (isinstance(node.func, ast.Call) and self.qualify(node.func.func) in CODE_POINTERS) \
                or (qualified == "ctypes.cast" and len(node.args) == 2
                    and isinstance(node.args[1], ast.Call)
                    and self.qualify(node.args[1].func) in CODE_POINTERS):
            # `CFUNCTYPE(None)(address)()`: bytes in memory called as machine code.
            self.out.add("code_pointer", line, self.scope, "function pointer from an address",
                         col)
        if qualified in SERVERS:
            # A server built at import with a handler class: the handler's methods run for
            # every connection, without the user.
            for value in node.args[1:2]:
                if isinstance(value, (ast.Name, ast.Attribute)):
                    self._handed(value, self.out.calls.setdefault(self.scope, set()), True)
        handed = qualified in CALLBACK_APIS or simple in CALLBACK_METHODS or simple == "__call__"
        for value in [*node.args, *(k.value for k in node.keywords)] if handed else ():
            if isinstance(value, ast.Name):
                self.out.calls.setdefault(self.scope, set()).add(value.id)
            elif isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) \
                    and value.value.id in ("self", "cls"):
                self.out.calls.setdefault(self.scope, set()).add(value.attr)
            elif isinstance(value, ast.Attribute) and isinstance(value.value, ast.Call) \
                    and isinstance(value.value.func, ast.Name):
                # `Timer(1, Bot().poll)`: a method of an instance made on the spot.
                self.out.calls.setdefault(self.scope, set()).add(value.attr)
        for kw in node.keywords:
            if kw.arg == "cmdclass":
                for sub in ast.walk(kw.value):
                    if isinstance(sub, ast.Name):
                        self.out.calls.setdefault(MODULE, set()).add(sub.id)
                        self._handed(sub, self.out.calls.setdefault(self.scope, set()), True)
                        self.out.add("cmdclass", line, self.scope, sub.id, col)
            elif kw.arg == "distclass" and isinstance(kw.value, (ast.Name, ast.Attribute)):
                # setup() builds the distribution from this class and drives it.
                self._handed(kw.value, self.out.calls.setdefault(self.scope, set()), True)
        if qualified in OPENERS or simple in ("read_text", "read_bytes"):
            self._opened_path(node)
        if qualified in OPENERS or qualified in NAME_TAKERS:
            self._built_names(node.args[:4], line, col)
        if _writes_file(qualified, simple, node):
            self.out.add("file_write", line, self.scope, label, col)
        if "process" in caps:
            self._ran_scripts(node)
            words, built, computed = _process_words(node)
            tool = _network_tool(words, built) or browser_opener(words, built or computed)
            cred = credential_cli(words)
            published = publisher(words)
            if published:
                self.out.add("publish", line, self.scope, published, col)
            if environment_printer(words):
                self.out.add("env_dump", line, self.scope, " ".join(words), col)
            wipe = destructive(words)
            if wipe:
                self.out.add("wipe", line, self.scope, wipe, col)
            if cred:
                # `gcloud auth print-access-token`, `gh auth token`: the output is a credential.
                self.out.add("cloud_creds", line, self.scope, cred, col)
            if tool:
                # `curl -F k=@~/.ssh/id_rsa`, `nslookup <built name>`, `nc host`: the process
                # is the network send.
                self.out.add("send", line, self.scope, tool, col)
                self.out.add("network", line, self.scope, tool, col)
                if tool in LOOKUP_TOOLS:
                    self.out.add("dns_exfil", line, self.scope, tool, col)
        # Literals directly in a message are text for people; a call nested in the message
        # (`print(os.system("curl ... | sh"))`) runs, so its literals count again.
        outer = self.messages
        if not (outer and simple in TEXT_SHAPERS):
            self.messages = int(is_message_call(simple, qualified)
                                or qualified in METADATA_CALLS or simple in METADATA_CALLS)
        self.generic_visit(node)
        self.messages = outer

    def _unix_family(self, node: ast.Call) -> bool:
        """`socket.socket(socket.AF_UNIX, ...)` (or `family=AF_UNIX`): local IPC, no host
        outside this machine can be reached through it."""
        family = node.args[0] if node.args else next(
            (k.value for k in node.keywords if k.arg == "family"), None)
        return family is not None and self.qualify(family) == "socket.AF_UNIX"

    def _hidden_target(self, node: ast.Call) -> bool:
        """A call whose target stays unknown and whose name comes from encoded or obfuscated
        data: `getattr(m, b64decode(x).decode())(...)`, `vars(builtins)[k[::-1]](...)`."""
        func = node.func
        name_arg: ast.expr | None = None
        if isinstance(func, ast.Call):
            fname = self.qualify(func.func) if not isinstance(func.func, ast.Call) else None
            if fname == "builtins.getattr" and len(func.args) >= 2:
                name_arg = func.args[1]
            elif fname in ("builtins.__import__", "importlib.import_module") and func.args:
                name_arg = func.args[0]
        elif isinstance(func, ast.Subscript) and _is_namespace(func.value, self, 0):
            name_arg = func.slice
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            inner = func.value
            fname = self.qualify(inner.func) if not isinstance(inner.func, ast.Call) else None
            if fname in ("builtins.__import__", "importlib.import_module") and inner.args:
                name_arg = inner.args[0]
        if name_arg is None:
            return False
        return bool(self._sources(name_arg, self.scope, 0) & HIDDEN_SOURCES)

    def _fold_sink_argument(self, node: ast.Call, kind: str, line: int, col: int) -> None:
        """What an exec, process or network call receives, folded: a command or URL built from
        pieces is read as the literal it becomes, decoded code as the code it is. A process
        call's every argument counts: `os.spawnlp(mode, "sh", "sh", "-c", cmd)`,
        `os.execl(path, "sh", "-c", cmd)` carry the command after the program."""
        args = list(node.args[:8] if kind == "process" else node.args[:1])
        if kind == "process":
            # `run(args=cmd)`, `run(**{"args": cmd})`
            for kw in node.keywords:
                if kw.arg in ("args", "cmd", "command", "argv"):
                    args.append(kw.value)
                elif kw.arg is None and isinstance(kw.value, ast.Dict):
                    args.extend(kw.value.values[:8])
        for arg in args:
            if isinstance(arg, ast.Starred):
                arg = arg.value  # `system(*[cmd])`
            if not isinstance(arg, ast.Constant):
                self._fold_one(arg, kind, line, col)

    def _fold_one(self, arg: ast.expr, kind: str, line: int, col: int) -> None:
        folded = self.folder.fold(arg)
        if folded is None:
            if self.folder.budget.exhausted:
                self.out.add("fold_budget", line, self.scope, "argument too large to fold", col)
            self._exception_argument(arg, kind, line, col)
            return
        value = folded.value
        if isinstance(value, tuple):
            value = " ".join(str(v) for v in value if isinstance(v, (str, int)))
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                return
        if not isinstance(value, str) or len(value) < 3:
            return
        self._literal(value, line, col, decoded=True)
        if kind == "exec":
            self.out.embedded.append((line, self.scope, value))
            if folded.tricky:
                self.out.decoded_code.append((line, self.scope, value))
                self.out.add("folded_code", line, self.scope, value[:200], col)

    def _exception_argument(self, arg: ast.expr, kind: str, line: int, col: int) -> None:
        """`except Exception as e: os.system(str(e))`: the command came in the exception."""
        names = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
        if not any((self.scope, n) in self.handlers for n in names):
            return
        for raised in self.raised.get(self.scope, [])[:8]:
            folded = self.folder.fold_str(raised)
            if folded is None:
                continue
            self._literal(str(folded.value), line, col, decoded=True)
            self.out.add(f"{kind}_of:exception", line, self.scope, "exception argument", col)
            if kind == "exec":
                self.out.embedded.append((line, self.scope, str(folded.value)))

    def _opened_path(self, node: ast.Call) -> None:
        """Files named in open()/read_text(): a data file code reads at install or import
        time (and may decode and execute) is part of what runs."""
        pieces = []
        target = node.args[0] if node.args else node.func
        for sub in ast.walk(target):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and sub.value \
                    and len(sub.value) < 300:
                pieces.append(sub.value.strip("/"))
            if len(pieces) > 8:
                break
        if pieces:
            self.out.opened.append((self.scope, "/".join(p for p in pieces if p), node.lineno))

    def _ran_scripts(self, node: ast.Call) -> None:
        """Script files named in a process call's arguments (a list, or a command line)."""
        for seen, sub in enumerate(ast.walk(node)):
            if seen > 200:
                break
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str) \
                    and len(sub.value) < 300:
                for word in sub.value.split()[:16]:
                    if SCRIPT_NAME.search(word):
                        self.out.ran.append((self.scope, word.strip("'\""), node.lineno))

    def _is_builtins(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name) and node.id in ("__builtins__", "__builtin__"):
            return True
        return self.qualify(node) in ("builtins", "__builtin__")

    # exec sources --------------------------------------------------------------------------
    def _argv(self, call: ast.Call, scope: str) -> ast.expr | None:
        """A process call's argv: the literal list, or the list a name was assigned once
        (`cmd = ["git", "clone"]; cmd.append(url); run(cmd)`) with what was added to it."""
        argv = call.args[0] if call.args else None
        if isinstance(argv, ast.Name):
            values = self.assignments.get((scope, argv.id)) or []
            if len(values) == 1 and isinstance(values[0], (ast.List, ast.Tuple)):
                added = self.fed.get((scope, argv.id), [])
                return ast.List(elts=[*values[0].elts, *added], ctx=ast.Load())
        return argv

    def resolve_exec_sources(self) -> None:
        scopes = {f.scope for f in self.out.facts if f.cap == "decode"}
        self.helpers = {name for name, key in self.out.functions.items() if key in scopes}
        for call, scope, label, kind in self.exec_calls:
            sources: set[str] = set()
            if kind == "process" and _fixed_program(call, self._argv(call, scope)):
                continue
            for arg in call.args[:1] if label in CODE_FIRST else call.args[:2]:
                sources |= self._sources(arg, scope, 0)
            for src in sorted(_for_sink(sources, kind)):
                self.out.add(f"{kind}_of:{src}", call.lineno, scope, label, call.col_offset)
            if kind == "net":
                held = self._held_secret(call, scope)
                if held:
                    self.out.add("held_secret", call.lineno, scope, held, call.col_offset)
        self._wrappers()
        if any(f.cap == "dns" for f in self.out.facts):
            # A function returning resolver answers packed into bytes hands DNS-carried
            # content to its callers, in this module or another (the flow groups join them).
            for key, values in self.returns.items():
                for value in values[:4]:
                    if "dns_answer" in self._sources(value, key, 0):
                        self.out.add("returns:dns_answer", getattr(value, "lineno", 0), key,
                                     "returns resolver answers as bytes")
                        break

    def _held_secret(self, call: ast.Call, scope: str) -> str:
        """`requests.post("https://fixed.host/x", json={"ak": cfg.access_key_id, "secret":
        cfg.access_key_secret})`: a send to a URL written in the code whose body carries a
        value named like a signing secret or a wallet key that the program holds (a
        constructor's argument, a config attribute). Clients sign with such secrets; they do
        not send them. OAuth `client_secret` and passwords go to login endpoints and do not
        count. Returns the value's name, or ''."""
        target = call.args[0] if call.args else next(
            (k.value for k in call.keywords if k.arg == "url"), None)
        if isinstance(target, ast.JoinedStr) and target.values:
            target = target.values[0]
        elif isinstance(target, ast.BinOp):
            target = target.left
        fixed = isinstance(target, ast.Constant) and isinstance(target.value, str) \
            and target.value.startswith(("http://", "https://"))
        if not fixed and isinstance(target, ast.Call):
            # `url=base64.b64decode("aHR0cHM6...").decode()`: a fixed URL, hidden.
            folded = self.folder.fold_str(target)
            fixed = folded is not None and isinstance(folded.value, str) \
                and folded.value.startswith(("http://", "https://"))
        for node in self._payload(call, scope):
            if isinstance(node, ast.Name) and fixed and HELD_SECRET.search(node.id):
                return node.id
            if isinstance(node, ast.Attribute) and fixed and HELD_SECRET.search(node.attr):
                return node.attr
            if isinstance(node, (ast.Name, ast.Attribute)) \
                    and self.qualify(node) in ENVIRON_NAMES:
                # `json={**os.environ}`, `data=f"{os.environ}"`: the whole environment.
                self.out.add("env_dump", call.lineno, scope, "os.environ", call.col_offset)
        return ""

    def _payload(self, call: ast.Call, scope: str) -> Iterator[ast.expr]:
        """The expressions a send call's arguments carry: through names assigned once,
        containers, f-strings, concatenation and calls that keep their argument's value."""
        values: list[ast.expr] = [*call.args, *(k.value for k in call.keywords)]
        seen = 0
        while values and seen < 120:
            node = values.pop()
            seen += 1
            yield node
            if isinstance(node, ast.Name):
                assigned = self.assignments.get((scope, node.id)) or []
                if len(assigned) == 1:
                    values.append(assigned[0])
            elif isinstance(node, ast.Dict):
                values.extend(v for v in node.values if v is not None)
            elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
                values.extend(node.elts)
            elif isinstance(node, ast.JoinedStr):
                values.extend(v.value for v in node.values if isinstance(v, ast.FormattedValue))
            elif isinstance(node, ast.Call):
                # Through calls that carry their argument on (`json.dumps(d).encode()`,
                # `b64encode`), not through those that turn it into something else (an
                # HMAC signature, a hash).
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else (
                    func.id if isinstance(func, ast.Name) else "")
                if name in CARRIERS:
                    values.extend(node.args)
                    values.extend(k.value for k in node.keywords)
                if name in RECEIVER_CARRIERS and isinstance(func, ast.Attribute) \
                        and all(isinstance(a, ast.Constant) for a in node.args):
                    values.append(func.value)  # `text.encode()`, not `jwt.encode(c, key)`
            elif isinstance(node, ast.BinOp):
                values.extend((node.left, node.right))

    def _wrappers(self) -> None:
        """`run = lambda s: exec(s)`, `def go(c): os.system(c)`: a function that hands its
        parameter to a sink is a sink too; its callers' arguments are what it runs."""
        wrappers: dict[str, tuple[str, str]] = {}
        for call, scope, label, kind in self.exec_calls:
            params = self.params.get(scope)
            if not params or not call.args:
                continue
            used = {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)}
            if used & set(params):
                wrappers[scope.rsplit(".", 1)[-1]] = (kind, label)
                for name, key in self.out.functions.items():
                    if key == scope:
                        wrappers[name] = (kind, label)
        if not wrappers:
            return
        for node in self._calls_to(set(wrappers)):
            call, scope = node
            name = call.func.id if isinstance(call.func, ast.Name) else \
                call.func.attr if isinstance(call.func, ast.Attribute) else ""
            kind, label = wrappers[name]
            sources: set[str] = set()
            for arg in call.args[:2]:
                sources |= self._sources(arg, scope, 0)
            for src in sorted(_for_sink(sources, kind)):
                self.out.add(f"{kind}_of:{src}", call.lineno, scope, label, call.col_offset)

    def _calls_to(self, names: set[str]) -> list[tuple[ast.Call, str]]:
        """Calls of the named functions, directly or through map()/filter() (then the
        iterable is what the function receives)."""
        found = []
        for c, s in self.all_calls:
            if (isinstance(c.func, ast.Name) and c.func.id in names) \
                    or (isinstance(c.func, ast.Attribute) and c.func.attr in names):
                found.append((c, s))
            elif isinstance(c.func, ast.Name) and c.func.id in ("map", "filter") \
                    and len(c.args) >= 2 and isinstance(c.args[0], ast.Name) \
                    and c.args[0].id in names:
                found.append((ast.Call(func=c.args[0], args=c.args[1:], keywords=[],
                                       lineno=c.lineno, col_offset=c.col_offset), s))
        return found

    all_calls: list[tuple[ast.Call, str]]

    _visitors: ClassVar[dict[type, Callable[[Collector, ast.AST], object]]] = {}
    """Node class -> the method that visits it, looked up once per class, not per node."""

    def visit(self, node: ast.AST) -> object:
        visitor = self._visitors.get(node.__class__)
        if visitor is None:
            found = getattr(type(self), "visit_" + node.__class__.__name__, None)
            visitor = found if found is not None else type(self).generic_visit
            self._visitors[node.__class__] = visitor
        return visitor(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            self.all_calls.append((node, self.scope))
        self._children(node)

    _fields_of: ClassVar[dict[type, tuple[str, ...]]] = {}
    """Node class -> its fields that can hold nodes worth a visit: all but `ctx`, whose
    Load/Store/Del marker no visitor reads (a name's context is read from the name)."""

    def _children(self, node: ast.AST) -> None:
        """`ast.NodeVisitor.generic_visit` without its generator: same order, and the same
        number of frames per level of nesting, so a deeply nested file runs out of stack
        (and falls back to the text scan) where it did. The `ctx` marker of each name,
        attribute and subscript is not entered: a third of all visits, and no facts."""
        visit = self.visit
        fields = self._fields_of.get(node.__class__)
        if fields is None:
            fields = tuple(name for name in node._fields if name != "ctx")
            self._fields_of[node.__class__] = fields
        for name in fields:
            try:
                value = getattr(node, name)
            except AttributeError:
                continue
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        visit(item)
            elif isinstance(value, ast.AST):
                visit(value)

    def _sources(self, node: ast.expr, scope: str, depth: int) -> set[str]:
        """What feeds `node`: decoding, downloads, chr/xor/reversal tricks, blobs, through
        the names it reads (their assignments, the loops that bind them) and the return
        values of the file's own functions it calls."""
        if depth > 4:
            return set()
        memo = (id(node), scope, depth)
        known = self.source_memo.get(memo)
        if known is not None:
            return set(known)
        found: set[str] = set()
        todo: list[ast.AST] = [node]
        seen = 0
        while todo and seen <= 400:
            sub = todo.pop()
            seen += 1
            children = True
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) \
                    and sub.func.attr in SOCKET_METADATA:
                continue  # the local port or a descriptor: nothing the remote party sent
            if isinstance(sub, ast.Call):
                caps, qualified, simple = self.call_caps(sub)
                if "decode" in caps or simple in self.helpers:
                    found.add("decode")
                if qualified in NAME_LOOKUPS or (simple in LOOKUP_METHODS and not caps
                                                 and LOOKUP_METHODS[simple] == "ptr"):
                    # A reverse (PTR) answer is a name the address's owner wrote.
                    found.add("ptr_answer")
                    children = False
                elif qualified in ADDRESS_LOOKUPS or (simple in LOOKUP_METHODS and not caps):
                    # The answer is an address, whatever name was asked: what built the
                    # name does not flow into it.
                    found.add("resolved")
                    children = False
                elif caps & {"download", "network"}:
                    found.add("download")
                if (
                    simple == "join" and sub.args and _mentions_chr(sub.args[0])
                ) or qualified == "builtins.chr":
                    found.add("chr_join")
                if "process" in caps and _fetch_tool(sub):
                    found.add("download")  # what curl, dig or nslookup printed
                if qualified in BYTE_PACKERS or simple in ("to_bytes", "packed"):
                    found.add("packed")
                if isinstance(sub.func, ast.Name) and sub.func.id in self.out.functions:
                    key = self.out.functions[sub.func.id]
                    for returned in self.returns.get(key, [])[:4]:
                        found |= self._sources(returned, key, depth + 1) & CARRIED_SOURCES
            if isinstance(sub, ast.Attribute) and sub.attr == "packed":
                found.add("packed")  # ipaddress.ip_address(answer).packed
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) \
                    and sub.func.attr in ("recv", "recvfrom", "recv_into", "recvmsg"):
                found.add("download")  # bytes a socket received
            elif isinstance(sub, ast.Attribute) and sub.attr in NETWORK_READ_ATTRS:
                if isinstance(sub.value, ast.Call):
                    caps, _, _ = self.call_caps(sub.value)
                    if caps & {"download", "network"}:
                        found.add("download")
            elif isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.BitXor):
                found.add("xor")
            elif isinstance(sub, ast.Subscript) and isinstance(sub.slice, ast.Slice):
                step = sub.slice.step
                if isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub):
                    found.add("reverse")
            elif isinstance(sub, ast.Constant) and isinstance(sub.value, (str, bytes)):
                value = sub.value.decode("latin-1") if isinstance(sub.value, bytes) else sub.value
                if (is_blob(value, min_len=60) or PICKLE_HEAD.match(value)) \
                        and not plain_pickle(value):
                    found.add("blob")
            elif isinstance(sub, ast.Name):
                if sub.id in ("chr", "bytes", "bytearray"):
                    found.add("packed")  # map(chr, octets)
                for where in (scope, MODULE) if scope != MODULE else (scope,):
                    name = (where, sub.id)
                    plain = self.assignments.get(name, [])
                    for assigned in plain[:4]:
                        found |= self._sources(assigned, where, depth + 1)
                    for assigned in self.fed.get(name, [])[:4] + (
                            [] if plain else self.bound_by.get(name, [])[:4]):
                        found |= self._sources(assigned, where, depth + 1) & CARRIED_SOURCES
            if children:
                todo.extend(ast.iter_child_nodes(sub))
        self.source_memo[memo] = frozenset(found)
        if depth == 0:
            # Resolver answers packed into bytes (A-record octets, inet_aton): content a DNS
            # server chose, not an address to connect to.
            if {"resolved", "packed"} <= found:
                found.add("dns_answer")
            found -= {"resolved", "packed"}
        return found

SOCKET_METADATA = frozenset({"getsockname", "getpeername", "fileno", "gettimeout",
                             "getsockopt", "getblocking", "get_inheritable"})
"""Socket methods that answer with local state (the port bound, a descriptor, an option),
not with bytes received: a free-port finder's result is not network content."""
BACKGROUND = frozenset({"threading.Thread", "threading.Timer", "multiprocessing.Process",
                        "os.fork", "os.setsid", "_thread.start_new_thread",
                        "thread.start_new_thread", "atexit.register", "signal.signal"})
PATH_JOINS = frozenset({"os.path.join", "posixpath.join", "ntpath.join", "pathlib.Path",
                        "pathlib.PurePath", "pathlib.PureWindowsPath"})
CALLBACK_DECORATORS = frozenset({"atexit.register"})
CALLBACK_APIS = BACKGROUND | frozenset({
    "builtins.map", "builtins.filter", "concurrent.futures.ThreadPoolExecutor.submit",
    "threading.excepthook", "sys.settrace", "sys.setprofile", "threading.settrace",
    "asyncio.run", "asyncio.get_event_loop.run_until_complete", "weakref.finalize",
    "sys.addaudithook", "threading.setprofile", "threading.setprofile_all_threads",
    "threading.settrace_all_threads", "sys.set_asyncgen_hooks", "codecs.register",
    "sys.monitoring.register_callback", "os.register_at_fork",
    "gc.callbacks.append", "gc.callbacks.insert", "gc.callbacks.extend",
    # `object.__new__(C)` (and `type.__call__(C)`, any `__call__`): a class called without
    # writing `C()`
    "builtins.object.__new__", "object.__new__",
    "functools.partial", "operator.call", "contextlib.closing", "contextlib.ExitStack.callback",
})
CALLBACK_METHODS = frozenset({"submit", "apply_async", "run_in_executor", "call_soon",
                              "call_later", "start_new_thread", "Thread", "Timer", "Process",
                              "register", "map", "filter", "signal", "create_task"})
ZIP_LOADS = frozenset({"zipimport.zipimporter.load_module", "zipimport.zipimporter.find_spec",
                       "zipimport.zipimporter.find_module", "zipimport.zipimporter.get_code"})
CODE_POINTERS = frozenset({"ctypes.CFUNCTYPE", "ctypes.PYFUNCTYPE", "ctypes.WINFUNCTYPE"})
SERVERS = frozenset({
    "socketserver.TCPServer", "socketserver.UDPServer", "socketserver.ThreadingTCPServer",
    "socketserver.ThreadingUDPServer", "socketserver.ForkingTCPServer",
    "http.server.HTTPServer", "http.server.ThreadingHTTPServer", "SocketServer.TCPServer",
    "BaseHTTPServer.HTTPServer",
})
NAME_TAKERS = frozenset({"os.path.expanduser", "os.path.join", "os.path.expandvars",
                         "posixpath.join", "ntpath.join", "pathlib.Path.joinpath",
                         "os.environ.get", "os.getenv", "os.environ.pop", "os.getenvb",
                         "os.environb.get"})
"""Calls whose arguments name a file or an environment setting: a credential's name built
from pieces (`"~/.s" + "sh/id_" + "rsa"`, `"AWS_SECRET_" + "ACCESS_KEY"`) is read folded."""

OPENERS = frozenset({"builtins.open", "io.open", "codecs.open", "runpy.run_path",
                     "builtins.execfile", "pathlib.Path", "imp.load_source",
                     "importlib.machinery.SourceFileLoader",
                     "importlib.util.spec_from_file_location"})


HELD_SECRET = re.compile(
    r"(^|_)(access_?key_?secret|secret_?access_?key|secret_?key|private_?key|api_?secret|"
    r"mnemonic|seed_?phrase|seed_?words|wallet_?key)$", re.IGNORECASE)
"""Names of values a client signs with and never sends: cloud signing secrets, API secrets,
private keys, wallet seeds (not OAuth `client_secret`, not passwords)."""


CARRIERS = frozenset({"dumps", "dict", "str", "bytes", "repr", "format", "join",
                      "b64encode", "urlsafe_b64encode", "b32encode", "hexlify", "urlencode",
                      "quote", "quote_plus", "compress"})
"""Calls whose result still carries their arguments' values."""
RECEIVER_CARRIERS = frozenset({"encode", "decode", "strip"})
"""Methods whose result still carries the value they are called on (`s.encode()`); with
other arguments they are something else (`jwt.encode(claims, private_key)` signs)."""


UPLOAD_TOOLS = frozenset({"nc", "ncat", "netcat", "scp", "sftp", "socat", "telnet"})
LOOKUP_TOOLS = frozenset({"nslookup", "dig", "host", "ping"})
UPLOAD_FLAGS = frozenset({"-d", "--data", "--data-binary", "--data-raw", "--data-urlencode",
                          "-F", "--form", "-T", "--upload-file", "--post-data", "--post-file",
                          "--body-data", "--body-file"})


def _home_or_root(arg: ast.expr, qualify: Callable[[ast.expr], str | None]) -> bool:
    """`os.path.expanduser("~")`, `Path.home()`, `"/"`, `"C:\\"`: the whole home folder or
    the file system's root, not a folder inside it. The function is named as written or
    through an alias (`_home = os.path.expanduser`)."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value.rstrip("/\\") in ("", "~", "$HOME") or bool(
            re.fullmatch(r"[A-Za-z]:[/\\]?", arg.value))
    if isinstance(arg, ast.Call):
        name = arg.func.attr if isinstance(arg.func, ast.Attribute) else (
            (qualify(arg.func) or "").rpartition(".")[2])
        if name == "home" and not arg.args:
            return True
        if name in ("expanduser", "expandvars") and len(arg.args) == 1:
            return _home_or_root(arg.args[0], qualify)
    return False


def _process_words(node: ast.Call) -> tuple[list[str], bool, bool]:
    """The words of a process call's literals; whether a piece is built (f-string,
    concatenation); whether an argument is computed (any name or call)."""
    words: list[str] = []
    built = False
    for seen, sub in enumerate(ast.walk(node)):
        if seen > 200:
            break
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and len(sub.value) < 2000:
            words.extend(sub.value.split()[:40])
        elif isinstance(sub, (ast.JoinedStr, ast.BinOp, ast.FormattedValue)):
            built = True
    first = node.args[0] if node.args else None
    rest = first.elts[1:] if isinstance(first, (ast.List, ast.Tuple)) else node.args[1:]
    computed = any(not isinstance(a, (ast.Constant, ast.Starred)) for a in rest)
    return words, built, computed


def _network_tool(words: list[str], built: bool) -> str:
    """A process call that sends data with a network tool: curl or wget with an upload flag,
    nc/scp and friends, or a DNS/ping lookup of a name built from data."""
    if not words:
        return ""
    first = words[0].rsplit("/", 1)[-1].lower()
    if first in UPLOAD_TOOLS:
        return first
    if first in ("curl", "wget") and any(w.split("=", 1)[0] in UPLOAD_FLAGS
                                         or w.startswith(("--data", "--post", "--upload"))
                                         for w in words):
        return first
    if first in LOOKUP_TOOLS and built:
        return first
    return ""


SCRIPT_NAME = re.compile(r"[\w.-]\.(py|pyw|sh|bash|zsh|ps1|bat|cmd)$|(^|/)configure$")


INTERPRETERS = re.compile(
    r"^(ba|z|da|k|c|tc|fi)?sh$|^cmd(\.exe)?$|^(power|pw)sh(ell)?(\.exe)?$|^python[\d.]*w?(\.exe)?$"
    r"|^(perl|ruby|node|nodejs|deno|bun|php|lua|tclsh|wish|osascript|wscript|cscript|mshta|"
    r"rundll32|regsvr32|env|xargs|nohup|sudo|su|doas|setsid|timeout|nice|exec|eval|source|"
    r"busybox|awk|gawk|mawk|nawk|find|ssh|java|jshell|rscript|r|make|docker|podman|kubectl|"
    r"script|watch|expect|parallel|flock|chroot|unshare|nsenter|strace|gdb|py|ipython|"
    r"pip[\d.]*|pipx|uv|uvx|conda|mamba|npm|npx|yarn|pnpm|gem|cargo|go|msiexec|schtasks|"
    r"crontab|at|launchctl|systemd-run|open|start|xdg-open)(\.exe)?$",
    re.IGNORECASE)
"""Programs whose arguments are themselves run: a shell, an interpreter, a launcher."""
RUN_FLAGS = re.compile(r"^(-c|-e|-x|-exec|--exec|--eval|--command|/c|/k|-command|"
                       r"-encodedcommand|-enc|--rcfile|--init-file|-ex|--ex)$|exec=|!",
                       re.IGNORECASE)
"""Options that make a program run their value (`git -c alias.x=!cmd`, `tar
--checkpoint-action=exec=cmd`, `find -exec`)."""


FETCH_TOOLS = frozenset({"curl", "wget", "nslookup", "dig", "host", "drill", "kdig", "delv",
                         "nc", "ncat", "netcat", "socat", "aria2c", "http", "https", "lynx",
                         "w3m", "fetch", "invoke-webrequest", "iwr", "invoke-restmethod", "irm",
                         "resolve-dnsname", "certutil", "bitsadmin"})
"""Programs whose output is what a server sent."""


def _fetch_tool(call: ast.Call) -> bool:
    """A process call whose program prints what it fetched: `check_output(["dig", ...])`,
    `getoutput("curl -s https://...")`."""
    first = call.args[0] if call.args else None
    if isinstance(first, (ast.List, ast.Tuple)) and first.elts:
        first = first.elts[0]
    elif isinstance(first, ast.JoinedStr) and first.values:
        first = first.values[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return False
    words = first.value.split(None, 1)
    program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower() if words else ""
    return program.removesuffix(".exe") in FETCH_TOOLS


def _for_sink(sources: set[str], kind: str) -> set[str]:
    """A reverse-lookup name is code when exec'd; as a program's argument it is a host."""
    if "ptr_answer" not in sources:
        return sources
    return (sources - {"ptr_answer"}) | ({"dns_answer"} if kind == "exec" else set())


def _fixed_program(call: ast.Call, argv: ast.expr | None) -> bool:
    """`subprocess.run(["svcctl", "join", "--addr", ip])`: an argv whose program is a literal
    that does not run its arguments. What fills the other places is data handed to that
    program, not a command; `["sh", "-c", x]`, `[x]`, a string command all stay commands."""
    if not isinstance(argv, (ast.List, ast.Tuple)) or not argv.elts:
        return False
    first = argv.elts[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return False
    program = first.value.replace("\\", "/").rsplit("/", 1)[-1]
    return bool(program) and not INTERPRETERS.search(program) and not any(
        isinstance(kw.value, ast.Constant) and kw.value.value is True
        for kw in call.keywords if kw.arg == "shell") and not any(
        isinstance(sub, ast.Constant) and isinstance(sub.value, str)
        and RUN_FLAGS.search(sub.value) for e in argv.elts[1:] for sub in ast.walk(e))


def _writes_file(qualified: str, simple: str, node: ast.Call) -> bool:
    """`open(p, "w")`, `open(p, mode="ab")`, `Path.write_text`: a file written, not read."""
    if simple in ("write_text", "write_bytes"):
        return True
    if qualified not in ("builtins.open", "io.open", "codecs.open", "os.fdopen"):
        return False
    mode = node.args[1] if len(node.args) > 1 else next(
        (k.value for k in node.keywords if k.arg == "mode"), None)
    return isinstance(mode, ast.Constant) and isinstance(mode.value, str) \
        and any(c in mode.value for c in "wax+")


def _dotted_ok(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) < 200 and all(
        part.isidentifier() for part in value.split(".")
    )


def _is_namespace(node: ast.expr, c: Collector, depth: int) -> bool:
    """`vars(builtins)`, `builtins.__dict__`, `__builtins__`, `globals()`, `locals()`,
    `globals()["__builtins__"]`: mappings from names to the interpreter's functions."""
    c.reached(depth)
    if depth > 8:
        return False
    if isinstance(node, ast.Name) and node.id in ("__builtins__", "__builtin__"):
        return True
    if isinstance(node, ast.Name):
        alias = c._alias_of(node.id, depth + 1)
        return alias is not None and _is_namespace(alias, c, depth + 1)
    if isinstance(node, ast.Attribute) and node.attr == "__dict__":
        q = c.qualify(node.value, depth + 1)
        return q in ("builtins", "__builtin__")
    if isinstance(node, ast.Call) and not isinstance(node.func, ast.Call):
        q = c.qualify(node.func, depth + 1)
        if q in ("builtins.globals", "builtins.locals"):
            return True
        if q == "builtins.vars" and node.args:
            return c.qualify(node.args[0], depth + 1) in ("builtins", "__builtin__")
    if isinstance(node, ast.Subscript):
        return _is_namespace(node.value, c, depth + 1)
    return False


def _built_name(node: ast.expr) -> bool:
    """A host name assembled from data: concatenation, f-string, .format() or .join()."""
    if isinstance(node, (ast.BinOp, ast.JoinedStr)):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
    )


def _mentions_chr(node: ast.expr) -> bool:
    for seen, sub in enumerate(ast.walk(node)):
        if seen > 200:
            return False
        if isinstance(sub, ast.Name) and sub.id == "chr":
            return True
    return False


def ast_facts(tree: ast.Module,
              expand: Callable[[str], str | None] | None = None,
              own: frozenset[str] = frozenset()) -> FileFacts:
    """Facts of one parsed module (the one collector: fast enough for every file);
    `expand`: names imported through the package's other modules, `own`: the package's
    top-level module names (see `Collector`)."""
    out = FileFacts()
    collector = Collector(out, expand, own)
    try:
        collector.all_calls = []
        collector.visit(tree)
        collector.resolve_exec_sources()
        if collector.rebinds_unix:
            for line, scope, label, col in collector.unix_sockets:
                out.add("network", line, scope, label, col)
        return out
    finally:
        # The collector and its folder refer to each other (bound methods), and through the
        # collector to the tree and the package: dropped here, they are freed by reference
        # counting instead of waiting, with the whole tree, for the worker's collection.
        vars(collector).clear()


# -- text front-end (tolerant fallback) -----------------------------------------------------

_CALL = re.compile(r"(?<!\w)([A-Za-z_][\w.]*)\s*\(")  # (?<!\w): not retried inside a name
_STRING = re.compile(
    r"""(?:[rRbBuU]{0,2})(?:'([^'\\\n]*(?:\\.[^'\\\n]*)*)'|"([^"\\\n]*(?:\\.[^"\\\n]*)*)")"""
)
_DEF = re.compile(r"^(\s*)def\s+(\w+)")
_OPEN_READ = re.compile(r"\bopen\([^()]*\)\.read\(\)")
_EXEC_WORD = re.compile(r"\b(exec|eval|compile|marshal\.loads|pickle\.loads)\s*\(")


def text_facts(text: str, max_line: int = 20_000) -> FileFacts:
    """Line-based facts for source libcst cannot parse; scopes are approximated by `def`."""
    out = FileFacts(parsed=False)
    cat = catalog()
    scope = MODULE
    scope_indent = -1
    for lineno, line in enumerate(text.splitlines(), start=1):
        if len(line) > max_line:
            line = line[:max_line]
        stripped = line.lstrip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if scope != MODULE and indent <= scope_indent:
            scope, scope_indent = MODULE, -1
        if m := _DEF.match(line):
            if scope == MODULE:
                scope, scope_indent = m.group(2), len(m.group(1))
                out.functions.setdefault(m.group(2), m.group(2))
            continue
        caps_here: set[str] = set()
        for call in _CALL.findall(line):
            parts = call.split(".")
            caps = cat.exact.get(call) or cat.tails.get(".".join(parts[-2:]), frozenset())
            if not caps and parts[-1] in SUSPICIOUS_METHODS:
                caps = frozenset({SUSPICIOUS_METHODS[parts[-1]]})
            for cap in caps:
                out.add(cap, lineno, scope, call)
            caps_here |= caps
            out.calls.setdefault(scope, set()).add(parts[-1])
        if re.search(r"os\.environ(\.(items|copy|keys|values)\(|\)|\s*\))", line) and not re.search(
            r"\.update\(\s*os\.environ\s*\)", line
        ):
            out.add("env_dump", lineno, scope, "os.environ")
        for m in _STRING.finditer(line):
            lit = m.group(1) if m.group(1) is not None else (m.group(2) or "")
            if len(lit) < 3:
                continue
            for cap in cat.literal_caps(lit[:4096]):
                out.add(f"lit:{cap}", lineno, scope, lit[:200])
            if is_blob(lit):
                out.add("blob", lineno, scope, f"{len(lit)} chars")
            if embedded_candidate(lit):
                out.embedded.append((lineno, scope, lit))
        if _EXEC_WORD.search(line):
            if "decode" in caps_here or re.search(
                r"b64decode|decompress|unhexlify|fromhex|decrypt", line
            ):
                out.add("exec_of:decode", lineno, scope, "exec")
            # `.read()` of a response, not of a file the same line opens (Python 2's
            # `exec compile(open(fname).read(), ...)` in an execfile shim).
            reads = line.count(".read()") - len(_OPEN_READ.findall(line))
            if caps_here & {"download", "network"} or reads > 0:
                out.add("exec_of:download", lineno, scope, "exec")
            if "chr(" in line:
                out.add("exec_of:chr_join", lineno, scope, "exec")
            if "[::-1]" in line:
                out.add("exec_of:reverse", lineno, scope, "exec")
    return out


OPERATOR_RUNS = ("__missing__", "__getitem__", "__class_getitem__", "__enter__", "__exit__",
                 "__aenter__", "__aexit__", "__iter__", "__next__", "__len__", "__bool__",
                 "__str__", "__repr__", "__format__", "__hash__", "__eq__", "__contains__",
                 "__index__", "__fspath__", "__get__", "__set__", "__reduce__", "__reduce_ex__",
                 "__copy__", "__deepcopy__", "__getstate__", "__instancecheck__",
                 "__subclasscheck__")
"""Methods that Python calls for syntax, not for a call by name: `obj[k]` (and a dict
subclass's `__missing__`), `with obj`, `for x in obj`, `if obj`, `f"{obj}"`, `obj in d`,
`os.fspath(obj)`, a descriptor read from its class (`__get__`; a property's getter counts
as one), `copy.copy(obj)` and `pickle.dumps(obj)`, `isinstance(x, C)` of a metaclass.
Code that makes an instance at import and then subscripts, iterates or
prints it runs them without naming them; they count as run with the constructor.
(`__call__` and `__getattr__` are left out: lazy proxies and callable settings objects made
at import are everywhere, and calling one is an edge by name.)"""

CLASS_RUNS = ("__new__", "__init__", "__post_init__", "__del__", "run", "__set_name__",
              "__prepare__", *OPERATOR_RUNS)
"""Methods that run when a class is called: construction, finalization, `run` (a
setuptools command class or a thread subclass, which its caller starts) and the operator
methods (`OPERATOR_RUNS`)."""


METACLASS_BASES = frozenset({"type", "builtins.type", "abc.ABCMeta", "ABCMeta",
                             "enum.EnumMeta", "enum.EnumType"})


def _class_runs(ff: FileFacts, name: str) -> tuple[str, ...]:
    """`CLASS_RUNS`, and `__call__` for a metaclass: calling a class made by it
    (`C()`) runs the metaclass's `__call__`."""
    if any(base in METACLASS_BASES for base in ff.classes.get(name, ())):
        return (*CLASS_RUNS, "__call__")
    return CLASS_RUNS


def reachable(ff: FileFacts, roots: Sequence[str] = (MODULE,)) -> set[str]:
    """Function keys reached from the given scopes through the intra-file call graph."""
    seen: set[str] = set(roots)
    stack = list(roots)
    for root in roots:
        # A class handed to a framework that drives it (`cmdclass`, `distclass`, a module
        # object put in `sys.modules`): `Class.*`, all its methods; a class called: its
        # constructor.
        if root.endswith(".*"):
            found = [k for k in ff.calls if k.startswith(root[:-1])]
        elif root in ff.classes:
            found = [f"{root}.{m}" for m in _class_runs(ff, root) if f"{root}.{m}" in ff.calls]
        else:
            continue
        for key in found:
            if key not in seen:
                seen.add(key)
                stack.append(key)
    while stack:
        key = stack.pop()
        for callee in ff.calls.get(key, ()):
            if callee.endswith(".*"):
                targets = [k for k in ff.calls if k.startswith(callee[:-1])]
            elif callee in ff.functions:
                targets = [ff.functions[callee]]
            else:
                targets = [callee] if "." in callee and callee in ff.calls else []
            # Calling a class runs its constructor and finalizer (and, for a cmdclass or a
            # thread, its run method); its other methods run only when something calls them
            # (`obj.send()` is an edge by name), not because the class was made or handed on.
            if callee in ff.classes:
                targets += [f"{callee}.{m}" for m in _class_runs(ff, callee)
                            if f"{callee}.{m}" in ff.calls]
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
    return seen
