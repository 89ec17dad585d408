"""Turn what the probe saw inside the sandbox into a `SandboxReport` and findings.

The probe (`pkgvet.sandbox.probe`) reports raw facts: system calls, DNS questions, bytes that
reached the sink, phase ends, cgroup counters. This module decides, with the data in
`rules/data/sandbox.toml`, what is install noise and what is evidence. The rules themselves
(PV801-PV849) are declared in `rules/data/rules/sandbox.toml`.

Programs are judged by what they are, not by what they are called: a program the package put
in a writable place is matched by content (sha256) against the image's own programs, and
argv[0] is never trusted. Anything that makes the record incomplete or untrustworthy (a flood,
a trace that ends early, lines that are not the probe's) is a finding of its own.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pkgvet.model import (
    Category,
    Confidence,
    Finding,
    Phase,
    SandboxEvent,
    SandboxReport,
    Severity,
    Verdict,
)
from pkgvet.registry import rule
from pkgvet.sandbox import netsink
from pkgvet.sandbox.engine import HOME
from pkgvet.sandbox.honeytokens import Honeytokens
from pkgvet.sandbox.probe import OFFLINE_MARKERS, PROGRAM_ROOTS, UNUSUAL, VENV, normalise
from pkgvet.verdict import decide

IMPORT_CODE = "import importlib, sys; importlib.import_module(sys.argv[1])"
REPLAY_LABEL = "setup.py (windows face)"
"""The execute phase's replay of setup.py (`pkgvet.sandbox.execute.SETUP_LABEL`)."""
REPLAY_FOLDER = "/tmp/build-"
"""Where the replay unpacks the sdist (`pkgvet.sandbox.execute.REPLAY_PREFIX`)."""
PIP_SETUP_CALLER = "<pip-setuptools-caller>"
SETUP_REQUIRES_FETCH = ["-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps"]
"""How setuptools (`fetch_build_eggs`) asks pip for a declared `setup_requires`."""
SINKHOLE_PREFIX = "127.77."
RESOLVERS = ("127.0.0.1", "::1", netsink.GATEWAY)
"""The sandbox's resolvers (the loopback sink and the gateway of its `eth0`)."""
ROOT_PERSISTENCE = ("/etc/", "/usr/", "/var/spool/", "/lib/", "/bin/", "/sbin/", "/opt/",
                    "/root/", "/var/lib/", "/boot/")
ROOT_FOLDERS = frozenset(p.rstrip("/") for p in ROOT_PERSISTENCE)
STARTUP_NAMES = ("sitecustomize.py", "usercustomize.py")
OBSERVER = ("/proc/1/", "/tmp/systemd-private-")
"""The probe is PID 1: its descriptors, memory and environment, and the folder of its trace
FIFO, are off limits."""
INIT_FACTS = frozenset(f"/proc/1/{name}" for name in ("cmdline", "status", "comm", "stat",
                                                     "sched", "cgroup"))
"""What PID 1 is and how old: a sandbox check (PV850 with others), not tampering; systemd
detection reads /proc/1/comm too."""
SYNC_WAITS = ("sem_", "pthread_cond_")
"""Timed waits on a semaphore or condition (threading.Event.wait, a Timer) that the clock
library cut short: noted, not graded (library threads wait this way; sleeps are graded)."""
LONG_WAIT = 30.0
"""A wait at least this long (seconds) is graded high; shorter reported waits are medium."""
STORM_CHILDREN = 16
"""Children of one parent alive at once that make a fork storm (a build's worker pool is 2-4;
a compiler driver runs its passes one after another)."""
STORM_ALIVE = 32
"""Processes of one phase alive at once (a double-fork storm spreads over many parents)."""
STORM_COPIES = 48
"""Copies of itself that one process forked without running a program in any of them."""
STORM_SLEEPERS = 8
"""Processes of one phase that each asked for a long wait (the clock library cut it short,
so a storm of sleepers ends early and is seen by its requests, not by how many were alive)."""
OUTPUT_FLOOD = 256 * 2**20
DISK_FULL_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Policy:
    expected_programs: frozenset[str]
    hostile_programs: frozenset[str]
    home_secrets: tuple[str, ...]
    absolute_secrets: tuple[str, ...]
    home_read_noise: tuple[str, ...]
    expected_writes: tuple[str, ...]
    home_persistence: tuple[str, ...]
    home_write_noise: tuple[str, ...]
    package_hosts: frozenset[str]
    sink_ports: tuple[int, ...]

    @property
    def reads_under(self) -> list[str]:
        return list(self.absolute_secrets)


