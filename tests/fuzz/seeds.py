"""Seed archives for the mutation loop: fixtures built here, plus real wheels found on disk.

The built seeds cover every container the loader reads (tar, tar.gz, tar.bz2, tar.xz, zip
wheels, nested archives, links, pax headers). `real_seeds()` adds small real wheels and
sdists that happen to be on the machine (pip's cache, Python's bundled ensurepip wheels) for
the long campaign; CI does not depend on them.
"""

from __future__ import annotations

import glob
import tarfile
import tempfile
from pathlib import Path

from builders import BENIGN_SETUP, make_sdist, make_wheel
from fuzz.archives import T, Z, tar_bytes, zip_bytes

REAL_GLOBS = [
    "/root/.cache/pip/wheels/*/*/*/*/*.whl",
    "/root/.pyenv/versions/*/lib/python3.*/ensurepip/_bundled/*.whl",
    "/root/.pyenv/versions/*/lib/python3.*/test/wheeldata/*.whl",
    "/root/.pyenv/versions/*/lib/python3.*/test/test_importlib/*/data/*.whl",
    "/root/.pyenv/plugins/python-build/test/fixtures/*.tar.gz",
    "/usr/share/python-wheels/*.whl",
]
REAL_MAX_BYTES = 600 * 1024
"""Real seeds larger than this (pip, setuptools) cost seconds per mutated case."""

PY = """\
import os, base64, subprocess
from . import util

def run(cmd):
    return subprocess.run(cmd, shell=False, check=False)

class Config:
    path = os.path.join(os.path.expanduser("~"), ".demo")
    data = base64.b64encode(b"inert")
"""


def built_seeds() -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files: dict[str, str | bytes] = {
            "setup.py": BENIGN_SETUP.format(name="demo", version="1.0"),
            "demo/__init__.py": PY,
            "demo/util.py": "def f(x):\n    return (x + 1) * 2\n",
            "demo/data.bin": bytes(range(256)) * 4,
            "pyproject.toml": "[build-system]\nrequires = ['setuptools']\n",
        }
        for compression in ("gz", "bz2", "xz"):
            path = make_sdist(root, "demo", "1.0", files, compression=compression)
            out.append((path.name, path.read_bytes()))
        wheel = make_wheel(root, "demo", "1.0", {k: v for k, v in files.items()
                                                 if k.startswith("demo/")})
        out.append((wheel.name, wheel.read_bytes()))
        nested = make_sdist(root, "outer", "1.0", {"setup.py": "", "vendor/demo.whl":
                                                   wheel.read_bytes()})
        out.append(("outer-1.0.tar.gz", nested.read_bytes()))
    out.append(("links-1.0.tar.gz", tar_bytes([
        T("links-1.0/setup.py", b"from setuptools import setup\nsetup()\n"),
        T("links-1.0/docs", kind=tarfile.DIRTYPE),
        T("links-1.0/docs/README", kind=tarfile.SYMTYPE, link="../README"),
        T("links-1.0/README", b"readme\n"),
        T("links-1.0/copy", kind=tarfile.LNKTYPE, link="links-1.0/README"),
        T("links-1.0/" + "long/" * 30 + "name.py", b"x = 1\n"),
    ])))
    out.append(("plain-1.0.tar", tar_bytes([T("plain-1.0/setup.py", b"setup()\n")],
                                           compression="", fmt=tarfile.GNU_FORMAT)))
    out.append(("zlinks-1.0-py3-none-any.whl", zip_bytes([
        Z("zl/__init__.py", b"import os\n"), Z("zl/ln", link="../zl/__init__.py"),
        Z("zl/inner.zip", zip_bytes([Z("a.py", b"x = 1\n")])),
    ])))
    from fuzz.carried import carried_seed  # pickles, bytecode, ELF, images, WAV

    out.append(carried_seed())
    return out


def real_seeds(limit: int = 12) -> list[tuple[str, bytes]]:
    seen: set[str] = set()
    out: list[tuple[str, bytes]] = []
    for pattern in REAL_GLOBS:
        for name in sorted(glob.glob(pattern)):
            path = Path(name)
            if path.name in seen or path.stat().st_size > REAL_MAX_BYTES:
                continue
            seen.add(path.name)
            out.append((path.name, path.read_bytes()))
            if len(out) >= limit:
                return out
    return out
