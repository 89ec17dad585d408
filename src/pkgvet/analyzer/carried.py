"""What a package carries besides its source, read as the code that loads it would read it.

Bytes can become code without any visible `exec` of a literal: a pickled "model" that
calls `os.system` when loaded, a module shipped only as `.pyc`, a data file that
`__init__.py` XOR-decodes and executes, a stage after a PNG's end or in a WAV's low bits,
a native library loaded through `ctypes` that connects out and runs a shell. This analyzer
parses each of those with the bounded readers in `pkgvet.readers` (never unpickling,
unmarshalling, loading or decoding images with a library) and grades what it finds by
whether the package's own code loads it at install or import time (`loader_phase`).

Binaries are not kept in memory by the loader; `scan_blob` reassembles the windows of the
few kinds this analyzer reads (bytecode, pickles and model files, native libraries, images,
WAV), within per-file and per-package byte budgets, and `analyze` reads them from there.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePosixPath
from types import CodeType

from pkgvet.analyzer._carried_grade import (
    Behaviour,
    as_python,
    grade_code,
    grade_native,
    grade_pickle,
)
from pkgvet.analyzer._carried_loads import MODULE, Load, scan_file
from pkgvet.analyzer.pyc_only import source_of
from pkgvet.model import Confidence, Context, Finding, Phase, Severity
from pkgvet.options import ScanOptions
from pkgvet.package import OVERLAP, Package, PackageFile
from pkgvet.readers import Budget, Evaded
from pkgvet.readers.decoding import Step, guess, run
from pkgvet.readers.marshal_code import CodeFacts, code_facts, parse_pyc, pyc_facts
from pkgvet.readers.media import Tail, image_tail, lsb_bytes, media_format, wav_samples
from pkgvet.readers.native import native_facts, native_format
from pkgvet.readers.pickle_ops import PickleFacts, looks_like_pickle, pickle_facts
from pkgvet.registry import rule

NAME = "carried"
_INI_CODE = re.compile(r"^[ \t]*(args|kwargs|class)[ \t]*[=:][ \t]*(\S.{0,1000})$",
                       re.IGNORECASE | re.MULTILINE)
MiB = 1024 * 1024
PICKLE_SUFFIXES = frozenset({".pkl", ".pickle", ".pck", ".joblib", ".pt", ".pth", ".bin",
                             ".ckpt", ".model", ".sav", ".p", ".dill", ".dat", ".npy"})
BYTECODE = frozenset({".pyc", ".pyo"})
MEDIA = frozenset({".png", ".jpg", ".jpeg", ".gif", ".wav", ".bmp", ".ico", ".webp"})
PER_FILE = {"pyc": 16 * MiB, "pickle": 64 * MiB, "native": 48 * MiB, "media": 16 * MiB,
            "data": 2 * MiB}
PACKAGE_BUDGET = 192 * MiB
"""Bytes of binaries reassembled per package; past it, files are read only if kept as text."""
DATA_BUDGET = 32 * MiB
"""Of which other binaries (any data file code might decode and run), head only."""
AUTOMATIC = frozenset({Phase.INSTALL, Phase.IMPORT})
SIDE_CONTEXTS = frozenset({Context.TESTS, Context.DOCS, Context.EXAMPLES})
PYTHON_NAMES = frozenset({"wscript", "SConstruct", "SConscript", "waf", "Snakefile",
                          "conanfile.txt", "sitecustomize", "usercustomize"})
"""Python files by convention, whatever their suffix (build tools exec them)."""


def _interest(relpath: str, head: bytes) -> str:
    suffix = PurePosixPath(relpath).suffix.lower()
    if suffix in BYTECODE and parse_pyc(head[:16] + b"\x00" * 4) is not None:
        return "pyc"
    if suffix in PICKLE_SUFFIXES or looks_like_pickle(head):
        return "pickle"
    if native_format(head):
        return "native"
    if suffix in MEDIA or media_format(head):
        return "media"
    return "data"


@dataclass(slots=True)
class _Blob:
    path: str
    kind: str
    cap: int
    buf: bytearray = field(default_factory=bytearray)
    size: int = 0
    truncated: bool = False
    last: bytes = b""

    def add(self, data: bytes) -> bool:
        """Append the part of `data` that continues this blob; False if it does not."""
        k = min(OVERLAP, len(self.last))
        if self.last.endswith(data):
            return True
        if k and data[:k] != self.last[-k:]:
            return False
        fresh = data[k:]
        self.size += len(fresh)
        room = self.cap - len(self.buf)
        if room > 0:
            self.buf += fresh[:room]
        if len(fresh) > room:
            self.truncated = True
            if self.kind == "native" and self.buf:
                self.buf = bytearray()  # a library's tables sit at its end: a head is no use
        self.last = data[-OVERLAP:]
        return True


@dataclass
class CarriedAnalyzer:
    """Reads carried payloads; keeps reassembled blobs only between `load` and `analyze`."""

    name: str = NAME
    _blobs: dict[str, _Blob] = field(default_factory=dict)
    _current: _Blob | None = None
    _spent: int = 0
    _spent_data: int = 0

    def scan_blob(self, path: str, data: bytes) -> list[Finding]:
        cur = self._current
        if cur is not None and cur.path == path:
            before = len(cur.buf)
            if cur.add(data):
                self._count(cur.kind, len(cur.buf) - before)
                return []
        kind = _interest(path.rpartition("!/")[2], data[:64])
        if self._spent >= PACKAGE_BUDGET or (kind == "data" and self._spent_data >= DATA_BUDGET):
            self._current = None
            return []
        cap = min(PER_FILE[kind], PACKAGE_BUDGET - self._spent)
        if kind == "data":
            cap = min(cap, DATA_BUDGET - self._spent_data)
        blob = _Blob(path, kind, cap)
        blob.size = len(data)
        blob.buf += data[:cap]
        blob.truncated = len(data) > cap
        blob.last = data[-OVERLAP:]
        self._count(kind, len(blob.buf))
        self._blobs[path] = blob
        self._current = blob
        return []

    def _count(self, kind: str, added: int) -> None:
        self._spent += added
        if kind == "data":
            self._spent_data += added

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        blobs, self._blobs, self._current = self._blobs, {}, None
        self._spent = self._spent_data = 0
        yield from _Run(pkg, blobs).findings()


def create(options: ScanOptions) -> CarriedAnalyzer:
    return CarriedAnalyzer()


# -- the phase seam --------------------------------------------------------------------------


def loader_phase(pkg: Package, relpath: str, scope: str, runs_on_load: frozenset[str]) -> Phase:
    """When the code at `scope` (a function name, or `<module>`) of `relpath` runs.

    The one place this analyzer decides phase: the file's own phase, from the package-wide
    reachability analysis when it is there (`pkgvet.analysis.reachability.phases`), else
    from the package's structure (install for setup.py, its helper scripts and the in-tree
    backend; import for importable modules); then the call must sit at module level or in
    a function that module level calls (`runs_on_load`), else it runs only at runtime."""
    f = pkg.get(relpath)
    if f is None:
        return Phase.RUNTIME
    base = module_phase(pkg, f)
    if base is Phase.RUNTIME:
        return Phase.RUNTIME
    return base if scope == MODULE or scope in runs_on_load else Phase.RUNTIME


def module_phase(pkg: Package, f: PackageFile) -> Phase:
    """When a Python file's top level runs: the phase the package graph gives it."""
    from pkgvet.analysis.reachability import phase_of_module

    return phase_of_module(pkg, f)


