"""Odd but legal inputs get a result; hostile ones end in bounded time with an "analysis
evaded" finding and a non-benign verdict. Never a traceback, never a hang.

Scans here go through `pipeline._scan_task`, the path the CLI takes: a forked, watched child
per file (`pkgvet.guard`). Time is never asserted; bounds show as findings.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import make_sdist, make_wheel
from fuzz.archives import T, Z, tar_bytes, write, zeros_tar_gz, zip_bytes
from pkgvet import guard, pipeline
from pkgvet.errors import ArchiveError
from pkgvet.model import (
    ArtifactKind,
    Category,
    Confidence,
    Finding,
    Phase,
    ScanResult,
    Severity,
    TargetError,
    Verdict,
)
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact, Package

SETUP = "from setuptools import setup\nsetup(name='demo', version='1.0')\n"


def run(path: Path, options: ScanOptions | None = None) -> ScanResult:
    kind = ArtifactKind.WHEEL if path.name.endswith(".whl") else ArtifactKind.SDIST
    outcome = pipeline._scan_task(Artifact(path, kind, "0" * 64), options or ScanOptions())
    assert isinstance(outcome, ScanResult), outcome
    return outcome


def rules(result: ScanResult) -> set[str]:
    return {f.rule_id for f in result.findings}


def evaded(result: ScanResult) -> list[Finding]:
    return [f for f in result.findings if f.category is Category.EVASION
            and f.severity >= Severity.HIGH]


def assert_evaded(result: ScanResult) -> None:
    assert evaded(result), result.findings
    assert result.verdict is not Verdict.BENIGN


# -- odd but legal: a result, not an error -----------------------------------------------------

def test_python2_sdist_gets_a_result(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "old", "0.1", {
        "setup.py": "from distutils.core import setup\nprint 'building'\nsetup(name='old')\n",
        "old/__init__.py": "exec 'x = 1'\nprint >>sys.stderr, 'x'\nraise E, 'v'\n",
    })
    result = run(sdist)
    assert result.errors == ()
    assert result.name == "old"


@pytest.mark.parametrize("source", [
    b"# -*- coding: latin-1 -*-\nauthor = '\xe9t\xe9'\n",
    b"\xef\xbb\xbfname = 'bom'\n",
    b"x = '\xff\xfe\x80 not utf-8'\n",
    b"# coding: utf-8\nx = '\xe9'\n",
    b"# coding: no-such-codec\nx = 1\n",
    b"# coding: utf-16\nx = 1\n",
    b"x = 1\r\ny = 2\r\n",
    b"x = 1\ry = 2\r",
    b"import os\x00\nos.getcwd()\n",
    b"\x00" * 100,
])
def test_odd_encodings_get_a_result(tmp_path: Path, source: bytes) -> None:
    sdist = make_sdist(tmp_path, "odd", "1.0", {"setup.py": source, "odd/__init__.py": source})
    result = run(sdist)
    assert result.errors == ()
    assert {"odd-1.0/setup.py", "odd-1.0/odd/__init__.py"} <= {e.path for e in result.files}


def test_nul_byte_does_not_hide_setup_py(tmp_path: Path) -> None:
    """A NUL byte used to make setup.py look binary, so no analyzer read it."""
    source = b"# \x00\nimport base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n"
    result = run(make_sdist(tmp_path, "nul", "1.0", {"setup.py": source}))
    assert "PV910" in rules(result)
    pkg_file = [f for f in result.findings if f.path == "nul-1.0/setup.py"]
    assert pkg_file


def test_twenty_megabyte_single_line(tmp_path: Path) -> None:
    line = "x = '" + "a" * 20_000_000 + "'\n"
    result = run(make_sdist(tmp_path, "big", "1.0", {"setup.py": SETUP, "big/__init__.py": line}))
    assert "PV901" in rules(result)
    assert_evaded(result)


def test_duplicate_zip_names(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = zip_bytes([Z("demo/__init__.py", b"x = 1\n"), Z("demo/__init__.py", b"y = 2\n")])
    result = run(write(tmp_path / "demo-1.0-py3-none-any.whl", data))
    assert "PV008" in rules(result)


def _sparse_member(name: str, realsize: int, chunk: bytes) -> bytes:
    """An old-GNU sparse header: `chunk` stored at the end of a `realsize` file of holes."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.GNUTYPE_SPARSE
    info.size = len(chunk)
    block = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    offset = realsize - len(chunk)
    block[386:398] = f"{offset:011o}\0".encode()
    block[398:410] = f"{len(chunk):011o}\0".encode()
    block[483:495] = f"{realsize:011o}\0".encode()
    block[148:156] = b"        "
    block[148:155] = f"{sum(block):06o}\0".encode()
    return bytes(block) + chunk + bytes(-len(chunk) % 512)