@functools.cache
def policy() -> Policy:
    data = importlib.resources.files("pkgvet").joinpath("rules", "data", "sandbox.toml")
    raw = tomllib.loads(data.read_text(encoding="utf-8"))
    return Policy(
        expected_programs=frozenset(raw["processes"]["expected"]),
        hostile_programs=frozenset(raw["processes"]["hostile"]),
        home_secrets=tuple(raw["reads"]["home"]),
        absolute_secrets=tuple(raw["reads"]["absolute"]),
        home_read_noise=tuple(raw["reads"]["noise"]),
        expected_writes=tuple(raw["writes"]["expected"]),
        home_persistence=tuple(raw["writes"]["home_persistence"]),
        home_write_noise=tuple(raw["writes"]["home_noise"]),
        package_hosts=frozenset(raw["network"]["package_hosts"]),
        sink_ports=tuple(raw["network"]["sink_ports"]),
    )


def _under(relpath: str, places: Iterable[str]) -> str | None:
    for place in places:
        if relpath == place or relpath.startswith(place.rstrip("/") + "/"):
            return place
    return None


def _home_relative(path: str) -> str | None:
    if path == HOME or path.startswith(HOME + "/"):
        return path[len(HOME) + 1 :]
    return None


def _finding(rule_id: str, title: str, severity: Severity, confidence: Confidence,
             category: Category, phase: Phase, snippet: str, explanation: str) -> Finding:
    """A finding of a rule declared in rules/data/rules/sandbox.toml, graded for this case."""
    return rule(rule_id).finding(phase=phase, snippet=snippet[:300], title=title,
                                 severity=severity, confidence=confidence, category=category,
                                 explanation=explanation)


def _declared(rule_id: str, phase: Phase, snippet: str, title: str | None = None,
              severity: Severity | None = None) -> Finding:
    """A finding with the declaration's own grading and explanation."""
    return rule(rule_id).finding(phase=phase, snippet=snippet[:300], title=title,
                                 severity=severity)


def _runs_pip(args: Sequence[str]) -> bool:
    """`python -m pip ...` or `python .../pip/... ` (pip's own runner)."""
    return list(args[:2]) == ["-m", "pip"] or any(
        a.endswith("/pip") or "/pip/" in a for a in args[:2])


def _writable(path: str) -> bool:
    return path.startswith((HOME + "/", *(r + "/" for r in PROGRAM_ROOTS))) or \
        not path.startswith("/")


def _is_python(program: str) -> bool:
    base = os.path.basename(program)
    return (base.startswith("python") and base[6:].replace(".", "").isdigit()) or base == "python"