def analyze_source(pkg: Package, f: PackageFile, phase: Phase) -> list[Finding]:
    """The source analyzer's findings for one file (decoded text that is not in the
    package), graded as if it ran in `phase`."""
    from pkgvet.analysis.scan import analyze_file

    return analyze_file(pkg, f, phase)


# -- one package ------------------------------------------------------------------------------


def _lower(severity: Severity, phase: Phase) -> Severity:
    if phase in AUTOMATIC:
        return severity
    return Severity(max(severity - 1, Severity.INFO))


@dataclass(frozen=True, slots=True)
class _Loaded:
    load: Load
    phase: Phase
    loader: PackageFile


class _Run:
    def __init__(self, pkg: Package, blobs: dict[str, _Blob]) -> None:
        self.pkg = pkg
        self.blobs = blobs
        self.out: list[Finding] = []
        self.loaded: dict[str, list[_Loaded]] = {}
        self.done: set[tuple[str, str]] = set()
        self._by_name: dict[str, list[PackageFile]] | None = None

    # bytes of a member, whole or head
    def data(self, f: PackageFile) -> tuple[bytes | None, bool]:
        if f.data is not None:
            return f.data, True
        blob = self.blobs.get(f.path)
        if blob is None:
            return None, False
        whole = not blob.truncated and blob.size == f.size
        return bytes(blob.buf), whole

    def findings(self) -> list[Finding]:
        self._find_loads()
        for f in self.pkg.files:
            suffix = _suffix(f.relpath)
            if suffix in BYTECODE:
                self._pyc(f)
            elif f.path in self.blobs or f.relpath in self.loaded or suffix in PICKLE_SUFFIXES \
                    or suffix in MEDIA:
                self._carried(f)
        return self.out

    # -- who loads what
    def _find_loads(self) -> None:
        from pkgvet.analysis.parse import plain_tree
        from pkgvet.analysis.reachability import reach

        reach(self.pkg)  # the package graph parses most modules: their trees are reused below
        for f in self.pkg.python_files:
            text = f.text()
            if not text:
                continue
            found, top = scan_file(text, f.relpath, parse=partial(plain_tree, self.pkg, f))
            seen: set[tuple[int, tuple[str, ...]]] = set()
            for ld in found:
                if (ld.line, ld.paths) in seen:
                    continue
                seen.add((ld.line, ld.paths))
                target = self._resolve(f, ld)
                if target is None:
                    continue
                phase = loader_phase(self.pkg, f.relpath, ld.scope, top)
                self.loaded.setdefault(target.relpath, []).append(_Loaded(ld, phase, f))
        graph = reach(self.pkg)
        for rel, importer in graph.hooked.items():
            # a module installs its own finder and imports this file as a module
            loader = self.pkg.get(importer)
            if loader is not None and rel not in self.loaded:
                ld = Load("exec", importer, 1, MODULE, "sys.path_hooks", (rel,), (),
                          frozenset({"file"}), ())
                self.loaded[rel] = [_Loaded(ld, graph.opened.get(rel, Phase.RUNTIME), loader)]

    def _resolve(self, loader: PackageFile, ld: Load) -> PackageFile | None:
        folder = PurePosixPath(loader.relpath).parent
        by_rel = self.pkg.by_relpath
        for raw in sorted(ld.paths, key=lambda p: -p.count("/")):
            path = raw.replace("\\", "/").lstrip("./") if not raw.startswith("../") else raw
            if not path or path.endswith("/"):
                continue
            for cand in (str(folder / path), path):
                hit = by_rel.get(str(PurePosixPath(cand)))
                if hit is not None and hit is not loader:
                    return hit
            if "/" not in path:
                same = [f for f in self._named(path) if f is not loader]
                if same:
                    return min(same, key=lambda f: (str(PurePosixPath(f.relpath).parent)
                                                    != str(folder), len(f.relpath)))
        return None

    def _named(self, name: str) -> list[PackageFile]:
        """The package's files with this base name, in package order (indexed once)."""
        if self._by_name is None:
            self._by_name = {}
            for f in self.pkg.files:
                self._by_name.setdefault(f.name, []).append(f)
        return self._by_name.get(name, [])

    def _loaders(self, f: PackageFile, kinds: tuple[str, ...]) -> list[_Loaded]:
        return [x for x in self.loaded.get(f.relpath, []) if x.load.kind in kinds]

    @staticmethod
    def _worst(loaded: list[_Loaded]) -> _Loaded | None:
        order = {Phase.INSTALL: 0, Phase.IMPORT: 1}
        return min(loaded, key=lambda x: order.get(x.phase, 2), default=None)

    # -- emitting
    def emit(self, rule_id: str, f: PackageFile, behaviour: Behaviour, phase: Phase,
             via: _Loaded | None, confidence: Confidence | None = None) -> None:
        key = (rule_id, f.path)
        if key in self.done:
            return
        self.done.add(key)
        where = ""
        if via is not None:
            where = (f" {via.loader.relpath} line {via.load.line} loads it with "
                     f"{via.load.call}() ({phase.value} time).")
        declared = rule(rule_id)
        self.out.append(declared.finding(
            phase=phase,
            path=f.path,
            line=None,
            snippet=behaviour.what[:200],
            severity=_lower(behaviour.severity, phase),
            confidence=confidence,
            explanation=f"{behaviour.why[:400]}.{where} {declared.explanation}",
            context=via.loader.context if via is not None else f.context,
        ))

    def evaded(self, f: PackageFile, reason: str, via: _Loaded | None) -> None:
        phase = via.phase if via is not None else Phase.ARCHIVE
        severity = Severity.HIGH if via is not None and phase in AUTOMATIC else Severity.LOW
        self.emit("PV250", f, Behaviour(severity, reason, f"could not be read: {reason}"),
                  phase if phase in AUTOMATIC else Phase.ARCHIVE, via)

    # -- .pyc
    def _pyc(self, f: PackageFile) -> None:
        data, whole = self.data(f)
        if data is None:
            return
        pyc = parse_pyc(data)
        if pyc is None:
            return
        phase = self._pyc_phase(f, pyc.unchecked_hash)
        if phase is Phase.RUNTIME and self.pkg.get(source_of(f.relpath)) is not None:
            return  # a stray beside its source runs only if it matches that source
        if not whole:
            self.evaded(f, "bytecode larger than the read budget", None)
            return
        facts = code_facts(pyc.body, pyc.layout, Budget(max_steps=1_000_000, seconds=2.0))
        if facts.evaded:
            self.evaded(f, f"bytecode: {facts.evaded}", None)
            return
        source = self.pkg.get(source_of(f.relpath))
        if source is not None and pyc.unchecked_hash:
            extra = _names_beyond_source(facts, source)
            if extra:
                shown = ", ".join(extra[:8])
                self.emit("PV233", f, Behaviour(Severity.HIGH, shown,
                                                f"names the source never uses: {shown}"),
                          phase, None)
        behaviour = grade_code(facts)
        if behaviour is None:
            return
        self.emit("PV232", f, behaviour, phase, None)

    def _pyc_phase(self, f: PackageFile, unchecked: bool) -> Phase:
        """A sourceless `m.pyc` beside other modules is imported like `m.py`; one in
        `__pycache__` only stands in for its `.py`, and runs instead of it only when its
        hash is not checked."""
        path = PurePosixPath(f.relpath)
        source = source_of(f.relpath)
        if path.parent.name == "__pycache__":
            if not unchecked or self.pkg.get(source) is None:
                return Phase.RUNTIME
            f_source = self.pkg.get(source)
            return module_phase(self.pkg, f_source) if f_source else Phase.RUNTIME
        parent = str(PurePosixPath(source).parent)
        if parent in (".", "src") or "!/" in f.relpath or any(
                self.pkg.get(f"{parent}/__init__{ext}") for ext in (".py", ".pyc")):
            return Phase.IMPORT
        return Phase.RUNTIME

    # -- everything else carried
    def _carried(self, f: PackageFile) -> None:
        data, whole = self.data(f)
        if data is None:
            via = self._worst(self.loaded.get(f.relpath, []))
            if via is not None and f.size > 0:
                # Only a large file misses the budget; a large native library or model loaded
                # at import is ordinary, so this is a note, not evidence.
                self.evaded(f, f"{f.size // MiB} MiB, over the read budget for carried files",
                            None)
            return
        yamls = self._loaders(f, ("yaml",))
        if yamls:
            self._object_tags(f, data, yamls)
        logconfs = self._loaders(f, ("logconf",))
        if logconfs:
            self._logging_config(f, data, logconfs)
        execs = self._loaders(f, ("exec", "marshal"))
        pickles = self._loaders(f, ("pickle",))
        natives = self._loaders(f, ("native",))
        if execs:
            self._exec_chain(f, data, execs)
        fmt = native_format(data[:8])
        if natives or (fmt and self.loaded.get(f.relpath)):
            if fmt:
                self._native(f, data, whole, natives or self.loaded[f.relpath])
            return
        if pickles or f.suffix in PICKLE_SUFFIXES or looks_like_pickle(data[:8]):
            self._pickle(f, data, whole, pickles)
        if media_format(data[:16]) or f.suffix in MEDIA:
            self._media(f, data, whole, execs)

    # YAML / jsonpickle documents whose tags call functions
    def _object_tags(self, f: PackageFile, data: bytes, via: list[_Loaded]) -> None:
        calls = object_tag_calls(data[:PER_FILE["pickle"]])
        if not calls:
            return
        loaded = self._worst(via)
        assert loaded is not None
        danger = [c for c in calls if dangerous_callable(c)]
        shown = ", ".join((danger or calls)[:6])
        why = (f"{loaded.loader.relpath} loads {f.relpath} with {loaded.load.call}(), which "
               f"calls what its tags name: {shown}")
        severity = Severity.CRITICAL if danger else Severity.HIGH
        self.emit("PV251", f, Behaviour(severity, shown, why), loaded.phase, loaded,
                  Confidence.HIGH if danger else Confidence.MEDIUM)

    # logging.config.fileConfig INI files
    def _logging_config(self, f: PackageFile, data: bytes, via: list[_Loaded]) -> None:
        """The expressions `fileConfig` evaluates (`args=`, `kwargs=`) and the classes it
        calls (`class=`), scanned as the Python they become at the load."""
        text = data[:PER_FILE["data"]].decode("utf-8", "replace")
        lines = []
        for match in _INI_CODE.finditer(text):
            key, value = match.group(1).lower(), match.group(2).strip()
            lines.append(f"{value}()" if key == "class" else f"_ = {value}")
        loaded = self._worst(via)
        if lines and loaded is not None:
            self._scan_decoded(f, "\n".join(lines[:200]) + "\n", loaded)

    # pickles, bare or inside a model zip
    def _pickle(self, f: PackageFile, data: bytes, whole: bool, via: list[_Loaded]) -> None:
        steps = next((x.load.steps for x in via if x.load.steps), ())
        if steps:
            try:
                data = run([s for s in steps if s.kind != "lsb"], data)
            except ValueError:
                self.evaded(f, "loaded as a pickle after decoding that does not fit the data",
                            self._worst(via))
                return
        if not via and f.context in SIDE_CONTEXTS:
            return  # a pickle in tests or docs that nothing loads: fixtures, doctrees
        loaded_at_all = bool(via)
        streams = list(_pickle_streams(data, f, whole, lambda: _pickle_budget(loaded_at_all)))
        if not streams:
            if data[:4] == b"PK\x03\x04" or data[:6] == b"\x93NUMPY":
                return  # a plain .npz/.npy or a zip without pickles: numbers, not code
            if via:
                self.evaded(f, "loaded as a pickle but holds none that can be read",
                            self._worst(via))
            return
        loaded = self._worst(via)
        phase = loaded.phase if loaded is not None else Phase.RUNTIME
        for inner, facts in streams:
            if facts.evaded and not via and facts.evaded.startswith("more than"):
                continue  # a large pickle nothing loads: read as far as the budget goes
            if facts.evaded and (via or facts.opcodes > 0):
                self.evaded(f, f"pickle {inner}: {facts.evaded}".strip(), loaded)
                continue
            behaviour = grade_pickle(facts)
            if behaviour is None:
                continue
            rid = "PV230" if behaviour.severity is Severity.CRITICAL else "PV231"
            if inner:
                behaviour = Behaviour(behaviour.severity, f"{inner}: {behaviour.what}",
                                      behaviour.why)
            self.emit(rid, f, behaviour, phase, loaded)

    # native libraries loaded through ctypes/cffi
    def _native(self, f: PackageFile, data: bytes, whole: bool, via: list[_Loaded]) -> None:
        loaded = self._worst(via)
        if not whole:
            self.evaded(f, f"native library of {f.size // MiB} MiB not read (over "
                        f"{PER_FILE['native'] // MiB} MiB)", None)
            return
        facts = native_facts(data, Budget(max_steps=3_000_000, seconds=3.0))
        if facts.evaded and not facts.imports:
            self.evaded(f, f"native library: {facts.evaded}", loaded)
            return
        behaviour = grade_native(facts)
        if behaviour is None:
            return
        phase = loaded.phase if loaded is not None else Phase.RUNTIME
        self.emit("PV240", f, behaviour, phase, loaded)

    # open-read-decode-exec of a data file
    def _exec_chain(self, f: PackageFile, data: bytes, via: list[_Loaded]) -> None:
        loaded = self._worst(via)
        assert loaded is not None
        ld = loaded.load
        steps = [s for s in ld.steps if s.kind != "text"]
        source = data
        if "lsb" in {s.kind for s in steps} or {"wave", "image"} & ld.sources:
            self._stego_chain(f, data, loaded)
            return
        tail = _tail(data)
        carved = tail is not None and tail.end < len(data)
        if tail is not None and carved:
            source = data[tail.end:]
        decoded: bytes | None
        try:
            decoded = run(steps, source[:PER_FILE["pickle"]])
        except ValueError:
            decoded = None
        encoded = bool(steps) or carved
        is_python_name = (f.suffix in (".py", ".pyw") or f.name in PYTHON_NAMES) and not steps
        if is_python_name:
            return  # exec(open("x.py").read()): the source analyzer reads x.py itself
        text = as_python(decoded) if decoded is not None else None
        names = " -> ".join(s.kind + (f"({s.key[:8]!r})" if s.key else "") for s in steps)
        if encoded:
            why = (f"{ld.relpath} reads {f.relpath}, decodes it ({names or 'carves it'}) and "
                   f"passes it to {ld.call}()")
            severity = Severity.CRITICAL
            if text is None and decoded is not None and not ld.opaque:
                why += "; the decoded bytes are not Python this reader recognises"
            self.emit("PV245", f, Behaviour(severity, names or "carved", why), loaded.phase,
                      loaded, Confidence.MEDIUM if text is None else Confidence.HIGH)
        elif text is not None:
            self.emit("PV246", f, Behaviour(Severity.MEDIUM, f"{ld.call}({f.relpath})",
                                            f"{ld.relpath} executes {f.relpath}, a file not "
                                            "named like Python source"), loaded.phase, loaded)
        if text is not None:
            self._scan_decoded(f, text, loaded)
        elif decoded is not None:
            self._decoded_payload(f, decoded, loaded)

    def _stego_chain(self, f: PackageFile, data: bytes, loaded: _Loaded) -> None:
        ld = loaded.load
        why = (f"{ld.relpath} extracts hidden bits from {f.relpath} "
               f"({', '.join(sorted(ld.sources - {'file'})) or 'media'}) and passes them to "
               f"{ld.call}()")
        payload = _lsb_payload(data)
        if payload is not None:
            why += f"; the low bits hold code ({payload[0]})"
        self.emit("PV247", f, Behaviour(Severity.CRITICAL, "low-bit extraction -> " + ld.call,
                                        why), loaded.phase, loaded)
        if payload is not None:
            self._scan_decoded(f, payload[1], loaded)

    def _media(self, f: PackageFile, data: bytes, whole: bool, via: list[_Loaded]) -> None:
        loaded = self._worst(via)
        phase = loaded.phase if loaded is not None else Phase.RUNTIME
        fmt = media_format(data[:16])
        if fmt == "wav":
            payload = _lsb_payload(data)
            if payload is not None:
                self.emit("PV249", f, Behaviour(Severity.HIGH, payload[0],
                                                "the audio samples' low bits hold Python code"),
                          phase, loaded)
                self._scan_decoded(f, payload[1], loaded)
            return
        if not whole:
            return
        try:
            tail = image_tail(data)
        except Evaded as exc:
            if loaded is not None:
                self.evaded(f, exc.reason, loaded)
            return
        if tail is None or len(data) - tail.end < 16:
            return
        found = guess(data[tail.end:tail.end + 4 * MiB], _code_like)
        if found is None:
            return
        chain, decoded = found
        label = "+".join(s.kind for s in chain) or "plain"
        self.emit("PV248", f, Behaviour(Severity.HIGH, f"{len(data) - tail.end} bytes after "
                                        f"{tail.format} end ({label})",
                                        f"{len(data) - tail.end} bytes after the {tail.format} "
                                        f"end marker decode ({label}) to code"), phase, loaded)
        text = as_python(decoded)
        if text is not None:
            self._scan_decoded(f, text, loaded)

    # decoded content, analysed as if it stood in the package
    def _scan_decoded(self, f: PackageFile, text: str, via: _Loaded | None) -> None:
        data = text.encode("utf-8")
        phase = via.phase if via is not None else Phase.RUNTIME
        context = via.loader.context if via is not None else f.context
        ghost = PackageFile(f"{f.path}#decoded", f.relpath + "#decoded", len(data),
                            hashlib.sha256(data).hexdigest(), data, False, context)
        self.out.extend(analyze_source(self.pkg, ghost, phase))

    def _decoded_payload(self, f: PackageFile, decoded: bytes, via: _Loaded) -> None:
        facts: CodeFacts | PickleFacts
        pyc = parse_pyc(decoded[:16] + b"\x00" * 4)
        if looks_like_pickle(decoded[:8]):
            facts = pickle_facts(decoded)
            behaviour = grade_pickle(facts)
            if behaviour is not None:
                self.emit("PV230", f, behaviour, via.phase, via)
            return
        facts = pyc_facts(decoded) if pyc is not None else code_facts(decoded)
        if facts.ok:
            behaviour = grade_code(facts)
            if behaviour is not None:
                self.emit("PV232", f, behaviour, via.phase, via)