def test_tar_with_hard_links_and_sparse_members(tmp_path: Path) -> None:
    base = tar_bytes([T("demo-1.0/setup.py", SETUP.encode()),
                      T("demo-1.0/copy.py", kind=tarfile.LNKTYPE, link="demo-1.0/setup.py")],
                     compression="", fmt=tarfile.GNU_FORMAT)
    body = base.rstrip(b"\0")
    body += bytes(-len(body) % 512)
    small = _sparse_member("demo-1.0/sparse.dat", 64 * 1024, b"tail" * 128)
    huge = _sparse_member("demo-1.0/huge.dat", 1024**3, b"tail" * 128)
    small_tar = write(tmp_path / "demo-1.0.tar", body + small + bytes(1024))
    result = run(small_tar)
    assert result.errors == ()
    assert "demo-1.0/sparse.dat" in {e.path for e in result.files}
    assert "PV003" not in rules(result)

    huge_tar = write(tmp_path / "huge-1.0.tar", body + huge + bytes(1024))
    result = run(huge_tar)
    assert "PV005" in rules(result)  # a gigabyte of holes from a few KiB on disk
    assert_evaded(result)


def test_wheel_whose_record_lists_missing_files(tmp_path: Path) -> None:
    record = ("demo/__init__.py,sha256=AAAA,1\ndemo/gone.py,sha256=BBBB,10\n"
              "../../outside.py,,\ndemo-1.0.dist-info/RECORD,,\n")
    wheel = make_wheel(tmp_path, "demo", "1.0", {
        "demo/__init__.py": "x = 1\n", "demo-1.0.dist-info/RECORD": record,
    }, record=False)
    result = run(wheel)
    assert result.errors == ()


def test_wheel_with_garbage_record_and_metadata(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", {
        "demo/__init__.py": "x = 1\n",
        "demo-1.0.dist-info/RECORD": b"\xff\xfe\x00,,,\n\"unterminated\n" * 100,
        "demo-1.0.dist-info/METADATA": b"Name: \xff\nVersion: \x00\n\n\n" + bytes(100),
    }, record=False)
    result = run(wheel)
    assert result.errors == ()


# -- compiled code without source --------------------------------------------------------------

PYC = b"\xa7\x0d\x0d\x0a" + bytes(12) + b"\xe3" + bytes(64)


def test_pyc_only_wheel_is_flagged(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "closed", "1.0", {
        "closed/__init__.pyc": PYC, "closed/core.pyc": PYC,
    })
    result = run(wheel)
    (finding,) = [f for f in result.findings if f.rule_id == "PV908"]
    assert finding.severity is Severity.HIGH
    assert result.verdict is Verdict.SUSPICIOUS


def test_pyc_only_module_next_to_sources_is_medium(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mixed", "1.0", {
        "mixed/__init__.py": "from . import core\n",
        "mixed/__pycache__/core.cpython-311.pyc": PYC,
    })
    (finding,) = [f for f in run(wheel).findings if f.rule_id == "PV908"]
    assert finding.severity is Severity.MEDIUM


def test_stray_pyc_next_to_its_source_is_info(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "tidy", "1.0", {
        "setup.py": SETUP, "tidy/__init__.py": "x = 1\n",
        "tidy/__pycache__/__init__.cpython-311.pyc": PYC, "tidy/util.py": "y = 2\n",
        "tidy/util.pyc": PYC,
    })
    result = run(sdist)
    assert "PV908" not in rules(result)
    (finding,) = [f for f in result.findings if f.rule_id == "PV909"]
    assert finding.severity is Severity.INFO
    assert result.verdict is Verdict.BENIGN


