"""Grading, the last step: combinations of facts, weighed by the phase they run in.

A single capability is never more than `low` (subprocess in a build script is normal). What
only malware needs is a *combination*: decode then exec, download then run, read a secret
then send it, a hard-coded exfiltration endpoint plus network use. At install or import time
those are `critical`; at runtime they are weighed within one function, where ordinary
libraries (HTTP clients reading `~/.netrc`, telemetry sending a hostname) keep them apart.
Each rule's title, category and explanation come from the registry (`rules/data/rules/
python.toml`); this module only decides severity and confidence.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from pkgvet.analysis.facts import Fact, FileFacts, catalog
from pkgvet.model import Confidence, Context, Finding, Phase, Severity
from pkgvet.registry import rule

HIDING = frozenset({"decode", "chr_join", "reverse", "blob", "xor", "exception"})
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
        # Standard-library runners of source strings: each compiles and runs its argument.
        "timeit.timeit",
        "timeit.repeat",
        "timeit.Timer",
        "cProfile.run",
        "cProfile.runctx",
        "profile.run",
        "profile.runctx",
        "pdb.run",
        "pdb.runeval",
        "pdb.runctx",
        "trace.Trace.run",
        "trace.Trace.runctx",
        "bdb.Bdb.run",
        "code.InteractiveConsole.push",
        "code.InteractiveConsole.runsource",
        "code.InteractiveInterpreter.runsource",
        "code.InteractiveInterpreter.runcode",
        "code.InteractiveConsole.runcode",
        "ctypes.pythonapi.PyRun_SimpleString",
        "ctypes.pythonapi.PyRun_String",
        "doctest.run_docstring_examples",
    }
)
SPYWARE = frozenset({"clipboard", "screenshot", "keylog"})
CREDENTIAL_STORE = re.compile(
    r"\blogin data\b|cookies|\blocal state\b|leveldb|tdata|wallet|exodus|metamask|atomic|electrum|"
    r"keychain|user data|profiles|discord|filezilla|nkbihfbeogaeaoehlef",
    re.IGNORECASE,
)


KEYISH = re.compile(r"key|wallet|sign|secret|passw|token|mnemonic|seed|private|account|"
                    r"credential|cookie|session|auth", re.IGNORECASE)
DANGEROUS_CAPS = frozenset({"exec", "deserialize", "process", "network", "send", "download",
                            "dns", "socket", "dynamic_import", "persistence_call"})
DANGEROUS_MODULES = frozenset({"os", "subprocess", "socket", "builtins", "__builtin__", "ctypes",
                               "marshal", "pickle", "urllib", "urllib.request", "requests",
                               "http.client", "base64", "zlib", "codecs", "pty", "shutil",
                               "platform", "getpass", "importlib", "sys", "runpy", "winreg"})
SERVICES: dict[str, tuple[str, ...]] = {
    "GITHUB_TOKEN": ("github.com", "githubusercontent.com"),
    "GH_TOKEN": ("github.com", "githubusercontent.com"),
    "GITLAB_TOKEN": ("gitlab.com",),
    "CI_JOB_TOKEN": ("gitlab.com",),
    "NPM_TOKEN": ("npmjs.org", "npmjs.com"),
    "PYPI_TOKEN": ("pypi.org", "pythonhosted.org"),
    "TWINE_PASSWORD": ("pypi.org", "pythonhosted.org"),
    "OPENAI_API_KEY": ("openai.com",),
    "AWS_SECRET_ACCESS_KEY": ("amazonaws.com",),
    "AWS_ACCESS_KEY_ID": ("amazonaws.com",),
    "AWS_SESSION_TOKEN": ("amazonaws.com",),
    "SLACK_TOKEN": ("slack.com",),
    "DISCORD_TOKEN": ("discord.com",),
    "HF_TOKEN": ("huggingface.co",),
    "HUGGING_FACE_HUB_TOKEN": ("huggingface.co",),
    "ANTHROPIC_API_KEY": ("anthropic.com",),
    "GEMINI_API_KEY": ("googleapis.com",),
    "GOOGLE_API_KEY": ("googleapis.com",),
    "CODECOV_TOKEN": ("codecov.io",),
    "SENTRY_AUTH_TOKEN": ("sentry.io",),
    "CARGO_REGISTRY_TOKEN": ("crates.io",),
    "ACTIONS_RUNTIME_TOKEN": ("actions.githubusercontent.com", "github.com"),
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ("actions.githubusercontent.com", "github.com"),
    "TELEGRAM_BOT_TOKEN": ("telegram.org",),
    "REPLICATE_API_TOKEN": ("replicate.com",),
    "COHERE_API_KEY": ("cohere.com", "cohere.ai"),
    "MISTRAL_API_KEY": ("mistral.ai",),
    "GROQ_API_KEY": ("groq.com",),
    "WANDB_API_KEY": ("wandb.ai",),
    "OPENROUTER_API_KEY": ("openrouter.ai",),
    "PINECONE_API_KEY": ("pinecone.io",),
}
"""Token environment variables and the services they are issued for."""


METADATA_HOST = re.compile(r"^(169\.254\.169\.254|metadata\.google\.internal|metadata|"
                           r"fd00:ec2::254|100\.100\.100\.200)$", re.IGNORECASE)
"""Hosts of the cloud metadata services."""


BACKDOOR = re.compile(r"authorized_keys|pip[/\\]pip\.(conf|ini)$|[/\\]pip\.conf$|"
                      r"\.pydistutils\.cfg|\.condarc$")
"""Files that, once written, let someone in or redirect every later install: a key added to
`authorized_keys`, a package index written into pip's or conda's configuration."""


SYSTEM_SHELL = re.compile(r"(^|[\\/\s])(cmd|powershell|pwsh)\.exe$", re.IGNORECASE)
"""The system's own shells, named to start one (`C:\\WINDOWS\\system32\\cmd.exe`): a program
the system has, not one a package plants."""


def planted_program(facts: Sequence[Fact]) -> bool:
    """A literal naming a program file other than the system's own shells."""
    return any(f.cap == "lit:exe_name" and not SYSTEM_SHELL.search(f.detail) for f in facts)


