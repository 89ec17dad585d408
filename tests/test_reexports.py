"""Names a package's own modules pass on: the binding lines read from a module's text, and
the chains followed through them (absolute and relative, hops, star imports, aliases)."""

from __future__ import annotations

from pathlib import Path

from builders import make_wheel
from pkgvet.analysis.reexports import _bindings, expander, names_capability
from pkgvet.package import Package, load
from pkgvet.sources.local import local_artifact


def test_binding_lines_of_every_shape_are_read() -> None:
    text = ("import os\nimport a.b\nimport c.d as e\n"
            "from os import system as run, getenv  # comment\n"
            "from . import compat\nfrom ._base import (\n    run2,  # why\n    x as y,\n)\n"
            "from ._star import *\nrun3 = os.system\n"
            "def f():\n    from subprocess import call as inner\n"
            "try:\n    from os import popen as opener\nexcept ImportError:\n    opener = None\n"
            "def shadow():\n    from os import system as shadow\n")
    found = _bindings(text)
    assert found["run"] == "os.system" and found["getenv"] == "os.getenv"
    assert found["os"] == "os" and found["a"] == "a" and found["e"] == "c.d"
    assert found["compat"] == ".compat"
    assert found["run2"] == "._base.run2" and found["y"] == "._base.x"
    assert found["*"] == "._star"
    assert found["run3"] == "os.system"
    assert found["opener"] == "os.popen"  # an import in a try block binds the module's name
    assert "inner" not in found and "shadow" not in found  # a function's imports bind locals


def _pkg(tmp_path: Path, files: dict[str, str | bytes]) -> Package:
    return load(local_artifact(make_wheel(tmp_path, "chain", "1.0", files)))


def test_chains_reach_the_outside_name(tmp_path: Path) -> None:
    pkg = _pkg(tmp_path, {
        "chain/__init__.py": "from ._util import run\n",
        "chain/_util.py": "from chain import _mid\n\nrun = _mid.run\n",
        "chain/_mid.py": "from ._base import *\n",
        "chain/_base.py": "from os import system as run\nfrom json import dumps\n",
    })
    expand = expander(pkg, "chain/__init__.py")
    assert expand("._util.run") == "os.system"
    assert expand("chain._util.run") == "os.system"
    assert expand("chain._base.dumps") == "json.dumps"
    assert expand("._util.missing") is None
    assert names_capability(pkg, "chain/__init__.py", ["._util.run"])
    assert not names_capability(pkg, "chain/__init__.py", ["chain._base.dumps", "os.getcwd"])


def test_a_cycle_of_re_exports_ends(tmp_path: Path) -> None:
    pkg = _pkg(tmp_path, {
        "chain/__init__.py": "",
        "chain/a.py": "from .b import run\n",
        "chain/b.py": "from .a import run\n",
    })
    assert expander(pkg, "chain/__init__.py")(".a.run") is None
