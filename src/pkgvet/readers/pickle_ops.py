"""What a pickle would import and call, read from its opcode stream, never unpickled.

`pickle.loads` runs whatever callables the stream names; `pickletools.genops` only decodes
the opcodes. Imports (GLOBAL, STACK_GLOBAL, INST) name the callables; REDUCE, INST, OBJ,
NEWOBJ and BUILD call them. STACK_GLOBAL takes its module and name from the stack, so the
strings pushed (directly or through the memo) are tracked; a STACK_GLOBAL whose names
cannot be followed is itself reported, since honest picklers never produce one.
"""

from __future__ import annotations

import io
import pickletools
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
    strings: tuple[str, ...] = ()
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
            facts = pickle_facts(raw, Budget(max_steps=200_000, seconds=LITERAL_BUDGET_SECONDS),
                                 max_strings=0)
            return facts if facts.ok else None
    return None


def looks_like_pickle(data: bytes) -> bool:
    """Protocol 2+ header, or a protocol 0/1 stream that starts by importing or marking."""
    if len(data) >= 2 and data[0] == 0x80 and 1 <= data[1] <= 5:
        return True
    return data[:1] in (b"c", b"(") and b"\n" in data[:256] and data.rstrip()[-1:] == b"."


def pickle_facts(data: bytes, budget: Budget | None = None, max_strings: int = 2000) -> PickleFacts:
    """Imports, calls and strings of the first pickle in `data`; never raises."""
    budget = budget or Budget(max_steps=1_000_000, seconds=2.0)
    found: list[str] = []
    strings: list[str] = []
    recent: list[str | None] = []
    memo: dict[int, str | None] = {}
    calls = unresolved = ops = 0
    evaded = ""
    try:
        budget.size(len(data), "pickle")
        for opcode, arg, _pos in pickletools.genops(io.BytesIO(data)):
            budget.step()
            ops += 1
            name = opcode.name
            if name in _STRING_OPS:
                text = arg if isinstance(arg, str) else bytes(arg or b"").decode("latin-1")
                recent.append(text)
                if len(strings) < max_strings:
                    strings.append(text[:2000])
            elif name in _PUT_OPS or name == "MEMOIZE":
                key = len(memo) if name == "MEMOIZE" else int(arg or 0)
                memo[key] = recent[-1] if recent else None
                continue
            elif name in _GET_OPS:
                recent.append(memo.get(int(arg or 0)))
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
                mod_name = recent[-2] if len(recent) >= 2 else None
                attr_name = recent[-1] if recent else None
                if mod_name is None or attr_name is None:
                    unresolved += 1
                else:
                    found.append(f"{mod_name}.{attr_name}")
                recent.append(None)
            else:
                recent.append(None)
            if name in _CALL_OPS:
                calls += 1
            if len(recent) > 64:
                del recent[:-8]
            if name == "STOP":
                break
    except Evaded as exc:
        evaded = exc.reason
    except (ValueError, EOFError, UnicodeError, OverflowError, MemoryError, KeyError) as exc:
        if ops == 0:
            evaded = "not a pickle"
        elif not found and not calls:
            evaded = f"malformed pickle ({exc.__class__.__name__})"
        # A stream cut short after its imports still says what it would call.
    return PickleFacts(tuple(found), calls, unresolved, tuple(strings), ops, evaded)


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
