"""Python source analysis: install-time and import-time behaviour, graded by combination.

For every Python file that matters (install-time files always; other files when a cheap
pre-filter finds the ingredients of a combination) this analyzer collects capability facts
(see `_facts`) and decides *when* each runs:

- `install`: anything in `setup.py` or an in-tree build backend (pip runs it);
- `import`: module top level, class bodies, and functions the top level calls (intra-file
  call graph), in shipped package code;
- `runtime`: everything else, and all code in tests, docs and examples.

A single capability is never more than `low` (subprocess in a build script is normal). What
only malware needs is a *combination*: decode then exec, download then run, read a secret
then send it, a hard-coded exfiltration endpoint plus network use. At install or import time
those are `critical`; at runtime they are weighed within one function, where ordinary
libraries (HTTP clients reading `~/.netrc`, telemetry sending a hostname) keep them apart.
"""

from __future__ import annotations

import ast
import base64
import binascii
import bz2
import contextlib
import ipaddress
import lzma
import re
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import ahocorasick
import libcst as cst

from pkgvet.analyzer._astfacts import ast_facts
from pkgvet.analyzer._facts import (
    MAIN,
    MODULE,
    Fact,
    FileFacts,
    catalog,
    cst_facts,
    reachable,
    text_facts,
)
from pkgvet.model import Category, Confidence, Context, Finding, Phase, Severity
from pkgvet.options import ScanOptions
from pkgvet.package import Package, PackageFile

NAME = "python-code"
CST_MAX_BYTES = 48 * 1024
LONG_LINE = 1024 * 1024
HUGE_LINE_HINT = 100_000


def _words(*items: str) -> tuple[str, ...]:
    return items


# Lower-case substrings per ingredient. Substring tests run at memory speed; the full parse
# runs only where a file holds the ingredients of a combination.
_PREFILTER: dict[str, tuple[str, ...]] = {
    "exec": _words(
        "exec(",
        "eval(",
        " compile(",
        "(compile(",
        "\tcompile(",
        "=compile(",
        "builtins.compile",
        "__import__",
        "marshal.",
        "pickle.",
        "import_module",
        "functiontype",
        "runpy",
        "execfile",
    ),
    "decode": _words(
        "b64decode",
        "b32decode",
        "b85decode",
        "a85decode",
        "decodebytes",
        "decodestring",
        "decompress",
        "unhexlify",
        "fromhex",
        "a2b_",
        "decrypt",
        "fernet",
        "codecs.decode",
        "rot13",
        "rot_13",
        "chr(",
        "[::-1]",
    ),
    "net": _words(
        "urlopen",
        "urlretrieve",
        "requests.",
        "import requests",
        "httpx",
        "http.client",
        "httplib",
        "urllib",
        "socket",
        "aiohttp",
        "ftplib",
        "smtplib",
        "telnetlib",
        "pycurl",
        "websocket",
        "webhook",
        "dhooks",
        "gethostbyname",
        "getaddrinfo",
        "dns.resolver",
        "paramiko",
    ),
    "proc": _words(
        "subprocess",
        "system(",
        "popen",
        "spawn",
        "startfile",
        "execv",
        "execl",
        "pty.",
        "shellexecute",
        "createprocess",
        "winexec",
        "create_subprocess",
    ),
    "chmod": _words("chmod", "s_iexec", "s_ixusr"),
    "secret": _words(
        ".ssh",
        "id_rsa",
        ".aws/",
        ".aws\\",
        "'.aws'",
        '".aws"',
        ".npmrc",
        ".pypirc",
        "git-credentials",
        ".netrc",
        "login data",
        "/cookies",
        "\\cookies",
        "cookies.sqlite",
        "local state",
        "leveldb",
        "/tdata",
        "\\tdata",
        "'tdata'",
        '"tdata"',
        "wallet",
        "exodus",
        "metamask",
        "bash_history",
        "/etc/passwd",
        "/etc/shadow",
        "environ)",
        "environ.items",
        "environ.copy",
        "environ.keys",
        "environ.values",
        "aws_secret",
        "github_token",
        "npm_token",
        "twine_password",
        "gethostname(",
        "getuser(",
        "getlogin(",
        "platform.node",
        "uname(",
        "getnode(",
        "getfqdn",
        "discord",
        "169.254.169.254",
        "metadata.google",
    ),
    "cmd": _words(
        "powershell",
        "certutil",
        "bitsadmin",
        "mshta",
        "regsvr32",
        "/dev/tcp/",
        "nc -e",
        "nc -c",
    ),
    # curl and wget are everywhere in docstrings ("a command-line tool like curl"): a command
    # line with them matters only where the file can run a program or evaluate code.
    "fetchcmd": _words("curl ", "wget "),
    "persist": _words(
        "crontab",
        "/etc/cron",
        ".bashrc",
        ".bash_profile",
        ".zshrc",
        "/.profile",
        "\\.profile",
        "'.profile'",
        '".profile"',
        "systemd",
        "autostart",
        "currentversion\\run",
        "\\startup",
        "launchagents",
        "sitecustomize",
        "usercustomize",
        "schtasks",
        "winreg",
        "rc.local",
    ),
    "endpoint": _words(
        "webhooks/",
        "api.telegram.org",
        "hooks.slack.com",
        "ngrok",
        "pipedream",
        "requestbin",
        "requestcatcher",
        "webhook.site",
        "interact.sh",
        ".oast",
        "oastify",
        "burpcollaborator",
        "canarytokens",
        "transfer.sh",
        "pastebin",
        "paste.ee",
        "hastebin",
        "rentry",
        "ghostbin",
        "trycloudflare",
        "serveo",
        "loca.lt",
        "dnslog",
        "ceye.io",
        "discordapp",
        "anonfiles",
        "gofile",
        "catbox",
        "filebin",
        "repl.co",
        "glitch.me",
    ),
    "obfuscation": _words(
        "__builtins__",
        "__builtin__",
        "getattr(builtins",
        "__pyarmor__",
        "pyarmor_runtime",
        "pytransform",
        "virtualalloc",
        "pynput",
        "imagegrab",
        "pyperclip",
        "pip.main",
        "pip._internal",
        "keyboard.on_press",
        "keyboard.hook",
        " " * 150,
    ),
}


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    """All pre-filter words in one Aho-Corasick automaton: one pass over a file finds every
    ingredient (five times faster than a substring test per word on large packages)."""
    automaton = ahocorasick.Automaton()
    for group, words in _PREFILTER.items():
        for word in words:
            automaton.add_word(word, group)
    automaton.make_automaton()
    return automaton


