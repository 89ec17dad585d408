"""What a pickle would import and call, read from its opcode stream, never unpickled.

`pickle.loads` runs whatever callables the stream names; this walk only decodes the opcodes,
by `pickletools`' own opcode table (as `pickletools.genops` does, reading arguments in place).
Imports (GLOBAL, STACK_GLOBAL, INST) name the callables; REDUCE, INST, OBJ,
NEWOBJ and BUILD call them. STACK_GLOBAL takes its module and name from the stack, so the
strings pushed (directly or through the memo) are tracked; a STACK_GLOBAL whose names
cannot be followed is itself reported, since honest picklers never produce one.
"""

from __future__ import annotations

import io
import pickletools
import warnings
from collections import deque
from dataclasses import dataclass
from functools import lru_cache

from pkgvet.readers.budget import Budget, Evaded
from pkgvet.readers.decoding import literal_layers

_STRING_OPS = frozenset({
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
    "SHORT_BINSTRING",
})
_CALL_OPS = frozenset({"REDUCE", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "BUILD"})
_PUT_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})


@dataclass(frozen=True, slots=True)
class PickleFacts:
    globals: tuple[str, ...] = ()
    """`module.name` of every callable or class the stream imports, in order."""
    calls: int = 0
    """REDUCE/INST/OBJ/NEWOBJ/BUILD opcodes: how many times imported callables are called."""
    unresolved: int = 0
    """STACK_GLOBAL opcodes whose module or name could not be followed."""
    opcodes: int = 0
    evaded: str = ""

    @property
    def ok(self) -> bool:
        return self.opcodes > 0 and not self.evaded


LITERAL_BUDGET_SECONDS = 0.5


@lru_cache(maxsize=512)
def literal_pickle(text: str) -> PickleFacts | None:
    """The facts of a pickle written in a string or bytes literal (as such, or in base64 or
    hex, possibly compressed); None when the literal holds no pickle or it cannot be read
    to its end. Remembered: the facts walk and the literal unpacking both ask of the same
    literal."""
    layers = [text.encode("latin-1", "ignore")] if text[:1] in ("c", "(", "i", "\x80") else []
    for raw in (*layers, *literal_layers(text)):
        if looks_like_pickle(raw):
            facts = pickle_facts(raw, Budget(max_steps=200_000, seconds=LITERAL_BUDGET_SECONDS))
            return facts if facts.ok else None
    return None


def looks_like_pickle(data: bytes) -> bool:
    """Protocol 2+ header, or a protocol 0/1 stream that starts by importing or marking."""
    if len(data) >= 2 and data[0] == 0x80 and 1 <= data[1] <= 5:
        return True
    return data[:1] in (b"c", b"(") and b"\n" in data[:256] and data.rstrip()[-1:] == b"."


# What each opcode does to the walk below, from `pickletools`' own opcode table: its role,
# and how its argument is laid out (a fixed size, a length prefix of 1, 4 or 8 bytes, or a
# line). The walk reads arguments in place instead of through `genops`' reader objects: a
# data pickle of millions of opcodes (a locale database) costs a fraction of the time.
_OTHER, _STRING, _PUT, _GET, _MEMOIZE, _POP, _GLOBAL, _STACK_GLOBAL, _CALL, _STOP = range(10)
_ROLES = {
    **dict.fromkeys(_STRING_OPS, _STRING), **dict.fromkeys(_PUT_OPS, _PUT),
    **dict.fromkeys(_GET_OPS, _GET), "MEMOIZE": _MEMOIZE, "POP": _POP, "GLOBAL": _GLOBAL,
    "INST": _GLOBAL, "STACK_GLOBAL": _STACK_GLOBAL, "STOP": _STOP,
    **dict.fromkeys(_CALL_OPS - {"INST"}, _CALL),
}
_LINE, _LEN1, _LEN4, _LEN4U, _LEN8U = (pickletools.UP_TO_NEWLINE,
                                      pickletools.TAKEN_FROM_ARGUMENT1,
                                      pickletools.TAKEN_FROM_ARGUMENT4,
                                      pickletools.TAKEN_FROM_ARGUMENT4U,
                                      pickletools.TAKEN_FROM_ARGUMENT8U)
_TABLE: list[tuple[str, int, int] | None] = [None] * 256
for _op in pickletools.opcodes:
    _TABLE[ord(_op.code)] = (_op.name, _ROLES.get(_op.name, _OTHER),
                             _op.arg.n if _op.arg is not None else 0)
_NAME_MAX = 1024
"""Strings longer than this are not decoded: no module or attribute name is that long."""


def _text(name: str, raw: bytes) -> str:
    """The value a string opcode pushes, as `genops` would decode it."""
    if name == "STRING":
        with warnings.catch_warnings():  # a stray backslash in a protocol-0 string
            warnings.simplefilter("ignore", DeprecationWarning)
            value = pickletools.read_stringnl(io.BytesIO(raw + b"\n"))
        return value if isinstance(value, str) else bytes(value).decode("latin-1")
    if name == "UNICODE":
        return raw.decode("raw-unicode-escape")
    if name in ("SHORT_BINSTRING", "BINSTRING"):
        return raw.decode("latin-1")
    return raw.decode("utf-8", "surrogatepass")