def hidden_danger(detail: str) -> bool:
    """Whether a call reached through a built name is one that runs, sends or imports."""
    if detail.startswith("import "):
        return detail[7:] in DANGEROUS_MODULES or detail[7:].split(".")[0] in DANGEROUS_MODULES
    caps = catalog().caps_for(detail) | catalog().caps_for(detail.removeprefix("builtins."))
    return bool(caps & DANGEROUS_CAPS) or detail in EXEC_LABELS


def own_service(facts: Sequence[Fact]) -> str:
    """The service every secret here belongs to, if every URL here is that service's and
    no other endpoint is in sight; '' otherwise.

    A variable of the fixed list (`SERVICES`) must go only to its service. A variable found
    by its shape (`GITHUB_API_TOKEN`, `ACME_TOKEN`) belongs to the registered domain its own
    words name (github.com, acme.com): when one of the hosts here is that domain, the token
    is taken to go there (a build script fetching from GitHub with a token and from other
    mirrors without one); theft needs a host the variable does not name."""
    secrets = [f for f in facts if f.cap in ("lit:credentials", "lit:secret_env", "env_dump",
                                            "cloud_creds")]
    if not secrets or any(f.cap != "lit:secret_env" for f in secrets):
        return ""
    hosts = {f.detail for f in facts if f.cap == "url"}
    if not hosts or _has(facts, "lit:bad_endpoint", "lit:raw_ip_url", "dns_exfil"):
        return ""
    domains: set[tuple[str, ...]] = set()
    named: set[str] = set()
    for f in secrets:
        service = SERVICES.get(f.detail.strip().upper())
        if service is not None:
            domains.add(service)
            continue
        found = _named_service(f.detail, hosts)
        if not found:
            return ""
        named.update(found)
    if len(domains) > 1:
        return ""
    if domains:
        owned = next(iter(domains))
        if all(any(h == d or h.endswith("." + d) for d in owned) for h in hosts):
            return owned[0]
        return ""
    return sorted(named)[0] if named else ""


