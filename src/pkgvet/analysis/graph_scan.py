"""The package graph's cheap reading of a file that names no capability: its imports, the
functions it defines and the calls each makes, the files it opens and the scripts it runs.

A reached module without any ingredient word holds nothing to grade, so it is not parsed:
the graph needs only its edges. The text is read whole, never line by line in Python: string
literals and comments are blanked in one regular-expression pass; the lines of each kind
(`def`, `import`, `class`, a decorator, an `open(`, a process call) are found by their words
in one Aho-Corasick pass, then matched by their pattern; calls are collected a stretch of
lines at a time, between the lines where the scope or the import names change.

Scopes follow indentation: a function begins at a `def` met at module level (methods too) and
ends at the next line, not inside brackets, a triple-quoted string or a backslash
continuation, that is indented no deeper than its `def`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from functools import lru_cache
from itertools import accumulate

from ahocorasick_rs import AhoCorasick, Implementation

from pkgvet.analysis.aho import find
from pkgvet.analysis.facts import _STRING, CLASS_RUNS, MODULE, SCRIPT_NAME, FileFacts

_BREAKS = re.compile(r"[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
"""Line breaks other than `\\n` (`str.splitlines` splits at these too)."""
_TOKEN = re.compile(
    r"""\"\"\"[^"]*(?:"(?!"")[^"]*)*(?:\"\"\"|\Z)|'''[^']*(?:'(?!'')[^']*)*(?:'''|\Z)|#[^\n]*|"""
    r""""[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*"?|'[^'\\\n]*(?:\\[\s\S][^'\\\n]*)*'?""")
"""A triple-quoted string (to its end or the text's), a comment, or a one-line string (to its
quote or its line's end; a backslash at the end of a line continues it on the next, as Python
reads it). Written as unrolled loops: a character class repeated, not an alternation tried at
every character."""
_WS = "".join(c for c in map(chr, range(0x3001)) if c.isspace() and c not in "\n")
"""What `[^\\S\\n]` matches (the whitespace that is not a line break after `_BREAKS`)."""
# Each kind of line is found by its word (one Aho-Corasick pass per text), then its pattern
# is matched at the start of the word's line. The patterns start with the line's `\n` (the
# texts searched start with one).
_DEF = re.compile(r"\n([^\S\n]*)def[^\S\n]+(\w+)")
_IMPORT = re.compile(
    r"\n[^\S\n]*(?:from[^\S\n]+(\.*[\w.]*)[^\S\n]+import[^\S\n]+\(?[^\S\n]*((?:[\w,*]|[^\S\n])+)|"
    r"import[^\S\n]+([\w.]+(?:[^\S\n]+as[^\S\n]+\w+)?"
    r"(?:[^\S\n]*,[^\S\n]*[\w.]+(?:[^\S\n]+as[^\S\n]+\w+)?)*))")
_CLASS = re.compile(r"\n[^\S\n]*class[^\S\n]+\w+[^\S\n]*\(([^)\n]*)\)")
_DECORATOR = re.compile(r"\n[^\S\n]*@([\w.]+)[^\S\n]*(?=\n|\Z)")
_CLASS_HEAD = re.compile(r"\n([^\S\n]*)class[^\S\n]+(\w+)")
"""Any class header (in the code, strings blanked): `class Loader:` as well."""
_METACLASS = re.compile(r"\bmetaclass\s*=\s*([A-Za-z_][\w.]*)")
"""A metaclass named in a class header, on its first line or any other."""
_OPENS = ("open(", "read_bytes(", "read_text(")
_RUNS_PROCESS = ("subprocess", "system(", "popen", "spawn", "check_call", "check_output",
                 ".run(", ".call(", *(f"exec{a}{p}{e}(" for a in "lv" for p in ("", "p")
                                      for e in ("", "e")))
_CALL_REVERSED = re.compile(r"\([^\S\n]*([\w.]*[A-Za-z_])(?!\w)(?![^\S\n]+ssalc(?![\w.]))")
r"""A call `name(` in the reversed code: found from its parenthesis (a literal the search
jumps to) instead of trying a name at every character; the same names as
`(?<!\w)[A-Za-z_][\w.]*\s*\(` read forwards, but for a class header's own name
(`class Metric(Base):` defines Metric and calls nothing but what its bases call)."""
_SPLIT_NAMES = re.compile(r"[\s,]+")


_DEF_LINE, _IMPORT_LINE, _OPEN_LINE, _CLASS_LINE, _DECORATOR_LINE, _PROCESS_LINE = range(6)
"""Kinds of line, in the order a line's facts are read."""


