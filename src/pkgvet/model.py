"""The values that travel through pkgvet: findings, verdicts, results and reports.

Everything here is an immutable value. Analyzers produce `Finding`s, `verdict.decide` turns
them into a `Verdict`, and formatters in `pkgvet.report` read `Report`s; nothing else
travels between the parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Severity(IntEnum):
    """How bad the behaviour is if the finding is true."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class Confidence(IntEnum):
    """How sure the analyzer is that the behaviour is really there."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Phase(StrEnum):
    """When the code behind a finding runs on a victim's machine.

    `install` runs during `pip install` (setup.py, build hooks); `import` runs without any
    call from the user (module top level, `__init__.py`, `.pth` lines at interpreter start);
    `runtime` runs only when the user calls it; `metadata` and `archive` are facts about the
    package file itself.
    """

    INSTALL = "install"
    IMPORT = "import"
    RUNTIME = "runtime"
    METADATA = "metadata"
    ARCHIVE = "archive"


class Category(StrEnum):
    EXECUTION = "execution"
    OBFUSCATION = "obfuscation"
    EXFILTRATION = "exfiltration"
    CREDENTIALS = "credentials"
    DROPPER = "dropper"
    PERSISTENCE = "persistence"
    NETWORK = "network"
    PROCESS = "process"
    TYPOSQUATTING = "typosquatting"
    METADATA = "metadata"
    ARCHIVE = "archive"
    EVASION = "evasion"
    BINARY = "binary"
    CODE_QUALITY = "code-quality"
    SANDBOX = "sandbox"


class Context(StrEnum):
    """Where in the package a file lives; tests and docs weigh less than shipped code."""

    PACKAGE = "package"
    BUILD = "build"
    TESTS = "tests"
    DOCS = "docs"
    EXAMPLES = "examples"


class Verdict(StrEnum):
    BENIGN = "benign"
    SUSPICIOUS = "suspicious"
    MALICIOUS = "malicious"

    @property
    def rank(self) -> int:
        return {"benign": 0, "suspicious": 1, "malicious": 2}[self.value]


class ArtifactKind(StrEnum):
    SDIST = "sdist"
    WHEEL = "wheel"
    FOLDER = "folder"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of evidence, with enough context for a human to check it in seconds."""

    rule_id: str
    title: str
    severity: Severity
    confidence: Confidence
    category: Category
    phase: Phase
    path: str | None
    line: int | None
    snippet: str
    explanation: str
    analyzer: str = ""
    column: int | None = None
    context: Context = Context.PACKAGE
    suppressed: bool = False
    suppression_reason: str = ""

    def sort_key(self) -> tuple[int, int, str, int, str]:
        return (-self.severity, -self.confidence, self.path or "", self.line or 0, self.rule_id)


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One member of a scanned package, as listed in the diff and the stats."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ScanStats:
    files: int = 0
    bytes: int = 0
    python_files: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SandboxEvent:
    """One thing the package did inside the sandbox, as observed through strace."""

    kind: str  # process | network | dns | sensitive_read | write
    phase: Phase
    detail: str
    argv: tuple[str, ...] = ()
    expected: bool = False
    """Normal install or import noise (pip running a build back-end, a compiler): shown for
    completeness, never a finding."""


@dataclass(frozen=True, slots=True)
class SandboxReport:
    """What happened when the package was installed and imported in the sandbox."""

    image: str
    exit_code: int | None
    """pip's exit code for the install phase (None when it never ended)."""
    timed_out: bool
    phase: Phase
    """The last phase reached: install, or import when the install succeeded."""
    installable: bool
    seconds: float
    processes: tuple[SandboxEvent, ...] = ()
    network: tuple[SandboxEvent, ...] = ()
    sensitive_reads: tuple[SandboxEvent, ...] = ()
    writes: tuple[SandboxEvent, ...] = ()
    log_tail: str = ""
    modules: tuple[str, ...] = ()
    """Top-level modules imported after the install."""
    notes: tuple[str, ...] = ()
    """Facts worth knowing that are not evidence (an import failing for a missing dependency)."""
    memory_peak: int | None = None
    runtime: str = ""
    """The container runtime that isolated the package: `runsc-trace` (gVisor) or `runc`."""
    verdict: Verdict | None = None
    """The verdict of the sandbox's own findings alone, to compare with the combined one."""


class AttestationStatus(StrEnum):
    """What the index and `pypi-attestations` say about a file's PEP 740 provenance."""

    VERIFIED = "verified"
    """Attested, and every attestation verified against the file and its publisher."""
    ATTESTED = "attested"
    """The index lists provenance, not verified here (history of other releases)."""
    NONE = "none"
    """The index states no provenance for the file."""
    FAILED = "failed"
    """Provenance is listed but malformed or its signature does not verify."""
    UNKNOWN = "unknown"
    """The provenance could not be fetched (network), or the source is not an index."""


@dataclass(frozen=True, slots=True)
class Publisher:
    """The Trusted Publisher that uploaded a file, as its attestation bundle names it."""

    kind: str
    repository: str = ""
    workflow: str = ""
    environment: str = ""
    email: str = ""

    @property
    def identity(self) -> str:
        """One line a person reads: `GitHub org/repo (release.yml, env pypi)`."""
        where = self.repository or self.email
        extra = ", ".join(x for x in (self.workflow, self.environment and
                                      f"environment {self.environment}") if x)
        return f"{self.kind} {where}" + (f" ({extra})" if extra else "")


@dataclass(frozen=True, slots=True)
class Provenance:
    status: AttestationStatus
    publishers: tuple[Publisher, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ScanResult:
    """Everything pkgvet learned about one package file."""

    file: str
    kind: ArtifactKind
    name: str | None
    version: str | None
    sha256: str
    verdict: Verdict
    findings: tuple[Finding, ...]
    errors: tuple[str, ...] = ()
    source: str = ""
    yanked: bool = False
    yanked_reason: str = ""
    stats: ScanStats = field(default_factory=ScanStats)
    files: tuple[FileEntry, ...] = ()
    sandbox: SandboxReport | None = None
    upload_time: str | None = None
    """PEP 700 upload time the index gave (ISO 8601), None for local files."""
    provenance: Provenance | None = None
    """PEP 740 provenance, when trust signals were checked (`pkgvet.trust`)."""
    carried: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    """(relpath, text) of the files the sdist/wheel cross-check reads, kept by the scan that
    had them in memory (`pkgvet.crosscheck.carry`), so the cross-check need not reopen the
    archive. Internal: never reported, cached or sent to another machine; empty means "not
    captured" (a cached or remote result) and the cross-check reads the archive instead."""

    @property
    def partial(self) -> bool:
        """True when some analysis could not run: the verdict rests on less evidence."""
        return bool(self.errors)

    @property
    def pin(self) -> str | None:
        """A requirements line pinning this exact file, ready for `pip install --require-hashes`."""
        if not self.name or not self.version or self.kind is ArtifactKind.FOLDER:
            return None
        return f"{self.name}=={self.version} --hash=sha256:{self.sha256}"


@dataclass(frozen=True, slots=True)
class TargetError:
    """A target that produced no result at all (unknown package, corrupt archive, ...)."""

    target: str
    message: str


@dataclass(frozen=True, slots=True)
class Report:
    results: tuple[ScanResult, ...]
    errors: tuple[TargetError, ...] = ()
    tool_version: str = ""
    ruleset_version: str = ""
    seconds: float = 0.0

    @property
    def verdict(self) -> Verdict:
        ranks = [r.verdict for r in self.results]
        return max(ranks, key=lambda v: v.rank, default=Verdict.BENIGN)
