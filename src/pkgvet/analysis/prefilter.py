"""The prefilter: which files are worth a full parse, found in one pass over the bytes.

Substring tests run at memory speed; the full parse runs only where a file holds the
ingredients of a combination. Files that the package graph reaches at install or import time
are never skipped (see `pkgvet.analysis.reachability`): the prefilter only decides for code
that no entry point reaches.
"""

from __future__ import annotations

import ast
import re
import unicodedata
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
        # `exec (code)`, `exec \<newline> (code)`: space or a continued line before the
        # parenthesis (counted only in that form, `_SPACED_CALL`)
        "exec ", "exec\t", "exec\\", "eval ", "eval\t", "eval\\",
        "compile ", "compile\t", "compile\\",
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
        "multiprocessing.connection",
        "httphandler",
        "datagramhandler",
        "poplib",
        "create_connection",
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
        "rmtree(",  # counted only beside an alias of a home-folder function (`_HOME_ALIAS`)
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
        "builtins",  # counted only as a value: `getattr (builtins, n)` (`_BUILTINS_VALUE`)
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


def folded(text: str) -> str:
    """The text with its names spelled as the parser reads them. Python folds every
    identifier by NFKC (PEP 3131): `ｅｘｅｃ`, `𝐞𝐱𝐞𝐜` and `exec` are one name, `ｏｓ.ｓｙｓｔｅｍ`
    is `os.system`, so a screen that looks for `exec(` in the raw text never sees the first
    two, and a file it skips is never graded. ASCII text (nearly every file) and text that
    NFKC leaves as it is are returned as they are, after one scan in C each; string
    literals fold too, which only lets a screen see a few more words. Lines stay where they
    were (no character folds to a line break)."""
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        return text
    return unicodedata.normalize("NFKC", text)


_HIDDEN_GROUPS = frozenset({"exec", "proc", "net", "secret", "decode"})


def _folds_to_name_char(c: str) -> bool:
    if c.isascii():
        return False
    plain = unicodedata.normalize("NFKC", c)
    return plain.isascii() and (plain.isalnum() or plain == "_")


def compat_spelled(text: str, tree: ast.Module) -> tuple[int, str] | None:
    """A capability word (exec, a process, network, secret or decoding word, or a way to reach
    one by name) that the file writes only in compatibility characters, which Python folds
    to ASCII names (`ｅｘｅｃ(`, `𝐨𝐬.𝐬𝐲𝐬𝐭𝐞𝐦(`): the line and the word. No one writes code
    this way but to hide a name from readers and word screens. A word counts only on a line
    where a name of the syntax tree (not a string or a comment: a full-width conversion
    table documents `ｅｘｅｃ → exec`) is spelled in characters that fold to ASCII."""
    plain = folded(text)
    if plain is text:
        return None
    raw = set(_present(text.lower()))
    lower = plain.lower()
    group_of = _screen()[1]
    checked: dict[str, bool] = {}
    spelled: set[int] | None = None
    for word in _present(lower):
        if word in raw or (group_of.get(word) not in _HIDDEN_GROUPS and word not in _REACH_SET):
            continue
        if not _counts(word, lower, checked):
            continue
        if spelled is None:
            spelled = _compat_name_lines(text, tree)
            if not spelled:
                return None
        at = lower.find(word)
        while at >= 0:
            line = lower.count("\n", 0, at) + 1
            if line in spelled:
                return line, word
            at = lower.find(word, at + 1)
    return None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _compat_name_lines(text: str, tree: ast.Module) -> set[int]:
    """Lines holding a name (a variable, an attribute, an imported name) whose source
    spelling differs from the name Python reads and folds to ASCII. Walks the tree once,
    only for the rare files NFKC changes."""
    lines = _LINE_BREAK.split(text)
    out: set[int] = set()
    for node in ast.walk(tree):
        start: int | None
        if isinstance(node, ast.Name | ast.alias):
            start, end = node.col_offset, node.end_col_offset
        elif isinstance(node, ast.Attribute) and node.value.end_lineno == node.end_lineno:
            start, end = node.value.end_col_offset, node.end_col_offset
        else:
            continue
        line = node.end_lineno or node.lineno
        if line in out or line > len(lines) or start is None or end is None:
            continue
        raw = lines[line - 1].encode("utf-8", "surrogatepass")[start:end].decode(
            "utf-8", "replace")
        if any(map(_folds_to_name_char, raw)):
            out.add(line)
    return out


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


