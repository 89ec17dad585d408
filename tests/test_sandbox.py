"""The sandbox: the probe's parsing and the observer's rules on recorded facts (no engine
needed), then real containers (a Docker engine and the image; `.ci/run` provides both)."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

import sandbox_fixtures as fx
from pkgvet.model import Phase, ScanResult, Severity, Verdict
from pkgvet.pipeline import scan_targets
from pkgvet.sandbox import (
    SandboxSettings,
    engine,
    gvisor_log,
    probe,
    runtime,
    wheelhouse,
)
from pkgvet.sandbox.honeytokens import Honeytokens
from pkgvet.sandbox.observe import IMPORT_CODE, observe
from pkgvet.sandbox.probe import DnsSink, TraceReader, parse_call
from pkgvet.verdict import decide

REAL = Path(__file__).parent / "data" / "real"
PKGVET = str(Path(sys.executable).with_name("pkgvet"))

# --- the probe's strace parsing ----------------------------------------------------------


def test_parse_execve_connect_open_rename() -> None:
    fact = parse_call("execve", '"/usr/bin/id", ["id", "-u"], 0x7ffd /* 12 vars */', "0")
    assert fact == {"call": "execve", "path": "/usr/bin/id", "argv": ["id", "-u"], "ok": True,
                    "errno": ""}
    fact = parse_call(
        "connect", '3<socket:[24922]>, {sa_family=AF_INET, sin_port=htons(443), '
        'sin_addr=inet_addr("127.77.0.2")}, 16', "-1 ECONNREFUSED (Connection refused)")
    assert fact is not None
    assert (fact["address"], fact["port"], fact["ok"], fact["errno"]) == (
        "127.77.0.2", 443, False, "ECONNREFUSED")
    six = parse_call("connect", '3, {sa_family=AF_INET6, sin6_port=htons(80), '
                     'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), '
                     'sin6_scope_id=0}, 28', "-1 ENETUNREACH (Network is unreachable)")
    assert six is not None and (six["family"], six["address"]) == ("inet6", "2001:db8::1")
    probe.READS_UNDER = ("/home/sandbox/",)
    read = parse_call("openat", 'AT_FDCWD</tmp>, "/home/sandbox/.aws/credentials", O_RDONLY',
                      "3</home/sandbox/.aws/credentials>")
    assert read == {"call": "open", "path": "/home/sandbox/.aws/credentials", "write": False,
                    "ok": True, "errno": ""}
    assert parse_call("openat", 'AT_FDCWD</tmp>, "/usr/lib/x.py", O_RDONLY', "3</usr/lib/x.py>") \
        is None  # reads outside the watched places are not reported
    write = parse_call("openat", 'AT_FDCWD</home/sandbox>, ".bashrc", O_WRONLY|O_APPEND',
                       "-1 EROFS (Read-only file system)")
    assert write is not None and write["path"] == "/home/sandbox/.bashrc" and write["write"]
    moved = parse_call("renameat2", 'AT_FDCWD</tmp>, "x.tmp", AT_FDCWD</etc>, "cron.d/job", 0',
                       "-1 EROFS (Read-only file system)")
    assert moved is not None and moved["path"] == "/etc/cron.d/job"


def test_trace_reader_joins_unfinished_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(probe, "_out", out)
    reader = TraceReader("install", 100)
    for line in (
        '7 execve("/usr/bin/python3", ["python3"], 0x1 /* 3 vars */) = 0',
        '9 connect(3<socket:[1]>, {sa_family=AF_INET, sin_port=htons(443), <unfinished ...>',
        '8 execve("/usr/bin/id", ["id"], 0x2 /* 3 vars */) = 0',
        '9 <... connect resumed>sin_addr=inet_addr("10.1.2.3")}, 16) = -1 ENETUNREACH (x)',
        "7 +++ exited with 0 +++",
    ):
        reader.feed(line)
    facts = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [f["call"] for f in facts] == ["execve", "execve", "connect"]
    assert facts[2]["address"] == "10.1.2.3" and facts[2]["port"] == 443
    assert reader.main_exited.is_set()


def test_dns_sink_answers_a_records_with_a_sinkhole_address() -> None:
    sink = DnsSink.__new__(DnsSink)
    sink.names = {}
    query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
             b"\x05exfil\x0bpkgvet-test\x07invalid\x00\x00\x01\x00\x01")
    reply = sink.answer(query)
    assert reply[:2] == b"\x12\x34" and reply[6:8] == b"\x00\x01"  # one answer
    assert reply.endswith(bytes([127, 77, 0, 2]))
    assert sink.names == {"exfil.pkgvet-test.invalid": "127.77.0.2"}


# --- the observer on recorded facts -------------------------------------------------------

PIP = ["/tmp/venv/bin/python", "-m", "pip", "install", "--no-deps", "--no-index",
       "/input/x.tar.gz"]


def _call(phase: str, **fact: Any) -> dict[str, Any]:
    return {"type": "syscall", "phase": phase, "pid": 7, **fact}


def _run(*middle: dict[str, Any], install_ok: bool = True) -> list[dict[str, Any]]:
    return [
        {"type": "phase_start", "phase": "install"},
        _call("install", call="execve", path=PIP[0], argv=PIP, ok=True),
        _call("install", call="execve", path="/usr/bin/uname", argv=["uname", "-rs"], ok=True),
        _call("install", call="execve", path=PIP[0], ok=True, argv=[
            PIP[0], "/usr/lib/python3/dist-packages/pip/_vendor/pyproject_hooks/_in_process/"
            "_in_process.py", "build_wheel", "/tmp/tmpabc"]),
        _call("install", call="execve", path=PIP[0], ok=True, argv=[
            PIP[0], "-u", "-c", "exec(compile(# This is <pip-setuptools-caller> -- a caller",
            "bdist_wheel"]),
        _call("install", call="open", path="/tmp/pip-build-env-1/site/sitecustomize.py",
              write=True, ok=True),
        _call("install", call="open", path="/home/dana/.cache/pip/x", write=True, ok=True),
        *middle,
        {"type": "phase_end", "phase": "install", "exit_code": 0 if install_ok else 1,
         "timed_out": False, "output_tail": "Successfully installed x-1.0"},
        {"type": "installed", "modules": ["x"], "recorded": [], "startup_files": []},
        {"type": "phase_start", "phase": "import"},
        _call("import", call="execve", path=PIP[0], argv=[PIP[0], "-c", IMPORT_CODE, "x"],
              ok=True),
        {"type": "phase_end", "phase": "import", "label": "x", "exit_code": 0},
        {"type": "limits", "pids_limit_hits": 0, "oom_kills": 0, "memory_peak": 10},
        {"type": "done"},
    ]


def _observe(records: list[dict[str, Any]], tokens: Honeytokens | None = None) -> Any:
    return observe(records, tokens or Honeytokens.fresh(), image="img", seconds=1.0,
                   killed_by_host=False, timeout=100)


def test_install_noise_is_not_a_finding() -> None:
    report, findings = _observe(_run())
    assert findings == []
    assert report.installable and report.phase is Phase.IMPORT and report.modules == ("x",)
    assert all(e.expected for e in report.processes) and len(report.processes) == 5
    assert report.writes == ()


def test_stealer_behaviour_is_malicious_from_the_sandbox_alone() -> None:
    tokens = Honeytokens.fresh()
    records = _run(
        _call("install", call="open", path="/home/dana/.aws/credentials", write=False,
              ok=True),
        _call("install", call="execve", path="/usr/bin/id", argv=["id"], ok=True),
        {"type": "dns", "name": "exfil.pkgvet-test.invalid", "answer": "127.77.0.2"},
        _call("install", call="connect", family="inet", address="127.77.0.2", port=443,
              ok=True),
        {"type": "sink", "port": 443, "address": "127.77.0.2",
         "data": f"key={tokens.env['AWS_ACCESS_KEY_ID']}"},
    )
    report, findings = _observe(records, tokens)
    rules = {f.rule_id for f in findings}
    assert {"PV801", "PV804", "PV806", "PV803"} <= rules
    assert decide(findings) is Verdict.MALICIOUS
    assert [e.detail for e in report.sensitive_reads] == ["~/.aws/credentials"]
    assert "connect exfil.pkgvet-test.invalid:443" in [e.detail for e in report.network]
    assert [e.detail for e in report.processes if not e.expected] == ["id"]


def test_a_pth_file_the_package_declares_is_not_a_drop() -> None:
    site = "/tmp/venv/lib/python3.11/site-packages"
    records = _run(_call("install", call="open", write=True, ok=True,
                         path=f"{site}/distutils-precedence.pth"))
    installed = next(r for r in records if r["type"] == "installed")
    installed["recorded"] = [f"{site}/distutils-precedence.pth"]
    assert _observe(records)[1] == []


def test_a_pip_that_may_reach_an_index_is_the_package_s_own() -> None:
    records = _run(
        _call("install", call="execve", path=PIP[0], argv=[
            PIP[0], "/usr/lib/python3/dist-packages/pip/__pip-runner__.py", "install",
            "--prefix", "/tmp/pip-build-env-1/overlay", "--no-index", "--find-links",
            "/wheelhouse", "setuptools"], ok=True),
        _call("install", call="execve", path=PIP[0], ok=True,
              argv=[PIP[0], "-m", "pip", "install", "fernet"]),
        _call("install", call="execve", path=PIP[0], ok=True, argv=[  # setup_requires
            PIP[0], "-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps", "-w",
            "/tmp/tmpab", "--quiet", "cffi"]),
    )
    _, findings = _observe(records)
    assert [(f.rule_id, f.snippet) for f in findings] == [
        ("PV816", f"{PIP[0]} -m pip install fernet")]


def test_dropped_pth_and_persistence_writes() -> None:
    records = _run(
        _call("install", call="open", write=True, ok=True,
              path="/tmp/venv/lib/python3.11/site-packages/zz_hook.pth"),
        _call("install", call="open", write=True, ok=False, errno="EROFS",
              path="/etc/cron.d/job"),
        _call("install", call="open", write=True, ok=True, path="/home/dana/.bashrc"),
    )
    _, findings = _observe(records)
    assert [f.rule_id for f in findings] == ["PV809", "PV807", "PV807"]
    assert "blocked: EROFS" in findings[1].snippet


def test_honeytoken_in_a_dns_name_is_exfiltration() -> None:
    tokens = Honeytokens.fresh()
    name = tokens.env["GITHUB_TOKEN"].encode().hex()[:40] + ".example.invalid"
    _, findings = _observe(_run({"type": "dns", "name": name, "answer": "127.77.0.3"}), tokens)
    assert "PV803" in {f.rule_id for f in findings}


def test_looking_up_the_own_host_name_is_not_a_finding() -> None:
    report, findings = _observe(_run({"type": "dns", "name": "build", "answer": "127.77.0.2"}))
    assert findings == [] and [e.detail for e in report.network] == ["lookup build"]


def test_a_build_that_needs_the_network_is_not_installable_offline() -> None:
    records = _run(install_ok=False)
    records[6]["output_tail"] = "ERROR: No matching distribution found for maturin>=1"
    report, findings = _observe(records)
    assert not report.installable
    assert [(f.rule_id, f.severity.label) for f in findings] == [("PV810", "info")]


# --- real containers ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def engine_ready() -> None:
    fx.require_sandbox(SandboxSettings())


def _empty_wheelhouse(tmp_path: Path) -> Path:
    """No back-ends: sdists build with the image's setuptools (no network in the tests)."""
    folder = tmp_path / "wheelhouse"
    folder.mkdir(exist_ok=True)
    return folder