# -- shapes that exhaust parsers and readers ---------------------------------------------------

@pytest.mark.parametrize("expr", [
    "(" * 10_000 + "1" + ")" * 10_000,
    "+".join(["1"] * 10_000),
    "[" * 10_000 + "]" * 10_000,
    "-" * 10_000 + "1",
    "not " * 10_000 + "x",
    "f(" * 10_000 + ")" * 10_000,
    "lambda: " * 10_000 + "1",
])
def test_ten_thousand_deep_expression_in_setup_py(tmp_path: Path, expr: str) -> None:
    sdist = make_sdist(tmp_path, "deep", "1.0", {"setup.py": f"x = {expr}\n" + SETUP})
    assert_evaded(run(sdist))


def test_zip_of_a_hundred_thousand_empty_members(tmp_path: Path) -> None:
    path = tmp_path / "many-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(100_000):
            zf.writestr(f"many/{i}", b"")
    result = run(path)
    assert "PV007" in rules(result)
    assert_evaded(result)


def test_one_gigabyte_bomb(tmp_path: Path) -> None:
    result = run(zeros_tar_gz(tmp_path / "bomb-1.0.tar.gz", 1024**3))
    assert "PV005" in rules(result)
    assert_evaded(result)


def test_nested_archives_too_deep(tmp_path: Path) -> None:
    inner = zip_bytes([Z("core/__init__.py", b"x = 1\n")])
    for level in range(6):
        inner = zip_bytes([Z(f"level{level}/inner.zip", inner)])
    result = run(write(tmp_path / "nest-1.0-py3-none-any.whl", inner))
    assert "PV009" in rules(result)
    assert_evaded(result)


def test_nested_bombs_share_one_budget(tmp_path: Path) -> None:
    """Each inner zip stays under the ratio floor; together they are one bomb."""
    inner = zip_bytes([Z("z.bin", bytes(24 * 1024 * 1024))])
    outer = zip_bytes([Z(f"demo/n{i}.zip", inner, method=zipfile.ZIP_STORED) for i in range(20)])
    result = run(write(tmp_path / "demo-1.0-py3-none-any.whl", outer))
    assert rules(result) & {"PV005", "PV006"}
    assert_evaded(result)


def test_python_over_the_text_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pkgvet import package

    monkeypatch.setattr(package, "KEEP_TOTAL_BYTES", 64 * 1024)
    files = {f"pad/d{i}.txt": "x" * 16_000 for i in range(5)}
    files["pad/zz_late.py"] = "import os\n" * 400
    result = run(make_sdist(tmp_path, "pad", "1.0", {**files, "setup.py": SETUP}))
    (finding,) = [f for f in result.findings if f.rule_id == "PV907"]
    assert finding.severity is Severity.HIGH
    assert result.verdict is Verdict.SUSPICIOUS


# -- the watchdog --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Misbehaving:
    name: str
    how: str

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        if self.how == "spin":
            while True:
                pass
        if self.how == "sleep":
            time.sleep(3600)
        if self.how == "recurse":
            def down(n: int) -> int:
                return down(n + 1) + 1
            down(0)
        if self.how == "allocate":
            _ = bytearray(1 << 46)
        if self.how == "overflow":  # a real C stack overflow, as native parsers hit
            sys.setrecursionlimit(10**8)
            nested: list[object] = []
            for _ in range(10**6):
                nested = [nested]
            repr(nested)
        if self.how == "bug":
            raise KeyError("analyzer bug")
        yield from ()


class Fine:
    name = "fine"

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        yield Finding("PV999", "marker", Severity.INFO, Confidence.HIGH, Category.METADATA,
                      Phase.METADATA, None, None, "", "", analyzer="fine")


def use_analyzers(monkeypatch: pytest.MonkeyPatch, *analyzers: object) -> None:
    monkeypatch.setattr(pipeline, "_analyzers", lambda options: tuple(analyzers))