class _LoggingSender:
    """logging's network handlers (`HTTPHandler`, `DatagramHandler`) count only where the
    file names `logging.handlers`: HTTP client libraries name their own `HTTPHandler`
    classes in every module (litellm's `AsyncHTTPHandler`)."""

    _NAME = re.compile(r"(?<![\w])(?:http|datagram)handler\b")

    def search(self, lower: str) -> bool:
        return "logging.handlers" in lower and self._NAME.search(lower) is not None


_CODE_FORM["httphandler"] = _CODE_FORM["datagramhandler"] = _LoggingSender()

_HOME_ALIAS = re.compile(
    r"=[^\S\n]*(?:os\.path\.|path\.|pathlib\.path\.)?(?:expanduser|home)[^\S\n]*$"
    r"|\b(?:expanduser|home)[^\S\n]+as[^\S\n]+\w", re.MULTILINE)
"""A home-folder function kept under another name (`_home = os.path.expanduser`, `from
os.path import expanduser as _h`): `rmtree(_home("~"))` names no wipe shape of its own."""
_CODE_FORM["rmtree("] = _HOME_ALIAS


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
    text = folded(text)
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
    "__dict__", "globals",  # with blanks before the bracket (`_SPACED_LOOKUP`)
)
"""Ways to reach a capability by name that the combination groups do not list."""

# `exec` and `eval` as values (`e = exec`, `[eval]`) count only as whole names.
for _word in (*_REACH_WORDS, *_PREFILTER["exec"]):
    if not _word.endswith("(") and re.sub(r"[^a-z]", "", _word) in ("exec", "eval"):
        _CODE_FORM.setdefault(_word, _bare_name_form(_word))

_SPACED_CALL = re.compile(r"(?<![\w.])(?:exec|eval|compile)[ \t]*(?:\\\r?\n[ \t]*)*\(")
"""exec, eval or compile called with blanks or a continued line before the parenthesis."""
for _word in ("exec ", "exec\t", "exec\\", "eval ", "eval\t", "eval\\",
              "compile ", "compile\t", "compile\\"):
    _CODE_FORM[_word] = _SPACED_CALL

_BLANK = r"[ \t]*(?:\\\r?\n[ \t]*)*"
_CODE_FORM["builtins"] = re.compile(
    rf"(?:getattr|vars){_BLANK}\({_BLANK}builtins\b|(?<![\w.])builtins{_BLANK}\.{_BLANK}__dict__")
"""The builtins module as a value: `getattr (builtins, name)`, `vars (builtins)`,
`builtins.__dict__` (not `builtins.open` in a test's mock)."""
_CODE_FORM["__dict__"] = re.compile(rf"__dict__{_BLANK}\[")
_CODE_FORM["globals"] = re.compile(
    rf"(?<![\w.])globals{_BLANK}\({_BLANK}\){_BLANK}\["
    r"(?![ \t]*[\"']__(?!builtins__)\w+__[\"'][ \t]*\])")
"""A namespace looked up by a key, also with blanks before the bracket
(`globals ()["__builtins__"]`); `globals ()["__file__"]` reaches nothing."""

INGREDIENT_GROUPS = frozenset(_PREFILTER) - {"decode", "proc", "chmod"}
_REACH_SET = frozenset(_REACH_WORDS)


def has_ingredient(text: str) -> bool:
    """Whether a file names any capability at all: a prefilter word of any group, or a way
    to reach one by name (exec, getattr, builtins, globals(), inspect, threads...). A file of
    the package graph without any holds no fact to grade; the graph needs only its imports
    and calls (`graph_scan.graph_facts`), not a full parse. Folder names play no part here."""
    text = folded(text)
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