@dataclass
class _Observation:
    tokens: Honeytokens
    policy: Policy
    processes: list[SandboxEvent] = field(default_factory=list)
    network: list[SandboxEvent] = field(default_factory=list)
    reads: list[SandboxEvent] = field(default_factory=list)
    writes: list[SandboxEvent] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    names: dict[str, str] = field(default_factory=dict)
    programs: dict[str, dict[str, Any]] = field(default_factory=dict)
    memfd: dict[Phase, bool] = field(default_factory=dict)
    waits: list[tuple[float, str, Phase]] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        key = (finding.rule_id, finding.snippet)
        if key not in self.seen:
            self.seen.add(key)
            self.findings.append(finding)

    def leaked(self, text: str, phase: Phase, where: str) -> None:
        token = self.tokens.find_in(text)
        if token is not None:
            self.add(_finding(
                "PV803", "Planted secret sent out of the sandbox", Severity.CRITICAL,
                Confidence.HIGH, Category.EXFILTRATION, phase, f"{where}: {text[:200]}",
                "A honeytoken planted in the sandbox (a fake credential file or token "
                "variable) appeared in outgoing data. The package collects secrets and sends "
                "them away while being installed or imported."))

    # --- processes -------------------------------------------------------------------

    def identity(self, program: str) -> tuple[str, ...]:
        """The names the program really has: the image's own names for a copy of one of its
        programs, its path's base name for anything in the (read-only) image, nothing for a
        program of the package's own."""
        placed = self.programs.get(program)
        if placed is not None:
            return tuple(os.path.basename(p) for p in placed.get("same_as") or ())
        if program.startswith(VENV + "/bin/python"):
            return (os.path.basename(program),)  # the probe's own venv links to the image's
        if _writable(program):
            return ()  # a program the package made or deleted: nothing vouches for it
        return (os.path.basename(program),)

    def expected_process(self, argv: Sequence[str], names: Sequence[str]) -> bool:
        if any(n in self.policy.hostile_programs for n in names):
            return False
        if any(n in self.policy.expected_programs for n in names):
            return True
        if any(_is_python(n) for n in names):
            rest = list(argv[1:])
            if rest[:2] == ["-c", IMPORT_CODE]:
                return True
            if any(PIP_SETUP_CALLER in a or a.endswith("_in_process.py") for a in rest):
                return True  # pip running setup.py or a build back-end's hooks
            if rest[:5] == SETUP_REQUIRES_FETCH:
                return True  # setuptools fetching a declared setup_requires
            # pip itself, and the installs into build environments it starts, run offline;
            # a pip that may reach an index was started by the package.
            return _runs_pip(rest) and "--no-index" in rest
        return False

    def process(self, record: dict[str, Any], phase: Phase, ok: bool) -> None:
        argv = tuple(str(a) for a in record.get("argv") or ()) or (record.get("path", ""),)
        program = str(record.get("path", ""))
        if program.startswith("/"):
            program = normalise(program)
        # Nothing ran when every attempt failed (a PATH search): its name is all there is.
        names = self.identity(program) if ok else (os.path.basename(program),)
        expected = self.expected_process(argv, names)
        shown = " ".join(argv)
        called = os.path.basename(program) or os.path.basename(argv[0])
        detail = shown if ok else f"{shown} (not found in the sandbox)"
        if program and os.path.basename(argv[0]) != called:
            detail = f"{detail} [{program}]"
        self.processes.append(SandboxEvent("process", phase, detail, argv, expected))
        self.leaked(shown, phase, "command line")
        if self.memfd.get(phase) and (program.startswith(("/proc/self/fd/", "/dev/fd/",
                                                          "/memfd:"))
                                      or program == "(file descriptor)"
                                      or record.get("call") == "execveat"):
            self.add(_declared("PV823", phase, f"{record.get('call')} {program}: {shown}"))
        if names and called not in names:
            self.add(_declared(
                "PV825", phase, f"{program} is {', '.join(sorted(set(names)))}: {shown}",
                title=f"Ran `{names[0]}` renamed as `{called}` while being {_verb(phase)}"))
        if expected:
            return
        real = names[0] if names else called
        if any(_is_python(n) for n in names) and _runs_pip(argv[1:]):
            self.add(_finding(
                "PV816", f"Ran pip to fetch more packages while being {_verb(phase)}",
                Severity.HIGH, Confidence.MEDIUM, Category.PROCESS, phase, detail,
                "The package started its own pip, which may reach an index, during the "
                "install or import. Malware uses it to pull the tools its second stage "
                "needs; an ordinary package declares its dependencies instead."))
        elif any(n in self.policy.hostile_programs for n in names):
            hostile = next(n for n in names if n in self.policy.hostile_programs)
            self.add(_finding(
                "PV804", f"Ran `{hostile}` while being {_verb(phase)}", Severity.HIGH,
                Confidence.HIGH, Category.PROCESS, phase, detail,
                f"The package started `{hostile}`, a program used to collect host facts, move "
                "data, open shells or change the system, without any call from the user. "
                "Installing or importing an ordinary library does not run it."))
        else:
            self.add(_finding(
                "PV805", f"Started a program while being {_verb(phase)}", Severity.MEDIUM,
                Confidence.HIGH, Category.PROCESS, phase, detail,
                "The package started a program that pip, build back-ends and compilers do not "
                f"run{'' if names else ', and that is not one of the system programs'} "
                f"(`{real}`). Check what the program is and why it runs at this point."))

    # --- evasion and tampering -------------------------------------------------------

    def unusual(self, record: dict[str, Any], phase: Phase) -> None:
        call = str(record.get("call"))
        args = str(record.get("args", ""))
        if call == "memfd_create":
            self.memfd[phase] = True
            return
        if call.startswith("io_uring"):
            self.add(_declared("PV822", phase, f"{call}({args[:120]})",
                               title=f"Used io_uring ({call}) while being {_verb(phase)}"))
            return
        target = ""
        if call == "ptrace":
            target = args.split(",")[1].strip() if "," in args else ""
        elif call.startswith("process_vm"):
            target = args.split(",")[0].strip()
        self.add(_declared("PV817", phase, f"{call}({args[:120]})",
                           title=f"Called {call} on process {target or '?'} while being "
                                 f"{_verb(phase)}"))

    def wait(self, record: dict[str, Any], phase: Phase) -> None:
        wanted = record.get("requested")
        elapsed = record.get("elapsed")
        length = max(float(wanted or 0), float(elapsed or 0))
        call = record.get("syscall", "sleep")
        cut = " (cut short by the sandbox)" if record.get("unfinished") else ""
        if record.get("skipped"):
            cut = " (cut short; the sandbox's clock moved on by as much)"
        asked = f"asked for {float(wanted):.0f} s" if wanted else "no limit given"
        waited = f"waited {float(elapsed):.1f} s" if elapsed is not None else ""
        detail = f"{call}: {asked}{', ' + waited if waited else ''}{cut}"
        self.waits.append((length, detail, phase))

    def report_waits(self) -> None:
        for phase in (Phase.INSTALL, Phase.IMPORT, Phase.RUNTIME):
            mine = [w for w in self.waits if w[2] is phase]
            if not mine:
                continue
            length, detail, _ = max(mine, key=lambda w: w[0])
            self.add(_declared(
                "PV824", phase, detail + (f"; {len(mine)} long waits" if len(mine) > 1 else ""),
                title=f"Waited {length:.0f} s while being {_verb(phase)}",
                severity=Severity.HIGH if length >= LONG_WAIT else Severity.MEDIUM))

    def datagram(self, record: dict[str, Any], phase: Phase) -> None:
        """A sendto/sendmsg with its own address: DNS or data without a connect."""
        family, address = record.get("family", ""), str(record.get("address", ""))
        port = int(record.get("port") or 0)
        if family not in ("inet", "inet6") or not address:
            return
        if address in RESOLVERS and port == 53:
            return  # the sandbox's resolver: the sink records the question itself
        target = self.names.get(address, address)
        detail = f"{record.get('call')} {target}:{port}"
        if any(e.detail == detail and e.phase is phase for e in self.network):
            return
        self.network.append(SandboxEvent("network", phase, detail))
        self.add(_declared("PV806", phase, detail,
                           title=f"Sent data to {target}:{port} while being {_verb(phase)}"))

    # --- network ---------------------------------------------------------------------

    def dns(self, name: str, answer: str, phase: Phase) -> None:
        self.names[answer] = name
        self.network.append(SandboxEvent("dns", phase, f"lookup {name}"))
        self.leaked(name, phase, "DNS name")
        if "." not in name.strip("."):
            return  # a single label (the container's own host name): not a host out there
        known = name in self.policy.package_hosts or name.endswith(".localdomain")
        self.add(_finding(
            "PV806", f"Looked up {name} while being {_verb(phase)}",
            Severity.MEDIUM if known else Severity.HIGH,
            Confidence.MEDIUM if known else Confidence.HIGH, Category.NETWORK, phase,
            f"lookup {name}",
            "The package tried to reach the network without any call from the user. The "
            "sandbox has no network; its resolver answered with a sinkhole address to see "
            "where the package meant to go." + (" The host serves packages, so this may be "
                                                "an old setup.py fetching its own build "
                                                "needs." if known else "")))

    def connect(self, record: dict[str, Any], phase: Phase) -> None:
        family, address = record.get("family", ""), str(record.get("address", ""))
        port = int(record.get("port") or 0)
        if family == "unix":
            if "docker.sock" in address:
                self.network.append(SandboxEvent("network", phase, f"connect unix:{address}"))
                self.add(_finding(
                    "PV806", "Tried to reach the Docker socket", Severity.HIGH, Confidence.HIGH,
                    Category.NETWORK, phase, f"connect unix:{address}",
                    "Talking to the Docker engine from a package gives root on the host."))
            return
        if family not in ("inet", "inet6") or (address in RESOLVERS and port == 53):
            return
        answered = address in self.names or address.startswith(SINKHOLE_PREFIX)
        if answered:
            target = f"{self.names.get(address, address)}:{port}"
        else:
            target = f"{address}:{port}" if family == "inet" else f"[{address}]:{port}"
        detail = f"connect {target}"
        if any(e.detail == detail and e.phase is phase for e in self.network):
            return
        self.network.append(SandboxEvent("network", phase, detail))
        host = target.rsplit(":", 1)[0]
        if answered and host in self.policy.package_hosts:
            return  # already reported with its lookup, at medium severity
        self.add(_finding(
            "PV806", f"Connected to {target} while being {_verb(phase)}", Severity.HIGH,
            Confidence.HIGH, Category.NETWORK, phase, detail,
            "The package opened a network connection without any call from the user. "
            "Installing or importing an ordinary library does not talk to the network."))

    def sink(self, record: dict[str, Any], phase: Phase) -> None:
        data = str(record.get("data", ""))
        host = self.names.get(str(record.get("address", "")), str(record.get("address", "")))
        server_name = tls_server_name(data.encode("latin-1"))
        if server_name:
            first = f"TLS hello for {server_name}"
        else:
            first = data.split("\r\n", 1)[0] if data[:1].isalpha() else f"{len(data)} bytes"
        self.leaked(data, phase, f"data sent to {host}:{record.get('port')}")
        event = SandboxEvent("network", phase, f"sent to {host}:{record.get('port')}: "
                                               f"{first[:120]}")
        if event not in self.network:  # setup.py runs more than once per install
            self.network.append(event)

    # --- files -----------------------------------------------------------------------

    def read(self, path: str, ok: bool, phase: Phase) -> None:
        relpath = _home_relative(path)
        if relpath is not None:
            if not relpath or _under(relpath, self.policy.home_read_noise):
                return
            planted = _under(relpath, self.tokens.files)
            secret = planted or _under(relpath, self.policy.home_secrets)
            if secret is None:
                return
            shown = f"~/{relpath}"
        else:
            if _under(path, self.policy.absolute_secrets) is None:
                return
            planted, shown = None, path
        detail = shown if ok else f"{shown} (absent)"
        if any(e.detail == detail and e.phase is phase for e in self.reads):
            return
        self.reads.append(SandboxEvent("sensitive_read", phase, detail))
        if planted is not None:
            self.add(_finding(
                "PV801", f"Read the planted ~/{planted} while being {_verb(phase)}",
                Severity.HIGH, Confidence.HIGH, Category.CREDENTIALS, phase, detail,
                "The sandbox planted a fake credential file where stealers look; the package "
                "opened it without any call from the user. Installing or importing an ordinary "
                "library never reads other programs' credentials."))
        else:
            self.add(_finding(
                "PV802", f"Looked for secrets at {shown} while being {_verb(phase)}",
                Severity.HIGH, Confidence.MEDIUM, Category.CREDENTIALS, phase, detail,
                "The package opened a place where credentials, tokens, browser data or "
                "wallets live. Stealers probe these paths one after another."))

    def write(self, record: dict[str, Any], phase: Phase, recorded: set[str]) -> None:
        path = str(record.get("path", ""))
        if not path.startswith("/"):
            return
        name = os.path.basename(path)
        blocked = "" if record.get("ok") else f" (blocked: {record.get('errno') or 'failed'})"
        if name.endswith(".pth") or name in STARTUP_NAMES:
            if path.startswith(("/tmp/pip-", REPLAY_FOLDER)) or path in recorded:
                return  # pip's build folders, the replay's copy of the sdist: not on a path
            self.writes.append(SandboxEvent("write", phase, path + blocked))
            self.add(_finding(
                "PV809", f"Dropped {name} while being {_verb(phase)}", Severity.HIGH,
                Confidence.HIGH, Category.PERSISTENCE, phase, path + blocked,
                "A .pth or sitecustomize file that the package's own file list (RECORD) "
                "does not declare runs at every interpreter start: persistence."))
            return
        if path.startswith(self.policy.expected_writes):
            return
        relpath = _home_relative(path)
        if relpath is not None:  # Windows code joins %APPDATA% and its folders with "\\"
            relpath = relpath.replace("\\", "/")
        if relpath is not None and (not relpath or _under(relpath, self.policy.home_write_noise)):
            return
        detail = (f"~/{relpath}" if relpath is not None else path) + blocked
        if any(e.detail == detail for e in self.writes):
            return
        self.writes.append(SandboxEvent("write", phase, detail))
        persistent = (_under(relpath, self.policy.home_persistence) if relpath is not None
                      else path.startswith(ROOT_PERSISTENCE) or path in ROOT_FOLDERS)
        if persistent:
            self.add(_finding(
                "PV807", f"Wrote to {detail} while being {_verb(phase)}", Severity.HIGH,
                Confidence.HIGH, Category.PERSISTENCE, phase, detail,
                "The package wrote (or tried to write) to shell start-up files, autostart, "
                "services, scheduled jobs or the system folders, outside the environment it "
                "was installed into. That is how malware survives and spreads."))
        else:
            self.add(_finding(
                "PV808", f"Wrote outside the install target while being {_verb(phase)}",
                Severity.MEDIUM, Confidence.MEDIUM, Category.PERSISTENCE, phase, detail,
                "The package wrote a file outside the environment it was installed into and "
                "outside the temporary folder."))


