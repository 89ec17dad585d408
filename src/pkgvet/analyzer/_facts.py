"""Capability facts about Python source: what a piece of code can do, and where.

Two front-ends produce the same `Fact`s:
- `cst_facts()` parses with libcst and resolves names with `QualifiedNameProvider`, so
  `import base64 as b; b.b64decode(x)` is `base64.b64decode`; it knows which function each
  fact sits in, the calls between functions of the file, and which exec-like calls are fed by
  decoded, decrypted, downloaded or deobfuscated data.
- `text_facts()` is the tolerant fallback for files libcst cannot parse (Python 2 sources,
  broken files): line-based patterns over the same catalog, with less context.

Facts are not findings: `python_code` grades combinations of facts by phase.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import ahocorasick
import libcst as cst
from libcst.metadata import (
    MetadataWrapper,
    PositionProvider,
    QualifiedNameProvider,
)

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
    screen: Any
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
        return self._search(text)

    def _search(self, text: str) -> list[str]:
        if len(text) < 200 and next(self.screen.iter(text.lower()), None) is None:
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


def _automaton(words: list[str]) -> Any:
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


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


def embedded_candidate(text: str) -> bool:
    """A literal worth unpacking: code-like text, or a long encoded blob."""
    if len(text) < 16:
        return False
    return bool(CODE_MARKERS.search(text[:20000])) or is_blob(text, min_len=40)


def junk_identifier(name: str) -> bool:
    if JUNK_NAME.match(name):
        return True
    # Identifiers in CJK or mixed scripts in otherwise-ASCII code: a generator's fingerprint.
    return len(name) >= 6 and sum(1 for ch in name if ord(ch) > 0x2E80) >= len(name) // 2


# -- libcst front-end -----------------------------------------------------------------------

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
}
NETWORK_READ_ATTRS = frozenset(
    {"read", "text", "content", "json", "readlines", "recv", "iter_content"}
)


def _simple(node: cst.BaseExpression) -> str:
    """The called name: `f` for f(), `join` for "".join() and obj.join()."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return ""


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


MESSAGE_CAPS = frozenset({"download_cmd", "pip_cmd", "shell_cmd", "shell_bin"})
"""Command-line literals that, inside a message for people (an exception, print, a log line,
a warning), are instructions ("install it with: curl ... | sh"), not commands pkgvet should
weigh."""
_MESSAGE_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception",
                              "critical", "fatal", "echo", "secho"})


