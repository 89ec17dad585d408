"""Inert packages whose names, code and metadata try to inject markup into HTML views."""

from __future__ import annotations

import base64
from pathlib import Path

from builders import make_sdist

SCRIPT = "<script>alert('pkgvet')</script>"
LONG_UNICODE = "ℙ𝕪𝕥𝕙𝕠𝕟-" * 300 + "‮gnp.exe"


def hostile_sdist(dest: Path, name: str = "hostile-pkg", version: str = "1.0") -> Path:
    """setup.py decodes and execs an inert payload (so there are findings with code), under
    a file name and beside code full of markup, quotes and long unicode."""
    payload = base64.b64encode(f"print(\"{SCRIPT}\")".encode()).decode()
    setup = (
        "import base64\n"
        f"# \"'><img src=x onerror=alert(1)> {SCRIPT}\n"
        f"exec(base64.b64decode('{payload}'))  # {LONG_UNICODE[:200]}\n"
        "from setuptools import setup\n"
        f"setup(name='{name}', version='{version}', description=\"{SCRIPT}\")\n"
    )
    return make_sdist(dest, name, version, {
        "setup.py": setup,
        f"{SCRIPT}.py": f"X = '{SCRIPT}'\n",
        f"{LONG_UNICODE[:180]}.py": "Y = 1\n",
    })
