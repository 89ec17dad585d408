"""`pkgvet audit`: a requirements file against a local index folder built by the test.

The index is a `file://` folder of fixture wheels (inert code), so nothing here uses the
network; the pin file is checked with pip itself (`--require-hashes`, wheels only, no install).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builders import make_wheel
from pkgvet.audit.requirements import parse

PAYLOAD = base64.b64encode(b"print(1)").decode()


@pytest.fixture
def index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PKGVET_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "simple"
    for name, version, init in (
        ("alpha", "1.0", "VALUE = 1\n"),
        ("beta", "2.1", "def hello():\n    return 'hi'\n"),
        ("gamma", "0.3", "import json\n"),
        ("evil", "1.0", f"import base64\nexec(base64.b64decode('{PAYLOAD}'))\n"),
    ):
        folder = root / name
        folder.mkdir(parents=True)
        make_wheel(folder, name, version, {f"{name}/__init__.py": init})
    return root


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("pkgvet")
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=120)


def test_parser_reads_includes_markers_hashes_and_refuses_urls(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("alpha==1.0  # pinned\n")
    (tmp_path / "req.txt").write_text(
        "-r base.txt\n"
        "beta==2.1 \\\n    --hash=sha256:" + "a" * 64 + "\n"
        "gamma>=0.1 ; python_version >= '3'\n"
        "never ; python_version < '3'\n"
        "-e ./local\n"
        "thing @ https://example.invalid/thing.whl\n"
        "--index-url https://pypi.internal/simple/\n"
    )
    parsed = parse(tmp_path / "req.txt")
    assert [(e.name, e.specifier) for e in parsed.entries] == [
        ("alpha", "==1.0"), ("beta", "==2.1"), ("gamma", ">=0.1")
    ]
    assert parsed.entries[1].hashes == frozenset({"a" * 64})
    assert len(parsed.unvettable) == 2
    assert parsed.index_url == "https://pypi.internal/simple/"


def test_three_benign_packages_and_pins_pip_accepts(index: Path, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0\nbeta==2.1\ngamma\n")
    pins = tmp_path / "pinned.txt"
    proc = run("audit", str(req), "--index-url", index.as_uri(), "--pin", str(pins),
               "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads(proc.stdout)["results"]
    assert sorted((r["name"], r["verdict"]) for r in results) == [
        ("alpha", "benign"), ("beta", "benign"), ("gamma", "benign")
    ]
    text = pins.read_text()
    assert "gamma==0.3" in text and text.count("--hash=sha256:") == 3
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for whl in index.rglob("*.whl"):
        (wheels / whl.name).write_bytes(whl.read_bytes())
    check = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-index", "--only-binary",
         ":all:", "--find-links", str(wheels), "--require-hashes", "-r", str(pins),
         "-d", str(tmp_path / "got")],
        capture_output=True, text=True, timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert len(list((tmp_path / "got").iterdir())) == 3


def test_malicious_package_is_left_out_of_pins(index: Path, tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_text("alpha==1.0\nevil==1.0\n")
    pins = tmp_path / "pinned.txt"
    proc = run("audit", str(req), "--index-url", index.as_uri(), "--pin", str(pins), cwd=tmp_path)
    assert proc.returncode == 2
    text = pins.read_text()
    assert "alpha==1.0" in text
    assert "# evil==1.0 left out: malicious: PV201" in text


def test_hash_that_matches_no_file_fails_the_audit(index: Path, tmp_path: Path) -> None:
    good = hashlib.sha256(next((index / "alpha").glob("*.whl")).read_bytes()).hexdigest()
    req = tmp_path / "requirements.txt"
    req.write_text(f"alpha==1.0 --hash=sha256:{good}\nbeta==2.1 --hash=sha256:{'0' * 64}\n")
    proc = run("audit", str(req), "--index-url", index.as_uri(), "-f", "json", cwd=tmp_path)
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert [r["name"] for r in report["results"]] == ["alpha"]
    assert "none of the 1 --hash values" in report["errors"][0]["message"]


def _wheel_sha(index: Path, name: str) -> tuple[str, str]:
    wheel = next((index / name).glob("*.whl"))
    return wheel.name, hashlib.sha256(wheel.read_bytes()).hexdigest()


def _lockfiles(index: Path) -> dict[str, str]:
    (a_file, a_sha), (b_file, b_sha) = _wheel_sha(index, "alpha"), _wheel_sha(index, "beta")
    uv = f"""version = 1
requires-python = ">=3.11"

[[package]]
name = "myapp"
version = "0.1.0"
source = {{ editable = "." }}
dependencies = [{{ name = "alpha" }}, {{ name = "beta" }}]

[[package]]
name = "alpha"
version = "1.0"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [
    {{ url = "https://files.example/{a_file}", hash = "sha256:{a_sha}", size = 1 }},
]

[[package]]
name = "beta"
version = "2.1"
source = {{ registry = "https://pypi.org/simple" }}
wheels = [
    {{ url = "https://files.example/{b_file}", hash = "sha256:{b_sha}", size = 1 }},
]
"""
    poetry = f"""# This file is automatically @generated by Poetry 2.1.0 and should not be changed by hand.

[[package]]
name = "alpha"
version = "1.0"
description = "fixture"
optional = false
python-versions = "*"
groups = ["main"]
files = [
    {{file = "{a_file}", hash = "sha256:{a_sha}"}},
]

[[package]]
name = "beta"
version = "2.1"
description = "fixture"
optional = false
python-versions = "*"
groups = ["main"]
files = [
    {{file = "{b_file}", hash = "sha256:{b_sha}"}},
]

[metadata]
lock-version = "2.1"
python-versions = ">=3.11"
content-hash = "0"
"""
    pylock = f"""lock-version = "1.0"
created-by = "pkgvet-tests"

[[packages]]
name = "alpha"
version = "1.0"

[[packages.wheels]]
name = "{a_file}"
url = "https://files.example/{a_file}"
hashes = {{sha256 = "{a_sha}"}}

[[packages]]
name = "beta"
version = "2.1"

[[packages.wheels]]
name = "{b_file}"
url = "https://files.example/{b_file}"
hashes = {{sha256 = "{b_sha}"}}

[[packages]]
name = "mine"
directory = {{ path = "." }}
"""
    pyproject = '[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha>=0.5", "beta==2.1"]\n'
    return {"uv.lock": uv, "poetry.lock": poetry, "pylock.toml": pylock, "pyproject.toml": pyproject}


@pytest.mark.parametrize("filename", ["uv.lock", "poetry.lock", "pylock.toml", "pyproject.toml"])
def test_lockfiles_audit_end_to_end(index: Path, tmp_path: Path, filename: str) -> None:
    lock = tmp_path / filename
    lock.write_text(_lockfiles(index)[filename])
    from pkgvet.audit.lockfiles import parse_any

    parsed = parse_any(lock)
    assert sorted(e.name for e in parsed.entries) == ["alpha", "beta"]
    if filename != "pyproject.toml":
        assert all(len(e.hashes) == 1 for e in parsed.entries)
    proc = run("audit", str(lock), "--index-url", index.as_uri(), "-f", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(r["name"] for r in json.loads(proc.stdout)["results"]) == ["alpha", "beta"]
