"""Real, installable packages for the proxy's local upstream, built by the tests.

- benign-dep 1.0 and benign-app 1.0 (a wheel that requires benign-dep): the happy path;
- evil-app 1.0 (benign) and 2.0 (its wheel decodes and runs an inert payload at import, its
  sdist does the same at install): a resolver must fall back to 1.0;
- evil 1.0: only the base64-exec sdist: "no matching distribution".
Payloads print a word and talk to nobody.
"""

from __future__ import annotations

import base64
from pathlib import Path

from builders import base64_exec_sdist, make_sdist, make_wheel, pkg_info
from fake_index import FakeIndex

PAYLOAD = base64.b64encode(b"print('inert')").decode()
EVIL_INIT = f"import base64\nexec(base64.b64decode('{PAYLOAD}'))\n"
EVIL_SETUP = (
    "import base64\nfrom setuptools import setup\n"
    f"exec(base64.b64decode('{PAYLOAD}'))\n"
    "setup(name='evil-app', version='2.0')\n"
)


def wheel(dest: Path, name: str, version: str, code: str, requires: str = "") -> Path:
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    extra = f"Requires-Dist: {requires}\n" if requires else ""
    return make_wheel(dest, name, version, {
        f"{module}/__init__.py": code,
        f"{dist_info}/METADATA": pkg_info(name, version, extra),
    })


def populate(index: FakeIndex, build: Path) -> dict[str, Path]:
    build.mkdir(parents=True, exist_ok=True)
    made = {
        "benign-dep": wheel(build, "benign-dep", "1.0", "VALUE = 1\n"),
        "benign-app": wheel(build, "benign-app", "1.0",
                            "from benign_dep import VALUE\n\ndef answer():\n    return VALUE\n",
                            requires="benign-dep>=1.0"),
        "evil-app-1": wheel(build, "evil-app", "1.0", "def hello():\n    return 'hi'\n"),
        "evil-app-2": wheel(build, "evil-app", "2.0", EVIL_INIT),
        "evil-app-2-sdist": make_sdist(build, "evil-app", "2.0", {"setup.py": EVIL_SETUP}),
        "evil": base64_exec_sdist(build),
    }
    for key, path in made.items():
        project = {"evil-app-1": "evil-app", "evil-app-2": "evil-app",
                   "evil-app-2-sdist": "evil-app"}.get(key, key)
        index.add(project, path)
    return made
