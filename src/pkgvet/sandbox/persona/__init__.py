"""The sandbox's persona: a developer's machine, as far as the package can tell.

Three jobs, each kept as data in `persona.toml` beside this file:

- **identity**: the user, the host name and the environment a container starts with, so that
  no name, path or variable says "sandbox" (`identity`, `environment`);
- **Windows persona**: files the image carries (`image_files`): a start-up module that gives
  Windows-only code its `subprocess` constants, `winreg` and `ctypes.windll` (recording each
  call), and recording stand-ins on PATH for powershell, cmd, certutil and the rest;
- **grading** of what the persona recorded (`grade_commands`, `grade_windows_calls`) and of
  reads of the places sandbox-detection code looks at (`grade_recon`). The observer calls
  these with the probe's records; they return findings PV850-PV879.
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib.resources
import itertools
import re
import secrets
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pkgvet.model import Finding, Phase
from pkgvet.registry import rule

RECORDS_PATH = "/dev/shm/.X0-lock"
"""Where the persona's start-up module and stand-ins append their records (see runtime/)."""
STARTUP_MODULE = "platform_compat"
SITE_PACKAGES = "usr/lib/python3/dist-packages"
STANDIN_DIR = "usr/local/bin"
CLOCK_SOURCE = "tmp/tzcompat.c"
"""Where runtime/timecompat.c waits in the image until it is compiled (then removed)."""
CLOCK_LIBRARY = "libtzcompat.so.1"
SANDBOX_UID = 10001
"""The sandbox user (engine.SANDBOX_UID): the only one whose clock the library moves."""


@dataclass(frozen=True, slots=True)
class Identity:
    user: str
    full_name: str
    email: str
    host_suffixes: tuple[str, ...]

    def hostname(self) -> str:
        """A fresh host name per run, shaped like a developer's machine."""
        return f"{self.user}-{secrets.choice(self.host_suffixes)}"


@functools.cache
def _data() -> dict[str, Any]:
    raw = importlib.resources.files("pkgvet.sandbox.persona").joinpath("persona.toml")
    return tomllib.loads(raw.read_text(encoding="utf-8"))


def identity() -> Identity:
    data = _data()["identity"]
    return Identity(user=data["user"], full_name=data["full_name"],
                    email=f"{data['user']}.{data['full_name'].split()[-1].lower()}@"
                          f"{data['email_domain']}",
                    host_suffixes=tuple(data["host_suffixes"]))


def windows_programs() -> tuple[str, ...]:
    names: list[str] = []
    for name in _data()["windows"]["programs"]:
        names.append(name)
        if not name.endswith(".exe"):
            names.append(f"{name}.exe")
    return tuple(names)


def environment(home: str, hostname: str) -> dict[str, str]:
    """What a developer's login shell exports (tokens are added by the caller)."""
    who = identity()
    return {
        "HOME": home, "USER": who.user, "LOGNAME": who.user, "SHELL": "/bin/bash",
        "LANG": "C.UTF-8", "TERM": "xterm-256color", "EDITOR": "vim", "HOSTNAME": hostname,
        # Not ~/.local/bin: every program lookup would try the home first, and a program
        # run from a place the package can write to is not the image's.
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        # What Windows code reads first (`os.environ["COMPUTERNAME"]` raises KeyError on
        # Linux and ends the payload before it acts); ordinary code never looks.
        "COMPUTERNAME": hostname.upper(), "USERNAME": who.user,
    }


def _runtime(name: str) -> str:
    return importlib.resources.files("pkgvet.sandbox.persona").joinpath(
        "runtime", name).read_text(encoding="utf-8")


def image_files() -> dict[str, tuple[str, int]]:
    """Root-relative path -> (content, mode) of what the image carries for the persona."""
    compat = _runtime("platform_compat.py")
    standin = _runtime("standin.py")
    files = {
        f"{SITE_PACKAGES}/{STARTUP_MODULE}.py": (compat, 0o644),
        f"{SITE_PACKAGES}/{STARTUP_MODULE}.pth": (f"import {STARTUP_MODULE}\n", 0o644),
        # Debian's own sitecustomize (a link to this file) loads it too, also in interpreters
        # that skip site-packages' .pth files.
        "etc/python3.11/sitecustomize.py": (
            "# site-wide customizations\ntry:\n    import " + STARTUP_MODULE
            + "\nexcept ImportError:\n    pass\n", 0o644),
    }
    for name in windows_programs():
        files[f"{STANDIN_DIR}/{name}"] = (standin, 0o755)
    files[CLOCK_SOURCE] = (_runtime("timecompat.c"), 0o644)
    return files