@pytest.fixture
def wheel(tmp_path: Path) -> Path:
    return make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})


@pytest.mark.parametrize("how", ["spin", "sleep"])
def test_analyzer_over_its_time_budget(
    monkeypatch: pytest.MonkeyPatch, wheel: Path, how: str
) -> None:
    use_analyzers(monkeypatch, Fine(), Misbehaving("slow", how), Misbehaving("after", "none"))
    result = run(wheel, ScanOptions(analyzer_seconds=1.0))
    (finding,) = [f for f in result.findings if f.rule_id == "PV902"]
    assert "analyzer 'slow'" in finding.title or "slow" in finding.title
    assert finding.severity is Severity.HIGH and finding.category is Category.EVASION
    assert "PV999" in rules(result)  # what ran before the hang is kept
    assert result.partial and any("after" in e for e in result.errors)
    assert result.verdict is Verdict.SUSPICIOUS
    assert result.files  # archive-level facts are kept
    assert multiprocessing.active_children() == []


def test_loader_over_its_time_budget(monkeypatch: pytest.MonkeyPatch, wheel: Path) -> None:
    def stuck(*args: object, **kwargs: object) -> Package:
        time.sleep(3600)
        raise AssertionError

    monkeypatch.setattr(pipeline, "load", stuck)
    result = run(wheel, ScanOptions(load_seconds=1.0))
    assert "PV902" in rules(result)
    assert result.verdict is Verdict.SUSPICIOUS and result.partial


@pytest.mark.parametrize("how", ["recurse", "allocate", "overflow"])
def test_analyzer_that_exhausts_stack_or_memory(
    monkeypatch: pytest.MonkeyPatch, wheel: Path, how: str
) -> None:
    use_analyzers(monkeypatch, Fine(), Misbehaving("greedy", how))
    # A generous time budget: on a loaded machine a deep native recursion can take longer
    # than the default, and this test is about the crash (PV906), not the clock (PV902).
    result = run(wheel, ScanOptions(memory_limit=4 * 1024**3, analyzer_seconds=300.0))
    assert "PV906" in rules(result), result
    assert "PV999" in rules(result)
    assert result.verdict is Verdict.SUSPICIOUS and result.partial


def test_in_process_recursion_error_is_a_finding(
    monkeypatch: pytest.MonkeyPatch, wheel: Path
) -> None:
    use_analyzers(monkeypatch, Misbehaving("deep", "recurse"))
    result = pipeline.scan_artifact(Artifact(wheel, ArtifactKind.WHEEL, "0" * 64))
    assert "PV906" in rules(result) and result.verdict is Verdict.SUSPICIOUS


def test_analyzer_bug_marks_partial(monkeypatch: pytest.MonkeyPatch, wheel: Path) -> None:
    use_analyzers(monkeypatch, Misbehaving("buggy", "bug"), Fine())
    result = run(wheel)
    assert result.partial and "PV999" in rules(result)


