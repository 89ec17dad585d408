"""The loader: what is kept for the analyzers, what is only byte-scanned, and what that costs."""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import pytest

from builders import make_sdist, make_wheel
from fuzz.archives import Z, write, zip_bytes
from pkgvet import package
from pkgvet.archive import Limits
from pkgvet.model import ArtifactKind, Context, Finding, Severity
from pkgvet.package import Artifact, decode_source, load


def load_path(path: Path, **kw: object) -> package.Package:
    kind = (ArtifactKind.FOLDER if path.is_dir() else
            ArtifactKind.WHEEL if path.suffix in (".whl", ".zip") else ArtifactKind.SDIST)
    return load(Artifact(path, kind, ""), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("data", "text"), [
    (b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", "# -*- coding: latin-1 -*-\nx = 'é'\n"),
    (b"\xef\xbb\xbfx = 1\n", "x = 1\n"),
    (b"x = '\xc3\xa9'\n", "x = 'é'\n"),
    (b"x = '\xe9'\n", "x = 'é'\n"),
    (b"# coding: bogus\nx = 1\n", "# coding: bogus\nx = 1\n"),
    (b"# coding: utf-16\nx = 1\n", "# coding: utf-16\nx = 1\n"),
    (b"# coding: punycode\nx = '#'\n", "# coding: punycode\nx = '#'\n"),  # fuzz regression
])
def test_decode_source(data: bytes, text: str) -> None:
    assert decode_source(data) == text


def test_text_is_kept_and_binaries_are_windowed(tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []

    def scanner(path: str, data: bytes) -> list[Finding]:
        seen.append((path, len(data)))
        return []

    sdist = make_sdist(tmp_path, "demo", "1.0", {
        "setup.py": "from setuptools import setup\nsetup()\n",
        "demo/lib.so": b"\x7fELF" + bytes(1000),
        "docs/index.rst": "Title\n=====\n",
    })
    pkg = load_path(sdist, scanners=[scanner])
    so = pkg.get("demo/lib.so")
    assert so is not None and so.data is None and so.binary
    assert seen == [("demo-1.0/demo/lib.so", 1004)]
    rst = pkg.get("docs/index.rst")
    assert rst is not None and rst.text() == "Title\n=====\n" and rst.context is Context.DOCS
    assert pkg.root == "demo-1.0/"


def test_python_over_the_parse_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "PY_KEEP_BYTES", 1000)
    monkeypatch.setattr(package, "KEEP_BYTES", 100_000)
    sdist = make_sdist(tmp_path, "demo", "1.0", {
        "demo/big.py": "x = 1\n" * 500, "demo/data.txt": "y" * 5000,
    })
    pkg = load_path(sdist)
    big = pkg.get("demo/big.py")
    assert big is not None and big.data is None and big.size == 3000
    (finding,) = [f for f in pkg.findings if f.rule_id == "PV901"]
    assert finding.severity is Severity.HIGH and finding.path == "demo-1.0/demo/big.py"
    data = pkg.get("demo/data.txt")
    assert data is not None and data.data is not None


def test_text_over_the_parse_limit_is_info(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "KEEP_BYTES", 1000)
    pkg = load_path(make_sdist(tmp_path, "demo", "1.0", {"demo/data.txt": "y" * 5000}))
    (finding,) = [f for f in pkg.findings if f.rule_id == "PV901"]
    assert finding.severity is Severity.INFO


def test_text_budget_per_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package, "KEEP_TOTAL_BYTES", 10_000)
    files = {f"demo/m{i}.py": "x = 1\n" * 500 for i in range(5)}
    pkg = load_path(make_sdist(tmp_path, "demo", "1.0", files))
    kept = [f for f in pkg.files if f.data is not None]
    assert sum(f.size for f in kept) <= 10_000
    (finding,) = [f for f in pkg.findings if f.rule_id == "PV907"]
    assert finding.severity is Severity.HIGH
    assert "(2 Python)" in finding.snippet or "Python" in finding.snippet


def test_nested_archive_is_read_without_temp_files(tmp_path: Path) -> None:
    inner = make_wheel(tmp_path, "inner", "1.0", {"inner/__init__.py": "x = 1\n"})
    sdist = make_sdist(tmp_path, "outer", "1.0", {"vendor/inner.whl": inner.read_bytes()})
    before = set(os.listdir(tempfile.gettempdir()))
    pkg = load_path(sdist)
    assert set(os.listdir(tempfile.gettempdir())) - before == set()
    nested = pkg.get("outer-1.0/vendor/inner.whl!/inner/__init__.py")
    assert nested is not None and nested.text() == "x = 1\n"


def test_nested_archives_share_the_member_budget(tmp_path: Path) -> None:
    inner = zip_bytes([Z(f"in/{i}.txt", b"x") for i in range(40)])
    outer = zip_bytes([Z("demo/a.zip", inner), Z("demo/b.zip", inner)])
    pkg = load_path(write(tmp_path / "demo-1.0-py3-none-any.whl", outer),
                    limits=Limits(max_members=60))
    assert "PV007" in {f.rule_id for f in pkg.findings}
    assert len(pkg.files) <= 60


def test_damaged_member_keeps_no_partial_text(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([Z("demo/a.py", b"x = 1\n" * 50, method=zipfile.ZIP_STORED)]))
    at = data.find(b"x = 1\n")
    data[at] = ord("y")
    pkg = load_path(write(tmp_path / "demo-1.0-py3-none-any.whl", bytes(data)))
    f = pkg.get("demo/a.py")
    assert f is not None and f.data is None
    assert [x.rule_id for x in pkg.findings] == ["PV011"]


def test_folder_with_fifo_and_links_does_not_hang(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "__init__.py").write_text("x = 1\n")
    os.mkfifo(root / "demo" / "pipe")
    (root / "demo" / "link").symlink_to("/etc/passwd")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    pkg = load_path(root)
    assert [f.relpath for f in pkg.files] == ["demo/__init__.py"]
    assert [(m.name, m.link_target) for m in pkg.links] == [("demo/link", "/etc/passwd")]


def test_nul_in_python_source_stays_text(tmp_path: Path) -> None:
    pkg = load_path(make_sdist(tmp_path, "demo", "1.0", {"setup.py": b"x = 1\n\x00\ny = 2\n"}))
    f = pkg.get("setup.py")
    assert f is not None and not f.binary and f.text() is not None
    (finding,) = [x for x in pkg.findings if x.rule_id == "PV910"]
    assert finding.line == 2


def test_batch_scans_start_with_the_largest_files(tmp_path: Path) -> None:
    from pkgvet.workers import largest_first

    sizes = {"small.whl": 10, "large.tar.gz": 3000, "medium.whl": 500, "tie.whl": 500}
    artifacts = []
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
        artifacts.append(Artifact(tmp_path / name, ArtifactKind.WHEEL, "0" * 64))
    artifacts.append(Artifact(tmp_path / "gone.whl", ArtifactKind.WHEEL, "0" * 64))
    order = [(i, a.path.name) for i, a in largest_first(artifacts)]
    assert order == [(1, "large.tar.gz"), (2, "medium.whl"), (3, "tie.whl"),
                     (0, "small.whl"), (4, "gone.whl")]