class _Words:
    """Where the words that start each kind of line occur, in the text and in the code."""

    def __init__(self) -> None:
        raw = [*(f"def{c}" for c in _WS), *(f"import{c}" for c in _WS), *_OPENS,
               *_RUNS_PROCESS]
        code = [*(f"class{c}" for c in _WS), "@"]
        self.raw_kinds = [_DEF_LINE] * len(_WS) + [_IMPORT_LINE] * len(_WS) + \
            [_OPEN_LINE] * len(_OPENS) + [_PROCESS_LINE] * len(_RUNS_PROCESS)
        self.code_kinds = [_CLASS_LINE] * len(_WS) + [_DECORATOR_LINE]
        self.raw = AhoCorasick(raw, implementation=Implementation.DFA)
        self.code = AhoCorasick(code, implementation=Implementation.DFA)


@lru_cache(maxsize=1)
def _words() -> _Words:
    return _Words()


class _Text:
    """The file's text and its code (strings as `""`, comments dropped, line for line: a
    triple-quoted string's `""` stands on its closing line), each after a leading `\n`."""

    def __init__(self, text: str, max_lines: int) -> None:
        if _BREAKS.search(text):
            text = "\n".join(text.splitlines())
        if text.count("\n") >= max_lines:
            cut = -1
            for _ in range(max_lines):
                cut = text.find("\n", cut + 1)
            text = text[:cut]
        self.text = "\n" + text
        self.triple: list[tuple[int, int]] = []
        """(first line inside, last line) of each triple-quoted string over several lines."""
        spans: list[tuple[int, int, bool]] = []

        def blank(m: re.Match[str]) -> str:
            token = m.group()
            if token[0] == "#":
                return ""
            if token[:3] in ('"""', "'''"):
                closed = len(token) >= 6 and token.endswith(token[:3])
            else:
                closed = True  # a one-line string ends with its line at the latest
            newlines = token.count("\n")
            if newlines:
                spans.append((m.start(), newlines, closed))
                return "\n" * newlines + ('""' if closed else "")
            return '""' if closed else ""

        self.code = _TOKEN.sub(blank, self.text)
        self.reversed_code = self.code[::-1]
        line, last = 0, 0
        for start, newlines, closed in spans:
            line += self.text.count("\n", last, start)
            last = start
            self.triple.append((line + 1, line + newlines if closed else _NEVER))
        self._lengths = list(accumulate(map(len, self.code.split("\n")), initial=0))
        self.lines = len(self._lengths) - 2
        self._depth_line, self._depth = 1, 0
        self._starts: list[int] | None = None
        """Where each line starts in the code (`line_at`), made when first asked."""

    def code_start(self, line: int) -> int:
        """Where `line` (1-based) starts in the code; past the end for the line after last."""
        if line > self.lines:
            return len(self.code)
        return self._lengths[line] + line

    def line_at(self, pos: int) -> int:
        """The line (1-based) that position `pos` of the code is on; a line's `\n` belongs to
        the line it ends."""
        if self._starts is None:
            self._starts = [length + line for line, length in enumerate(self._lengths)]
        return bisect.bisect_right(self._starts, pos) - 1

    def code_of(self, first: int, last: int) -> str:
        """The code of lines `first` to `last` (1-based, inclusive)."""
        return self.code[self.code_start(first):self.code_start(last + 1)]

    def calls(self, first: int, last: int) -> set[str]:
        """The names called on lines `first` to `last`."""
        size = len(self.code)
        found = _CALL_REVERSED.findall(self.reversed_code, size - self.code_start(last + 1),
                                       size - self.code_start(first))
        return {name[::-1] for name in found}

    def continued(self, line: int, pos: int) -> bool:
        """Whether `line` (whose leading `\n` is at `pos`) continues the statement before."""
        at = bisect.bisect_right(self.triple, (line, _NEVER)) - 1
        if at >= 0 and self.triple[at][0] <= line <= self.triple[at][1]:
            return True
        if line > 1 and self.text[self.text.rfind("\n", 0, pos) + 1:pos].rstrip().endswith("\\"):
            return True
        return self._depth_before(line) > 0

    def _depth_before(self, line: int) -> int:
        """Bracket depth of the code before `line`; asked for lines in increasing order."""
        if line < self._depth_line:
            self._depth_line, self._depth = 1, 0
        segment = self.code_of(self._depth_line, line - 1)
        opened = segment.count("(") + segment.count("[") + segment.count("{")
        closed = segment.count(")") + segment.count("]") + segment.count("}")
        self._depth_line, self._depth = line, max(0, self._depth + opened - closed)
        return self._depth


_NEVER = 1 << 62
_ENDS: dict[int, re.Pattern[str]] = {}


