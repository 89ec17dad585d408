"""How bad is what a carried payload does: bytecode names, pickle imports, native imports.

Each grader returns a `Behaviour` (a severity for code that runs with no user action, and
the words that say why) or None when nothing needs a finding. The analyzer lowers the
severity when nothing in the package loads the payload at install or import time.

Bytecode is graded with the capability catalog the source analyzer uses
(`rules/data/python-capabilities.toml`): a call `a.b.c` counts when the code object names
both the module `a` and the attribute `c` (names in `co_names` carry no scope, so only
combinations that malware needs are graded, never one capability alone).
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pkgvet.model import Severity
from pkgvet.readers.marshal_code import CodeFacts
from pkgvet.readers.native import NativeFacts
from pkgvet.readers.pickle_ops import PickleFacts, dangerous_global


@dataclass(frozen=True, slots=True)
class Behaviour:
    severity: Severity
    what: str
    """One line for the finding's snippet: the capabilities seen."""
    why: str


@dataclass(frozen=True, slots=True)
class _Catalog:
    calls: dict[str, tuple[str, ...]]
    literals: dict[str, tuple[re.Pattern[str], ...]]


@cache
def catalog() -> _Catalog:
    text = resources.files("pkgvet.rules").joinpath("data/python-capabilities.toml").read_text(
        "utf-8")
    data = tomllib.loads(text)
    calls = {cap: tuple(str(q) for q in names) for cap, names in data["calls"].items()}
    literals = {cap: tuple(re.compile(str(p), re.IGNORECASE) for p in pats)
                for cap, pats in data["literals"].items()}
    return _Catalog(calls, literals)


AMBIGUOUS_BUILTINS = frozenset({"compile", "open", "eval"})
"""Bare names that are also common method names (`re.compile`, `model.eval()`): counted
only when a stronger sign of the same capability is present."""


def code_capabilities(names: frozenset[str]) -> dict[str, str]:
    """Capability -> the catalog call that gave it, for a set of bytecode names."""
    found: dict[str, str] = {}
    for cap, calls in catalog().calls.items():
        for q in calls:
            parts = q.split(".")
            if len(parts) == 1:
                hit = q in names and q not in AMBIGUOUS_BUILTINS
            elif parts[0] == "builtins":
                hit = parts[-1] in names and parts[-1] not in AMBIGUOUS_BUILTINS
            else:
                hit = parts[0] in names and parts[-1] in names and (
                    len(parts) < 3 or parts[-2] in names or q in names)
            if hit:
                found.setdefault(cap, q)
                break
    if "eval" in names and "exec" not in found and ("exec" in names or found.keys() & {
            "download", "decode"}):
        found["exec"] = "eval"
    return found


def literal_capabilities(strings: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for text in strings:
        if len(text) > 4000:
            text = text[:4000]
        for cap, patterns in catalog().literals.items():
            if cap in found:
                continue
            if any(p.search(text) for p in patterns):
                found[cap] = text[:120]
    return found


_URL = re.compile(r"https?://[^\s'\"]{4,}")
_RAW_IP = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}$|(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}:\d{2,5}\b")
"""An address alone in its string, or with a port: version strings (`1.2.3.4`) inside text
do not count."""


def grade_code(facts: CodeFacts) -> Behaviour | None:
    """A code object tree (a .pyc, marshal bytes) graded as if it ran at import."""
    caps = code_capabilities(facts.names)
    lits = literal_capabilities(facts.strings)
    url = next((s for s in facts.strings if _URL.search(s)), "")
    has = caps.keys() | lits.keys()
    runs = "exec" in has or "deserialize" in has
    fetches = bool(has & {"download", "network", "socket", "send"})
    hits: list[tuple[Severity, str]] = []
    if runs and fetches:
        hits.append((Severity.CRITICAL, "downloads code and runs it"))
    if runs and "decode" in has:
        hits.append((Severity.CRITICAL, "decodes data and runs it"))
    if "process" in has and "download_cmd" in lits:
        hits.append((Severity.CRITICAL, "runs a download-and-run command line"))
    if "credentials" in lits and fetches:
        hits.append((Severity.CRITICAL, "reads credential stores and uses the network"))
    if "bad_endpoint" in lits and fetches:
        hits.append((Severity.CRITICAL, "sends to an exfiltration endpoint"))
    if "process" in has and fetches:
        hits.append((Severity.HIGH, "runs processes and uses the network"))
    if "hostinfo" in has and fetches:
        hits.append((Severity.HIGH, "sends host information"))
    if "dup2" in has and "socket" in has:
        hits.append((Severity.CRITICAL, "connects a shell to a socket"))
    if not hits:
        return None
    severity = max(s for s, _ in hits)
    what = ", ".join(sorted(has))
    why = "; ".join(w for _, w in hits) + (f" (URL {url[:80]})" if url else "")
    return Behaviour(severity, what, why)