def clock_build() -> str:
    """The shell command that, in the image being built, compiles runtime/timecompat.c (long
    sleeps cut short, the clock moved on) into a library every program loads through
    /etc/ld.so.preload, then removes the source. The Dockerfile carries it verbatim."""
    return (f'lib=/usr/lib/$(gcc -print-multiarch)/{CLOCK_LIBRARY} && gcc -shared -fPIC -O2 '
            f"-DSANDBOX_UID={SANDBOX_UID} -DRECORDS='\"{RECORDS_PATH}\"' -o $lib "
            f'/{CLOCK_SOURCE} -ldl && rm /{CLOCK_SOURCE} && echo $lib > /etc/ld.so.preload')


# --- recon reads ----------------------------------------------------------------------------


@functools.cache
def recon_groups() -> tuple[tuple[str, re.Pattern[str]], ...]:
    groups = []
    for group, places in _data()["recon"].items():
        if group == "watch":
            continue
        alternatives = "|".join(re.escape(p).replace(r"\*", r"(?:\d+|self|thread-self)")
                                for p in places)
        groups.append((group, re.compile(rf"^(?:{alternatives})(?:/|$)")))
    return tuple(groups)


def recon_watch() -> list[str]:
    """Prefixes the probe must report reads under (added to its `reads_under`)."""
    return list(_data()["recon"]["watch"])


def recon_group(path: str) -> str | None:
    """Which detection place `path` is (None: not one)."""
    for group, pattern in recon_groups():
        if pattern.match(path):
            return group
    return None


RECON_THRESHOLD = 3
"""Distinct groups read in one phase that make a finding: one or two are ordinary (a library
checks the cgroup for its CPU quota), a sweep across them is environment fingerprinting."""


def _phase(record: Mapping[str, Any]) -> Phase:
    from pkgvet.sandbox.observe import phase_of

    return phase_of(record.get("phase"))


def _verb(phase: Phase) -> str:
    return {Phase.INSTALL: "installed", Phase.RUNTIME: "run or called"}.get(phase, "imported")


