"""Benign look-alikes: the same capabilities as the malicious cases, used honestly."""

from __future__ import annotations

from techniques import Case

CASES = [
    Case("CLI that downloads a model file", "modelfetch", {
        "modelfetch/__init__.py": "__version__ = '1.0'\n",
        "modelfetch/cli.py": (
            "import os, stat, sys, urllib.request\n\n\n"
            "def main():\n    url = sys.argv[1]\n"
            "    dest = os.path.expanduser('~/.cache/modelfetch/model.bin')\n"
            "    os.makedirs(os.path.dirname(dest), exist_ok=True)\n"
            "    with urllib.request.urlopen(url) as r, open(dest, 'wb') as out:\n"
            "        out.write(r.read())\n    print('saved', dest)\n"
        ),
        "modelfetch-1.0.dist-info/entry_points.txt": (
            "[console_scripts]\nmodelfetch = modelfetch.cli:main\n"),
    }, "benign", kind="wheel"),
    Case("plugin loader using importlib", "plugloader", {
        "plugloader/__init__.py": (
            "import importlib\nfrom importlib.metadata import entry_points\n\n"
            "PLUGINS = {}\n\n\ndef load_all():\n"
            "    for ep in entry_points(group='plugloader.plugins'):\n"
            "        PLUGINS[ep.name] = importlib.import_module(ep.module)\n"
            "    return PLUGINS\n\n\nfor name in ('json', 'csv'):\n"
            "    PLUGINS[name] = importlib.import_module('plugloader.formats.' + name)\n"
        ),
        "plugloader/formats/__init__.py": "",
        "plugloader/formats/json.py": "import json\n\nloads = json.loads\n",
        "plugloader/formats/csv.py": "import csv\n\nreader = csv.reader\n",
    }, "benign", kind="wheel"),
    Case("base64 used for data", "b64icons", {
        "b64icons/__init__.py": (
            "import base64, zlib\n\nICON = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"
            "CAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==')\n"
            "TABLE = zlib.decompress(base64.b64decode('eJzLSM3JyVcozy/KSQEAGgQEXQ=='))\n\n\n"
            "def icon_bytes():\n    return ICON\n"
        ),
    }, "benign", kind="wheel"),
    Case("build backend that runs cmake", "cmakebuild", {
        "pyproject.toml": ("[build-system]\nrequires = ['setuptools']\n"
                           "build-backend = 'backend'\nbackend-path = ['_custom_build']\n"),
        "_custom_build/backend.py": (
            "import os, subprocess\nfrom setuptools import build_meta as _orig\n"
            "from setuptools.build_meta import *  # noqa\n\n\n"
            "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
            "    os.makedirs('build', exist_ok=True)\n"
            "    subprocess.check_call(['cmake', '-S', '.', '-B', 'build'])\n"
            "    subprocess.check_call(['cmake', '--build', 'build'])\n"
            "    return _orig.build_wheel(wheel_directory, config_settings, "
            "metadata_directory)\n"
        ),
        "cmakebuild/__init__.py": "",
    }, "benign"),
    Case(".pth that only adds a path", "pathonly", {
        "pathonly.pth": "/opt/pathonly/lib\n",
        "pathonly/__init__.py": "",
    }, "benign", kind="wheel"),
    Case(".pth importing a package's own start-up shim", "covshim", {
        "covshim.pth": "import covshim.startup\n",
        "covshim/__init__.py": "",
        "covshim/startup.py": (
            "import os\n\nif os.environ.get('COVSHIM_PROCESS_START'):\n"
            "    import covshim.measure\n    covshim.measure.start()\n"
        ),
        "covshim/measure.py": "import sys\n\n\ndef start():\n    sys.settrace(None)\n",
    }, "benign", kind="wheel"),
    Case("console script with a distinctive name", "zebracli", {
        "zebracli/__init__.py": "",
        "zebracli/__main__.py": "from .cli import main\n\nmain()\n",
        "zebracli/cli.py": (
            "import argparse, subprocess\n\n\ndef main():\n"
            "    p = argparse.ArgumentParser()\n    p.add_argument('cmd')\n"
            "    a = p.parse_args()\n    subprocess.run(['git', a.cmd], check=False)\n"
        ),
        "zebracli-1.0.dist-info/entry_points.txt": (
            "[console_scripts]\nzebra-stripes = zebracli.cli:main\n"),
    }, "benign", kind="wheel"),
    Case("pickle of plain data", "pickledata", {
        "pickledata/__init__.py": (
            "import os, pickle\n\n_HERE = os.path.dirname(__file__)\n\n\n"
            "def load_table():\n"
            "    with open(os.path.join(_HERE, 'table.pkl'), 'rb') as fh:\n"
            "        return pickle.load(fh)\n"
        ),
    }, "benign", kind="wheel"),
    Case("telemetry the user opts into", "optintel", {
        "optintel/__init__.py": (
            "import os, platform, threading, urllib.request, json\n\n\n"
            "def _send():\n    body = json.dumps({'py': platform.python_version(),\n"
            "                       'pkg': '1.0'}).encode()\n"
            "    urllib.request.urlopen('https://telemetry.optintel.invalid/v1', data=body)\n"
            "\n\nif os.environ.get('OPTINTEL_TELEMETRY') == '1':\n"
            "    threading.Thread(target=_send, daemon=True).start()\n"
        ),
    }, "benign", kind="wheel"),
    Case("HTTP client sending .netrc credentials to its own host", "netclient", {
        "netclient/__init__.py": "from .session import Session  # noqa\n",
        "netclient/session.py": (
            "import netrc, os, urllib.request\n\n\nclass Session:\n"
            "    def get(self, url, host):\n"
            "        auth = netrc.netrc(os.path.expanduser('~/.netrc')).authenticators(host)\n"
            "        req = urllib.request.Request(url)\n"
            "        if auth:\n            req.add_header('Authorization', auth[2])\n"
            "        return urllib.request.urlopen(req)\n"
        ),
    }, "benign", kind="wheel"),
    Case("GitHub token sent to the GitHub API in setup.py", "ghprebuilt", {
        "setup.py": (
            "import os, urllib.request\nfrom setuptools import setup\n\n"
            "token = os.environ.get('GITHUB_TOKEN') or os.environ.get('GH_TOKEN')\n"
            "req = urllib.request.Request('https://api.github.com/repos/o/r/releases/latest')\n"
            "if token:\n    req.add_header('Authorization', 'Bearer ' + token)\n"
            "try:\n    urllib.request.urlopen(req)\nexcept OSError:\n    pass\n"
            "setup(name='ghprebuilt', version='1.0')\n"
        ),
    }, "benign"),
    Case("six-style exec alias by a plain name", "sixlike", {
        "sixlike/__init__.py": (
            "import builtins\n\nexec_ = getattr(builtins, 'exec')\n\n\n"
            "def reraise(tp, value, tb=None):\n    raise value\n\n"
            "exec_('def _f():\\n    return 1\\n')\n"
        ),
    }, "benign", kind="wheel"),
    Case("test suite at the sdist root with network and processes", "hastests", {
        "setup.py": "from setuptools import setup\nsetup(name='hastests', version='1.0')\n",
        "hastests/__init__.py": "",
        "tests/__init__.py": "",
        "tests/test_net.py": (
            "import os, subprocess, urllib.request\n\n\ndef test_fetch():\n"
            "    token = os.environ.get('GITHUB_TOKEN')\n"
            "    urllib.request.urlopen('https://example.invalid/?t=%s' % token)\n"
            "    subprocess.run(['echo', 'ok'])\n"
        ),
    }, "benign"),
    Case("generated REST client naming a proto marshal module", "restgen", {
        "restgen/__init__.py": "",
        "restgen/rest.py": (
            "import os\nimport requests\nfrom proto.marshal.rules import wrappers\n\n\n"
            "def call(url, body):\n    env = os.environ.copy()\n"
            "    return requests.post(url, json=body, headers={'x': env.get('X', '')})\n"
        ),
    }, "benign", kind="wheel"),
]