# -- pickles ---------------------------------------------------------------------------------

def grade_pickle(facts: PickleFacts) -> Behaviour | None:
    bad = [g for g in facts.globals if dangerous_global(g)]
    if bad and facts.calls:
        shown = ", ".join(dict.fromkeys(bad))
        # Pickling a bound method writes `getattr(obj, name)`: alone it reaches only what the
        # pickle's own objects have, so it is suspicious rather than proof.
        only_getattr = set(bad) <= {"builtins.getattr", "__builtin__.getattr"}
        return Behaviour(Severity.HIGH if only_getattr else Severity.CRITICAL, shown,
                         f"unpickling it imports and calls {shown}: loading it runs code")
    if facts.unresolved and facts.calls:
        return Behaviour(Severity.HIGH, f"{facts.unresolved} unresolvable STACK_GLOBAL",
                         "the pickle builds the name of what it calls from values no "
                         "pickler writes: a way to hide the callable from scanners")
    return None


# -- native libraries ------------------------------------------------------------------------

NATIVE_NETWORK = frozenset({
    "socket", "connect", "getaddrinfo", "gethostbyname", "sendto", "curl_easy_perform",
    "curl_easy_init", "WSAStartup", "WSASocketA", "WSASocketW", "InternetOpenA", "InternetOpenW",
    "InternetOpenUrlA", "InternetOpenUrlW", "URLDownloadToFileA", "URLDownloadToFileW",
    "WinHttpOpen", "WinHttpConnect", "HttpSendRequestA", "HttpSendRequestW",
})
NATIVE_NET_LIBS = ("libcurl", "ws2_32", "wininet", "winhttp", "urlmon", "libssh")
NATIVE_EXEC = frozenset({
    "execve", "execv", "execl", "execlp", "execvp", "execle", "execvpe", "fexecve", "system",
    "popen", "posix_spawn", "posix_spawnp", "CreateProcessA", "CreateProcessW", "WinExec",
    "ShellExecuteA", "ShellExecuteW", "ShellExecuteExA", "ShellExecuteExW",
})
NATIVE_LOAD = frozenset({"dlopen", "LoadLibraryA", "LoadLibraryW", "mprotect", "VirtualAlloc",
                         "VirtualProtect", "CreateRemoteThread", "WriteProcessMemory", "ptrace"})
_SHELL = re.compile(r"/bin/(ba|z|da)?sh\b|cmd\.exe|powershell|/dev/tcp/", re.IGNORECASE)
_SECRET = re.compile(r"\.ssh/|\.aws/|/etc/(passwd|shadow)|wallet|\.git-credentials|\.netrc",
                     re.IGNORECASE)


def grade_native(facts: NativeFacts) -> Behaviour | None:
    net = sorted(facts.imports & NATIVE_NETWORK) + [
        lib for lib in facts.libraries if lib.lower().startswith(NATIVE_NET_LIBS)]
    exe = sorted(facts.imports & NATIVE_EXEC)
    load = sorted(facts.imports & NATIVE_LOAD)
    shell = [s for s in facts.strings if _SHELL.search(s)]
    secret = [s for s in facts.strings if _SECRET.search(s)]
    endpoint = [s for s in facts.strings if _URL.search(s) or _RAW_IP.search(s)]
    parts = [*net[:4], *exe[:4], *load[:2]]
    what = ", ".join(parts) or "strings"
    evidence = (shell + secret + endpoint)[:2]
    tail = f" (strings: {'; '.join(e[:60] for e in evidence)})" if evidence else ""
    if net and exe and (shell or endpoint):
        return Behaviour(Severity.CRITICAL, what,
                         "native code that connects out and runs commands" + tail)
    if net and secret:
        return Behaviour(Severity.CRITICAL, what,
                         "native code that reads secret files and uses the network" + tail)
    if net and exe:
        return Behaviour(Severity.HIGH, what, "native code that connects out and runs commands")
    if exe and shell:
        return Behaviour(Severity.HIGH, what, "native code that runs a shell" + tail)
    if net and (endpoint or load):
        return Behaviour(Severity.MEDIUM, what, "native code that connects out" + tail)
    return None


# -- is it code? -----------------------------------------------------------------------------

_CODE_NODES = (ast.Import, ast.ImportFrom, ast.Call, ast.FunctionDef, ast.ClassDef)


def as_python(data: bytes, limit: int = 2 * 1024 * 1024) -> str | None:
    """`data` as Python source when it parses and does something (an import, a call, a
    definition); None for prose, binary data or a lone expression."""
    if not data or len(data) > limit or b"\x00" in data[:4096]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not any(ch in text for ch in "(\n"):
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for seen, node in enumerate(ast.walk(tree)):
        if isinstance(node, _CODE_NODES):
            return text
        if seen > 5000:
            break
    return None