def tls_server_name(data: bytes) -> str | None:
    """The server name (SNI) in a TLS ClientHello, or None. Walks the record by its own
    length fields and gives up on anything out of bounds."""
    try:
        if data[0] != 0x16 or data[5] != 0x01:
            return None
        i = 9 + 2 + 32  # record header (5), handshake header (4), version, random
        i += 1 + data[i]  # session id
        i += 2 + int.from_bytes(data[i : i + 2], "big")  # cipher suites
        i += 1 + data[i]  # compression methods
        end = i + 2 + int.from_bytes(data[i : i + 2], "big")
        i += 2
        while i + 4 <= min(end, len(data)):
            kind = int.from_bytes(data[i : i + 2], "big")
            size = int.from_bytes(data[i + 2 : i + 4], "big")
            if kind == 0:  # server_name: list length, name type, name length, name
                length = int.from_bytes(data[i + 7 : i + 9], "big")
                return data[i + 9 : i + 9 + length].decode("ascii", "replace") or None
            i += 4 + size
    except IndexError:
        return None
    return None


def _verb(phase: Phase) -> str:
    return {Phase.INSTALL: "installed", Phase.RUNTIME: "run or called"}.get(phase, "imported")


def phase_of(name: object) -> Phase:
    """The probe's phase name as a `Phase`: `install`, `execute` (entry points and calls the
    user would make: `runtime`), or else `import` (imports and the bare interpreter start)."""
    if name == "install":
        return Phase.INSTALL
    return Phase.RUNTIME if name == "execute" else Phase.IMPORT


