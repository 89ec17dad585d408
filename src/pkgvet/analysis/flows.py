"""Flows: the groups of facts that run together, across functions and modules.

A credential read in one module, packed in a second and sent by an `atexit` hook in a third
is one behaviour. For every file whose top level runs by itself (install or import time),
the group is what that top level reaches: its own functions through the file's call graph
(calls, threads, atexit and signal handlers, callbacks, decorators, lambdas, `__del__`),
the functions it calls in other modules of the package (`from .util import send; send()`),
transitively, and the module-level data it imports from them (`from .a import CREDS`).
The grading then weighs sources against sinks within each group.

Each function's closure inside its file is computed once per package (`_Node`); a group is
a walk over those nodes, bounded by `MAX_NODES`. Facts pulled in from other modules are only
those a flow is made of (sources, sinks, what feeds them), not every capability.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from pkgvet.analysis.facts import MAIN, MODULE, Fact, FileFacts, reachable
from pkgvet.analysis.parse import file_facts
from pkgvet.analysis.reachability import Reach, _Index, reach
from pkgvet.model import Phase
from pkgvet.package import Package

MAX_NODES = 40
"""Functions in other modules one group may pull in. A flow a package is built around is
a short chain (read here, pack there, send from a hook); a group that fans out past this is a
library's dense call graph, where name-based call edges connect everything with everything:
there the group falls back to its own file, as a module's code does without the graph."""
SOURCE_CAPS = frozenset({"lit:credentials", "lit:secret_env", "env_dump", "cloud_creds",
                         "hostinfo", "code_read"})
FLOW_CAPS = SOURCE_CAPS | frozenset({
    "send", "dns_exfil", "network", "download", "socket", "dns", "process", "exec",
    "deserialize", "write", "chmod", "monkeypatch", "background", "url", "lit:bad_endpoint",
    "lit:raw_ip_url", "lit:download_cmd", "lit:persistence", "persistence_call",
    "hidden_name", "hidden_call", "folded_code", "site_dir", "file_write", "exec_memory",
    "code_pointer", "returns:dns_answer",
})


def _flowing(fact: Fact) -> bool:
    return fact.cap in FLOW_CAPS or "_of:" in fact.cap


@dataclass(frozen=True, slots=True)
class Group:
    """Facts that run together at `phase`, starting from the top level of `origin`."""

    origin: str
    phase: Phase
    facts: list[Fact]
    scopes: dict[str, set[str]]
    """Relpath -> scopes in the group (to leave them out of the per-function runtime pass)."""


@dataclass(slots=True)
class _Node:
    scopes: set[str]
    facts: list[Fact]
    callees: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class _Graph:
    pkg: Package
    r: Reach
    index: _Index
    nodes: dict[tuple[str, str], _Node | None] = field(default_factory=dict)

    def node(self, rel: str, key: str) -> _Node | None:
        """A function of a file with its closure in that file, computed once."""
        if (rel, key) in self.nodes:
            return self.nodes[(rel, key)]
        f = self.pkg.get(rel)
        ff = file_facts(self.pkg, f) if f is not None else None
        result: _Node | None = None
        if ff is not None:
            if key.startswith("="):
                # An imported name: a value computed at module level is data that flows
                # (`from .a import CREDS`); a function imported is not yet called.
                if key[1:] in ff.functions or key[1:] in ff.classes:
                    self.nodes[(rel, key)] = None
                    return None
                scopes = {MODULE}
                facts = [replace(x, file=rel) for x in ff.facts
                         if x.scope == MODULE and x.cap in SOURCE_CAPS]
            elif key in ff.calls or key == MODULE or key.endswith(".*") or key in ff.classes:
                scopes = reachable(ff, [key]) - ({MODULE} if key != MODULE else set())
                facts = [replace(x, file=rel) for x in ff.facts
                         if x.scope in scopes and _flowing(x)]
            else:
                # An imported value, not a function: the module-level code that computed it.
                scopes = {MODULE}
                facts = [replace(x, file=rel) for x in ff.facts
                         if x.scope == MODULE and x.cap in SOURCE_CAPS]
            result = _Node(scopes, facts, self._callees(rel, ff, scopes))
        self.nodes[(rel, key)] = result
        return result

    def _callees(self, rel: str, ff: FileFacts, scopes: set[str]) -> list[tuple[str, str]]:
        loose = rel in self.r.whole
        found: list[tuple[str, str]] = []
        for scope in scopes:
            for dotted in ff.qualified_calls.get(scope, ()):
                hit = self.index.resolve_call(dotted, rel, loose)
                if hit is not None and hit[0] != rel:
                    found.append(hit)
        for scope, target, _ in ff.imports:
            if scope not in scopes or "." not in target.strip("."):
                continue
            module, _, _name = target.rpartition(".")
            if self.index.resolve(target, rel, loose) is not None:
                continue  # a module, not a value: its own group covers its top level
            other = self.index.resolve(module, rel, loose)
            if other is not None and other != rel:
                found.append((other, "=" + _name))
        return sorted(set(found))  # the walk's order, and so each group's first fact of a
        # kind (the line a finding names), must not follow the hash seed of a set


def live_scopes(r: Reach, rel: str, ff: FileFacts) -> set[str]:
    """Scopes of a file that run when its top level runs (all of them for whole files)."""
    if rel in r.whole:
        return set(ff.calls) | {x.scope for x in ff.facts} | {MODULE, MAIN}
    roots = {MODULE} | set(r.roots.get(rel, ()))
    return reachable(ff, sorted(roots))


def graph(pkg: Package) -> _Graph:
    cached = pkg.memo.get("flow-graph")
    if isinstance(cached, _Graph):
        return cached
    made = _Graph(pkg, reach(pkg), _Index.of(pkg))
    pkg.memo["flow-graph"] = made
    return made


def auto_groups(pkg: Package) -> Iterator[Group]:
    """One group per reached file whose top level runs at install or import time."""
    g = graph(pkg)
    for f in pkg.python_files:
        phase = g.r.phase.get(f.relpath)
        if phase not in (Phase.INSTALL, Phase.IMPORT) or f.relpath not in g.r.reached:
            continue
        ff = file_facts(pkg, f)
        if ff is None:
            continue
        yield group_for(pkg, f.relpath, ff, phase)


def group_for(pkg: Package, rel: str, ff: FileFacts, phase: Phase) -> Group:
    """The group of a file's top level. Across modules only for files an entry point
    reaches: a module nobody imports by itself runs only when the user imports it, and
    then its own file is what it brings."""
    g = graph(pkg)
    live = live_scopes(g.r, rel, ff)
    scopes: dict[str, set[str]] = {rel: set(live)}
    facts = [replace(x, file=rel) for x in ff.facts if x.scope in live]
    across = rel in g.r.reached
    start = _Node(live, [], g._callees(rel, ff, live) if across else [])
    seen: set[tuple[str, str]] = set()
    stack = list(start.callees)
    own = (list(facts), {rel: set(live)})
    while stack:
        if len(seen) >= MAX_NODES:
            return Group(rel, phase, own[0], own[1])
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        node = g.node(*key)
        if node is None:
            continue
        known = scopes.setdefault(key[0], set())
        if not node.scopes <= known:
            known |= node.scopes
            facts.extend(node.facts)
        stack.extend(c for c in node.callees if c not in seen)
    return Group(rel, phase, facts, scopes)