GENERIC_WORDS = frozenset({"api", "key", "token", "secret", "access", "password", "auth",
                           "private", "client", "user", "pat", "personal", "bot", "app"})


def _registered(host: str) -> str:
    """`api.github.com` -> `github.com`; `x.example.co.uk` -> `example.co.uk`."""
    labels = host.split(".")
    i = max(len(labels) - 2, 0)
    if i > 0 and labels[i] in ("co", "com", "org", "net", "ac") and len(labels) >= 3:
        i -= 1
    return ".".join(labels[i:])


def _named_service(name: str, hosts: set[str]) -> set[str]:
    """The registered domains among `hosts` that a token variable names itself after
    (`GITHUB_API_TOKEN` and api.github.com; not github.attacker.example)."""
    words = {w for w in name.strip().lower().split("_") if len(w) >= 3} - GENERIC_WORDS
    return {d for d in map(_registered, hosts) if d.split(".")[0] in words}


def _public_ip_url(text: str) -> bool:
    try:
        host = urlsplit(text).hostname or ""
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_global


# -- grading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Where:
    """The file a fact came from: its path as shown, its lines, its context."""

    path: str
    lines: list[str]
    context: Context


@dataclass(slots=True)
class Emit:
    """Builds findings from the registry. `where` maps a fact's file key to its file, so one
    group of facts may span several modules (a flow across the package)."""

    default: Where
    out: list[Finding]
    where: Callable[[Fact], Where] | None = None

    def __call__(
        self,
        rule_id: str,
        fact: Fact | None,
        severity: Severity,
        confidence: Confidence,
        phase: Phase,
        note: str = "",
    ) -> None:
        declared = rule(rule_id)
        place = self.where(fact) if (self.where is not None and fact is not None) else self.default
        line = fact.line if fact and fact.line else None
        snippet = ""
        if line and 0 < line <= len(place.lines):
            snippet = place.lines[line - 1].strip()
            if len(snippet) > 240:
                snippet = snippet[:240] + " ..."
        explanation = declared.explanation + (f" ({note})" if note else "")
        self.out.append(
            declared.finding(
                severity=severity,
                confidence=confidence,
                phase=phase,
                path=place.path,
                line=line,
                column=fact.column if fact else None,
                snippet=snippet or declared.title,
                explanation=explanation,
                context=place.context,
            )
        )


    def declared_finding(self, rule_id: str, severity: Severity, confidence: Confidence,
                         phase: Phase, note: str) -> Finding:
        self(rule_id, None, severity, confidence, phase, note)
        return self.out.pop()


def _first(facts: Sequence[Fact], *caps: str) -> Fact | None:
    for fact in facts:
        if fact.cap in caps:
            return fact
    return None


def _has(facts: Sequence[Fact], *caps: str) -> bool:
    return _first(facts, *caps) is not None