def observe(records: Sequence[dict[str, Any]], tokens: Honeytokens, *, image: str,
            seconds: float, killed_by_host: bool, timeout: float, runtime: str = "",
            foreign_lines: int = 0, trace: dict[str, Any] | None = None,
            ) -> tuple[SandboxReport, list[Finding]]:
    """The report and the findings that the probe's `records` (and, under gVisor, the host's
    trace) amount to."""
    obs = _Observation(tokens, policy())
    phase = Phase.INSTALL
    install_end: dict[str, Any] | None = None
    import_ends: list[dict[str, Any]] = []
    replay_ends: list[dict[str, Any]] = []
    install_output: list[str] = []
    recorded: set[str] = set()
    modules: list[str] = []
    limits: dict[str, Any] = {}
    done = False
    cut_waits = 0
    trees: list[dict[str, Any]] = []
    sleepers: dict[tuple[str, str], set[int]] = {}
    execs: dict[tuple[Phase, tuple[str, ...]], tuple[dict[str, Any], bool]] = {}
    for record in records:  # what pip recorded is known only after the writes it explains
        if record.get("type") == "installed":
            recorded = {str(p) for p in record.get("recorded", ())}
        elif record.get("type") == "programs":
            obs.programs.update(record.get("files") or {})

    for record in records:
        kind = record.get("type")
        if kind == "syscall":
            _syscall(obs, record, execs, recorded)
        elif kind == "dns":
            obs.dns(str(record.get("name", "")), str(record.get("answer", "")), phase)
        elif kind == "sink":
            obs.sink(record, phase)
        elif kind == "persona" and record.get("what") == "sleep":  # persona's clock library
            if str(record.get("call")).startswith(SYNC_WAITS):
                cut_waits += 1  # a thread's timed wait: libraries have their own, not a sleep
                continue
            if record.get("pid") is not None:
                sleepers.setdefault((str(record.get("phase")), str(record.get("label") or "")),
                                    set()).add(int(record["pid"]))
            obs.wait({"syscall": record.get("call"), "requested": record.get("requested"),
                      "skipped": True},
                     Phase.INSTALL if record.get("phase") == "install" else Phase.IMPORT)
        elif kind == "phase_start":
            phase = phase_of(record.get("phase"))
        elif kind == "phase_end":
            if record.get("phase") == "install" and record.get("label") == REPLAY_LABEL:
                replay_ends.append(record)  # the setup.py replay: a run of its own
            elif record.get("phase") == "install":
                install_end = record
                install_output.append(str(record.get("output_tail", "")))
            else:
                import_ends.append(record)
        elif kind == "flood":
            fphase = phase_of(record.get("phase"))
            obs.add(_declared("PV819", fphase,
                              f"more than {record.get('budget')} distinct events in one phase"))
        elif kind == "installed":
            modules = [str(m) for m in record.get("modules", ())]
        elif kind == "installed_after":
            for path in record.get("startup_files", ()):
                if path not in recorded:
                    obs.write({"path": path, "ok": True}, Phase.IMPORT, recorded)
        elif kind == "limits":
            limits = record
        elif kind == "process_tree":
            trees.append(record)
        elif kind == "done":
            done = True
        elif kind in ("probe_error", "probe_note"):
            obs.notes.append(f"probe: {record.get('text')}")

    if cut_waits:
        obs.notes.append(f"{cut_waits} timed waits of threads were cut short (the sandbox's "
                         "clock moved on)")
    for (rphase, _), (record, ok) in execs.items():
        obs.process(record, rphase, ok)
    obs.report_waits()
    _storms(obs, trees, sleepers)
    _resources(obs, install_end, [*replay_ends, *import_ends], limits, done, killed_by_host,
               timeout)
    _integrity(obs, foreign_lines, trace or {}, killed_by_host,
               Phase.IMPORT if import_ends else Phase.INSTALL)

    installable = bool(install_end and install_end.get("exit_code") == 0
                       and not install_end.get("timed_out"))
    if install_end is not None and not installable and not install_end.get("timed_out"):
        tail = str(install_end.get("output_tail", ""))
        retried = any(r.get("type") == "probe_note" and "retrying" in str(r.get("text"))
                      for r in records)
        offline = retried or any(marker in tail for marker in OFFLINE_MARKERS)
        why = [line.strip() for output in install_output for line in output.splitlines()
               if any(marker in line for marker in OFFLINE_MARKERS)]
        obs.add(_finding(
            "PV810", "Not installable offline" if offline else "pip install failed",
            Severity.INFO, Confidence.HIGH, Category.SANDBOX, Phase.INSTALL,
            why[0] if why else _last_line(tail),
            "The sandbox installs with no network, from a wheelhouse of build back-ends; "
            + ("this package's build needs something that is not in it, so the install "
               "(and the import) could not be observed." if offline else
               "pip stopped with an error, so the import could not be observed.")))
    for end in import_ends:
        if end.get("exit_code") not in (0, None) and not end.get("timed_out"):
            obs.notes.append(f"import {end.get('label')} failed: "
                             f"{_last_line(str(end.get('output_tail', '')))}")

    report = SandboxReport(
        image=image,
        exit_code=None if install_end is None else int(install_end.get("exit_code", -1)),
        timed_out=killed_by_host or any(bool(e.get("timed_out"))
                                        for e in [install_end or {}, *replay_ends,
                                                  *import_ends]),
        phase=Phase.IMPORT if import_ends else Phase.INSTALL,
        installable=installable,
        seconds=round(seconds, 3),
        processes=tuple(obs.processes),
        network=tuple(obs.network),
        sensitive_reads=tuple(obs.reads),
        writes=tuple(obs.writes),
        log_tail=str((install_end or {}).get("output_tail", ""))[-2000:],
        modules=tuple(modules),
        notes=tuple(obs.notes),
        memory_peak=limits.get("memory_peak"),
        runtime=runtime,
        verdict=sandbox_verdict(obs.findings),
    )
    return report, obs.findings