def _names_beyond_source(facts: CodeFacts, source: PackageFile) -> list[str]:
    """Names in the bytecode that compiling its source does not produce. `compile()` parses
    and builds a code object; nothing of it runs."""
    text = source.text()
    if text is None or len(text) > 1024 * 1024:
        return []
    try:
        code = compile(text, source.relpath, "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return []
    names: set[str] = set()
    stack: list[object] = [code]
    while stack:
        item = stack.pop()
        if isinstance(item, CodeType):
            for n in item.co_names:
                names.update(n.split("."))
                names.add(n)
            names.update(item.co_varnames)
            stack.extend(item.co_consts)
        elif isinstance(item, tuple | frozenset):
            stack.extend(item)
    return sorted(n for n in facts.names - names if not n.startswith("__"))


_OBJECT_TAG = re.compile(
    rb"(?:!!python/|tag:yaml\.org,2002:python/)(?:object/apply|object/new|object|name|module)"
    rb":([\w.]{1,200})|\"py/(?:function|type|reduce|object)\"\s*:\s*\[?\s*\{?\s*"
    rb"(?:\"py/(?:function|type)\"\s*:\s*)?\"([\w.]{1,200})\"")
"""`!!python/object/apply:os.system` in YAML, `"py/function": "os.system"` in jsonpickle."""
_DANGEROUS_ROOTS = frozenset({
    "os", "posix", "nt", "subprocess", "builtins", "__builtin__", "pty", "socket", "urllib",
    "requests", "importlib", "runpy", "code", "ctypes", "shutil", "pickle", "marshal",
    "commands", "popen2", "platform", "webbrowser", "http", "ftplib", "smtplib", "sys",
})


def object_tag_calls(data: bytes) -> list[str]:
    """Callables that YAML python tags or jsonpickle keys in a document name."""
    found: list[str] = []
    for m in _OBJECT_TAG.finditer(data):
        name = (m.group(1) or m.group(2) or b"").decode("ascii", "replace")
        if name and name not in found:
            found.append(name)
        if len(found) >= 32:
            break
    return found


def dangerous_callable(name: str) -> bool:
    root = name.partition(".")[0]
    return root in _DANGEROUS_ROOTS or name.rsplit(".", 1)[-1] in (
        "exec", "eval", "system", "popen", "spawn", "compile", "__import__")


def _pickle_budget(loaded: bool) -> Budget:
    """A pickle the package loads gets the full budget; one nothing loads (a model for the
    user, a cache) a short one: it only runs if the user loads it."""
    if loaded:
        return Budget(max_steps=2_000_000, seconds=3.0)
    return Budget(max_steps=300_000, seconds=0.5)


def _suffix(relpath: str) -> str:
    name = relpath.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _tail(data: bytes) -> Tail | None:
    try:
        return image_tail(data)
    except Evaded:
        return None


def _code_like(data: bytes) -> bool:
    if as_python(data) is not None:
        return True
    if looks_like_pickle(data[:8]):
        return bool(pickle_facts(data[:1 * MiB]).globals)
    if parse_pyc(data[:16] + b"\x00" * 4) is not None:
        return pyc_facts(data).ok
    return False


def _lsb_payload(data: bytes) -> tuple[str, str] | None:
    """Python code hidden one bit per sample (or per byte) in a WAV or BMP-like payload."""
    try:
        samples, width = wav_samples(data) if media_format(data[:16]) == "wav" else (data, 1)
    except Evaded:
        return None
    head = samples[: 64 * 1024 * 8 * max(width, 1)]
    for stride in dict.fromkeys((width, 1)):
        for msb in (True, False):
            raw = lsb_bytes(head, stride, 64 * 1024, msb)
            for candidate in (raw, _length_prefixed(raw)):
                if not candidate:
                    continue
                text_end = candidate.find(b"\x00")
                body = candidate[:text_end] if text_end > 0 else candidate
                found = guess(body.rstrip(b"\xff"), _code_like)
                if found is not None:
                    chain, decoded = found
                    text = as_python(decoded)
                    if text is not None:
                        label = f"stride {stride}, {'msb' if msb else 'lsb'}-first"
                        return label + ("+" + "+".join(s.kind for s in chain) if chain else ""), \
                            text
    return None


def _length_prefixed(raw: bytes) -> bytes:
    if len(raw) < 4:
        return b""
    n = int.from_bytes(raw[:4], "big")
    return raw[4:4 + n] if 0 < n <= len(raw) - 4 else b""


def _pickle_streams(data: bytes, f: PackageFile, whole: bool,
                    budget: Callable[[], Budget]) -> Iterator[tuple[str, PickleFacts]]:
    """Each pickle in a member: the member itself, or the `.pkl` members of a model zip
    (PyTorch's `archive/data.pkl`), or a zlib-compressed joblib dump."""
    if data[:4] == b"PK\x03\x04":
        yield from _zip_pickles(data, whole, budget)
        return
    if data[:6] == b"\x93NUMPY" and len(data) > 10:
        size = int.from_bytes(data[8:10], "little") if data[6] == 1 else \
            int.from_bytes(data[8:12], "little")
        start = (10 if data[6] == 1 else 12) + size
        if looks_like_pickle(data[start:start + 64]):
            yield "(npy object array)", pickle_facts(data[start:], budget())
        return
    if looks_like_pickle(data[:64]):
        yield "", pickle_facts(data, budget())
        return
    if data[:1] == b"x" and f.suffix in (".joblib", ".pkl", ".gz", ".z"):
        try:
            inner = run([Step("zlib")], data)
        except ValueError:
            return
        if looks_like_pickle(inner[:64]):
            yield "(zlib)", pickle_facts(inner, budget())


def _zip_pickles(data: bytes, whole: bool,
                 budget: Callable[[], Budget]) -> Iterator[tuple[str, PickleFacts]]:
    if not whole:
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist()[:10_000]
                     if i.filename.endswith((".pkl", ".pickle")) and i.file_size <= 64 * MiB]
            for info in infos[:16]:
                with zf.open(info) as fh:
                    yield info.filename, pickle_facts(fh.read(64 * MiB), budget())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
            RuntimeError) as exc:
        yield "", PickleFacts(evaded=f"model zip unreadable ({exc.__class__.__name__})",
                              opcodes=1)


__all__ = ["CarriedAnalyzer", "code_facts", "create", "grade_code", "grade_native", "grade_pickle",
           "loader_phase", "pickle_facts"]