def grade_group(
    facts: Sequence[Fact], phase: Phase, emit: Emit, file_facts: Sequence[Fact]
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
    # Bytes put in an anonymous in-memory file (memfd_create) and run from there
    # (/proc/self/fd/N, fexecve): downloaded, decoded or carried code that never touches the
    # disk, which is the only reason to run a program from memory.
    memfd = _first(facts, "memfd")
    if memfd is not None and _has(facts, "process", "exec") and _has(
            facts, "download", "network", "blob", "deserialize", *HIDING):
        emit("PV301", memfd, crit_or(Severity.HIGH), Confidence.MEDIUM, phase,
             "runs bytes from an anonymous in-memory file (memfd)")
    # A downloaded file is run by a process, or loaded as a native library or as a module
    # (those two only where the download, the write and the load sit in one function: a big
    # module that makes a socket, opens a file and loads libc is not a dropper).
    if (
        _has(facts, "download", "network")
        and _has(facts, "write")
        and (_has(facts, "chmod", "process") or _loads_download(facts))
    ):
        endpoint = _has(file_facts, "lit:bad_endpoint", "lit:payload_url") or _raw_ip(file_facts)
        # At import nothing has a reason to download, save and run. At install a build script
        # may fetch a source archive and run make or git; there the download must be marked
        # as the thing that runs: made executable, named like a program, or fetched from a
        # place no build fetches from.
        payload = endpoint or _has(facts, "chmod", "lit:exe_name")
        strong = phase is Phase.IMPORT or (payload and (auto or endpoint))
        # At runtime, a download saved under a Windows program's name and run in the same
        # function is a dropper waiting for its call (a driver manager chmods, it does not
        # name its download `helper.exe`).
        marked = _has(facts, "lit:exe_name") and not auto
        emit(
            "PV301",
            _first(facts, "download", "network"),
            Severity.CRITICAL if strong else Severity.HIGH if marked else Severity.MEDIUM,
            Confidence.MEDIUM if strong or marked else Confidence.LOW,
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
    secret = _first(facts, "lit:credentials", "lit:secret_env", "env_dump", "cloud_creds")
    if secret is not None and send:
        store = secret.cap == "lit:credentials" and bool(CREDENTIAL_STORE.search(secret.detail))
        sender = _first(facts, "send", "dns_exfil")
        flow = sender is not None and (sender.file, sender.scope) != (secret.file, secret.scope)
        own = own_service(facts)
        if own:
            # A GitHub token sent to GitHub, AWS keys to AWS: that is use, not theft.
            emit("PV303", secret, Severity.LOW, Confidence.LOW, phase,
                 f"sent only to {own}, the service the credential belongs to")
        elif auto:
            emit("PV320" if flow and secret.file != (sender.file if sender else "") else "PV303",
                 secret, Severity.CRITICAL, Confidence.HIGH, phase)
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

    # A signing secret or wallet key the program holds, put in the body of a request to a
    # fixed URL: SDKs sign with such secrets; a look-alike SDK sends them to its author.
    held = _first(facts, "held_secret")
    if held is not None and secret is None:
        emit("PV303", held, crit_or(Severity.HIGH), Confidence.HIGH if auto else
             Confidence.MEDIUM, phase, f"sends {held.detail} in a request to a fixed URL")

    # The running program's own frames or source, sent out.
    code_read = _first(facts, "code_read")
    near = code_read is not None and any(
        f.cap in ("send", "dns_exfil") and (f.file, f.scope) == (code_read.file, code_read.scope)
        for f in facts)
    if code_read is not None and near and auto:
        emit("PV323", code_read, Severity.CRITICAL, Confidence.MEDIUM, phase)

    # Another library's function replaced, at import, by one that contacts the network.
    for patch in (f for f in facts if f.cap == "monkeypatch"):
        if not auto:
            break
        senders = [f for f in facts if f.cap in ("send", "dns_exfil", "network")
                   and f.file == patch.file and f.scope != patch.scope]
        if senders:
            # Replacing a whole module in sys.modules hands every importer this code.
            keyish = bool(KEYISH.search(patch.detail)) or patch.detail.startswith("sys.modules")
            emit("PV324", patch, Severity.CRITICAL if keyish else Severity.HIGH,
                 Confidence.MEDIUM, phase, patch.detail)
            break

    # Code or commands carried in resolver answers (A-record octets, inet_aton bytes).
    for fact in facts:
        if fact.cap in ("exec_of:dns_answer", "process_of:dns_answer"):
            emit("PV326", fact, crit_or(Severity.HIGH), Confidence.HIGH if auto else
                 Confidence.MEDIUM, phase)
            break
    else:
        carried = _first(facts, "returns:dns_answer")
        runner = _first(facts, "exec")
        if carried is not None and runner is not None and auto and carried.file != runner.file:
            # The bytes are packed in one module and run in another (both at import).
            emit("PV326", runner, Severity.CRITICAL, Confidence.MEDIUM, phase,
                 "exec beside a function of another module that returns DNS answers as bytes")

    # Commands that come from the network (a C2 poller).
    for fact in facts:
        if fact.cap == "process_of:download":
            emit("PV325", fact, crit_or(Severity.HIGH), Confidence.HIGH if auto else
                 Confidence.MEDIUM, phase)
            break

    # DNS lookups of names built from data.
    dns = _first(facts, "dns_exfil")
    if dns is not None and auto:
        emit("PV322", dns, Severity.HIGH, Confidence.MEDIUM, phase)

    # Names built at run time to hide what is called.
    for fact in facts:
        if fact.cap == "hidden_name":
            danger = hidden_danger(fact.detail)
            if danger:
                emit("PV211", fact, crit_or(Severity.HIGH),
                     Confidence.HIGH if auto else Confidence.MEDIUM, phase, fact.detail)
            else:
                emit("PV211", fact, Severity.LOW, Confidence.LOW, phase, fact.detail)
        elif fact.cap == "hidden_call":
            emit("PV210", fact, crit_or(Severity.HIGH), Confidence.MEDIUM, phase)
    budget = _first(facts, "fold_budget")
    if budget is not None:
        emit("PV229", budget, Severity.MEDIUM if auto else Severity.LOW, Confidence.MEDIUM,
             phase, "an argument of an exec, process or network call")
    folded = _first(facts, "folded_code")
    if folded is not None and _has(facts, "process", "network", "send", "download", "socket",
                                   "write", "dynamic_import", "hostinfo", "env_dump"):
        emit("PV212", folded, crit_or(Severity.HIGH), Confidence.HIGH if auto else
             Confidence.MEDIUM, phase)

    # Host info -> send, only meaningful where nobody asked for it.
    host = _first(facts, "hostinfo", "lit:shell_cmd")
    if auto and host is not None and send:
        if phase is Phase.INSTALL or _has(facts, "dns_exfil"):
            # At install, or encoded into DNS names at import: a beacon, not telemetry.
            emit("PV304", host, Severity.CRITICAL, Confidence.HIGH, phase)
        else:
            emit("PV304", host, Severity.HIGH, Confidence.MEDIUM, phase)

    cloud = _first(facts, "lit:cloud_metadata")
    if cloud is not None and auto and _has(facts, "send", "download", "process"):
        # Cloud SDKs and telemetry read instance identity once imported; pip has no reason to.
        # What the metadata service answered (the instance role's keys, a service-account
        # token), sent on to another host, is theft whoever runs it.
        elsewhere = [f for f in facts if f.cap == "url" and not METADATA_HOST.search(f.detail)]
        if elsewhere and send:
            emit("PV312", cloud, Severity.CRITICAL, Confidence.MEDIUM, phase,
                 f"the answer can go on to {elsewhere[0].detail}")
        elif phase is Phase.INSTALL:
            emit("PV312", cloud, Severity.HIGH, Confidence.HIGH, phase)
        else:
            emit("PV312", cloud, Severity.MEDIUM, Confidence.LOW, phase)

    # Spyware + network.
    spy = _first(facts, *SPYWARE)
    if spy is not None and (net or _has(file_facts, "network", "send")):
        emit("PV307", spy, crit_or(Severity.HIGH), Confidence.MEDIUM, phase)

    # Shellcode.
    if sum(1 for f in facts if f.cap == "antidebug") >= 2:
        if auto or _has(facts, *HIDING, "download", "network", "socket", "deserialize"):
            emit("PV308", _first(facts, "antidebug"), crit_or(Severity.HIGH), Confidence.MEDIUM,
                 phase)
        else:
            # py-cpuinfo runs CPUID from a few literal bytes in a method the user calls: the
            # machine code is neither decoded, fetched nor hidden, and nothing runs it unasked.
            emit("PV308", _first(facts, "antidebug"), Severity.MEDIUM, Confidence.LOW, phase,
                 "machine code from plain literals, at run time")
    elif _has(facts, "exec_memory") and _has(facts, "code_pointer"):
        # Executable memory (mmap PROT_EXEC, mprotect) and a function pointer made from an
        # address: bytes run as machine code. JIT compilers do it when asked; at install or
        # import nothing has a reason to.
        emit("PV308", _first(facts, "exec_memory"), Severity.CRITICAL if auto else Severity.LOW,
             Confidence.MEDIUM if auto else Confidence.LOW, phase)

    # Wiping the home folder or a disk, or stopping the machine: nothing installed or
    # imported has a reason to; a user's admin tool may do it when asked.
    wipe = _first(facts, "wipe")
    if wipe is not None:
        emit("PV350", wipe, crit_or(Severity.LOW), Confidence.MEDIUM if auto else
             Confidence.LOW, phase, wipe.detail)

    # A worm's step: publishing packages, or planting a CI workflow, with the credentials of
    # whoever installs or imports the package. A release tool does it when its user asks.
    spread = _first(facts, "publish")
    if spread is None and _has(facts, "send"):
        spread = _first(facts, "lit:publish_url")
    if spread is None and _has(facts, "file_write"):
        spread = _first(facts, "lit:ci_workflow")
    if spread is not None and phase is Phase.INSTALL and spread.cap != "lit:ci_workflow":
        # setup.py's release shortcuts (`if sys.argv[-1] == "publish": os.system("twine
        # upload dist/*")`, an `UploadCommand.run`) run when the maintainer types them, not
        # when pip builds: a lead at install, low so that it never tips a verdict with the
        # shortcuts beside it (configargparse's `publish` and `coverage` commands: a
        # process, a server socket). Publishing at import is a worm's step.
        emit("PV351", spread, Severity.LOW, Confidence.LOW, phase,
             f"a release command in a build script: {spread.detail[:80]}")
    elif spread is not None:
        emit("PV351", spread, crit_or(Severity.LOW), Confidence.MEDIUM if auto else
             Confidence.LOW, phase, spread.detail[:80])

    # Persistence.
    persist = _first(facts, "lit:persistence")
    if persist is not None and _has(facts, "write", "process", "persistence_call"):
        # What is planted there is code: downloaded, executed, deserialized, or a program;
        # or a way back in: a key in authorized_keys, a package index in pip's config.
        backdoor = bool(BACKDOOR.search(persist.detail)) and _has(facts, "file_write")
        if _has(facts, "download", "exec", "deserialize", "lit:download_cmd") or planted_program(
            facts
        ) or (backdoor and auto):
            emit("PV401", persist, crit_or(Severity.HIGH), Confidence.MEDIUM, phase)
        else:
            emit(
                "PV401",
                persist,
                Severity.HIGH if auto else Severity.LOW,
                Confidence.MEDIUM if auto else Confidence.LOW,
                phase,
            )

    # Code written into site-packages (a .pth, another package's module) runs in every
    # program that starts or imports it; what is written here came from the network or
    # from code that was decoded or executed.
    site = _first(facts, "site_dir")
    beside = [f for f in facts
              if site is not None and (f.file, f.scope) == (site.file, site.scope)]
    if site is not None and persist is None and _has(beside, "file_write") and _has(
            beside, "download", "lit:download_cmd", "folded_code"):
        emit("PV401", site, crit_or(Severity.MEDIUM), Confidence.MEDIUM, phase,
             "writes code into site-packages, where the interpreter or an import runs it")

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


def _loads_download(facts: Sequence[Fact]) -> bool:
    """A download, a file write and a native-library load or a dynamic import in one scope."""
    places: dict[tuple[str, str], set[str]] = {}
    for f in facts:
        if f.cap in ("download", "write", "native_load", "dynamic_import"):
            kind = "load" if f.cap in ("native_load", "dynamic_import") else f.cap
            places.setdefault((f.file, f.scope), set()).add(kind)
    return any(kinds >= {"download", "write", "load"} for kinds in places.values())


def _raw_ip(facts: Sequence[Fact]) -> Fact | None:
    for fact in facts:
        if fact.cap == "lit:raw_ip_url" and _public_ip_url(fact.detail):
            return fact
    return None


def grade_endpoints(ff: FileFacts, phases: dict[str, Phase], emit: Emit) -> None:
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