def sandbox_verdict(findings: Sequence[Finding]) -> Verdict:
    """The verdict of the sandbox's findings alone (the same rules as the combined one)."""
    return decide(findings)


def _syscall(obs: _Observation, record: dict[str, Any],
             execs: dict[tuple[Phase, tuple[str, ...]], tuple[dict[str, Any], bool]],
             recorded: set[str]) -> None:
    call = record.get("call")
    rphase = phase_of(record.get("phase"))
    if call in ("execve", "execveat"):
        key = (rphase, tuple(record.get("argv") or ()))
        previous = execs.get(key)
        ok = bool(record.get("ok"))
        keep = record if ok or previous is None else previous[0]
        execs[key] = (keep, ok or bool(previous and previous[1]))
    elif call == "connect":
        obs.connect(record, rphase)
    elif call in ("sendto", "sendmsg", "sendmmsg"):
        for data in record.get("data") or ():
            obs.leaked(str(data), rphase, f"{call} data")
        obs.datagram(record, rphase)
    elif call == "wait":
        obs.wait(record, rphase)
    elif call in UNUSUAL:
        obs.unusual(record, rphase)
    elif call == "open":
        path = str(record.get("path", ""))
        if record.get("via") == "openat2":
            obs.add(_declared("PV821", rphase, f"openat2 {path}",
                              title=f"Opened {path} through openat2 while being "
                                    f"{_verb(rphase)}"))
        if path.startswith(OBSERVER) and not (path in INIT_FACTS and not record.get("write")):
            obs.add(_declared("PV817", rphase,
                              f"{'write' if record.get('write') else 'read'} {path}",
                              title=f"Opened the probe's {path} while being {_verb(rphase)}"))
        if record.get("write"):
            obs.write(record, rphase, recorded)
        else:
            obs.read(path, bool(record.get("ok")), rphase)
    elif call in ("link", "linkat", "rename", "renameat", "renameat2"):
        obs.read(str(record.get("source", "")), bool(record.get("ok")), rphase)  # a planted
        obs.write(record, rphase, recorded)  # file moved or linked elsewhere is read too
    else:
        obs.write(record, rphase, recorded)