def _ends(indent: int) -> re.Pattern[str]:
    """A line indented no deeper than `indent` that is neither blank nor a comment."""
    found = _ENDS.get(indent)
    if found is None:
        found = _ENDS[indent] = re.compile(rf"\n[^\S\n]{{0,{indent}}}[^\s#]")
    return found


_LINE_PATTERN = {_DEF_LINE: _DEF, _CLASS_LINE: _CLASS, _DECORATOR_LINE: _DECORATOR}
"""The pattern matched at the start of the line its word was found in (a word first on it)."""
_Event = tuple[int, int, "re.Match[str] | None", int]
"""(line, kind, the line's match, where the word is)."""


def _line_events(t: _Text) -> list[_Event]:
    """The lines that define, import, open, run, declare a class or decorate, in order; a
    line counts once per kind."""
    words = _words()
    events: list[_Event] = []
    for source, automaton, kinds in ((t.text, words.raw, words.raw_kinds),
                                     (t.code, words.code, words.code_kinds)):
        hits = sorted((start, kinds[index]) for index, start, _ in
                      find(automaton, source))
        line, last, seen = 0, 0, set()  # a word's position is past its line's `\n`
        for pos, kind in hits:
            line += source.count("\n", last, pos)
            last = pos
            if (line, kind) in seen:
                continue
            match: re.Match[str] | None = None
            if kind not in (_OPEN_LINE, _PROCESS_LINE):
                start = source.rfind("\n", 0, pos)
                if kind == _IMPORT_LINE:
                    match = _IMPORT.match(source, start)
                elif source[start + 1:pos].isspace() or start + 1 == pos:
                    match = _LINE_PATTERN[kind].match(source, start)
                if match is None:
                    continue
            seen.add((line, kind))
            events.append((line, kind, match, pos))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def _scopes(t: _Text, defs: list[_Event],
            out: FileFacts) -> list[tuple[int, int, str]]:
    """Function scopes as (def line, first line after it, name)."""
    scopes: list[tuple[int, int, str]] = []
    text = t.text
    until = 0
    for line, _, m, _ in defs:
        assert m is not None
        if line < until:
            continue  # a def inside a function: part of it
        name, ends = m.group(2), _ends(len(m.group(1)))
        out.functions.setdefault(name, name)
        out.calls.setdefault(name, set())
        end, at = line, m.start()
        while True:
            found = ends.search(text, at + 1)
            if found is None:
                end = _NEVER
                break
            end += text.count("\n", at, found.start())
            at = found.start()
            if not t.continued(end, at):
                break
        scopes.append((line, end, name))
        until = end
    return scopes


def graph_facts(text: str, max_lines: int = 200_000) -> FileFacts:
    """Only what the package graph needs: imports, calls of imported names, functions and
    their calls, opened files and scripts run (see the module docstring)."""
    out = FileFacts()
    t = _Text(text, max_lines)
    text = t.text
    events = _line_events(t)
    def_lines = {e[0] for e in events if e[1] == _DEF_LINE}
    scopes = _scopes(t, [e for e in events if e[1] == _DEF_LINE], out)
    _class_runs(t, scopes, out)
    starts = [s[0] for s in scopes]

    def scope_of(line: int) -> str:
        at = bisect.bisect_left(starts, line) - 1
        return scopes[at][2] if at >= 0 and line < scopes[at][1] else MODULE

    aliases: dict[str, str] = {}
    skip = def_lines | {e[0] for e in events if e[1] == _IMPORT_LINE}
    breaks = sorted(skip | {end for _, end, _ in scopes})

    def read_calls(first: int, last: int) -> None:
        """The calls on lines `first`..`last`, a stretch at a time: a stretch ends before a
        def or import line (whose calls are not read) and where a scope ends."""
        while first <= last:
            if first in skip:
                first += 1
                continue
            at = bisect.bisect_right(breaks, first)
            stop = min(last, breaks[at] - 1) if at < len(breaks) else last
            found = t.calls(first, stop)
            if found:
                scope = scope_of(first)
                names = out.calls.setdefault(scope, set())
                for call in found:
                    head, _, rest = call.partition(".")
                    names.add(call.rsplit(".", 1)[-1])
                    if head in aliases:
                        out.qualified_calls.setdefault(scope, set()).add(
                            aliases[head] + ("." + rest if rest else ""))
            first = stop + 1

    calls_done = 0  # the calls of the lines up to this one are read
    for line, kind, m, pos in events:
        if line > calls_done + 1:
            read_calls(calls_done + 1, line - 1)
            calls_done = line - 1
        if line in skip and kind != _IMPORT_LINE:
            continue  # a def line, or the rest of an import line: not read
        scope = scope_of(line)
        if kind == _IMPORT_LINE:
            assert m is not None
            _read_import(m, scope, aliases, out)
        elif kind in (_OPEN_LINE, _PROCESS_LINE):
            raw = text[text.rfind("\n", 0, pos) + 1:_line_end(text, pos)]
            if raw.lstrip().startswith("#"):
                continue
            if kind == _OPEN_LINE:
                pieces = [lit for pair in _STRING.findall(raw) for lit in pair
                          if lit and ("." in lit or "/" in lit or len(lit) > 3)
                          and lit.lower() not in ("utf-8", "utf8", "latin-1", "ascii")]
                if pieces:
                    out.opened.append((scope, "/".join(p.strip("/") for p in pieces[:8]), 0))
            else:
                for pair in _STRING.findall(raw):
                    for lit in pair:
                        for word in lit.split()[:16]:
                            if SCRIPT_NAME.search(word):
                                out.ran.append((scope, word, 0))
        elif kind == _CLASS_LINE:
            assert m is not None
            # Defining a class runs its bases' __init_subclass__ and its metaclass.
            for part in m.group(1).split(","):
                key, _, value = part.partition("=")
                name = (value if value else key).strip()
                head, _, rest = name.partition(".")
                if head in aliases and (not value or key.strip() == "metaclass"):
                    dotted = aliases[head] + ("." + rest if rest else "")
                    out.qualified_calls.setdefault(scope, set()).add(
                        dotted if value else dotted + ".__init_subclass__")
        elif kind == _DECORATOR_LINE:
            assert m is not None
            head, _, rest = m.group(1).partition(".")
            if head in aliases:
                out.qualified_calls.setdefault(scope, set()).add(
                    aliases[head] + ("." + rest if rest else ""))
    read_calls(calls_done + 1, t.lines)
    _metaclasses(t, scope_of, aliases, out)
    return out