def _sandboxed(path: Path, tmp_path: Path, **settings: Any) -> ScanResult:
    options = {"wheelhouse": _empty_wheelhouse(tmp_path), "install_seconds": 60.0, "import_seconds": 20.0, **settings}
    report = scan_targets([str(path)], jobs=1, sandbox=SandboxSettings(**options))
    assert not report.errors, report.errors
    (result,) = report.results
    assert result.sandbox is not None, result.errors
    return result


def _sandbox_rules(result: ScanResult) -> set[str]:
    return {f.rule_id for f in result.findings if f.analyzer == "sandbox"}


def _containers(label: str) -> str:
    return subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"],
                          capture_output=True, text=True, check=False).stdout.strip()


@pytest.mark.usefixtures("engine_ready")
@pytest.mark.parametrize("hidden", [False, True], ids=["plain", "base64-exec"])
def test_stealer_fixture_is_caught_in_the_sandbox(tmp_path: Path, hidden: bool) -> None:
    path = fx.sdist(tmp_path, "stealer", fx.STEALER, hidden=hidden)
    path.chmod(0o600)  # as in pkgvet's download cache: private to the host user
    result = _sandboxed(path, tmp_path)
    box = result.sandbox
    assert box is not None
    assert result.verdict is Verdict.MALICIOUS
    assert "~/.aws/credentials" in [e.detail for e in box.sensitive_reads]
    assert "id" in [e.argv[0] for e in box.processes if not e.expected]
    assert "connect exfil.pkgvet-test.invalid:443" in [e.detail for e in box.network]
    assert {"PV801", "PV804", "PV806", "PV803"} <= _sandbox_rules(result)
    assert decide([f for f in result.findings if f.analyzer == "sandbox"]) is Verdict.MALICIOUS


