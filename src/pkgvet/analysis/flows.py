"""Flows: the groups of facts that run together, across functions and modules.

A credential read in one module, packed in a second and sent by an `atexit` hook in a third
is one behaviour. For every file whose top level runs by itself (install or import time),
the group is what that top level reaches: its own functions through the file's call graph
(calls, threads, atexit and signal handlers, callbacks, decorators, lambdas, `__del__`),
the functions it calls in other modules of the package (`from .util import send; send()`),
transitively, and the module-level data it imports from them (`from .a import CREDS`).
The grading then weighs sources against sinks within each group.

Bounded: at most `MAX_HOPS` modules deep and `MAX_FACTS` facts per group; a group that
hits the bound is graded with what it has.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from pkgvet.analysis.facts import MAIN, MODULE, Fact, FileFacts, reachable
from pkgvet.analysis.parse import file_facts
from pkgvet.analysis.reachability import Reach, _Index, reach
from pkgvet.model import Phase
from pkgvet.package import Package

MAX_HOPS = 6
MAX_FACTS = 5_000
SOURCE_CAPS = frozenset({"lit:credentials", "lit:secret_env", "env_dump", "cloud_creds",
                         "hostinfo", "code_read"})


@dataclass(frozen=True, slots=True)
class Group:
    """Facts that run together at `phase`, starting from the top level of `origin`."""

    origin: str
    phase: Phase
    facts: list[Fact]
    scopes: dict[str, set[str]]
    """Relpath -> scopes in the group (to leave them out of the per-function runtime pass)."""


def live_scopes(r: Reach, rel: str, ff: FileFacts) -> set[str]:
    """Scopes of a file that run when its top level runs (all of them for whole files)."""
    if rel in r.whole:
        return set(ff.calls) | {x.scope for x in ff.facts} | {MODULE, MAIN}
    roots = {MODULE} | set(r.roots.get(rel, ()))
    return reachable(ff, sorted(roots))


def auto_groups(pkg: Package) -> Iterator[Group]:
    """One group per file whose top level runs at install or import time."""
    r = reach(pkg)
    index = _Index.of(pkg)
    for f in pkg.python_files:
        phase = r.phase.get(f.relpath)
        if phase not in (Phase.INSTALL, Phase.IMPORT):
            continue
        ff = file_facts(pkg, f) if f.relpath in r.reached else None
        if ff is None:
            continue
        yield _group(pkg, r, index, f.relpath, ff, phase)


def _group(pkg: Package, r: Reach, index: _Index, rel: str, ff: FileFacts,
           phase: Phase) -> Group:
    scopes: dict[str, set[str]] = {rel: live_scopes(r, rel, ff)}
    facts = [replace(x, file=rel) for x in ff.facts if x.scope in scopes[rel]]
    frontier = [(rel, ff, scopes[rel])]
    for _ in range(MAX_HOPS):
        following: list[tuple[str, FileFacts, set[str]]] = []
        for here, here_ff, live in frontier:
            loose = here in r.whole
            for scope in live:
                for dotted in here_ff.qualified_calls.get(scope, ()):
                    hit = index.resolve_call(dotted, here, loose)
                    if hit is None:
                        continue
                    target, key = hit
                    other = pkg.get(target)
                    other_ff = file_facts(pkg, other) if other is not None else None
                    if other_ff is None:
                        continue
                    known = scopes.setdefault(target, set())
                    if key in other_ff.calls:
                        new = reachable(other_ff, [key]) - known - {MODULE}
                    else:
                        # An imported value, not a function: the module-level code that
                        # computed it is where the data comes from.
                        new = set() if MODULE in known else {MODULE}
                    if not new:
                        continue
                    known |= new
                    added = [replace(x, file=target) for x in other_ff.facts if x.scope in new
                             and (x.scope != MODULE or x.cap in SOURCE_CAPS)]
                    facts.extend(added)
                    following.append((target, other_ff, new))
            for scope, target, _ in here_ff.imports:
                if scope not in live or "." not in target.strip("."):
                    continue
                module, _, name = target.rpartition(".")
                if index.resolve(target, here, loose) is not None:
                    continue  # a module, not a value: its own group covers its top level
                found = index.resolve(module, here, loose)
                other = pkg.get(found) if found else None
                other_ff = file_facts(pkg, other) if other is not None else None
                if found is None or other_ff is None or name in other_ff.functions:
                    continue
                known = scopes.setdefault(found, set())
                if MODULE in known:
                    continue
                known.add(MODULE)
                facts.extend(replace(x, file=found) for x in other_ff.facts
                             if x.scope == MODULE and x.cap in SOURCE_CAPS)
        if len(facts) > MAX_FACTS or not following:
            break
        frontier = following
    return Group(rel, phase, facts[:MAX_FACTS], scopes)
