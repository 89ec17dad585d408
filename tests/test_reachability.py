"""The package graph: phases from entry points, whatever the folder, and the seam other
analyzers call (`phases`, `opened_files`)."""

from __future__ import annotations

import time
from pathlib import Path

from builders import make_sdist, make_wheel
from pkgvet.analysis.names import Folder
from pkgvet.analysis.reachability import opened_files, phases
from pkgvet.analysis.scan import analyze_package
from pkgvet.model import Phase
from pkgvet.package import load
from pkgvet.sources.local import local_artifact


def test_phases_follow_entry_points_not_folder_names(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "graph", "1.0", {
        "setup.py": "import sys\nsys.path.insert(0, 'tests')\nimport helper\n",
        "tests/helper.py": "import tests.deeper\n",
        "tests/deeper.py": "x = 1\n",
        "tests/test_unrelated.py": "def test_x():\n    pass\n",
        "graph/__init__.py": "from .examples import demo\n",
        "graph/examples/__init__.py": "",
        "graph/examples/demo.py": "import json\n",
        "graph/lazy.py": "y = 2\n",
        "graph/data/config.bin": "xx",
        "graph/loader.py": "",
    })
    pkg = load(local_artifact(path))
    got = phases(pkg)
    assert got["setup.py"] is Phase.INSTALL
    assert got["tests/helper.py"] is Phase.INSTALL
    assert got["tests/deeper.py"] is Phase.INSTALL
    assert got["graph/__init__.py"] is Phase.IMPORT
    assert got["graph/examples/demo.py"] is Phase.IMPORT
    assert got["graph/lazy.py"] is Phase.IMPORT  # installed: runs when imported
    assert got["tests/test_unrelated.py"] is Phase.RUNTIME


def test_pth_imports_and_hatch_hooks_are_entry_points(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "pthx", "1.0", {
        "pthx.pth": "import pthx_boot\n",
        "pthx_boot.py": "import pthx.tests.util\n",
        "pthx/__init__.py": "",
        "pthx/tests/__init__.py": "",
        "pthx/tests/util.py": "",
    })
    got = phases(load(local_artifact(wheel)))
    assert got["pthx/tests/util.py"] is Phase.IMPORT
    sdist = make_sdist(tmp_path, "hooked", "1.0", {
        "pyproject.toml": "[tool.hatch.build.targets.wheel.hooks.custom]\npath = 'ci/hook.py'\n",
        "ci/hook.py": "",
        "pdm_build.py": "",
    })
    got = phases(load(local_artifact(sdist)))
    assert got["ci/hook.py"] is Phase.INSTALL
    assert got["pdm_build.py"] is Phase.INSTALL


def test_opened_files_name_data_that_import_time_code_reads(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "carrier", "1.0", {
        "carrier/__init__.py": (
            "import os\nHERE = os.path.dirname(__file__)\n"
            "blob = open(os.path.join(HERE, 'assets', 'logo.png'), 'rb').read()\n"
        ),
        "carrier/assets/logo.png": "png",
    })
    opened = opened_files(load(local_artifact(wheel)))
    assert opened.get("carrier/assets/logo.png") is Phase.IMPORT


def test_hostile_folding_is_bounded(tmp_path: Path) -> None:
    """A 20,000-term concatenation fed to exec: bounded, reported, no hang or crash."""
    chain = " + ".join(["'a'"] * 20_000)
    wheel = make_wheel(tmp_path, "hostile", "1.0", {
        "hostile/__init__.py": f"import os\nos.system({chain})\n",
        "hostile/deep.py": "x = " + "(" * 150 + "1" + ")" * 150 + "\nexec('x' * 10**9)\n",
    })
    started = time.monotonic()
    findings = analyze_package(load(local_artifact(wheel)))
    assert time.monotonic() - started < 60  # a hang guard, not a speed assertion
    assert findings is not None


def test_folder_budget_stops_at_its_limits() -> None:
    import ast

    node = ast.parse(" + ".join(["'x'"] * 600), mode="eval").body
    folder = Folder(lambda _: None, lambda _: None)
    assert folder.fold(node) is None
    assert folder.budget.exhausted


def test_plugins_another_tool_loads_by_itself_are_import_time(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "plug", "1.0", {
        "plug/__init__.py": "",
        "testing_plugins/__init__.py": "",
        "testing_plugins/fixtures.py": "",
        "setup.cfg": "[options.entry_points]\npytest11 =\n    plug = testing_plugins.fixtures\n",
    })
    got = phases(load(local_artifact(sdist)))
    assert got["testing_plugins/fixtures.py"] is Phase.IMPORT


_NAMED_LINES = """
import sys
from pkgvet.analysis.scan import analyze_package
from pkgvet.package import load
from pkgvet.sources.local import local_artifact
from pathlib import Path
pkg = load(local_artifact(Path(sys.argv[1])))
print(sorted((f.rule_id, f.path, f.line) for f in analyze_package(pkg)))
"""


def test_findings_do_not_follow_the_hash_seed(tmp_path: Path) -> None:
    """A group's first fact of a kind names the finding's line; the walk that gathers the
    group's facts from other modules must not take its order from a set (string hashes are
    seeded per process: the same package gave PV104 at a different line run to run)."""
    import os
    import subprocess
    import sys

    helpers = "".join(
        f"def fetch_{i}(url):\n    import urllib.request\n"
        f"    return urllib.request.urlopen(url + '/{i}').read()\n\n" for i in range(6))
    calls = "".join(f"build.fetch_{i}('https://mirror.pkgvet-test.invalid')\n" for i in range(6))
    sdist = make_sdist(tmp_path, "seeded", "1.0", {
        "setup.py": "import build\n" + calls + "from setuptools import setup\nsetup()\n",
        "build.py": helpers,
    })
    seen = set()
    for seed in ("1", "2", "3", "4"):
        out = subprocess.run([sys.executable, "-c", _NAMED_LINES, str(sdist)], check=True,
                             capture_output=True, text=True,
                             env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        seen.add(out)
    assert len(seen) == 1, seen


def test_a_module_that_gains_a_scope_after_its_walk_follows_that_scope(tmp_path: Path) -> None:
    """`lazy/a.py` is walked from its top level first; `lazy/b.py`, walked after it, calls
    `a.later()`, so `a` is walked again, from the scope it gained only: what `later` imports
    is reached too, and a function nothing calls still is not."""
    from pkgvet.analysis.reachability import reach

    wheel = make_wheel(tmp_path, "lazy", "1.0", {
        "lazy/__init__.py": "from . import b\nfrom . import a\n",
        "lazy/a.py": "import json\n\ndef later():\n    from . import c\n\n"
                     "def never():\n    from . import d\n",
        "lazy/b.py": "from . import a\na.later()\n",
        "lazy/c.py": "",
        "lazy/d.py": "",
    })
    got = reach(load(local_artifact(wheel)))
    assert {"lazy/a.py", "lazy/b.py", "lazy/c.py"} <= got.reached.keys()
    assert "lazy/d.py" not in got.reached
    assert "later" in got.roots["lazy/a.py"]