@pytest.mark.usefixtures("engine_ready")
def test_requests_sdist_installs_benign_with_no_sandbox_findings(tmp_path: Path) -> None:
    prepared = wheelhouse.default_dir()
    house = prepared if wheelhouse.wheels_in(prepared) else None
    settings = {"wheelhouse": house} if house else {}
    result = _sandboxed(REAL / "requests-2.32.3.tar.gz", tmp_path, **settings)
    assert result.sandbox is not None and result.sandbox.installable
    assert result.sandbox.modules == ("requests",)
    assert _sandbox_rules(result) == set()
    assert result.verdict is Verdict.BENIGN


@pytest.mark.usefixtures("engine_ready")
def test_import_time_behaviour_of_a_wheel(tmp_path: Path) -> None:
    result = _sandboxed(fx.wheel(tmp_path, "chatty", fx.IMPORT_TIME), tmp_path)
    (finding,) = [f for f in result.findings if f.rule_id == "PV804"]
    assert finding.phase is Phase.IMPORT and "whoami" in finding.snippet


@pytest.mark.usefixtures("engine_ready")
@pytest.mark.parametrize(("payload", "rule", "settings"), [
    (fx.FORK_STORM, "PV812", {}),
    (fx.MEMORY_HOG, "PV813", {}),
    (fx.WRITES_ETC, "PV807", {}),
], ids=["fork-bomb", "memory-grab", "write-etc"])
def test_hostile_behaviour_is_contained_and_reported(
    tmp_path: Path, payload: str, rule: str, settings: dict[str, Any]
) -> None:
    run_label = f"org.pkgvet.test={uuid.uuid4().hex}"
    key, value = run_label.split("=")
    result = _sandboxed(fx.sdist(tmp_path, "hostile", payload), tmp_path,
                        labels={key: value}, **settings)
    assert rule in _sandbox_rules(result), [f.rule_id for f in result.findings]
    assert result.verdict is not Verdict.BENIGN
    assert _containers(run_label) == ""  # removed, also after a kill