def pickle_facts(data: bytes, budget: Budget | None = None) -> PickleFacts:
    """Imports and calls of the first pickle in `data`; never raises."""
    budget = budget or Budget(max_steps=1_000_000, seconds=2.0)
    found: list[str] = []
    recent: deque[str | None] = deque(maxlen=64)
    memo: dict[int, str | None] = {}
    calls = unresolved = ops = 0
    evaded = ""
    table, size = _TABLE, len(data)
    pos = 0
    try:
        budget.size(size, "pickle")
        while True:
            if pos >= size:
                raise ValueError("pickle exhausted before seeing STOP")
            entry = table[data[pos]]
            if entry is None:
                raise ValueError(f"opcode {data[pos]:#x} unknown")
            name, role, n = entry
            pos += 1
            ops += 1
            if not ops & 1023:
                budget.step(1024)
            if n > 0:
                start, pos = pos, pos + n
            elif n == 0:
                start = pos
            elif n == _LEN1:
                start = pos + 1
                pos = start + data[pos]
            elif n in (_LEN4, _LEN4U):
                start = pos + 4
                length = int.from_bytes(data[pos:start], "little", signed=n == _LEN4)
                if length < 0:
                    raise ValueError("negative length")
                pos = start + length
            elif n == _LEN8U:
                start = pos + 8
                pos = start + int.from_bytes(data[pos:start], "little")
            else:  # a line, or two for GLOBAL and INST
                start = pos
                pos = data.index(b"\n", pos) + 1
                if role == _GLOBAL:
                    pos = data.index(b"\n", pos) + 1
            if pos > size:
                raise ValueError(f"{name} argument runs past the end")
            if role == _OTHER:
                recent.append(None)
            elif role == _STRING:
                end = pos - 1 if n == _LINE else pos
                recent.append(_text(name, data[start:end]) if end - start <= _NAME_MAX
                              else "\x00")
            elif role == _MEMOIZE:
                memo[len(memo)] = recent[-1] if recent else None
            elif role in (_PUT, _GET):
                key = data[start] if n == 1 else int(data[start:pos - 1]) if n == _LINE \
                    else int.from_bytes(data[start:pos], "little")
                if role == _PUT:
                    memo[key] = recent[-1] if recent else None
                else:
                    recent.append(memo.get(key))
            elif role == _POP:
                if recent:
                    recent.pop()
            elif role == _CALL:
                calls += 1
                recent.append(None)
            elif role == _GLOBAL:
                module, _, attr = data[start:pos - 1].decode("utf-8").partition("\n")
                found.append(f"{module}.{attr}")
                recent.append(None)
                if name == "INST":
                    calls += 1
            elif role == _STACK_GLOBAL:
                mod_name = recent[-2] if len(recent) >= 2 else None
                attr_name = recent[-1] if recent else None
                if mod_name is None or attr_name is None:
                    unresolved += 1
                else:
                    found.append(f"{mod_name}.{attr_name}")
                recent.append(None)
            else:  # STOP
                break
    except Evaded as exc:
        evaded = exc.reason
    except (ValueError, EOFError, UnicodeError, OverflowError, MemoryError, KeyError,
            IndexError) as exc:
        if ops == 0:
            evaded = "not a pickle"
        elif not found and not calls:
            evaded = f"malformed pickle ({exc.__class__.__name__})"
        # A stream cut short after its imports still says what it would call.
    return PickleFacts(tuple(found), calls, unresolved, ops, evaded)


# -- what a pickle may call that runs code ---------------------------------------------------

DANGEROUS_MODULES = frozenset({
    "os", "posix", "nt", "subprocess", "socket", "runpy", "webbrowser", "pty", "commands",
    "shutil", "sys", "importlib", "ctypes", "_ctypes", "code", "codeop", "marshal", "pickle",
    "_pickle", "cPickle", "dill", "urllib", "urllib2", "urllib3", "requests", "httpx",
    "http", "ftplib", "smtplib", "telnetlib", "asyncio", "multiprocessing", "pip",
    "imp", "threading", "_thread",
    "aiohttp", "paramiko", "bdb", "pdb", "timeit", "profile", "cProfile", "trace", "doctest",
    "site", "sysconfig", "zipimport", "torch.hub", "numpy.testing._private.utils",
    "_posixsubprocess", "pydoc", "venv", "ensurepip", "distutils", "setuptools",
})
DANGEROUS_BUILTINS = frozenset({
    "exec", "eval", "compile", "__import__", "open", "getattr", "setattr", "delattr",
    "globals", "locals", "vars", "breakpoint", "input", "execfile", "apply", "memoryview",
    "__builtins__", "help",
})
DANGEROUS_NAMES = frozenset({
    "operator.attrgetter", "operator.methodcaller", "types.FunctionType", "types.CodeType",
    "types.MethodType", "numpy.testing._private.utils.runstring", "torch.load",
    "torch.serialization.load", "codecs.open", "io.open", "io.FileIO", "builtins.type",
    "copyreg._reconstructor.__globals__",
})


def dangerous_global(qualified: str) -> bool:
    module, _, name = qualified.rpartition(".")
    if module in ("builtins", "__builtin__", "__builtins__"):
        return name in DANGEROUS_BUILTINS
    if qualified in DANGEROUS_NAMES:
        return True
    root = module.split(".")[0]
    return module in DANGEROUS_MODULES or root in DANGEROUS_MODULES
