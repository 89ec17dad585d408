"""The prefilter: which files are worth a full parse, found in one pass over the bytes.

Substring tests run at memory speed; the full parse runs only where a file holds the
ingredients of a combination. Files that the package graph reaches at install or import time
are never skipped (see `pkgvet.analysis.reachability`): the prefilter only decides for code
that no entry point reaches.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Protocol

from pkgvet.analysis.aho import Words


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
        "marshal.load",  # marshal.load(s) feeding exec; not `proto.marshal.rules`
        "pickle.",
        "import_module",
        "functiontype",
        "runpy",
        "execfile",
        "[exec",
        "exec]",
        "exec}",
        "exec.__call__",
        "[eval",
        "eval]",
        "eval.__call__",
        "timeit",
        "cprofile",
        "profile.run",
        "pdb.run",
        "interactiveconsole",
        "interactiveinterpreter",
        "pyrun_",
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
        "from requests import",
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
        "webhooks/",
        "discord_webhook",
        "discordwebhook",
        "syncwebhook",
        "webhook.from_url",
        "webhook_url",
        "dhooks",
        "gethostbyname",
        "getaddrinfo",
        "dns.resolver",
        "from dns ",
        "import dns",
        "aiodns",
        "pycares",
        "paramiko",
        "xmlrpc",
        "open_connection",
        "imaplib",
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
        # wallet keys, AI-tool and CLI credentials, other processes' environments, .env files
        "solana/id.json",
        "'solana'",
        '"solana"',
        "keystore/utc--",
        ".claude",
        ".codex/",
        "github-copilot",
        "gh/hosts.yml",
        ".vault-token",
        ".pgpass",
        "/environ",
        "'.env'",
        '".env"',
        "/.env'",
        '/.env"',
        "dotenv_values",
        # held signing secrets and wallet keys (facts' `held_secret`: sent, not signed with)
        "access_key_secret",
        "secret_access_key",
        "api_secret",
        "private_key",
        "mnemonic",
        "seed_phrase",
        "print-access-token",
        "get-access-token",
        "auth token",
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
    "fetchcmd": _words("curl ", "wget ", "nslookup", "'dig", '"dig', "dig +", "kdig",
                       "resolve-dnsname"),
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
        "getsitepackages",
        "getusersitepackages",
        "authorized_keys",
        ".git/hooks",
        "'hooks'",
        '"hooks"',
        "pip.conf",
        "pip.ini",
        "pydistutils.cfg",
        ".condarc",
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
    # Command lines and calls that wipe the home folder or a disk or stop the machine
    # (clitools.DESTRUCTIVE, facts' `wipe`): only their specific shapes, never `rmtree(`.
    "wipe": _words(
        "'shutdown ",
        '"shutdown ',
        "'shutdown'",
        '"shutdown"',
        "poweroff",
        "vssadmin",
        "mkfs",
        "rm -rf /",
        "rm -rf ~",
        "rmtree(os.path.expanduser",
        "rmtree(path.home",
        "rmtree(pathlib.path.home",
        "rmtree(expanduser",
    ),
    # Publishing packages and planting CI workflows (facts' `publish`, `lit:ci_workflow`):
    # an ingredient of reached files only, never a reason to parse the rest.
    "spread": _words(
        "twine",
        "upload.pypi",
        "'publish'",
        '"publish"',
        "npm publish",
        ".github/workflows",
        "'workflows'",
        '"workflows"',
        ".gitlab-ci",
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
def _screen() -> tuple[Words, dict[str, str]]:
    """Every pre-filter and reach word in one Aho-Corasick automaton (a DFA, in Rust): one
    pass over a file finds every word present, at a few hundred MB/s. Also the group of
    each pre-filter word."""
    group_of: dict[str, str] = {}
    for group, words in _PREFILTER.items():
        for word in words:
            group_of[word] = group
    return Words([*group_of, *_REACH_WORDS]), group_of


def _present(lower: str) -> list[str]:
    """The screen's words that occur in `lower` (the file's text, lower-cased)."""
    return _screen()[0].present(lower)


_FETCH_FORM = re.compile(
    r"(?:curl|wget)[ \t]+(?:[\"'`\-$%{]|https?:|ftp:|[\w.-]+\.[a-z]{2,}\b)")


class _Form(Protocol):
    def search(self, lower: str, /) -> object: ...


class _NamedBeyondImport:
    """A network module that counts only where the file names it in a way that can reach
    what the capability catalog lists under it. Not counted:

    - a plain `import aiohttp` line: a module imported under its own name and named nowhere
      else is never called (generated API clients import aiohttp only to learn whether it
      is installed);
    - `httpx.Response`, `socket.timeout`: an attribute that begins no catalog name of the
      module (types, exceptions and constants, which HTTP client libraries name in every
      module). `httpx.post`, `httpx.Client`, `socket.create_connection` count.

    Everything else counts: the module passed as a value (`getattr(httpx, name)`,
    `vars(httpx)`), `from httpx import`, `import httpx as`, a longer name it begins
    (`socketserver`), a string or comment naming it, and `compat.httpx.post` (a sibling's
    re-export). Reaching the bound module without writing its name takes `globals()[`,
    `sys.modules[` or `eval(`, ingredients of their own. A module the catalog lists nothing
    under counts wherever it is named beyond a plain import."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.plain = re.compile(rf"[ \t]*import[ \t]+{re.escape(module)}[ \t]*(?:#[^\n]*)?")
        """A whole line that only imports the module."""
        self.after = re.compile(r"(\w*)(?:[ \t]*\.[ \t]*(\w+))?")
        """What follows the module's name: more of a longer name, `.attribute`."""
        self._attrs: frozenset[str] | None = None

    @property
    def attrs(self) -> frozenset[str]:
        """Lower-cased first attributes of the catalog's names under the module (`post`,
        `client` of `httpx.post`, `httpx.Client.post`); empty when it lists none."""
        if self._attrs is None:
            from pkgvet.analysis.facts import catalog

            prefix = self.module + "."
            self._attrs = frozenset(name[len(prefix):].split(".", 1)[0].lower()
                                    for name in catalog().exact if name.startswith(prefix))
        return self._attrs

    def search(self, lower: str) -> bool:
        """Whether some occurrence counts. The occurrences are found by `str.find` (a
        pattern with a look-behind tried at every character took seconds on large
        packages), and each is judged where it stands."""
        module, attrs = self.module, self.attrs
        at = lower.find(module)
        while at >= 0:
            before = lower[at - 1] if at else " "
            if not (before.isalnum() or before == "_"):
                m = self.after.match(lower, at + len(module))
                assert m is not None  # every part is optional
                longer, attr = m.group(1), m.group(2)
                if (longer or attr is None or not attrs or attr in attrs) \
                        and not self._plain_import(lower, at):
                    return True
            at = lower.find(module, at + len(module))
        return False

    def _plain_import(self, lower: str, at: int) -> bool:
        start = lower.rfind("\n", 0, at) + 1
        end = lower.find("\n", at)
        return self.plain.fullmatch(lower, start, len(lower) if end < 0 else end) is not None


_CODE_FORM: dict[str, _Form] = {
    # "credentials to attach to requests. These" is prose; requests.post( is the library
    "requests.": re.compile(r"requests\.[a-z_]"),
    # URL parsing, error classes and the response type are not network access
    "urllib": re.compile(r"urllib(?!\.parse\b|\.error\b|3\.(?:exceptions|util|httpresponse)\b)"),
    # dumping builds bytes; loading (load, loads, Unpickler) is what runs code
    "pickle.": re.compile(
        r"pickle\.(?!dumps?\b|pickler\b|highest_protocol\b|default_protocol\b|pickl\w*error\b)"),
    # a download command has an argument: a flag, a URL or host, a variable, or the end of a
    # string the address is added to ("curl " + url); "(curl and wget)" is prose
    "curl ": _FETCH_FORM,
    "wget ": _FETCH_FORM,
    # a module replacing itself (the lazy-module pattern) reaches nothing by name
    "sys.modules[": re.compile(r"sys\.modules\[(?!\s*__name__\s*\])"),
    # reading a dunder such as globals()["__file__"] does not reach a capability;
    # globals()["__builtins__"] and globals()[name] do
    "globals()[": re.compile(r"globals\(\)\[(?!\s*[\"']__(?!builtins__)\w+__[\"']\s*\])"),
}
"""Words that also occur in prose or in harmless forms, with the form in which they name a
capability: a hit counts only where that form is in the (lower-cased) text."""
for _module in ("aiohttp", "httpx", "socket", "websocket", "ftplib", "smtplib", "telnetlib",
                "imaplib", "httplib", "pycurl", "paramiko", "aiodns", "pycares"):
    _CODE_FORM[_module] = _NamedBeyondImport(_module)
_CODE_FORM["import requests"] = _NamedBeyondImport("requests")


def _bare_name_form(word: str) -> re.Pattern[str]:
    """`exec` or `eval` as a whole name beside the word's punctuation (`= exec`, `[eval`):
    `= execution` and `pod_exec,` name neither."""
    name = "exec" if "exec" in word else "eval"
    before, _, after = word.partition(name)
    return re.compile(re.escape(before) + rf"(?<!\w){name}(?!\w)" + re.escape(after))



def _counts(word: str, lower: str, checked: dict[str, bool]) -> bool:
    form = _CODE_FORM.get(word)
    if form is None:
        return True
    if word not in checked:
        checked[word] = bool(form.search(lower))
    return checked[word]


_RAW_IP = re.compile(r"://\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")
_HEX_NAME = re.compile(r"_0x[0-9a-fA-F]{4}")
_LOOKALIKE_RUN = re.compile(r"[Il1O0]{8,}")
_LOOKALIKE_MARK = bytes(ord("X") if chr(b) in "Il1O0" else ord(" ") for b in range(256))
"""Each look-alike character's byte to `X`, every other byte to a space."""


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def junk_names(text: str) -> bool:
    """Names an obfuscator makes: `_0x1a2b`, or a whole word of eight or more of only `I`,
    `l` and `1`, or only `O` and `0`. (One pass over the look-alike runs, each checked by
    hand: an alternation of word-bounded classes tried at every character took seconds on
    large packages.)"""
    if "_0x" in text and _HEX_NAME.search(text):
        return True
    marked = text.encode("utf-8", "surrogatepass").translate(_LOOKALIKE_MARK)
    if b"XXXXXXXX" not in marked:
        return False  # no run of eight look-alike characters at all (a byte scan)
    for m in _LOOKALIKE_RUN.finditer(text):
        run = m.group()
        if run.strip("Il1") and run.strip("O0"):
            continue  # a mix of both kinds, as in base64 or long numbers
        start, end = m.start(), m.end()
        if (start == 0 or not _word_char(text[start - 1])) and \
                (end == len(text) or not _word_char(text[end])):
            return True
    return False


_NON_ASCII_NAME = re.compile(r"[^\x00-\x7f]{6,}\s*=")


def _groups(lower: str) -> set[str]:
    """The ingredient groups whose words occur in `lower` (the file's text, lower-cased)."""
    return _groups_of(lower, _present(lower), {})


def _groups_of(lower: str, present: list[str], checked: dict[str, bool]) -> set[str]:
    group_of = _screen()[1]
    found: set[str] = set()
    for word in present:
        group = group_of.get(word)
        if group is not None and group not in found and _counts(word, lower, checked):
            found.add(group)
    return found


def needs_full_pass(text: str, strong_only: bool = False,
                    hit: set[str] | None = None) -> bool:
    """Cheap test: could this file hold a combination worth a full parse? For tests, docs and
    examples (`strong_only`) only the ingredients that are suspicious on their own count.
    `hit`: the file's `_groups`, when the caller has them already."""
    if hit is None:
        hit = _groups(text.lower())
    if hit & {"cmd", "persist", "endpoint", "obfuscation"}:
        return True
    if strong_only:
        return False
    if _RAW_IP.search(text) or junk_names(text):
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




_REACH_WORDS = (
    "= exec", "=exec", "(exec", "exec,", "exec)", "= eval", "=eval", "(eval", "eval,",
    "eval)", "getattr(__", "getattr(builtins", "getattr(importlib", "vars(builtins",
    "globals()[", "_getframe", "inspect.stack", "getsource", "get_credentials", "atexit",
    "os.fork", "setsid", "boto3", "getpass", "gethostname", "platform.node", "getlogin",
    "marshal", "ctypes", "excepthook", "__dict__[",
    "[exec", "exec]", "exec}", "exec.__", "[eval", "eval]", "eval}", "eval.__",
    "addaudithook", "meta_path", "path_hooks", "codecs.register", "settrace", "setprofile",
    "zipimport", "register_at_fork", "sys.modules[", "prot_exec", "cfunctype",
)
"""Ways to reach a capability by name that the combination groups do not list."""

# `exec` and `eval` as values (`e = exec`, `[eval]`) count only as whole names.
for _word in (*_REACH_WORDS, *_PREFILTER["exec"]):
    if not _word.endswith("(") and re.sub(r"[^a-z]", "", _word) in ("exec", "eval"):
        _CODE_FORM.setdefault(_word, _bare_name_form(_word))

INGREDIENT_GROUPS = frozenset(_PREFILTER) - {"decode", "proc", "chmod"}
_REACH_SET = frozenset(_REACH_WORDS)


def has_ingredient(text: str) -> bool:
    """Whether a file names any capability at all: a prefilter word of any group, or a way
    to reach one by name (exec, getattr, builtins, globals(), inspect, threads...). A file of
    the package graph without any holds no fact to grade; the graph needs only its imports
    and calls (`graph_scan.graph_facts`), not a full parse. Folder names play no part here."""
    lower = text.lower()
    present = _present(lower)
    checked: dict[str, bool] = {}
    hit = _groups_of(lower, present, checked)
    if hit & INGREDIENT_GROUPS or ("decode" in hit and ("getattr(" in lower or "pickle" in lower)):
        return True
    if any(word in _REACH_SET and _counts(word, lower, checked) for word in present):
        return True
    return needs_full_pass(text, hit=hit)


_DEEP_OPEN = re.compile(r"[(\[{]{32}")
ODD_LINE = 4096


def odd_shape(text: str) -> bool:
    """Nesting or line lengths no person writes: worth the parse guard (PV903/PV904) even
    where no capability is named. (A line is what lies between two `\\n`; its length is
    measured by splitting, which is linear, where a `[^\\n]{4096}` pattern retries from
    every character.)"""
    if _DEEP_OPEN.search(text):
        return True
    return len(text) >= ODD_LINE and max(map(len, text.split("\n"))) >= ODD_LINE
