"""Safe extraction end to end: hostile tar and zip members become findings or one clean error,
and nothing is ever written outside the extraction folder."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import uuid
import zipfile
from pathlib import Path

import pytest

from builders import make_sdist, make_wheel
from fuzz.archives import T, Z, tar_bytes, write, zeros_tar_gz, zeros_zip, zip_bytes
from pkgvet.archive import ArchiveReader, Limits, extract
from pkgvet.errors import ArchiveError
from pkgvet.model import ArtifactKind, Category, Severity, Verdict
from pkgvet.options import ScanOptions
from pkgvet.package import Artifact
from pkgvet.pipeline import scan_artifact

PKGVET = Path(sys.executable).parent / "pkgvet"
SETUP = b"from setuptools import setup\nsetup(name='demo', version='1.0')\n"


def scan(path: Path, **options: object) -> tuple[Verdict, dict[str, list[str | None]]]:
    kind = ArtifactKind.WHEEL if path.suffix in (".whl", ".zip") else ArtifactKind.SDIST
    result = scan_artifact(Artifact(path, kind, "0" * 64), ScanOptions(**options))  # type: ignore[arg-type]
    rules: dict[str, list[str | None]] = {}
    for f in result.findings:
        rules.setdefault(f.rule_id, []).append(f.path)
    return result.verdict, rules


def listing(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def extract_isolated(tmp_path: Path, archive: Path) -> tuple[list[str], Path]:
    """Extract into tmp_path/box/out and check that nothing appeared anywhere but out/."""
    box = tmp_path / "box"
    out = box / "out"
    box.mkdir()
    before_tmp = listing(tmp_path)
    findings = extract(archive, out)
    after_tmp = listing(tmp_path)
    new = {p for p in after_tmp - before_tmp if not p.startswith(os.path.join("box", "out"))}
    assert new == {"box/out"} or new == set(), f"written outside the folder: {new}"
    for p in out.rglob("*"):
        assert not p.is_symlink(), f"extract created a link: {p}"
        assert p.resolve().is_relative_to(out.resolve())
    return [f.rule_id for f in findings], out


# -- names that climb out -------------------------------------------------------------------

ESCAPES = [
    ("../evil.py", "PV001"),
    ("demo-1.0/../../evil.py", "PV001"),
    ("..\\evil.py", "PV001"),
    ("demo-1.0\\..\\..\\evil.py", "PV001"),
    ("/tmp/pkgvet-evil-{uid}.py", "PV002"),
    ("C:\\pkgvet-evil-{uid}.py", "PV002"),
    ("C:/pkgvet-evil-{uid}.py", "PV002"),
]


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
@pytest.mark.parametrize(("name", "rule"), ESCAPES)
def test_escaping_names_are_findings_and_never_written(
    tmp_path: Path, fmt: str, name: str, rule: str
) -> None:
    name = name.format(uid=uuid.uuid4().hex)
    payload = b"import os\nos.system('echo owned')\n"
    if fmt == "zip":
        data = zip_bytes([Z("demo/__init__.py", b""), Z(name, payload)])
        archive = write(tmp_path / "demo-1.0-py3-none-any.whl", data)
    else:
        data = tar_bytes([T("demo-1.0/setup.py", SETUP), T(name, payload)])
        archive = write(tmp_path / "demo-1.0.tar.gz", data)

    verdict, rules = scan(archive)
    assert rule in rules
    assert verdict is not Verdict.BENIGN

    ids, out = extract_isolated(tmp_path, archive)
    assert rule in ids
    assert not (tmp_path / "evil.py").exists()
    assert not Path(name.replace("\\", "/")).is_absolute() or not Path(name).exists()
    written = listing(out)
    assert all("evil" not in p for p in written), written


# -- links ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "link",
    [
        T("demo-1.0/passwd", kind=tarfile.SYMTYPE, link="../../etc/passwd"),
        T("demo-1.0/passwd", kind=tarfile.SYMTYPE, link="/etc/passwd"),
        T("demo-1.0/sub/x", kind=tarfile.SYMTYPE, link="../../../x"),
        T("demo-1.0/passwd", kind=tarfile.LNKTYPE, link="../etc/passwd"),
        T("demo-1.0/passwd", kind=tarfile.LNKTYPE, link="/etc/passwd"),
    ],
    ids=["symlink-up", "symlink-abs", "symlink-deep", "hardlink-up", "hardlink-abs"],
)
def test_links_pointing_out_are_findings_and_never_created(tmp_path: Path, link: T) -> None:
    archive = write(tmp_path / "demo-1.0.tar.gz", tar_bytes([T("demo-1.0/setup.py", SETUP), link]))
    verdict, rules = scan(archive)
    assert rules.get("PV003") == ["demo-1.0/passwd" if "passwd" in link.name else link.name]
    assert verdict is Verdict.SUSPICIOUS

    ids, out = extract_isolated(tmp_path, archive)
    assert "PV003" in ids
    assert listing(out) == {"demo-1.0", "demo-1.0/setup.py"}


def test_zip_symlink_pointing_out(tmp_path: Path) -> None:
    data = zip_bytes([Z("demo/__init__.py"), Z("demo/key", link="../../.ssh/id_rsa")])
    archive = write(tmp_path / "demo-1.0-py3-none-any.whl", data)
    _, rules = scan(archive)
    assert rules.get("PV003") == ["demo/key"]
    ids, out = extract_isolated(tmp_path, archive)
    assert "PV003" in ids and not (out / "demo" / "key").exists()


def test_zip_symlink_with_a_bomb_as_target_is_read_bounded(tmp_path: Path) -> None:
    """A zip 'symlink' is its data; reading the target must not inflate it whole."""
    huge = bytes(64 * 1024 * 1024)
    data = zip_bytes([Z("demo/__init__.py"), Z("demo/link", link=huge.decode())])
    archive = write(tmp_path / "demo-1.0-py3-none-any.whl", data)
    verdict, rules = scan(archive)
    assert "PV003" in rules  # a target of NUL bytes is not a safe name
    assert verdict is Verdict.SUSPICIOUS


def test_relative_links_inside_the_tree_do_not_break_the_scan(tmp_path: Path) -> None:
    """docutils and pyparsing sdists ship links like docs/CHANGES -> ../CHANGES."""
    members = [
        T("pyparsing-3.0.9/setup.py", SETUP),
        T("pyparsing-3.0.9/CHANGES", b"Version 3.0.9\n"),
        T("pyparsing-3.0.9/PKG-INFO", b"Metadata-Version: 2.1\nName: pyparsing\nVersion: 3.0.9\n"),
        T("pyparsing-3.0.9/pyparsing/__init__.py", b"__version__ = '3.0.9'\n"),
        T("pyparsing-3.0.9/docs", kind=tarfile.DIRTYPE),
        T("pyparsing-3.0.9/docs/CHANGES", kind=tarfile.SYMTYPE, link="../CHANGES"),
        T("pyparsing-3.0.9/docs/api", kind=tarfile.SYMTYPE, link="../pyparsing"),
        T("pyparsing-3.0.9/docs/here", kind=tarfile.SYMTYPE, link="./CHANGES"),
        T("pyparsing-3.0.9/copy", kind=tarfile.LNKTYPE, link="pyparsing-3.0.9/CHANGES"),
    ]
    archive = write(tmp_path / "pyparsing-3.0.9.tar.gz", tar_bytes(members))
    result = scan_artifact(Artifact(archive, ArtifactKind.SDIST, "0" * 64))
    assert result.verdict is Verdict.BENIGN
    assert not [f for f in result.findings if f.severity >= Severity.MEDIUM]
    assert result.name == "pyparsing"
    assert {e.path for e in result.files} >= {"pyparsing-3.0.9/pyparsing/__init__.py"}

    ids, out = extract_isolated(tmp_path, archive)
    assert ids == []
    assert (out / "pyparsing-3.0.9" / "CHANGES").read_bytes() == b"Version 3.0.9\n"
    assert not (out / "pyparsing-3.0.9" / "docs" / "CHANGES").exists()


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_and_fifo_members(tmp_path: Path, kind: bytes) -> None:
    archive = write(
        tmp_path / "demo-1.0.tar.gz",
        tar_bytes([T("demo-1.0/setup.py", SETUP), T("demo-1.0/dev", kind=kind)]),
    )
    _, rules = scan(archive)
    assert rules.get("PV004") == ["demo-1.0/dev"]
    ids, out = extract_isolated(tmp_path, archive)
    assert "PV004" in ids and not (out / "demo-1.0" / "dev").exists()


def test_zip_fifo_mode_is_a_special_file(tmp_path: Path) -> None:
    import stat

    data = zip_bytes([Z("demo/__init__.py"), Z("demo/pipe", mode=stat.S_IFIFO | 0o644)])
    _, rules = scan(write(tmp_path / "demo-1.0-py3-none-any.whl", data))
    assert rules.get("PV004") == ["demo/pipe"]


# -- bombs and counts ------------------------------------------------------------------------

GiB = 1024**3


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bombs")
    return {
        "tar.gz": zeros_tar_gz(root / "bomb-1.0.tar.gz", GiB),
        "zip": zeros_zip(root / "bomb-1.0-py3-none-any.whl", GiB),
    }


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_one_gigabyte_bomb_is_a_finding_not_a_full_inflate(
    bombs: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    archive = bombs[fmt]
    result = scan_artifact(Artifact(archive, ArtifactKind.SDIST if fmt == "tar.gz"
                                    else ArtifactKind.WHEEL, "0" * 64))
    assert "PV005" in {f.rule_id for f in result.findings}
    assert result.verdict is not Verdict.BENIGN
    assert result.stats.bytes < 64 * 1024 * 1024  # stopped near the 32 MiB floor, not at 1 GiB

    with ArchiveReader(archive) as reader:
        for _member, stream in reader.members():
            if stream is not None:
                for _ in stream.chunks():
                    pass
        assert reader.meter is not None and reader.meter.total < 64 * 1024 * 1024
        assert "PV005" in {f.rule_id for f in reader.findings}

    ids, out = extract_isolated(tmp_path, archive)
    assert "PV005" in ids
    assert sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) < 64 * 1024 * 1024


def test_many_small_bombs_add_up(tmp_path: Path) -> None:
    """Members each under the ratio floor still add up to a bomb of the whole archive."""
    members = [Z(f"demo/z{i}.bin", bytes(8 * 1024 * 1024)) for i in range(12)]
    archive = write(tmp_path / "demo-1.0-py3-none-any.whl", zip_bytes(members))
    _, rules = scan(archive)
    assert "PV005" in rules


def test_too_many_members(tmp_path: Path) -> None:
    members = [T(f"demo-1.0/f{i}.txt", b"x") for i in range(60)]
    archive = write(tmp_path / "demo-1.0.tar.gz", tar_bytes(members))
    verdict, rules = scan(archive, limits=Limits(max_members=50))
    assert "PV007" in rules and verdict is Verdict.SUSPICIOUS

    zmembers = [Z(f"demo/f{i}.txt", b"x") for i in range(60)]
    zarchive = write(tmp_path / "demo-1.0-py3-none-any.whl", zip_bytes(zmembers))
    verdict, rules = scan(zarchive, limits=Limits(max_members=50))
    assert "PV007" in rules and verdict is Verdict.SUSPICIOUS


def test_oversized_pax_header(tmp_path: Path) -> None:
    long_name = "demo-1.0/" + "a" * (2 * 1024 * 1024) + ".py"
    archive = write(tmp_path / "demo-1.0.tar.gz",
                    tar_bytes([T("demo-1.0/setup.py", SETUP), T(long_name, b"x = 1\n")]))
    verdict, rules = scan(archive)
    assert "PV006" in rules and verdict is Verdict.SUSPICIOUS


# -- damaged and odd files -------------------------------------------------------------------

def test_corrupt_zip_directory_is_a_clean_error(tmp_path: Path) -> None:
    good = make_wheel(tmp_path, "demo", "1.0", {"demo/__init__.py": "x = 1\n"})
    data = bytearray(good.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    data[cd:cd + 4] = b"XXXX"
    bad = write(tmp_path / "bad-1.0-py3-none-any.whl", bytes(data))
    with pytest.raises(ArchiveError, match="corrupt"):
        scan(bad)


def test_zip_member_with_bad_crc_is_a_finding(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([Z("demo/__init__.py", b"x = 1\n" * 100, method=zipfile.ZIP_STORED),
                                Z("demo/b.py", b"y = 2\n")]))
    at = data.find(b"x = 1\n")
    data[at] = ord("z")  # stored data no longer matches its CRC
    verdict, rules = scan(write(tmp_path / "demo-1.0-py3-none-any.whl", bytes(data)))
    assert rules.get("PV011") == ["demo/__init__.py"]
    assert verdict is Verdict.SUSPICIOUS


def test_zip_member_with_unknown_compression_is_a_finding(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([Z("demo/__init__.py", b"x = 1\n"), Z("demo/b.py", b"y = 2\n")]))
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (at := data.find(sig, start)) >= 0:
            data[at + off:at + off + 2] = (93).to_bytes(2, "little")  # zstd: Python 3.14+
            start = at + 4
    verdict, rules = scan(write(tmp_path / "demo-1.0-py3-none-any.whl", bytes(data)))
    assert len(rules.get("PV011", [])) == 2
    assert verdict is Verdict.SUSPICIOUS


def test_truncated_tar_gz(tmp_path: Path) -> None:
    members = {f"demo/m{i}.py": os.urandom(20_000).hex() for i in range(8)}
    good = make_sdist(tmp_path, "demo", "1.0", members)
    data = good.read_bytes()
    cut_late = write(tmp_path / "late-1.0.tar.gz", data[: len(data) * 3 // 4])
    verdict, rules = scan(cut_late)
    assert "PV011" in rules and verdict is Verdict.SUSPICIOUS

    cut_early = write(tmp_path / "early-1.0.tar.gz", data[:40])
    with pytest.raises(ArchiveError):
        scan(cut_early)


def test_encrypted_zip(tmp_path: Path) -> None:
    every = write(tmp_path / "enc-1.0-py3-none-any.whl",
                  zip_bytes([Z("demo/__init__.py", b"x", encrypted=True)]))
    with pytest.raises(ArchiveError, match="encrypted"):
        scan(every)
    members = [Z("demo/__init__.py", b"x"), Z("demo/secret.py", b"y", encrypted=True)]
    some = write(tmp_path / "some-1.0-py3-none-any.whl", zip_bytes(members))
    _, rules = scan(some)
    assert rules.get("PV010") == ["demo/secret.py"]


@pytest.mark.parametrize("content", [b"", b"hello, not an archive\n", b"PK\x03\x04garbage",
                                     b"\x1f\x8b\x08\x00garbage", b"BZh9garbage",
                                     b"\xfd7zXZ\x00garbage", bytes(1024)])
def test_not_an_archive(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path / "demo-1.0.tar.gz", content)
    with pytest.raises(ArchiveError):
        scan(path)
    with pytest.raises(ArchiveError):
        extract(path, tmp_path / "out")


def test_v7_tar_without_magic_is_read(tmp_path: Path) -> None:
    data = tar_bytes([T("demo-1.0/setup.py", SETUP)], compression="", fmt=tarfile.USTAR_FORMAT)
    v7 = bytearray(data)
    v7[257:265] = bytes(8)  # no "ustar" magic, as pre-POSIX tars
    v7[148:156] = b"        "
    v7[148:155] = f"{sum(v7[:512]):06o}\x00".encode()
    _, rules = scan(write(tmp_path / "demo-1.0.tar", bytes(v7)))
    assert rules == {}


def test_undecodable_member_names_survive_every_report(tmp_path: Path) -> None:
    """A Latin-1 byte in a tar name decodes to a lone surrogate; reports must still encode."""
    members = tar_bytes([T("demo-1.0/setup.py", SETUP), T("demo-1.0/caf\udce9.py", b"x = 1\n")],
                        fmt=tarfile.GNU_FORMAT)
    archive = write(tmp_path / "demo-1.0.tar.gz", members)
    result = scan_artifact(Artifact(archive, ArtifactKind.SDIST, "0" * 64))
    assert "demo-1.0/caf\ufffd.py" in {e.path for e in result.files}
    from pkgvet.model import Report
    from pkgvet.report import Format, render

    report = Report(results=(result,))
    for fmt in (Format.JSON, Format.TERMINAL):
        render(report, fmt).encode("utf-8")


def test_extract_survives_file_and_folder_with_one_name(tmp_path: Path) -> None:
    archive = write(tmp_path / "demo-1.0.tar.gz", tar_bytes([
        T("demo-1.0/a", b"file"), T("demo-1.0/a/b", b"under a file"),
        T("demo-1.0/c/d", b"in a folder"), T("demo-1.0/c", b"file over a folder"),
        T("demo-1.0/" + "n" * 300, b"name too long"),
    ]))
    ids, out = extract_isolated(tmp_path, archive)
    assert ids.count("PV012") == 3
    assert (out / "demo-1.0" / "a").read_bytes() == b"file"
    assert (out / "demo-1.0" / "c" / "d").read_bytes() == b"in a folder"


def test_extract_never_follows_a_link_already_in_the_destination(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "demo-1.0").symlink_to(outside)
    archive = write(tmp_path / "demo-1.0.tar.gz", tar_bytes([T("demo-1.0/setup.py", SETUP)]))
    extract(archive, out)
    assert list(outside.iterdir()) == []


# -- the command line ------------------------------------------------------------------------

def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PKGVET), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, "COLUMNS": "80"})


@pytest.mark.parametrize("content", [b"", b"not an archive", b"PK\x05\x06" + bytes(9)])
def test_cli_unreadable_archive_is_one_line_and_exit_3(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path / "demo-1.0.tar.gz", content)
    done = run_cli("extract", str(path), str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error:")

    done = run_cli("scan", "-f", "json", str(path), cwd=tmp_path)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr + done.stdout
    import json

    report = json.loads(done.stdout)
    assert len(report["errors"]) == 1 and "\n" not in report["errors"][0]["message"]


def test_cli_extract_of_hostile_archive_writes_only_under_dest(tmp_path: Path) -> None:
    uid = uuid.uuid4().hex
    archive = write(tmp_path / "demo-1.0.tar.gz", tar_bytes([
        T("demo-1.0/setup.py", SETUP), T("../evil.py", b"x"), T(f"/tmp/pkgvet-{uid}", b"x"),
        T("demo-1.0/ln", kind=tarfile.SYMTYPE, link="/etc/passwd"),
        T("demo-1.0/hl", kind=tarfile.LNKTYPE, link="../../etc/passwd"),
    ]))
    box = tmp_path / "box"
    box.mkdir()
    before = listing(tmp_path)
    done = run_cli("extract", str(archive), "out", cwd=box)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    new = listing(tmp_path) - before
    assert new == {"box/out", "box/out/demo-1.0", "box/out/demo-1.0/setup.py"}
    assert not Path(f"/tmp/pkgvet-{uid}").exists()
    assert done.stderr.count("skipped") == 4


def test_cli_scan_of_bomb_gives_a_verdict(bombs: dict[str, Path], tmp_path: Path) -> None:
    done = run_cli("scan", "-f", "json", str(bombs["tar.gz"]), cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "PV005" in done.stdout


def test_category_of_bounds_is_evasion(tmp_path: Path) -> None:
    members = [T(f"demo-1.0/f{i}.txt", b"x") for i in range(5)]
    archive = write(tmp_path / "demo-1.0.tar.gz", tar_bytes(members))
    result = scan_artifact(Artifact(archive, ArtifactKind.SDIST, "0" * 64),
                           ScanOptions(limits=Limits(max_members=2)))
    (pv007,) = [f for f in result.findings if f.rule_id == "PV007"]
    assert pv007.category is Category.EVASION and pv007.severity is Severity.HIGH
