"""Python code objects read from `marshal` bytes and `.pyc` files, without `marshal.loads`.

`marshal.loads` on hostile bytes can crash the interpreter, and the code object it builds is
one call away from running; this reader walks the format byte by byte instead, keeping only
what grading needs: the names each code object uses (`co_names`, which hold every global,
attribute and imported module name), its constant strings and its nested code objects.

The code-object layout changed across Python versions; a `.pyc` says its version in its
magic number, raw marshal bytes do not, so those are tried against each layout in turn.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

from pkgvet.readers.budget import Budget, Evaded

FLAG_REF = 0x80
MAX_STRINGS = 20_000
MAX_STRING_CHARS = 200_000


@dataclass(frozen=True, slots=True)
class Code:
    """One code object: what it names, its constants, and the code objects nested in it."""

    name: str
    filename: str
    names: tuple[str, ...]
    consts: tuple[object, ...]


@dataclass(frozen=True, slots=True)
class CodeFacts:
    """What a tree of code objects uses, flattened: enough to grade it like source.

    `names` holds every identifier of every code object (globals, attributes, imported
    modules and their parts); `strings` every str or bytes constant (bytes as latin-1);
    `evaded` says why reading stopped early, or is empty."""

    names: frozenset[str] = frozenset()
    strings: tuple[str, ...] = ()
    code_objects: int = 0
    layout: str = ""
    evaded: str = ""
    filenames: frozenset[str] = field(default_factory=frozenset)

    @property
    def ok(self) -> bool:
        return self.code_objects > 0 and not self.evaded


# Layouts of the code object's fields, oldest last: "i" is a raw 32-bit int, "o" an object.
LAYOUTS: dict[str, str] = {
    "3.11+": "iiiii" + "o" * 8 + "i" + "oo",  # argc posonly kwonly stack flags code consts names
    # localsplusnames localspluskinds filename name qualname | firstlineno | linetable exctable
    "3.8-3.10": "iiiiii" + "o" * 8 + "i" + "o",
    "3.0-3.7": "iiiii" + "o" * 8 + "i" + "o",
    "2.7": "iiii" + "o" * 8 + "i" + "o",
}
# Index, among the "o" fields of each layout, of consts, names, filename and name.
_FIELDS = {
    "3.11+": (1, 2, 5, 6),
    "3.8-3.10": (1, 2, 6, 7),
    "3.0-3.7": (1, 2, 6, 7),
    "2.7": (1, 2, 6, 7),
}


class _Reader:
    def __init__(self, data: bytes, layout: str, budget: Budget) -> None:
        self.data = data
        self.pos = 0
        self.layout = layout
        self.budget = budget
        self.refs: list[object] = []
        self.interned: list[object] = []

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise Evaded("marshal data ends inside an object")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def i32(self) -> int:
        value: int = struct.unpack("<i", self.take(4))[0]
        return value

    def count(self, n: int) -> int:
        if n < 0 or n > len(self.data) - self.pos:
            raise Evaded(f"marshal length {n} is past the end of the data")
        return n

    def obj(self, depth: int = 0) -> object:
        self.budget.step()
        self.budget.depth(depth)
        code = self.take(1)[0]
        flag = code & FLAG_REF
        kind = chr(code & ~FLAG_REF)
        slot = -1
        if flag and kind in "([{<>c:":
            slot = len(self.refs)
            self.refs.append(None)
        value = self._value(kind, depth)
        if flag:
            if slot >= 0:
                self.refs[slot] = value
            else:
                self.refs.append(value)
        return value

    def _value(self, kind: str, depth: int) -> object:
        simple = {"0": None, "N": None, "F": False, "T": True, "S": None, ".": None}
        if kind in simple:
            return simple[kind]
        if kind == "i":
            return self.i32()
        if kind == "I":
            return struct.unpack("<q", self.take(8))[0]
        if kind == "l":
            n = self.i32()
            self.take(self.count(abs(n) * 2))
            return 0
        if kind == "g":
            return struct.unpack("<d", self.take(8))[0]
        if kind == "y":
            self.take(16)
            return 0
        if kind in "fx":
            for _ in range(1 if kind == "f" else 2):
                self.take(self.take(1)[0])
            return 0
        if kind in "st":
            raw = self.take(self.count(self.i32()))
            if kind == "t":
                self.interned.append(raw.decode("latin-1"))
                return raw.decode("latin-1")
            return raw
        if kind == "u":
            return self.take(self.count(self.i32())).decode("utf-8", "surrogatepass")
        if kind in "aA":
            return self.take(self.count(self.i32())).decode("latin-1")
        if kind in "zZ":
            return self.take(self.take(1)[0]).decode("latin-1")
        if kind == "R":
            index = self.i32()
            if not 0 <= index < len(self.interned):
                raise Evaded("marshal string reference out of range")
            return self.interned[index]
        if kind == "r":
            index = self.i32()
            if not 0 <= index < len(self.refs):
                raise Evaded("marshal back-reference out of range")
            return self.refs[index]
        if kind in "([<>":
            n = self.count(self.i32())
            return tuple(self.obj(depth + 1) for _ in range(n))
        if kind == ")":
            n = self.take(1)[0]
            return tuple(self.obj(depth + 1) for _ in range(n))
        if kind == ":":
            return tuple(self.obj(depth + 1) for _ in range(3))
        if kind == "{":
            items: list[object] = []
            while True:
                self.budget.step()
                if self.pos < len(self.data) and self.data[self.pos] == ord("0"):
                    self.pos += 1
                    return tuple(items)
                items.append(self.obj(depth + 1))
                items.append(self.obj(depth + 1))
        if kind == "c":
            return self._code(depth)
        raise Evaded(f"unknown marshal type {kind!r}")

    def _code(self, depth: int) -> Code:
        objects: list[object] = []
        for part in LAYOUTS[self.layout]:
            if part == "i":
                self.i32()
            else:
                objects.append(self.obj(depth + 1))
        consts_at, names_at, file_at, name_at = _FIELDS[self.layout]
        consts, names = objects[consts_at], objects[names_at]
        filename, name = objects[file_at], objects[name_at]
        if not isinstance(consts, tuple) or not isinstance(names, tuple):
            raise Evaded("code object without constant and name tuples")
        if not all(isinstance(n, str) for n in names):
            raise Evaded("code object names are not strings")
        return Code(
            name=name if isinstance(name, str) else "?",
            filename=filename if isinstance(filename, str) else "?",
            names=tuple(n for n in names if isinstance(n, str)),
            consts=consts,
        )


def read_object(data: bytes, layout: str, budget: Budget | None = None) -> object:
    """The object marshalled in `data` under `layout` (see LAYOUTS); raises Evaded."""
    budget = budget or Budget()
    budget.size(len(data), "marshal data")
    reader = _Reader(data, layout, budget)
    try:
        return reader.obj()
    except (UnicodeDecodeError, struct.error, RecursionError, ValueError) as exc:
        raise Evaded(f"malformed marshal data ({exc.__class__.__name__})") from None


def walk(root: object, budget: Budget) -> Iterator[Code]:
    """Every code object in `root` and below, iteratively (a back-reference cycle stops)."""
    stack: list[object] = [root]
    seen: set[int] = set()
    while stack:
        budget.step()
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Code):
            yield item
            stack.extend(item.consts)
        elif isinstance(item, tuple):
            stack.extend(item)


def _facts(root: object, layout: str, budget: Budget) -> CodeFacts:
    names: set[str] = set()
    strings: list[str] = []
    files: set[str] = set()
    codes = 0
    chars = 0
    for code in walk(root, budget):
        codes += 1
        files.add(code.filename)
        for n in code.names:
            names.update(n.split("."))
            names.add(n)
        for c in code.consts:
            room = len(strings) < MAX_STRINGS and chars < MAX_STRING_CHARS
            if isinstance(c, str | bytes) and room:
                text = c if isinstance(c, str) else c.decode("latin-1")
                strings.append(text)
                chars += len(text)
    return CodeFacts(frozenset(names), tuple(strings), codes, layout, "", frozenset(files))


def code_facts(raw: bytes, layout: str | None = None, budget: Budget | None = None) -> CodeFacts:
    """What the code object marshalled in `raw` names and holds, never running it.

    With no `layout`, each is tried, newest first; the first that reads a code object and
    ends where the data ends (or nearly: trailing padding) wins. A failure returns
    CodeFacts with `evaded` set, never raises."""
    budget = budget or Budget()
    layouts = [layout] if layout else list(LAYOUTS)
    reason = "no code object"
    for candidate in layouts:
        try:
            root = read_object(raw, candidate, budget)
            if not isinstance(root, Code) and not any(True for _ in walk(root, budget)):
                reason = "marshal data holds no code object"
                continue
            return _facts(root, candidate, budget)
        except Evaded as exc:
            reason = exc.reason
            if "steps" in reason or " s" in reason[-3:]:
                break
    return CodeFacts(evaded=reason)


def layout_of_magic(magic: int) -> str | None:
    """The code-object layout of a `.pyc` magic number (Lib/importlib/_bootstrap_external.py)."""
    if 3450 <= magic < 3700:
        return "3.11+"
    if 3400 <= magic < 3450:
        return "3.8-3.10"
    if 3000 <= magic < 3400:
        return "3.0-3.7"
    if 62000 <= magic < 63000:
        return "2.7"
    return None


@dataclass(frozen=True, slots=True)
class Pyc:
    magic: int
    layout: str | None
    unchecked_hash: bool
    """A hash-based .pyc that the interpreter runs without checking it against its source."""
    body: bytes


def parse_pyc(data: bytes) -> Pyc | None:
    """The header of a `.pyc` and the marshal bytes after it; None if it is not one."""
    if len(data) < 8 or data[2:4] != b"\r\n":
        return None
    magic = int.from_bytes(data[:2], "little")
    layout = layout_of_magic(magic)
    if layout is None:
        return None
    if layout == "2.7":
        header = 8
    elif magic >= 3392:  # 3.7: 16-byte header with flags (PEP 552)
        header = 16
    elif magic >= 3000 + 230:  # 3.3+: source size added
        header = 12
    else:
        header = 8
    flags = int.from_bytes(data[4:8], "little") if header == 16 else 0
    return Pyc(magic, layout, flags & 0b11 == 0b01, data[header:])


def pyc_facts(data: bytes, budget: Budget | None = None) -> CodeFacts:
    pyc = parse_pyc(data)
    if pyc is None:
        return CodeFacts(evaded="not a .pyc of a known Python version")
    return code_facts(pyc.body, pyc.layout, budget)