def _integrity(obs: _Observation, foreign_lines: int, trace: dict[str, Any],
               killed_by_host: bool, phase: Phase) -> None:
    """Findings for a record that cannot be trusted whole."""
    if foreign_lines:
        obs.add(_declared("PV818", phase,
                          f"{foreign_lines} lines on the report channel were not the probe's"))
    if trace.get("overflow"):
        obs.add(_declared("PV819", phase, "gVisor's trace log passed its size limit; the run "
                                          "was stopped"))
    crash = str(trace.get("crash") or "")
    if crash == "pids":
        obs.add(_declared("PV812", phase, "the sandbox kernel died in a burst of new processes "
                                          "(gVisor's host limits on threads and memory)"))
    elif crash == "memory":
        obs.add(_declared("PV813", phase, "the host's memory limit killed the sandbox's "
                                          "processes (gVisor ptrace stub killed)"))
    elif crash:
        obs.add(_declared("PV820", phase, f"gVisor stopped: {crash}"))
    elif trace.get("oom"):
        obs.add(_declared("PV813", phase, "the container was killed at its memory limit"))
    elif "lines" in trace and trace.get("exit_status") is None and not killed_by_host:
        obs.add(_declared("PV820", phase, "gVisor's trace log ends before the sandbox exited"))
    if trace.get("unparsed"):
        obs.add(_declared("PV820", phase,
                          f"{trace['unparsed']} lines of gVisor's trace did not parse"))