def _class_runs(t: _Text, scopes: list[tuple[int, int, str]], out: FileFacts) -> None:
    """Calling a class runs its constructor (`CLASS_RUNS`): the classes of the file, and an
    edge from `Class.__init__` to the method's scope, so that `Loader()` at import reaches
    what `Loader.__init__` calls, as in the full parse. (Methods keep their own names as
    scopes: same-named methods of two classes share one, more edges, never fewer.)"""
    runs = [(line, name) for line, _, name in scopes if name in CLASS_RUNS]
    if not runs or "class" not in t.code:
        return
    classes: list[tuple[int, int, str]] = []
    for m in _CLASS_HEAD.finditer(t.code):
        found = _ends(len(m.group(1))).search(t.code, m.end())
        end = t.line_at(found.start()) if found else _NEVER
        classes.append((t.line_at(m.start(2)), end, m.group(2)))
        out.classes.setdefault(m.group(2), [])
    for at, method in runs:
        inside = [c for c in classes if c[0] < at <= c[1]]
        if inside:
            owner = max(inside)[2]  # the innermost: the latest header that holds the def
            out.calls.setdefault(f"{owner}.{method}", set()).add(method)


def _metaclasses(t: _Text, scope_of: Callable[[int], str], aliases: dict[str, str],
                 out: FileFacts) -> None:
    """Defining a class calls its metaclass (`__prepare__`, `__new__`, `__init__`): an edge
    from the scope that defines the class to the metaclass, local or imported, as the full
    parse draws it, whether the header fits on one line or not."""
    if "metaclass" not in t.code:
        return
    for m in _METACLASS.finditer(t.code):
        name = m.group(1)
        scope = scope_of(t.line_at(m.start()))
        out.calls.setdefault(scope, set()).add(name.rsplit(".", 1)[-1])
        head, _, rest = name.partition(".")
        if head in aliases:
            out.qualified_calls.setdefault(scope, set()).add(
                aliases[head] + ("." + rest if rest else ""))


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _read_import(m: re.Match[str], scope: str, aliases: dict[str, str], out: FileFacts) -> None:
    if m.group(1) is not None:
        base = m.group(1)
        for name in _SPLIT_NAMES.split(m.group(2)):
            if not name or name == "as" or name == "*":
                continue
            target = f"{base}.{name}" if not base.endswith(".") else f"{base}{name}"
            aliases[name] = target
            out.imports.append((scope, target, 0))
        out.imports.append((scope, base, 0))
    else:
        for part in m.group(3).split(","):
            bits = part.split()
            if not bits:
                continue
            aliases[bits[-1] if "as" in bits else bits[0].split(".")[0]] = (
                bits[0] if "as" in bits else bits[0].split(".")[0])
            out.imports.append((scope, bits[0], 0))