def grade_recon(records: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """PV850 for each phase in which the package read several sandbox-detection places.

    Takes the probe's records as they are: `recon_read` events, and `syscall` open records
    (reads) of the watched places, whichever the probe emits.
    """
    seen: dict[Phase, dict[str, str]] = {}
    for record in records:
        kind = record.get("type")
        opened = kind == "syscall" and record.get("call") == "open" and not record.get("write")
        if kind == "recon_read" or opened:
            path = str(record.get("path", ""))
        else:
            continue
        group = recon_group(path)
        if group is not None:
            seen.setdefault(_phase(record), {}).setdefault(group, path)
    findings = []
    for phase, groups in seen.items():
        if len(groups) < RECON_THRESHOLD:
            continue
        shown = ", ".join(f"{path} ({group})" for group, path in sorted(groups.items()))
        findings.append(rule("PV850").finding(
            phase=phase, snippet=shown[:300],
            title=f"Fingerprinted the environment ({len(groups)} sandbox checks) while being "
                  f"{_verb(phase)}"))
    return findings


# --- recorded command lines -----------------------------------------------------------------


@functools.cache
def _literal_patterns() -> dict[str, tuple[re.Pattern[str], ...]]:
    raw = importlib.resources.files("pkgvet").joinpath("rules", "data",
                                                       "python-capabilities.toml")
    literals = tomllib.loads(raw.read_text(encoding="utf-8"))["literals"]
    wanted = ("download_cmd", "payload_url", "persistence", "bad_endpoint", "credentials")
    return {cap: tuple(re.compile(p, re.I) for p in literals[cap]) for cap in wanted}


_ENCODED_FLAG = re.compile(r"^[-/](e|ec|en|enc|enco|encod|encode|encoded|encodedc\w*)$", re.I)
_B64 = re.compile(r"^[A-Za-z0-9+/]{8,}={0,2}$")


def decode_encoded_command(argv: Sequence[str]) -> str | None:
    """The script of `powershell -EncodedCommand <base64 UTF-16LE>` (any abbreviation of the
    flag PowerShell accepts), or None."""
    for flag, value in itertools.pairwise(argv):
        if _ENCODED_FLAG.match(flag) and _B64.match(value):
            try:
                raw = base64.b64decode(value + "=" * (-len(value) % 4))
            except (binascii.Error, ValueError):
                continue
            for codec in ("utf-16-le", "utf-8"):
                try:
                    text = raw.decode(codec)
                except UnicodeDecodeError:
                    continue
                if text.isprintable() or "\n" in text:
                    return text
    return None


def _windows_program(argv0: str) -> str | None:
    base = re.split(r"[/\\]", argv0)[-1].lower()
    for name in windows_programs():
        if base == name:
            return base.removesuffix(".exe")
    return None


@dataclass(frozen=True, slots=True)
class CommandLine:
    phase: Phase
    argv: tuple[str, ...]
    decoded: str | None

    @property
    def text(self) -> str:
        return " ".join(self.argv)


def command_lines(records: Iterable[Mapping[str, Any]]) -> list[CommandLine]:
    """Every command line the package started, from the stand-ins' own records (complete)
    and the tracer's exec records (which cut long arguments), without repeats."""
    found: dict[tuple[Phase, tuple[str, ...]], CommandLine] = {}
    for record in records:
        kind = record.get("type")
        ran = kind == "syscall" and record.get("call") in ("execve", "execveat")
        if (kind == "persona" and record.get("what") == "command") or ran:
            argv = tuple(str(a) for a in record.get("argv") or ())
        else:
            continue
        if not argv:
            continue
        phase = _phase(record)
        key = (phase, argv)
        if key not in found:
            found[key] = CommandLine(phase, argv, decode_encoded_command(argv))
    lines = list(found.values())
    # A cut copy from the tracer adds nothing once the complete line is known.
    return [c for c in lines if not any(
        o is not c and o.phase is c.phase and len(o.text) > len(c.text)
        and c.text.endswith("...") and o.text.startswith(c.text[:-3]) for o in lines)]


def _matches(text: str) -> list[str]:
    return [cap for cap, patterns in _literal_patterns().items()
            if any(p.search(text) for p in patterns)]


def grade_commands(records: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Findings for the command lines the package started, read like code:

    - PV851: a Windows program started through its stand-in (what Windows malware's
      `setup.py` does to fetch and start its second stage);
    - PV852: a command line that downloads and runs, persists or steals (the static
      analyzer's command-line patterns, on the decoded `-EncodedCommand` script too);
    - PV853: an encoded PowerShell command (hidden from whoever reads the command line).
    """
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()

    def add(finding: Finding) -> None:
        key = (finding.rule_id, finding.snippet)
        if key not in seen:
            seen.add(key)
            findings.append(finding)

    for line in command_lines(records):
        program = _windows_program(line.argv[0])
        shown = (f"decoded: {line.decoded[:180]} | {line.text[:110]}" if line.decoded
                 else line.text)
        if line.decoded is not None:
            add(rule("PV853").finding(phase=line.phase, snippet=shown[:300]))
        caps = _matches(line.text) + (_matches(line.decoded) if line.decoded else [])
        if caps and (program is not None or any(c in ("download_cmd", "persistence")
                                                 for c in caps)):
            add(rule("PV852").finding(
                phase=line.phase, snippet=shown[:300],
                title=f"Started a command line that {_describe(caps)} while being "
                      f"{_verb(line.phase)}"))
        elif program is not None:
            add(rule("PV851").finding(
                phase=line.phase, snippet=shown[:300],
                title=f"Started the Windows program `{program}` while being "
                      f"{_verb(line.phase)}"))
    return findings


def _describe(caps: Sequence[str]) -> str:
    words = {"download_cmd": "downloads and runs code", "payload_url": "fetches an executable",
             "persistence": "installs itself to run again", "bad_endpoint":
             "talks to an exfiltration endpoint", "credentials": "reaches for credentials"}
    return " and ".join(dict.fromkeys(words[c] for c in caps))


CODE_CAPABILITIES = ("download_cmd", "payload_url", "persistence", "bad_endpoint")
"""What makes code the package decoded and ran evidence (reaching for credentials alone is
what many configuration helpers mention)."""


def grade_code(records: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """PV852 for code handed to `exec`/`eval`/`compile` under the Windows face (the setup.py
    replay, the Windows-face imports) that downloads and runs, persists or names an
    exfiltration endpoint: the decoded payload as it ran, even when it failed afterwards."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for record in records:
        if record.get("type") != "persona" or record.get("what") != "code":
            continue
        text = str(record.get("text", ""))
        # the command-line patterns on the code and on each of its string literals (a URL
        # pattern is anchored at the end of what it reads)
        pieces = [text, *re.findall(r"""['"]([^'"\n]{4,})['"]""", text)]
        caps = list(dict.fromkeys(c for piece in pieces for c in _matches(piece)
                                  if c in CODE_CAPABILITIES))
        if not caps or text in seen:
            continue
        seen.add(text)
        phase = _phase(record)
        findings.append(rule("PV852").finding(
            phase=phase, snippet=f"{record.get('call')}: {' '.join(text.split())[:280]}",
            title=f"Ran decoded code that {_describe(caps)} while being {_verb(phase)}"))
    return findings


# --- recorded Windows API calls -------------------------------------------------------------

_RUN_KEY = re.compile(r"\\(Run|RunOnce|RunServices|Winlogon|Image File Execution Options|"
                      r"Explorer\\Shell Folders|Policies\\Explorer\\Run)(\\|$)", re.I)
_SUSPICIOUS_API = re.compile(
    r"^(VirtualAlloc(Ex)?|VirtualProtect(Ex)?|WriteProcessMemory|CreateRemoteThread(Ex)?|"
    r"CreateThread|RtlMoveMemory|NtUnmapViewOfSection|QueueUserAPC|SetWindowsHookExA?W?|"
    r"ShellExecute[AW]?(Ex[AW]?)?|WinExec|CreateProcess[AW]?|URLDownloadToFile[AW]?|"
    r"CreateShortcut|RegWrite|"
    r"IsDebuggerPresent|CheckRemoteDebuggerPresent|GetAsyncKeyState|SetFileAttributes[AW]?|"
    r"CryptUnprotectData|MessageBox[AW]?|SystemParametersInfo[AW]?|BlockInput)$")


_COM_FACTORIES = frozenset({"Dispatch", "DispatchEx", "EnsureDispatch", "GetObject",
                            "CreateObject"})
_SHELL_COM = re.compile(r"wscript\.shell|shell\.application|schedule\.service|winmgmts|"
                        r"msxml2\.xmlhttp|winhttp\.winhttprequest|adodb\.stream", re.I)
"""COM objects that run programs, schedule tasks, query WMI or download (what Windows
droppers automate); opening one from setup.py or at import is like running a shell."""


def grade_windows_calls(records: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """PV854 for registry writes to autostart keys, PV855 for Windows API calls that
    inject, execute, download or steal, PV856 for `os.startfile` and hidden-window
    process flags (Windows code hiding what it starts)."""
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for record in records:
        if record.get("type") != "persona":
            continue
        kind, phase = record.get("what"), _phase(record)
        finding = None
        call = str(record.get("call", ""))
        if kind == "winreg" and call.startswith(("SetValue", "CreateKey")) \
                and _RUN_KEY.search(str(record.get("key", ""))):
            finding = rule("PV854").finding(
                phase=phase, snippet=f"{record.get('call')} {record.get('key')} "
                                     f"{record.get('name', '')}={record.get('value', '')}"[:300])
        elif kind == "windll" and (_SUSPICIOUS_API.match(str(record.get("function", ""))) or (
                str(record.get("function", "")) in _COM_FACTORIES
                and _SHELL_COM.search(" ".join(map(str, record.get("args") or ()))))):
            finding = rule("PV855").finding(
                phase=phase, snippet=f"{record.get('library')}.{record.get('function')}"
                                     f"({', '.join(record.get('args') or [])})"[:300])
        elif kind == "startfile" or (kind == "popen" and (
                int(record.get("creationflags") or 0) & 0x08000008 or record.get("startupinfo"))):
            finding = rule("PV856").finding(
                phase=phase, snippet=f"{kind}: {record.get('path') or record.get('args')}"[:300])
        if finding is not None and (finding.rule_id, finding.snippet) not in seen:
            seen.add((finding.rule_id, finding.snippet))
            findings.append(finding)
    return findings


def grade(records: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Everything the persona grades, for the observer to add to its findings."""
    return [*grade_recon(records), *grade_commands(records), *grade_windows_calls(records),
            *grade_code(records)]


__all__ = ["Identity", "command_lines", "decode_encoded_command", "environment", "grade",
           "grade_commands", "grade_recon", "grade_windows_calls", "identity", "image_files",
           "recon_group", "recon_watch", "windows_programs"]