def _storms(obs: _Observation, trees: Sequence[dict[str, Any]],
            sleepers: dict[tuple[str, str], set[int]]) -> None:
    """PV829: a fork storm that stays under the process limit, its children parked (asleep,
    blocked, or detached by a double fork) rather than working."""
    for tree in trees:
        phase = phase_of(tree.get("phase"))
        label = str(tree.get("label") or "")
        what = f"{phase.value} ({label})" if label else phase.value
        children, alive = int(tree.get("peak_children") or 0), int(tree.get("peak_alive") or 0)
        copies, failed = int(tree.get("copies") or 0), int(tree.get("failed_forks") or 0)
        signs = []
        if children >= STORM_CHILDREN:
            signs.append(f"{children} children of process {tree.get('peak_parent')} alive at "
                         "once")
        if alive >= STORM_ALIVE:
            signs.append(f"{alive} of its processes alive at once")
        if copies >= STORM_COPIES:
            signs.append(f"{copies} forked copies that ran no program")
        if failed:
            signs.append(f"{failed} forks refused at the process limit")
        if signs:
            obs.add(_declared("PV829", phase, f"{what}: {'; '.join(signs)} "
                                              f"({tree.get('created')} processes in all)"))
    for (name, label), pids in sleepers.items():
        phase = phase_of(name)
        # Functions called with placeholders (the execute phase) may each back off and wait.
        if len(pids) >= STORM_SLEEPERS and phase is not Phase.RUNTIME:
            where = f"{phase.value} ({label})" if label else phase.value
            obs.add(_declared("PV829", phase, f"{where}: {len(pids)} processes each asked for a "
                                              "long wait (a storm of sleepers)"))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def _resources(obs: _Observation, install_end: dict[str, Any] | None,
               import_ends: list[dict[str, Any]], limits: dict[str, Any], done: bool,
               killed_by_host: bool, timeout: float) -> None:
    for end in [e for e in [install_end, *import_ends] if e]:
        phase = phase_of(end.get("phase"))
        what = "pip install" if phase is Phase.INSTALL else f"import {end.get('label')}"
        if end.get("label") == REPLAY_LABEL:
            what = REPLAY_LABEL
        if end.get("timed_out"):
            # A slow build is not evidence: the time limit is a resource note. Waiting to
            # outlast the sandbox is seen as what it is, a long sleep (PV824, with its length).
            obs.add(_finding(
                "PV811", f"{what} ran past the sandbox's time limit", Severity.INFO,
                Confidence.HIGH, Category.SANDBOX, phase,
                f"{what}: stopped after {end.get('seconds')} s",
                "The sandbox stopped this step at its time limit; what ran before that is "
                "recorded. Slow builds (large sources, compilers under load) end here; a "
                "package that sleeps to outwait the sandbox is reported with the length of "
                "its waits (PV824)."))
        if end.get("lingering"):
            left = "; ".join(str(p) for p in end.get("lingering_processes") or ())
            obs.add(_declared(
                "PV814", phase, f"{what}: still running after it exited: {left or '?'}",
                title=f"Left processes running after {what} ended"))
        if end.get("stuck_processes"):
            obs.add(_declared("PV828", phase, f"{what}: processes "
                              f"{', '.join(end['stuck_processes'])} survived SIGKILL"))
        if int(end.get("output_bytes") or 0) > OUTPUT_FLOOD:
            obs.add(_declared("PV826", phase, f"{what}: {int(end['output_bytes']) // 2**20} MiB "
                                              "of output"))
        size, free = int(end.get("disk_size") or 0), int(end.get("disk_free") or 0)
        if size and free < size * DISK_FULL_SHARE:
            obs.add(_declared("PV827", phase, f"{what}: {free // 2**10} KiB free of "
                                              f"{size // 2**20} MiB in /tmp"))
        if end.get("dropped_events"):
            obs.add(_declared("PV819", phase, f"{what}: {end['dropped_events']} events past the "
                                              "sandbox's budget"))
        if end.get("unparsed_trace_lines"):
            obs.add(_declared("PV820", phase, f"{what}: {end['unparsed_trace_lines']} lines of "
                                              "strace output did not parse"))
        if end.get("tracer_killed"):
            obs.add(_finding(
                "PV815", "Stopped the sandbox's observation", Severity.HIGH, Confidence.HIGH,
                Category.EVASION, phase, f"{what}: strace ended by a signal",
                "The tracer that records the package's behaviour was killed from inside "
                "the sandbox; only malware has a reason to do that."))
    if limits.get("pids_limit_hits"):
        obs.add(_finding(
            "PV812", "Process storm: hit the sandbox's process limit", Severity.HIGH,
            Confidence.HIGH, Category.EVASION, Phase.INSTALL if not import_ends else
            Phase.IMPORT, f"process limit reached {limits['pids_limit_hits']} times",
            "The package created processes until the sandbox refused more (a fork bomb). "
            "On a real machine this freezes the host."))
    if limits.get("oom_kills"):
        obs.add(_finding(
            "PV813", "Memory exhaustion: processes killed at the sandbox's memory limit",
            Severity.HIGH, Confidence.MEDIUM, Category.EVASION,
            Phase.INSTALL if not import_ends else Phase.IMPORT,
            f"{limits['oom_kills']} processes killed for memory; peak "
            f"{int(limits.get('memory_peak') or 0) // 2**20} MiB",
            "The package allocated memory until the sandbox's limit killed it. Installing "
            "or importing an ordinary library does not."))
    if killed_by_host and not done:
        obs.add(_finding(
            "PV811", "The sandbox run did not finish in time", Severity.HIGH, Confidence.MEDIUM,
            Category.EVASION, Phase.IMPORT if import_ends else Phase.INSTALL,
            f"container killed after {timeout:.0f} s",
            "pkgvet stopped the container at its wall-clock limit before the run ended."))
    elif not done:
        obs.notes.append("the probe did not finish: the sandbox report is incomplete")