def is_message_call(simple: str | None, qualified: str | None = None) -> bool:
    """`print(...)`, `warnings.warn(...)`, `log.info(...)`, `click.echo(...)`, and building
    an exception or warning (`RuntimeError(...)`, `raise ImportError(...)`)."""
    if not simple:
        return False
    return (simple == "print" or simple in _MESSAGE_METHODS or qualified == "warnings.warn"
            or simple.endswith(("Error", "Exception", "Warning")))


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (QualifiedNameProvider, PositionProvider)

    def __init__(self, wrapper: MetadataWrapper, out: FileFacts, module: cst.Module) -> None:
        super().__init__()
        self.wrapper = wrapper
        self.out = out
        self.module = module
        self.scopes: list[str] = [MODULE]
        self.class_stack: list[str] = []
        self.assignments: dict[tuple[str, str], list[cst.BaseExpression]] = {}
        self.exec_calls: list[tuple[cst.Call, str, str, str]] = []
        self.cat = catalog()
        self._main_if: cst.If | None = None
        self.helpers: set[str] = set()
        self.messages = 0
        """1 while visiting the arguments of a message call (print, log, an exception)."""
        self._message_stack: list[int] = []

    # positions / names ------------------------------------------------------------------
    def _line(self, node: cst.CSTNode) -> tuple[int, int]:
        try:
            pos = self.get_metadata(PositionProvider, node)
            return pos.start.line, pos.start.column
        except KeyError:
            return 0, 0

    def _qnames(self, node: cst.CSTNode) -> set[str]:
        try:
            return {q.name for q in self.get_metadata(QualifiedNameProvider, node, set())}
        except KeyError:
            return set()

    @property
    def scope(self) -> str:
        return self.scopes[-1]

    # structure ----------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        name = node.name.value
        bases = [b for b in (_dotted(a.value) for a in node.bases) if b]
        qualified_bases: list[str] = []
        for arg in node.bases:
            qualified_bases.extend(self._qnames(arg.value))
        self.out.classes[name] = bases + qualified_bases
        if junk_identifier(name):
            line, col = self._line(node)
            self.out.add("junk_names", line, self.scope, name, col)
        self.class_stack.append(name)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        key = ".".join([*self.class_stack, name]) if self.class_stack else name
        if len(self.scopes) > 1 and self.scope not in (MODULE, MAIN):
            key = f"{self.scope}.{key}"
        self.out.functions.setdefault(name, key)
        self.out.calls.setdefault(key, set())
        if junk_identifier(name):
            line, col = self._line(node)
            self.out.add("junk_names", line, self.scope, name, col)
        for deco in node.decorators:
            for q in self._qnames(deco.decorator):
                if q in ("atexit.register",):
                    self.out.calls.setdefault(self.scope, set()).add(name)
        self.scopes.append(key)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.scopes.pop()

    def visit_If(self, node: cst.If) -> None:
        test = node.test
        if (
            self.scope == MODULE
            and isinstance(test, cst.Comparison)
            and isinstance(test.left, cst.Name)
            and test.left.value == "__name__"
        ):
            self.scopes.append(MAIN)
            self._main_if = node

    def leave_If(self, original_node: cst.If) -> None:
        if getattr(self, "_main_if", None) is original_node:
            self.scopes.pop()
            self._main_if = None

    def visit_Name(self, node: cst.Name) -> None:
        if junk_identifier(node.value):
            line, col = self._line(node)
            self.out.add("junk_names", line, self.scope, node.value, col)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.assignments.setdefault((self.scope, target.target.value), []).append(
                    node.value
                )

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.assignments.setdefault((self.scope, node.target.value), []).append(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and isinstance(node.target, cst.Name):
            self.assignments.setdefault((self.scope, node.target.value), []).append(node.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        # s[::-1]: string reversal, a common trick to hide payloads and URLs.
        if len(node.slice) == 1:
            sl = node.slice[0].slice
            if (
                isinstance(sl, cst.Slice)
                and sl.lower is None
                and sl.upper is None
                and isinstance(sl.step, cst.UnaryOperation)
                and isinstance(sl.step.operator, cst.Minus)
            ):
                line, col = self._line(node)
                self.out.add("reverse", line, self.scope, "[::-1]", col)

    def leave_Call(self, original_node: cst.Call) -> None:
        self.messages = self._message_stack.pop()

    # calls --------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        # Literals directly in a message are text for people; a call nested in the message
        # (`print(os.system("curl ... | sh"))`) runs, so its literals count again.
        self._message_stack.append(self.messages)
        self.messages = int(is_message_call(_simple(node.func) or None))
        line, col = self._line(node)
        # Only a plain dotted name has a qualified name; for `__import__("os").system` the
        # provider reports the inner call's name, which is not what is being called.
        qnames = self._qnames(node.func) if _dotted(node.func) is not None else set()
        caps: set[str] = set()
        for q in qnames:
            caps |= self.cat.caps_for(q)
        dotted = _dotted(node.func)
        simple = _simple(node.func) or None
        if not caps and simple in SUSPICIOUS_METHODS and isinstance(node.func, cst.Attribute):
            caps.add(SUSPICIOUS_METHODS[simple])
        if (
            simple == "getattr"
            and "builtins.getattr" in qnames
            and node.args
            and self._is_builtins_ref(node.args[0].value)
        ):
            self.out.add("builtins_access", line, self.scope, "getattr(builtins, ...)", col)
        if simple == "join" and node.args and self._is_chr_seq(node.args[0].value):
            self.out.add("chr_join", line, self.scope, "''.join(chr(...))", col)
        if simple == "system" and not caps and dotted and dotted.endswith(".system"):
            caps.add("process")
        for arg in node.args:
            if self._qnames(arg.value) & ENVIRON_NAMES:
                # os.environ handed whole to a call: json.dumps(os.environ), dict(os.environ)...
                self.out.add("env_dump", line, self.scope, "os.environ", col)
        label = sorted(qnames)[0] if qnames else (dotted or "<call>")
        if (
            "dns" in caps
            and node.args
            and (
                isinstance(node.args[0].value, (cst.BinaryOperation, cst.FormattedString))
                or (
                    isinstance(node.args[0].value, cst.Call)
                    and _simple(node.args[0].value.func) in ("format", "join")
                )
            )
        ):
            # gethostbyname(secret + ".attacker.example"): data leaves in the query name.
            caps.add("dns_exfil")
        for cap in caps:
            self.out.add(cap, line, self.scope, label, col)
        for kind in sink_kinds(caps):
            self.exec_calls.append((node, self.scope, label, kind))
        if simple is not None:
            # f(), self.f(), Class.f(): linked by simple name (an over-approximation).
            self.out.calls.setdefault(self.scope, set()).add(simple)
        # cmdclass={"install": X}: X's methods run at install time.
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "cmdclass":
                for name in _names_in(arg.value):
                    self.out.calls.setdefault(MODULE, set()).add(name)
                    self.out.add("cmdclass", line, self.scope, name, col)

    def _is_builtins_ref(self, node: cst.BaseExpression) -> bool:
        if isinstance(node, cst.Name) and node.value in ("__builtins__", "__builtin__"):
            return True
        return bool(self._qnames(node) & {"builtins", "__builtin__"})

    def _is_chr_seq(self, node: cst.BaseExpression) -> bool:
        text = self.module.code_for_node(node) if len(self.module.code) < 5_000_000 else ""
        return "chr(" in text[:2000] or "chr," in text[:2000] or "map(chr" in text[:2000]

    # literals -----------------------------------------------------------------------------
    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        try:
            value = node.evaluated_value
        except Exception:
            value = node.value
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        self._literal(node, text)

    def _literal(self, node: cst.CSTNode, text: str) -> None:
        if len(text) < 3:
            return
        line, col = self._line(node)
        probe = text if len(text) <= 4096 else text[:4096]
        for cap in self.cat.literal_caps(probe):
            if self.messages and cap in MESSAGE_CAPS:
                continue
            self.out.add(f"lit:{cap}", line, self.scope, text[:200], col)
        if is_blob(text):
            self.out.add("blob", line, self.scope, f"{len(text)} chars", col)
        if embedded_candidate(text):
            self.out.embedded.append((line, self.scope, text))

    # after the walk: which exec calls are fed by what ---------------------------------------
    def leave_Module(self, original_node: cst.Module) -> None:
        # Metadata is only readable while the wrapper is visiting: resolve before it ends.
        self.resolve_exec_sources()

    def _decoding_helpers(self) -> set[str]:
        """Simple names of this file's functions that decode (`def b64d(s): ...b64decode...`):
        a call to one of them carries decoded data just like the decode call itself."""
        scopes = {f.scope for f in self.out.facts if f.cap == "decode"}
        return {name for name, key in self.out.functions.items() if key in scopes}

    def resolve_exec_sources(self) -> None:
        self.helpers = self._decoding_helpers()
        for call, scope, label, kind in self.exec_calls:
            line, col = self._line(call)
            sources = set()
            for arg in call.args[:2]:
                sources |= self._sources(arg.value, scope, depth=0)
            for src in sorted(sources):
                self.out.add(f"{kind}_of:{src}", line, scope, label, col)

    def _sources(self, node: cst.BaseExpression, scope: str, depth: int) -> set[str]:
        """What kind of data an expression carries: decoded, downloaded, obfuscated, literal."""
        if depth > 4:
            return set()
        found: set[str] = set()
        for sub in _walk(node, limit=400):
            if isinstance(sub, cst.Call):
                caps: set[str] = set()
                for q in self._qnames(sub.func):
                    caps |= self.cat.caps_for(q)
                simple = _simple(sub.func)
                if simple in self.helpers:
                    found.add("decode")
                if not caps and simple in SUSPICIOUS_METHODS:
                    caps.add(SUSPICIOUS_METHODS[simple])
                if "decode" in caps:
                    found.add("decode")
                if caps & {"download", "network"}:
                    found.add("download")
                if simple == "join" and sub.args and self._is_chr_seq(sub.args[0].value):
                    found.add("chr_join")
                if simple in ("chr", "bytes", "bytearray") and "builtins.chr" in self._qnames(
                    sub.func
                ):
                    found.add("chr_join")
            elif isinstance(sub, cst.Attribute) and sub.attr.value in NETWORK_READ_ATTRS:
                inner = sub.value
                if isinstance(inner, cst.Call):
                    caps = set()
                    for q in self._qnames(inner.func):
                        caps |= self.cat.caps_for(q)
                    if caps & {"download", "network"}:
                        found.add("download")
            elif isinstance(sub, cst.BinaryOperation) and isinstance(sub.operator, cst.BitXor):
                found.add("xor")
            elif isinstance(sub, cst.Subscript):
                if len(sub.slice) == 1 and isinstance(sub.slice[0].slice, cst.Slice):
                    step = sub.slice[0].slice.step
                    if isinstance(step, cst.UnaryOperation) and isinstance(
                        step.operator, cst.Minus
                    ):
                        found.add("reverse")
            elif isinstance(sub, cst.SimpleString):
                try:
                    value = sub.evaluated_value
                except Exception:
                    value = sub.value
                text = value.decode("latin-1") if isinstance(value, bytes) else value
                if is_blob(text, min_len=60):
                    found.add("blob")
            elif isinstance(sub, cst.Name):
                for assigned in self.assignments.get((scope, sub.value), [])[:4]:
                    found |= self._sources(assigned, scope, depth + 1)
                if scope != MODULE:
                    for assigned in self.assignments.get((MODULE, sub.value), [])[:4]:
                        found |= self._sources(assigned, MODULE, depth + 1)
        return found


def _walk(node: cst.CSTNode, limit: int) -> Iterable[cst.CSTNode]:
    stack = [node]
    seen = 0
    while stack and seen < limit:
        current = stack.pop()
        seen += 1
        yield current
        stack.extend(reversed(current.children))


def _names_in(node: cst.BaseExpression) -> list[str]:
    return [n.value for n in _walk(node, limit=200) if isinstance(n, cst.Name)]


def cst_facts(module: cst.Module) -> FileFacts:
    out = FileFacts()
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    collector = _Collector(wrapper, out, module)
    wrapper.visit(collector)
    return out


# -- text front-end (tolerant fallback) -----------------------------------------------------

_CALL = re.compile(r"([A-Za-z_][\w.]*)\s*\(")
_STRING = re.compile(
    r"""(?:[rRbBuU]{0,2})(?:'([^'\\\n]*(?:\\.[^'\\\n]*)*)'|"([^"\\\n]*(?:\\.[^"\\\n]*)*)")"""
)
_DEF = re.compile(r"^(\s*)def\s+(\w+)")
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
        if re.search(r"os\.environ(\.(items|copy|keys|values)\(|\)|\s*\))", line):
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
            if caps_here & {"download", "network"} or ".read()" in line:
                out.add("exec_of:download", lineno, scope, "exec")
            if "chr(" in line:
                out.add("exec_of:chr_join", lineno, scope, "exec")
            if "[::-1]" in line:
                out.add("exec_of:reverse", lineno, scope, "exec")
    return out


def reachable(ff: FileFacts, roots: Sequence[str] = (MODULE,)) -> set[str]:
    """Function keys reached from the given scopes through the intra-file call graph."""
    seen: set[str] = set(roots)
    stack = list(roots)
    while stack:
        key = stack.pop()
        for callee in ff.calls.get(key, ()):
            targets = [ff.functions[callee]] if callee in ff.functions else []
            # Calling a class runs its __init__ (and, for cmdclass, its run method).
            if callee in ff.classes:
                targets += [k for k in ff.calls if k.startswith(f"{callee}.")]
            for target in targets:
                if target not in seen:
                    seen.add(target)
                    stack.append(target)
    return seen