_RAW_IP = re.compile(r"://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_JUNK_HINT = re.compile(r"[Il1O0]{8}")
_JUNK = re.compile(r"_0x[0-9a-fA-F]{4}|\b[Il1]{8,}\b|\b[O0]{8,}\b")
_NON_ASCII_NAME = re.compile(r"[^\x00-\x7f]{6,}\s*=")


def _needs_full_pass(text: str, strong_only: bool = False) -> bool:
    """Cheap test: could this file hold a combination worth a full parse? For tests, docs and
    examples (`strong_only`) only the ingredients that are suspicious on their own count."""
    hit = {group for _, group in _automaton().iter(text.lower())}
    if hit & {"cmd", "persist", "endpoint", "obfuscation"}:
        return True
    if strong_only:
        return False
    if _RAW_IP.search(text) or (("_0x" in text or _JUNK_HINT.search(text)) and _JUNK.search(text)):
        return True
    # Six non-ASCII characters take at least twelve UTF-8 bytes: fewer, and no name can match.
    if not text.isascii() and len(text.encode("utf-8", "surrogatepass")) - len(text) >= 6 \
            and _NON_ASCII_NAME.search(text):
        return True
    if "exec" in hit and hit & {"decode", "net"}:
        return True
    if "decode" in hit and "proc" in hit:
        return True
    if "fetchcmd" in hit and hit & {"proc", "exec"}:
        return True
    return "net" in hit and bool(hit & {"chmod", "proc", "secret"})


# -- what each rule says -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    rule_id: str
    title: str
    category: Category
    explanation: str


RULES = {
    r.rule_id: r
    for r in (
        Rule(
            "PV102",
            "Install command overridden (cmdclass)",
            Category.EXECUTION,
            "setup.py replaces a setuptools command; its code runs during pip install.",
        ),
        Rule(
            "PV103",
            "Runs a process at install time",
            Category.PROCESS,
            "setup.py or the build backend starts a process. Normal for compilers and build "
            "tools; look at what it runs.",
        ),
        Rule(
            "PV104",
            "Network access at install time",
            Category.NETWORK,
            "Code that pip runs during install opens network connections; installs should "
            "not need the network beyond the index.",
        ),
        Rule(
            "PV105",
            "Network access at import time",
            Category.NETWORK,
            "Importing the package opens network connections before the user calls anything.",
        ),
        Rule(
            "PV106",
            "Installs other packages from code",
            Category.EXECUTION,
            "Calls pip from setup.py or at import: a way to pull a second-stage payload that "
            "the declared dependencies do not show.",
        ),
        Rule(
            "PV107",
            "Recon command at install time",
            Category.PROCESS,
            "Runs whoami/id/hostname-style commands during install: dependency-confusion "
            "probes do this to learn whose machine they landed on.",
        ),
        Rule(
            "PV201",
            "Decodes or deobfuscates data and executes it",
            Category.OBFUSCATION,
            "exec/eval/compile runs a string that was base64/zlib/hex decoded, decrypted, built "
            "from chr() codes or reversed. Legitimate code has no reason to hide what it runs.",
        ),
        Rule(
            "PV202",
            "Executes code downloaded from the network",
            Category.DROPPER,
            "exec/eval of data read from a URL or socket: a remote party decides what runs.",
        ),
        Rule(
            "PV203",
            "Deserializes an embedded blob",
            Category.OBFUSCATION,
            "marshal/pickle loads of an encoded literal: compiled or pickled code hidden from "
            "source review.",
        ),
        Rule(
            "PV204",
            "Obfuscated code",
            Category.OBFUSCATION,
            "Junk or machine-generated identifiers, getattr on builtins, chr() string "
            "building: written to defeat review.",
        ),
        Rule(
            "PV205",
            "Encoded blob in install/import-time code",
            Category.OBFUSCATION,
            "A long high-entropy literal in code that runs automatically.",
        ),
        Rule(
            "PV206",
            "Code protected by an obfuscator runtime (PyArmor or similar)",
            Category.OBFUSCATION,
            "The shipped code is encrypted; nobody can review what it does.",
        ),
        Rule(
            "PV207",
            "Code hidden past a long run of whitespace",
            Category.OBFUSCATION,
            "Statements pushed far to the right so that editors and diffs do not show them.",
        ),
        Rule(
            "PV209",
            "Runs a command hidden by encoding",
            Category.EXECUTION,
            "A process is started with a command line that was base64/hex decoded, XORed, "
            "reversed or built from chr() codes: the command is hidden from review.",
        ),
        Rule(
            "PV310",
            "Connects to an address hidden by encoding",
            Category.EXFILTRATION,
            "A network call whose target was decoded or deobfuscated at run time: the "
            "endpoint is hidden from review.",
        ),
        Rule(
            "PV311",
            "Reverse shell",
            Category.EXECUTION,
            "A socket wired to a shell (dup2, pty.spawn or /bin/sh -i): remote control of the "
            "machine.",
        ),
        Rule(
            "PV301",
            "Downloads a file, writes it and runs it",
            Category.DROPPER,
            "Network download, a file write and chmod or process execution together: the "
            "shape of a dropper.",
        ),
        Rule(
            "PV313",
            "Writes an embedded payload to disk and runs it",
            Category.DROPPER,
            "Decodes data carried in the package, writes it to a file and starts a process: a "
            "dropper that needs no download.",
        ),
        Rule(
            "PV302",
            "Download-and-run or beacon command line",
            Category.DROPPER,
            "A PowerShell cradle, curl|sh, certutil, base64|sh or a curl carrying $(whoami) "
            "and similar: fetches and runs a second stage or reports the victim.",
        ),
        Rule(
            "PV303",
            "Reads secrets and sends them out",
            Category.EXFILTRATION,
            "Credential files, token environment variables or the whole environment, plus "
            "network sending: credential theft.",
        ),
        Rule(
            "PV304",
            "Sends host information at install or import time",
            Category.EXFILTRATION,
            "Collects hostname/user/paths and contacts the network while installing or "
            "importing: the dependency-confusion beacon.",
        ),
        Rule(
            "PV305",
            "Hard-coded exfiltration endpoint",
            Category.EXFILTRATION,
            "A webhook, tunnel, request-capture, paste or file-drop service, or a raw IP "
            "address, that ordinary libraries do not talk to.",
        ),
        Rule(
            "PV306",
            "Reads credential stores",
            Category.CREDENTIALS,
            "Touches browser profiles, cookie stores, Discord/Telegram token stores or crypto "
            "wallets.",
        ),
        Rule(
            "PV307",
            "Spyware capabilities with network use",
            Category.EXFILTRATION,
            "Keylogging, clipboard or screen capture in code that also uses the network.",
        ),
        Rule(
            "PV308",
            "Shellcode loader",
            Category.EXECUTION,
            "VirtualAlloc/CreateThread-style in-memory execution of machine code.",
        ),
        Rule(
            "PV312",
            "Queries the cloud metadata service",
            Category.CREDENTIALS,
            "Contacts 169.254.169.254 / metadata.google.internal, where cloud machines hand out "
            "instance credentials. Install- and import-time code has no reason to.",
        ),
        Rule(
            "PV401",
            "Persistence",
            Category.PERSISTENCE,
            "Writes to autostart places (cron, shell rc files, systemd, Run keys, Startup "
            "folder, sitecustomize) so that code survives the install.",
        ),
        Rule(
            "PV903",
            "Analysis evaded: nesting too deep to parse",
            Category.EVASION,
            "The file nests expressions deeper than Python itself accepts; it cannot run and "
            "exists only to crash or blind analyzers.",
        ),
        Rule(
            "PV904",
            "Analysis evaded: single line too long",
            Category.EVASION,
            "A line over 1 MiB; scanned as text only. Such lines hide code from review.",
        ),
        Rule(
            "PV905",
            "Not Python 3 source; scanned as text",
            Category.EVASION,
            "The file does not parse as Python 3 (often Python 2); a tolerant text scan ran "
            "instead, with less context.",
        ),
    )
}

SIDE_CONTEXTS = frozenset({Context.TESTS, Context.DOCS, Context.EXAMPLES})
HIDING = frozenset({"decode", "chr_join", "reverse", "blob", "xor"})
EXEC_LABELS = frozenset(
    {
        "builtins.exec",
        "builtins.eval",
        "builtins.compile",
        "exec",
        "eval",
        "compile",
        "builtins.execfile",
        "execfile",
        "types.FunctionType",
        "types.CodeType",
        "runpy.run_path",
    }
)
SPYWARE = frozenset({"clipboard", "screenshot", "keylog"})
CREDENTIAL_STORE = re.compile(
    r"login data|cookies|local state|leveldb|tdata|wallet|exodus|metamask|atomic|electrum|"
    r"keychain|user data|profiles|discord|filezilla|nkbihfbeogaeaoehlef",
    re.IGNORECASE,
)


def _public_ip_url(text: str) -> bool:
    try:
        host = urlsplit(text).hostname or ""
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_global


# -- grading -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Emit:
    f: PackageFile
    lines: list[str]
    out: list[Finding]

    def __call__(
        self,
        rule_id: str,
        fact: Fact | None,
        severity: Severity,
        confidence: Confidence,
        phase: Phase,
        note: str = "",
    ) -> None:
        rule = RULES[rule_id]
        line = fact.line if fact and fact.line else None
        snippet = ""
        if line and 0 < line <= len(self.lines):
            snippet = self.lines[line - 1].strip()
            if len(snippet) > 240:
                snippet = snippet[:240] + " ..."
        explanation = rule.explanation + (f" ({note})" if note else "")
        if self.f.context in SIDE_CONTEXTS and phase is not Phase.INSTALL:
            # Tests, docs and examples never run on install or import: at most `high` here,
            # which the verdict then counts one level lower.
            severity = min(severity, Severity.HIGH)
        self.out.append(
            Finding(
                rule_id=rule_id,
                title=rule.title,
                severity=severity,
                confidence=confidence,
                category=rule.category,
                phase=phase,
                path=self.f.path,
                line=line,
                column=fact.column if fact else None,
                snippet=snippet,
                explanation=explanation,
                analyzer=NAME,
                context=self.f.context,
            )
        )


def _first(facts: Sequence[Fact], *caps: str) -> Fact | None:
    for fact in facts:
        if fact.cap in caps:
            return fact
    return None


def _has(facts: Sequence[Fact], *caps: str) -> bool:
    return _first(facts, *caps) is not None


def _grade_group(
    facts: Sequence[Fact], phase: Phase, emit: _Emit, file_facts: Sequence[Fact]
) -> None:
    """Grade one group of facts that run together: a file's auto-run code or one function."""
    auto = phase in (Phase.INSTALL, Phase.IMPORT)

    def crit_or(low: Severity) -> Severity:
        return Severity.CRITICAL if auto else low

    # Decode/deobfuscate -> exec.
    for fact in facts:
        if not fact.cap.startswith("exec_of:"):
            continue
        source = fact.cap.split(":", 1)[1]
        is_exec = fact.detail in EXEC_LABELS
        if source == "download" and is_exec:
            emit("PV202", fact, Severity.CRITICAL, Confidence.HIGH, phase, "exec of network data")
        elif is_exec and source in HIDING:
            emit(
                "PV201",
                fact,
                crit_or(Severity.HIGH),
                Confidence.HIGH if auto else Confidence.MEDIUM,
                phase,
                f"source: {source}",
            )
        elif not is_exec and source == "blob":
            emit("PV203", fact, crit_or(Severity.MEDIUM), Confidence.MEDIUM, phase)

    for fact in facts:
        kind, _, source = fact.cap.partition("_of:")
        if kind == "process" and source in HIDING:
            emit(
                "PV209",
                fact,
                crit_or(Severity.HIGH),
                Confidence.HIGH if auto else Confidence.MEDIUM,
                phase,
                f"source: {source}",
            )
        elif kind == "net" and source in HIDING and source != "blob":
            emit(
                "PV310", fact, crit_or(Severity.HIGH), Confidence.MEDIUM, phase, f"source: {source}"
            )

    net = _has(facts, "network", "send", "download")
    sock = _has(facts, "socket")
    # A reverse shell wires a socket to a shell's stdio: pty.spawn, or dup2 beside a shell or a
    # process. dup2 alone is daemon code sending stdio to /dev/null; a shell command beside a
    # socket (`check_call(cmd, shell=True, executable="/bin/bash")`) is a job launcher.
    pty_spawn = any(f.cap == "dup2" and "pty" in f.detail for f in facts)
    shell = _has(facts, "lit:shell_bin")
    dup2 = _has(facts, "dup2")
    process = _has(facts, "process")
    if sock and (pty_spawn or (dup2 and (shell or process))):
        emit(
            "PV311",
            _first(facts, "dup2", "lit:shell_bin"),
            crit_or(Severity.HIGH),
            Confidence.MEDIUM,
            phase,
        )
    send = _has(facts, "send", "dns_exfil")
    # Download -> write -> run.
    if (
        _has(facts, "download", "network")
        and _has(facts, "write")
        and _has(facts, "chmod", "process")
    ):
        endpoint = _has(file_facts, "lit:bad_endpoint", "lit:payload_url") or _raw_ip(file_facts)
        # At import nothing has a reason to download, save and run. At install a build script
        # may fetch a source archive and run make or git; there the download must be marked
        # as the thing that runs: made executable, named like a program, or fetched from a
        # place no build fetches from.
        payload = endpoint or _has(facts, "chmod", "lit:exe_name")
        strong = phase is Phase.IMPORT or (payload and (auto or endpoint))
        emit(
            "PV301",
            _first(facts, "download", "network"),
            Severity.CRITICAL if strong else Severity.MEDIUM,
            Confidence.MEDIUM if strong else Confidence.LOW,
            phase,
        )

    # Embedded payload -> file -> run, at install or import.
    if auto and _has(facts, "blob") and _has(facts, "write") and _has(facts, "process"):
        emit("PV313", _first(facts, "blob"), Severity.CRITICAL, Confidence.MEDIUM, phase)

    # Clipboard at install or import: hijackers swap wallet addresses without any network.
    clip = _first(facts, "clipboard")
    if auto and clip is not None:
        emit("PV307", clip, Severity.HIGH, Confidence.MEDIUM, phase, "clipboard access")

    # Download-and-run command lines.
    cmd = _first(facts, "lit:download_cmd")
    if cmd is not None:
        runs = _has(facts, "process", "exec")
        if runs:
            emit("PV302", cmd, crit_or(Severity.HIGH), Confidence.HIGH, phase)
        else:
            emit(
                "PV302",
                cmd,
                # Install instructions in a help text look the same; without a process call
                # next to it the line is a lead, not evidence.
                Severity.MEDIUM if auto else Severity.LOW,
                Confidence.LOW,
                phase,
                "command line present; no process call seen next to it",
            )

    # Secrets -> send.
    secret = _first(facts, "lit:credentials", "lit:secret_env", "env_dump")
    if secret is not None and send:
        store = secret.cap == "lit:credentials" and bool(CREDENTIAL_STORE.search(secret.detail))
        if auto:
            emit("PV303", secret, Severity.CRITICAL, Confidence.HIGH, phase)
        elif store:
            emit("PV303", secret, Severity.CRITICAL, Confidence.MEDIUM, phase)
        else:
            # SSH, cloud and index clients read their own config and then talk to the
            # network in one function; at runtime that alone is not theft.
            emit("PV303", secret, Severity.MEDIUM, Confidence.LOW, phase)
    elif (
        secret is not None
        and secret.cap == "lit:credentials"
        and CREDENTIAL_STORE.search(secret.detail)
    ):
        emit("PV306", secret, Severity.MEDIUM if auto else Severity.LOW, Confidence.LOW, phase)

    # Host info -> send, only meaningful where nobody asked for it.
    host = _first(facts, "hostinfo", "lit:shell_cmd")
    if auto and host is not None and send:
        if phase is Phase.INSTALL:
            emit("PV304", host, Severity.CRITICAL, Confidence.HIGH, phase)
        else:
            emit("PV304", host, Severity.HIGH, Confidence.MEDIUM, phase)

    cloud = _first(facts, "lit:cloud_metadata")
    if cloud is not None and auto and _has(facts, "send", "download", "process"):
        # Cloud SDKs and telemetry read instance identity once imported; pip has no reason to.
        if phase is Phase.INSTALL:
            emit("PV312", cloud, Severity.HIGH, Confidence.HIGH, phase)
        else:
            emit("PV312", cloud, Severity.MEDIUM, Confidence.LOW, phase)

    # Spyware + network.
    spy = _first(facts, *SPYWARE)
    if spy is not None and (net or _has(file_facts, "network", "send")):
        emit("PV307", spy, crit_or(Severity.HIGH), Confidence.MEDIUM, phase)

    # Shellcode.
    if sum(1 for f in facts if f.cap == "antidebug") >= 2:
        emit("PV308", _first(facts, "antidebug"), crit_or(Severity.HIGH), Confidence.MEDIUM, phase)

    # Persistence.
    persist = _first(facts, "lit:persistence")
    if persist is not None and _has(facts, "write", "process", "persistence_call"):
        if _has(facts, "download", "exec", "lit:download_cmd"):
            emit("PV401", persist, crit_or(Severity.HIGH), Confidence.MEDIUM, phase)
        else:
            emit(
                "PV401",
                persist,
                Severity.HIGH if auto else Severity.LOW,
                Confidence.MEDIUM if auto else Confidence.LOW,
                phase,
            )

    if not auto:
        return

    # Obfuscation signals in automatically running code.
    junk = [f for f in facts if f.cap == "junk_names"]
    tricks = [f for f in facts if f.cap in ("builtins_access", "chr_join", "escaped_strings")]
    if len(junk) >= 5 or len(tricks) >= 2:
        # getattr(builtins, name) with nothing else (no junk names, no chr() or escape tricks)
        # is how sandboxed evaluators build their safe builtins (reportlab's rl_safe_eval),
        # not obfuscation; beside other tricks it is a way to reach exec unseen.
        others = junk or [f for f in tricks if f.cap != "builtins_access"]
        dangerous = bool(others) and _has(
            facts, "exec", "process", "network", "pip_install", "dynamic_import", "builtins_access"
        )
        heavy = len(junk) >= 10 or len(tricks) >= 3
        if dangerous and heavy:
            # Machine-obfuscated code that runs by itself and reaches exec, processes or the
            # network: legitimate packages do not obfuscate what pip or import runs.
            severity = Severity.CRITICAL
        else:
            severity = Severity.HIGH if dangerous else Severity.LOW
        emit(
            "PV204",
            (tricks or junk)[0],
            severity,
            Confidence.MEDIUM,
            phase,
            f"{len(junk)} junk identifiers, {len(tricks)} builtins/chr tricks",
        )
    blob = _first(facts, "blob")
    if blob is not None and _has(facts, "exec", "deserialize", "dynamic_import"):
        emit("PV205", blob, Severity.HIGH, Confidence.MEDIUM, phase, blob.detail)

    pip = _first(facts, "pip_install")
    if pip is None and _has(facts, "process"):
        pip = _first(facts, "lit:pip_cmd")
    if pip is not None:
        kit = _first(facts, "lit:stealer_pkg")
        emit(
            "PV106",
            pip,
            Severity.HIGH if kit else Severity.MEDIUM,
            Confidence.MEDIUM,
            phase,
            f"installs {kit.detail}" if kit else "",
        )
    if phase is Phase.INSTALL:
        recon = _first(facts, "lit:shell_cmd")
        if recon is not None and _has(facts, "process"):
            emit("PV107", recon, Severity.MEDIUM, Confidence.MEDIUM, phase)
        proc = _first(facts, "process")
        if proc is not None:
            emit("PV103", proc, Severity.LOW, Confidence.HIGH, phase, proc.detail)
        network = _first(facts, "network", "download", "send")
        if network is not None:
            emit("PV104", network, Severity.MEDIUM, Confidence.MEDIUM, phase, network.detail)
        cmdclass = _first(facts, "cmdclass")
        if cmdclass is not None:
            emit("PV102", cmdclass, Severity.INFO, Confidence.HIGH, phase, cmdclass.detail)
    else:
        network = _first(facts, "network", "download", "send")
        if network is not None:
            emit("PV105", network, Severity.LOW, Confidence.MEDIUM, phase, network.detail)


def _raw_ip(facts: Sequence[Fact]) -> Fact | None:
    for fact in facts:
        if fact.cap == "lit:raw_ip_url" and _public_ip_url(fact.detail):
            return fact
    return None


def _grade_endpoints(ff: FileFacts, phases: dict[str, Phase], emit: _Emit) -> None:
    """Hard-coded exfiltration endpoints are weighed across the whole file: the URL is often a
    module constant while the request sits in a function."""
    endpoint = _first(ff.facts, "lit:bad_endpoint") or _raw_ip(ff.facts)
    if endpoint is None:
        return
    net_facts = [f for f in ff.facts if f.cap in ("network", "send", "download")]
    auto_net = [f for f in net_facts if phases[f.scope] in (Phase.INSTALL, Phase.IMPORT)]
    phase = phases[endpoint.scope]
    if auto_net:
        emit("PV305", endpoint, Severity.CRITICAL, Confidence.HIGH, phases[auto_net[0].scope])
    elif net_facts:
        # Webhooks with tokens, request-capture and tunnel services are never a library's
        # backend; a raw IP address sometimes is.
        strong = endpoint.cap == "lit:bad_endpoint"
        emit(
            "PV305",
            endpoint,
            Severity.CRITICAL if strong else Severity.HIGH,
            Confidence.MEDIUM,
            Phase.RUNTIME,
        )
    else:
        emit(
            "PV305",
            endpoint,
            Severity.MEDIUM if phase is not Phase.RUNTIME else Severity.LOW,
            Confidence.LOW,
            phase,
            "no network call seen in this file",
        )


def _phases(ff: FileFacts, base: Phase, context: Context, whole: bool) -> dict[str, Phase]:
    scopes = {f.scope for f in ff.facts} | set(ff.calls) | {MODULE, MAIN}
    if context in (Context.TESTS, Context.DOCS, Context.EXAMPLES):
        return dict.fromkeys(scopes, Phase.RUNTIME)
    if whole:
        # setup.py and build backends exist to be run by pip: all of their code counts.
        return dict.fromkeys(scopes, Phase.INSTALL)
    auto = reachable(ff, [MODULE])
    return {s: (base if s in auto else Phase.RUNTIME) for s in scopes}


def analyze_facts(
    ff: FileFacts, base: Phase, f: PackageFile, lines: list[str], whole: bool = False
) -> list[Finding]:
    """Grade a file's facts. `whole`: every function counts as install-time (setup.py and
    build backends, which pip runs as a whole); otherwise only what the top level reaches."""
    out: list[Finding] = []
    emit = _Emit(f, lines, out)
    phases = _phases(ff, base, f.context, whole)
    auto_facts = [x for x in ff.facts if phases.get(x.scope) in (Phase.INSTALL, Phase.IMPORT)]
    if auto_facts:
        auto_phase = phases[auto_facts[0].scope]
        _grade_group(auto_facts, auto_phase, emit, ff.facts)
    by_scope: dict[str, list[Fact]] = {}
    for fact in ff.facts:
        if phases.get(fact.scope, Phase.RUNTIME) is Phase.RUNTIME:
            by_scope.setdefault(fact.scope, []).append(fact)
    for facts in by_scope.values():
        _grade_group(facts, Phase.RUNTIME, emit, ff.facts)
    _grade_endpoints(ff, phases, emit)
    return out


# -- per-file driver -----------------------------------------------------------------------------

# The obfuscators' own stubs, not a mention of their names (ddtrace has a detector for them):
# a call of __pyarmor__, an import of its runtime, pyobfuscate's `pyobfuscate=` assignment.
_PYARMOR = re.compile(
    r"__pyarmor__\s*\(|^[ \t]*(?:from[ \t]+(?:pytransform|pyarmor_runtime\w*)[ \t]+import|"
    r"import[ \t]+(?:pytransform|pyarmor_runtime\w*))|\bpyobfuscate[ \t]*=",
    re.M,
)
_HIDDEN = re.compile(r"\S[ \t]{150,}\S")


def _string_spans(tree: ast.Module | None) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of the multi-line or long string literals in `tree`."""
    if tree is None:
        return []
    return [
        ((node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0))
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)
        and len(node.value) > 150
    ]


def _hidden_code(text: str, tree: ast.Module | None) -> re.Match[str] | None:
    """The first long run of blanks followed by more on the same line that is not inside a
    string literal (docstrings carry such runs; code hidden off-screen is never in one)."""
    spans: list[tuple[tuple[int, int], tuple[int, int]]] | None = None
    for count, m in enumerate(_HIDDEN.finditer(text)):
        if count >= 50:
            return m
        if spans is None:
            spans = _string_spans(tree)
        line = text.count("\n", 0, m.start()) + 1
        where = (line, m.start() - (text.rfind("\n", 0, m.start()) + 1))
        if not any(start < where < end for start, end in spans):
            return m
    return None


def _file_level(
    f: PackageFile, text: str, base: Phase, emit: _Emit, tree: ast.Module | None = None
) -> None:
    phase = base if f.context is Context.PACKAGE or base is Phase.INSTALL else Phase.RUNTIME
    if m := _PYARMOR.search(text):
        line = text.count("\n", 0, m.start()) + 1
        emit(
            "PV206",
            Fact("pyarmor", line, MODULE, m.group(0)),
            Severity.HIGH,
            Confidence.MEDIUM,
            phase,
        )
    if m := _hidden_code(text, tree):
        line = text.count("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        hidden = text[m.end() - 1 : end if end != -1 else len(text)]
        runs_code = bool(CODE_HINT.search(hidden)) or "(" in hidden
        emit(
            "PV207",
            Fact("hidden", line, MODULE, ""),
            Severity.CRITICAL if runs_code and phase is not Phase.RUNTIME else Severity.HIGH,
            Confidence.MEDIUM,
            phase,
        )


def _parse_guard(text: str) -> tuple[str, str, ast.Module | None]:
    """('ok'|'deep'|'syntax'|'long', detail, tree): CPython's parser first, because libcst's
    native parser overflows the C stack on pathological nesting and takes the process with it;
    CPython's has guards and refuses such files cleanly."""
    if len(text) > HUGE_LINE_HINT:
        longest = max((len(line) for line in text.splitlines()), default=0)
        if longest > LONG_LINE:
            return "long", f"longest line {longest // 1024} KiB", None
    try:
        tree = ast.parse(text)
    except RecursionError:
        return "deep", "expression nesting exceeds the parser's recursion limit", None
    except MemoryError:
        return "deep", "parser ran out of memory", None
    except SyntaxError as exc:
        msg = str(exc.msg)
        if "too many nested" in msg or "too complex" in msg:
            return "deep", msg, None
        newer = _parse_newer_syntax(text)
        if newer is not None:
            return "ok", "", newer
        return "syntax", f"line {exc.lineno}: {msg}", None
    except ValueError as exc:  # NUL bytes in source
        return "syntax", str(exc), None
    return "ok", "", tree


# Python 3.12's type statements and type parameters (PEP 695), which this interpreter's
# parser refuses. Rewritten in place, line for line, into what it reads (`type X = ...` to
# `X = ...`, `def f[T](` to `def f(`), so that modern packages get the precise front-end
# instead of the text scan. A regular expression, not a parser: anything it cannot rewrite
# (nested brackets in the parameters) still fails to parse and goes to the text scan.
_TYPE_ALIAS = re.compile(r"^([ \t]*)type[ \t]+([A-Za-z_]\w*)[ \t]*(?:\[[^\]\n]*\])?[ \t]*=", re.M)
_TYPE_PARAMS = re.compile(
    r"^([ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+[A-Za-z_]\w*)\[[^\]\n]*\](?=[ \t]*[(:])", re.M
)


def _parse_newer_syntax(text: str) -> ast.Module | None:
    if "type " not in text and "[" not in text:
        return None
    shimmed = _TYPE_PARAMS.sub(r"\1", _TYPE_ALIAS.sub(r"\1\2 =", text))
    if shimmed == text:
        return None
    try:
        return ast.parse(shimmed)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _facts_for(tree: ast.Module, text: str, base: Phase) -> FileFacts | None:
    """libcst with qualified names for the code pip runs; the fast ast front-end elsewhere."""
    if base is Phase.INSTALL and len(text) <= CST_MAX_BYTES:
        try:
            return cst_facts(cst.parse_module(text))
        except (cst.ParserSyntaxError, RecursionError, MemoryError):
            pass
    try:
        return ast_facts(tree)
    except RecursionError:
        return None


_PYTHON_C = re.compile(r"""python[0-9.]*(?:\.exe)?\s+-c\s+(["'])(.+?)\1""", re.DOTALL)
_ESCAPES = re.compile(r"\\x[0-9a-fA-F]{2}|\\[0-7]{3}")
UNPACK_DEPTH = 2
UNPACK_MAX = 64
UNPACK_BYTES = 4 * 1024 * 1024


def _decodings(text: str) -> Iterator[str]:
    """Texts an embedded literal may carry: itself, `python -c` bodies, and base64, hex and
    zlib/bz2/lzma layers decoded statically (decoding data runs none of it)."""
    yield text
    for m in _PYTHON_C.finditer(text):
        yield m.group(2)
    compact = "".join(text.split())
    raw: bytes | None = None
    try:
        if len(compact) % 4 == 0 or compact.endswith("="):
            raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is None and len(compact) % 2 == 0:
        try:
            raw = bytes.fromhex(compact)
        except ValueError:
            raw = None
    if raw is None:
        return
    for layer in (raw, *_decompressed(raw)):
        try:
            decoded = layer.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if decoded.isprintable() or "\n" in decoded:
            yield decoded


def _decompressed(raw: bytes) -> Iterator[bytes]:
    for wbits in (zlib.MAX_WBITS, 31):
        with contextlib.suppress(zlib.error):
            yield zlib.decompressobj(wbits).decompress(raw, UNPACK_BYTES)
    for module in (bz2, lzma):
        with contextlib.suppress(OSError, ValueError, lzma.LZMAError):
            yield module.decompress(raw)[:UNPACK_BYTES]


def _unpack_embedded(ff: FileFacts, depth: int = 0) -> None:
    """Analyze code hidden in string literals (written to disk, passed to `python -c`, or
    base64/zlib encoded) as if it stood where the literal stands."""
    cat = catalog()
    for line, scope, text in ff.embedded[:UNPACK_MAX]:
        for i, candidate in enumerate(_decodings(text)):
            if i > 0:
                for cap in cat.literal_caps(candidate[:4096]):
                    ff.add(f"lit:{cap}", line, scope, candidate[:200])
            if i == 0 and not CODE_HINT.search(candidate):
                continue
            try:
                tree = ast.parse(candidate)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            try:
                inner = ast_facts(tree)
            except RecursionError:
                continue
            if depth < UNPACK_DEPTH and inner.embedded:
                _unpack_embedded(inner, depth + 1)
            for fact in inner.facts:
                ff.add(fact.cap, line, scope, fact.detail)
            if i > 0:
                ff.add("decoded_code", line, scope, "code decoded from an embedded literal")


CODE_HINT = re.compile(r"\bimport\s+\w|\bexec\s*\(|\beval\s*\(|urlopen|os\.system|socket\.")


def analyze_file(pkg: Package, f: PackageFile, base: Phase | None = None) -> list[Finding]:
    text = f.text()
    if text is None:
        return []
    base = base or pkg.phase_of_module(f)
    side = f.context in (Context.TESTS, Context.DOCS, Context.EXAMPLES)
    if base is not Phase.INSTALL and not _needs_full_pass(text, strong_only=side):
        return []
    lines = text.splitlines()
    out: list[Finding] = []
    emit = _Emit(f, lines, out)
    verdict, detail, tree = _parse_guard(text)
    _file_level(f, text, base, emit, tree)
    ff: FileFacts | None = None
    if tree is not None:
        ff = _facts_for(tree, text, base)
    if ff is None:
        ff = text_facts(text)
        fact = Fact("guard", 0, MODULE, detail)
        if verdict == "deep":
            emit("PV903", fact, Severity.HIGH, Confidence.MEDIUM, Phase.ARCHIVE, detail)
        elif verdict == "long":
            emit(
                "PV904",
                fact,
                Severity.HIGH if base is Phase.INSTALL else Severity.MEDIUM,
                Confidence.MEDIUM,
                Phase.ARCHIVE,
                detail,
            )
        elif verdict == "syntax":
            emit("PV905", fact, Severity.INFO, Confidence.HIGH, Phase.ARCHIVE, detail)
    _unpack_embedded(ff)
    escapes = _ESCAPES.findall(text, 0, 200_000)
    if len(escapes) >= 40:
        first = _ESCAPES.search(text)
        line = text.count("\n", 0, first.start()) + 1 if first else 0
        ff.add("escaped_strings", line, MODULE, f"{len(escapes)} escape sequences")
    whole = f.context is Context.BUILD or f.relpath in pkg.build_backend_files
    out.extend(analyze_facts(ff, base, f, lines, whole))
    return out


def helper_scripts(pkg: Package) -> set[str]:
    """Root-level modules that setup.py imports or names: they run at install time too
    (`from pre_install import run`, `exec(open('pre_install.py').read())`)."""
    setup = pkg.get("setup.py")
    text = setup.text() if setup else None
    if not text:
        return set()
    found = set()
    for f in pkg.python_files:
        if "/" in f.relpath or f.relpath == "setup.py":
            continue
        stem = f.relpath[:-3]
        if re.search(rf"\b{re.escape(stem)}\b", text):
            found.add(f.relpath)
    return found


@dataclass(frozen=True, slots=True)
class PythonCodeAnalyzer:
    name: str = NAME

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        helpers = helper_scripts(pkg)
        for f in pkg.python_files:
            yield from analyze_file(pkg, f, Phase.INSTALL if f.relpath in helpers else None)


def create(options: ScanOptions) -> PythonCodeAnalyzer:
    return PythonCodeAnalyzer()


def iter_rules() -> Iterable[Rule]:
    return RULES.values()