@pytest.mark.usefixtures("engine_ready")
def test_a_build_past_the_time_limit_is_a_note_not_a_flag(tmp_path: Path) -> None:
    """Running long is what slow builds do: the time limit is a resource note (PV811 info),
    contained and reported, and not evidence by itself."""
    run_label = f"org.pkgvet.test={uuid.uuid4().hex}"
    key, value = run_label.split("=")
    result = _sandboxed(fx.sdist(tmp_path, "slowbuild", fx.ENDLESS), tmp_path,
                        labels={key: value}, install_seconds=10.0)
    (limit,) = [f for f in result.findings if f.rule_id == "PV811"]
    assert limit.severity is Severity.INFO and "time limit" in limit.title
    assert result.sandbox is not None and result.sandbox.timed_out
    assert result.sandbox.verdict is Verdict.BENIGN
    assert _containers(run_label) == ""


@pytest.mark.usefixtures("engine_ready")
def test_cli_sandbox_json_section(tmp_path: Path) -> None:
    path = fx.sdist(tmp_path, "stealer", fx.STEALER)
    empty = _empty_wheelhouse(tmp_path)
    done = subprocess.run(
        [PKGVET, "scan", str(path), "--sandbox", "--wheelhouse",
         str(empty), "--no-cache", "-f", "json"], capture_output=True, text=True, check=False)
    assert done.returncode == 2, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    box = result["sandbox"]
    assert set(box) >= {"processes", "network", "sensitive_reads", "writes", "timed_out",
                        "exit_code", "phase"}
    assert box["phase"] == "import" and box["exit_code"] == 0


