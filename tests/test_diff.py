"""`pkgvet diff` of two fixture versions: version 2 adds a base64+exec install hook."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

from builders import make_sdist, pkg_info

PAYLOAD = base64.b64encode(b"print(1)").decode()
V1_SETUP = "from setuptools import setup\nsetup(name='lib', version='1.0')\n"
V2_SETUP = (
    "import base64\n"
    "from setuptools import setup\n"
    "from setuptools.command.install import install\n"
    "class Install(install):\n"
    "    def run(self):\n"
    f"        exec(base64.b64decode('{PAYLOAD}'))\n"
    "        install.run(self)\n"
    "setup(name='lib', version='2.0', cmdclass={'install': Install})\n"
)
MODULE = "def add(a, b):\n    return a + b\n"


def versions(tmp_path: Path) -> tuple[Path, Path]:
    one = make_sdist(tmp_path, "lib", "1.0", {
        "setup.py": V1_SETUP, "lib/__init__.py": MODULE,
        "PKG-INFO": pkg_info("lib", "1.0", "Home-page: https://github.com/owner/lib\n"),
    })
    two = make_sdist(tmp_path, "lib", "2.0", {
        "setup.py": V2_SETUP, "lib/__init__.py": MODULE, "lib/extra.py": "X = 1\n",
        "PKG-INFO": pkg_info("lib", "2.0", "Home-page: https://github.com/someone-else/lib\n"
                             "Requires-Dist: requests\n"),
    })
    return one, two


def test_diff_shows_the_new_install_hook(tmp_path: Path) -> None:
    one, two = versions(tmp_path)
    exe = Path(sys.executable).with_name("pkgvet")
    proc = subprocess.run([str(exe), "diff", str(one), str(two), "-f", "json"],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert proc.returncode == 2, proc.stderr
    data = json.loads(proc.stdout)
    assert data["a"]["verdict"] == "benign" and data["b"]["verdict"] == "malicious"
    assert data["added"] == ["lib/extra.py"]
    assert data["changed"] == ["PKG-INFO", "setup.py"]
    assert data["removed"] == []
    new = data["new_findings"]
    assert new and all(f["path"] == "lib-2.0/setup.py" for f in new)
    assert {"PV201", "PV102"} <= {f["rule_id"] for f in new}
    assert data["gone_findings"] == []
    assert data["metadata_changes"]["Requires-Dist"]["added"] == ["requests"]
    assert data["metadata_changes"]["Home-page"]["added"] == ["https://github.com/someone-else/lib"]


def test_same_version_twice_has_no_differences(tmp_path: Path) -> None:
    one, _ = versions(tmp_path)
    exe = Path(sys.executable).with_name("pkgvet")
    proc = subprocess.run([str(exe), "diff", str(one), str(one)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0
    assert "findings: 0 new, 0 gone" in proc.stdout
