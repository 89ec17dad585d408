"""The carried-payload analyzer on real (inert) wheels and sdists built by the tests, and
its readers on hostile bytes.

Every fixture is in tests/carried_fixtures.py, named after its technique, with its expected
verdict and rule ids beside it. Nothing here unpickles, unmarshals or loads a payload.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from builders import make_sdist, make_wheel
from carried_fixtures import (
    DOWNLOADER,
    FIXTURES,
    STEALER,
    Fixture,
    jpeg,
    pickle_global,
    png,
    pyc,
    wav,
)
from pkgvet.analyzer.carried import CarriedAnalyzer, loader_phase
from pkgvet.model import Phase, ScanResult
from pkgvet.package import load
from pkgvet.pipeline import scan_artifact
from pkgvet.readers import Budget
from pkgvet.readers.marshal_code import code_facts, pyc_facts
from pkgvet.readers.media import image_tail
from pkgvet.readers.native import native_facts
from pkgvet.readers.pickle_ops import pickle_facts
from pkgvet.sources.local import local_artifact


def build(tmp_path: Path, fx: Fixture) -> Path:
    files = fx.build()
    if files is None:
        pytest.skip("gcc is needed to build this fixture")
    if "setup.py" in files:
        return make_sdist(tmp_path, "mypkg", "1.0", files)
    return make_wheel(tmp_path, "mypkg", "1.0", files)


def scan(path: Path) -> ScanResult:
    return scan_artifact(local_artifact(path))


@pytest.mark.parametrize("fx", FIXTURES, ids=lambda fx: fx.name)
def test_fixture_gets_its_verdict_and_rules(tmp_path: Path, fx: Fixture) -> None:
    result = scan(build(tmp_path, fx))
    ids = {f.rule_id for f in result.findings}
    carried = {f.rule_id for f in result.findings if f.analyzer == "carried"}
    assert result.verdict.value == fx.verdict, [
        (f.rule_id, f.severity.label, f.phase.value, f.path, f.snippet) for f in result.findings]
    assert fx.rules <= ids, ids
    if fx.verdict == "benign":
        assert not carried, carried


def test_pickle_loaded_only_at_runtime_is_high_not_critical(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mypkg", "1.0", {
        "mypkg/__init__.py": "import pickle\n"
        "def load_model(path='model.pkl'):\n    return pickle.load(open(path, 'rb'))\n",
        "mypkg/model.pkl": pickle_global("os", "system", "echo inert"),
    })
    result = scan(wheel)
    found = [f for f in result.findings if f.rule_id == "PV230"]
    assert found and found[0].phase is Phase.RUNTIME and found[0].severity.label == "high"
    assert result.verdict.value == "suspicious"


def test_site_pth_in_a_wheel_root_is_not_a_model(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mypkg", "1.0", {
        "mypkg/__init__.py": "", "mypkg-paths.pth": "/opt/somewhere\n"})
    assert not [f for f in scan(wheel).findings if f.analyzer == "carried"]


def test_decoded_payload_is_analysed_where_it_is_loaded(tmp_path: Path) -> None:
    fx = next(f for f in FIXTURES if f.name == "data-decode-exec-xor-test-py")
    result = scan(build(tmp_path, fx))
    decoded = [f for f in result.findings if f.path and f.path.endswith("#decoded")]
    assert decoded, "the XOR-decoded stealer must be analysed as code"
    assert {f.phase for f in decoded} == {Phase.IMPORT}


def test_loader_phase_follows_top_level_calls(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mypkg", "1.0", {"mypkg/__init__.py": "x = 1\n",
                                                  "scripts_tool.py": "y = 2\n"})
    pkg = load(local_artifact(wheel))
    assert loader_phase(pkg, "mypkg/__init__.py", "<module>", frozenset()) is Phase.IMPORT
    assert loader_phase(pkg, "mypkg/__init__.py", "boot", frozenset({"boot"})) is Phase.IMPORT
    assert loader_phase(pkg, "mypkg/__init__.py", "later", frozenset({"boot"})) is Phase.RUNTIME


def test_blob_windows_are_reassembled() -> None:
    a = CarriedAnalyzer()
    data = b"\x80\x04" + bytes(range(256)) * 2000
    a.scan_blob("m/x.pkl", data[:100_000])
    a.scan_blob("m/x.pkl", data[100_000 - 65536:300_000])
    a.scan_blob("m/x.pkl", data[300_000 - 65536:])
    assert bytes(a._blobs["m/x.pkl"].buf) == data


# -- readers on their own -----------------------------------------------------------------


def test_code_facts_reads_nested_code_without_loading_it() -> None:
    import marshal

    facts = code_facts(marshal.dumps(compile(DOWNLOADER + "def f():\n    import socket\n",
                                             "x", "exec")))
    assert facts.ok and {"urlopen", "exec", "socket"} <= facts.names
    assert "http://c2.invalid/stage2" in facts.strings
    assert pyc_facts(pyc(STEALER)).ok


@pytest.mark.parametrize("raw", [
    b"", b"c", b"\xe3" + b"\x00" * 3, b"(" + struct.pack("<i", 2**31 - 1),
    b"\xa8" * 200_000, b")\x05" * 100_000, b"r\x00\x00\x00\x00", b"\xff" * 64,
    b"{" * 50_000,
])
def test_code_facts_on_hostile_bytes_evades_cleanly(raw: bytes) -> None:
    facts = code_facts(raw, budget=Budget(seconds=2.0))
    assert not facts.ok and facts.evaded


@pytest.mark.parametrize("raw", [
    b"\x80\x05" + b"(" * 500_000, b"\x80\x04\x95" + b"\xff" * 8, b"\x80\x02X\xff\xff\xff\x7f",
    b"\x80\x04" + b"\x93" * 100, b"cos\nsys", b"\x80\x04" + b"N0" * 1_200_000,
])
def test_pickle_facts_on_hostile_bytes_never_raises(raw: bytes) -> None:
    facts = pickle_facts(raw)
    assert facts.opcodes >= 0


@pytest.mark.parametrize("raw", [
    b"\x7fELF\x02\x01\x01" + b"\x00" * 57, b"\x7fELF\x02\x01\x01" + b"\xff" * 200,
    b"MZ" + b"\x00" * 58 + struct.pack("<I", 10**9), b"\xcf\xfa\xed\xfe" + b"\xff" * 60,
    b"\x7fELF\x01\x01\x01" + b"\x00" * 30 + struct.pack("<HHH", 40, 65535, 0) + b"\x00" * 20,
])
def test_native_facts_on_hostile_headers_evades(raw: bytes) -> None:
    facts = native_facts(raw)
    assert facts.evaded or not facts.imports


def test_image_tails() -> None:
    assert image_tail(png()).end == len(png())  # type: ignore[union-attr]
    assert image_tail(png(b"abc")).end == len(png())  # type: ignore[union-attr]
    assert image_tail(jpeg(b"tail")).end == len(jpeg())  # type: ignore[union-attr]
    assert image_tail(b"not an image") is None


def test_wav_without_payload_is_quiet(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mypkg", "1.0", {"mypkg/__init__.py": "", "mypkg/t.wav": wav()})
    assert not [f for f in scan(wheel).findings if f.analyzer == "carried"]


def test_hostile_pickle_loaded_at_import_is_evasion_not_a_crash(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mypkg", "1.0", {
        "mypkg/__init__.py": "import pickle, os\n"
        "M = pickle.load(open(os.path.join(os.path.dirname(__file__), 'm.pkl'), 'rb'))\n",
        "mypkg/m.pkl": b"\x80\x05" + b"(" * 3_000_000,
    })
    result = scan(wheel)
    evaded = [f for f in result.findings if f.rule_id == "PV250"]
    assert evaded and evaded[0].phase is Phase.IMPORT and evaded[0].severity.label == "high"
    assert not result.partial


def test_deeply_nested_bytecode_is_evasion_not_a_crash(tmp_path: Path) -> None:
    import importlib.util

    body = b"(" + struct.pack("<i", 1) * 1 + b")\x01" * 200_000
    wheel = make_wheel(tmp_path, "mypkg", "1.0", {
        "mypkg/__init__.pyc": importlib.util.MAGIC_NUMBER + b"\x00" * 12 + body})
    result = scan(wheel)
    assert "PV250" in {f.rule_id for f in result.findings}
    assert not result.partial


def test_main_guard_does_not_run_on_import(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "mypkg", "1.0", {
        "mypkg/__init__.py": "",
        "mypkg/tool.py": "import pickle\n"
        "def main():\n    return pickle.load(open('mypkg/state.pkl', 'rb'))\n"
        "if __name__ == '__main__':\n    main()\n",
        "mypkg/state.pkl": pickle_global("os", "system", "echo inert"),
    })
    found = [f for f in scan(wheel).findings if f.rule_id == "PV230"]
    assert found and found[0].phase is Phase.RUNTIME