@pytest.mark.usefixtures("engine_ready")
def test_ctrl_c_removes_the_container(tmp_path: Path) -> None:
    path = fx.sdist(tmp_path, "hangs", fx.ENDLESS)
    empty = _empty_wheelhouse(tmp_path)
    proc = subprocess.Popen(
        [PKGVET, "scan", str(path), "--sandbox",
         "--wheelhouse", str(empty), "--no-cache"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    label = f"org.pkgvet.owner-pid={proc.pid}"
    deadline = time.monotonic() + 60
    while not _containers(label) and time.monotonic() < deadline:
        time.sleep(0.2)
    started = _containers(label)
    assert started, "the sandbox container never started"
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert _containers(label) == ""
    traced = runtime.traced_gvisor(engine.client().info())
    if traced is not None:  # and gVisor's trace log of it is gone too
        assert gvisor_log.find_log(traced[1], started.split()[0], since=0) is None


@pytest.mark.usefixtures("engine_ready")
def test_doctor_reports_a_ready_sandbox() -> None:
    done = subprocess.run([PKGVET, "sandbox", "doctor"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
    assert "sandbox image" in done.stdout and "strace" in done.stdout


def test_dockerfile_and_offline_build_carry_the_same_recipe() -> None:
    from pkgvet.sandbox import engine, image

    dockerfile = image.dockerfile((Path(engine.__file__).parent / "Dockerfile").read_text())
    assert f'LABEL {engine.RECIPE_LABEL}="{engine.RECIPE}"' in dockerfile
    assert f'LABEL {engine.RECIPE_LABEL}="{engine.RECIPE}"' in image.CHANGES
    assert engine.DEFAULT_IMAGE.endswith(f":{engine.RECIPE}")


def test_tls_server_name_from_a_real_client_hello() -> None:
    import ssl

    from pkgvet.sandbox.observe import tls_server_name

    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing,
                                                server_hostname="exfil.pkgvet-test.invalid")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    hello = outgoing.read()
    assert tls_server_name(hello) == "exfil.pkgvet-test.invalid"
    assert tls_server_name(hello[:20]) is None
    assert tls_server_name(b"GET / HTTP/1.1\r\n") is None