def test_isolated_scan_passes_archive_errors_through(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad-1.0.tar.gz", b"not an archive")
    with pytest.raises(ArchiveError, match="not a zip or tar"):
        guard.isolated(pipeline.scan_artifact, Artifact(bad, ArtifactKind.SDIST, ""),
                       ScanOptions())
    outcome = pipeline._scan_task(Artifact(bad, ArtifactKind.SDIST, ""), ScanOptions())
    assert isinstance(outcome, TargetError)


def test_batch_goes_on_past_a_hanging_and_a_crashing_file(tmp_path: Path) -> None:
    """Through the batch path (`scan_artifacts`, long-lived workers): a hang costs its worker
    and gives PV902, a native crash gives PV906; the other files and the batch go on."""
    import analyzer_hooks

    names = ("good", "hangs", "segv", "fine2", "fine3")
    wheels = [make_wheel(tmp_path, n, "1.0", {f"{n}/__init__.py": "x = 1\n"}) for n in names]
    arts = [Artifact(p, ArtifactKind.WHEEL, "0" * 64) for p in wheels]
    options = ScanOptions(analyzer_seconds=1.0, extra_analyzers=(
        analyzer_hooks.spec("sleeper"), analyzer_hooks.spec("segfaulter")))
    results, errors = pipeline.scan_artifacts(arts, options, jobs=2)
    assert errors == []
    assert [r.file for r in results] == [p.name for p in wheels]  # input order
    by_name = {r.name: r for r in results}
    for calm in ("good", "fine2", "fine3"):
        assert by_name[calm].verdict is Verdict.BENIGN and not by_name[calm].partial
    assert "PV902" in rules(by_name["hangs"]) and by_name["hangs"].partial
    assert "PV906" in rules(by_name["segv"]) and by_name["segv"].partial
    assert "SIGSEGV" in " ".join(by_name["segv"].errors)
    assert multiprocessing.active_children() == []


def test_isolation_off_still_scans(wheel: Path) -> None:
    result = run(wheel, ScanOptions(isolate=False))
    assert result.verdict is Verdict.BENIGN


def test_child_does_not_inherit_unflushed_output(
    wheel: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    sys.stdout.write("once")
    run(wheel)
    sys.stdout.flush()
    assert capfd.readouterr().out.count("once") == 1
    assert os.getpid() > 0


# -- regressions found by the fuzzer -------------------------------------------------------------

def test_regression_zip_member_with_an_empty_name(tmp_path: Path) -> None:
    """zipfile's ZipInfo.is_dir() raises IndexError on an empty name (fuzz, generated case)."""
    data = zip_bytes([Z("demo/__init__.py", b"x = 1\n"), Z("", b"print 'py2'\n")])
    result = run(write(tmp_path / "demo-1.0-py3-none-any.whl", data))
    assert result.errors == ()


def test_library_exception_on_member_data_is_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any exception a decompressor raises on hostile data is damage, not a crash (the
    fuzzer found zipfile raising IndexError; this pins the general rule)."""
    real_read = zipfile.ZipExtFile.read

    def read(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        if self.name.endswith("bad.py"):
            raise IndexError("library bug")
        return real_read(self, n)

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    wheel = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n",
                                                 "demo/bad.py": "y = 2\n"})
    result = run(wheel)
    assert [f.path for f in result.findings if f.rule_id == "PV011"] == ["demo/bad.py"]
    assert result.verdict is Verdict.SUSPICIOUS


@pytest.mark.parametrize("compression", ["", "gz"])
@pytest.mark.parametrize("kind", [tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.REGTYPE])
def test_regression_forged_huge_size_does_not_spin(
    tmp_path: Path, compression: str, kind: bytes
) -> None:
    """tarfile's stream mode skips unread data by reading forward block by block, past the end
    of the file, for as long as the header says: a 2**80-byte member spun for minutes (fuzz,
    mutated package-1.0.0.tar.gz)."""
    import gzip

    info = tarfile.TarInfo("demo-1.0/huge")
    info.type = kind
    header = bytearray(info.tobuf(tarfile.GNU_FORMAT))
    header[124:136] = b"\x80" + (2**80).to_bytes(11, "big")
    header[148:156] = b"        "
    header[148:155] = f"{sum(header):06o}\x00".encode()
    setup = tar_bytes([T("demo-1.0/setup.py", SETUP.encode())], compression="",
                      fmt=tarfile.GNU_FORMAT).rstrip(b"\x00")
    setup += bytes(-len(setup) % 512)
    data = setup + bytes(header) + bytes(1024)
    if compression:
        data = gzip.compress(data)
    result = run(write(tmp_path / f"demo-1.0.tar{'.gz' if compression else ''}", data),
                 ScanOptions(load_seconds=60))
    assert "PV902" not in rules(result)
    assert "PV006" in rules(result)
    assert_evaded(result)


def test_regression_punycode_cookie_in_metadata(tmp_path: Path) -> None:
    """A `coding: punycode` cookie made decoding PKG-INFO raise a bare UnicodeError (fuzz,
    generated case)."""
    cookie = b"# coding: punycode\nx = '#'\n"
    sdist = make_sdist(tmp_path, "demo", "1.0", {"setup.py": cookie, "PKG-INFO": cookie})
    result = run(sdist)
    assert result.errors == ()
