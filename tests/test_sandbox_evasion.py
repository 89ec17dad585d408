"""The sandbox against a package that knows it is watched: each inert fixture tries one trick
to blind, fool, tamper with or outwait the observer, then steals (`~/.ssh/id_rsa` to a
`.invalid` host). Real containers, under gVisor (traced from the host) and under runc (strace
in the container, as another user than the package), plus the parsers on recorded lines."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

import sandbox_fixtures as fx
from pkgvet.model import Phase, ScanResult, Verdict
from pkgvet.pipeline import scan_targets
from pkgvet.sandbox import SandboxSettings, SandboxUnavailable, engine, gvisor_log, probe
from pkgvet.sandbox import runtime as runtime_mod
from pkgvet.sandbox.honeytokens import Honeytokens
from pkgvet.sandbox.observe import observe
from sandbox_fixtures import evasion as ev

IMAGE = os.environ.get("PKGVET_SANDBOX_IMAGE", engine.IMAGE)

# --- gVisor's log, as runsc 2022-12-19 writes it ---------------------------------------------

LOG = """\
I1201 15:34:16.276001   22981 main.go:217] Args: [runsc-sandbox --debug-log=/x/ boot abc123]
I1201 15:34:16.384289   22981 strace.go:570] [  40:  40] python3 E openat(AT_FDCWD /tmp, 0x7f45 /home/sandbox/./.ssh/../.ssh/id_rsa, O_RDONLY|O_CLOEXEC, 0o0)
I1201 15:34:16.384535   22981 strace.go:608] [  40:  40] python3 X openat(AT_FDCWD /tmp, 0x7f45 /home/sandbox/./.ssh/../.ssh/id_rsa, O_RDONLY|O_CLOEXEC, 0o0) = 3 (0x3) (176.331µs)
I1201 15:34:16.390000   22981 strace.go:611] [  40:  40] python3 X clone(CLONE_VM|CLONE_VFORK|0x11, 0x7f45, 0x0, 0x0, 0x0) = 41 (0x29) (152.866µs)
I1201 15:34:16.400000   22981 strace.go:605] [  41:  41] python3 X execve(0x7f45 /tmp/x/gcc, 0x7f8f ["gcc", "-c", "id"], 0xacaa ["HOME=/root"]) = 0 (0x0) (779.916µs)
I1201 15:34:16.483629   22981 strace.go:614] [  41:  41] gcc X sendto(0x3 socket:[1], 0x7f45, 0x7, 0x0, 0x7f8f {Family: AF_INET, Addr: 192.0.2.53, Port: 53}, 0x10) = 7 (0x7) (437.128µs)
I1201 15:34:16.500000   22981 strace.go:576] [  41:  41] gcc E sys_437(0xffffffffffffff9c, 0x7ffb, 0x7ffb, 0x18, 0xb58bf0, 0x6)
I1201 15:34:16.500100   22981 strace.go:614] [  41:  41] gcc X sys_437(0xffffffffffffff9c, 0x7ffb, 0x7ffb, 0x18, 0xb58bf0, 0x6) = 0 (0x0) errno=38 (invalid system call number) (25.477µs)
I1201 15:34:16.600000   22981 strace.go:570] [  41:  41] gcc E clock_nanosleep(0x1, 0x1, 0x7f8f {sec=1200 nsec=0}, 0x0)
I1201 15:34:17.000000   22981 strace.go:570] [   1:   1] python3 E openat(AT_FDCWD /, 0x7f45 /home/sandbox/.ssh/id_rsa, O_RDONLY, 0o0)
I1201 15:34:17.000100   22981 strace.go:608] [   1:   1] python3 X openat(AT_FDCWD /, 0x7f45 /home/sandbox/.ssh/id_rsa, O_RDONLY, 0o0) = 3 (0x3) (1µs)
I1201 15:34:27.000000   22981 main.go:266] Exiting with status: 0
"""


def test_gvisor_log_facts_are_attributed_to_phases_by_process_tree(tmp_path: Path) -> None:
    log = tmp_path / "runsc.log.20261201-153416.boot.txt"
    log.write_text(LOG)
    assert gvisor_log.find_log(tmp_path, "abc123", 0) == log
    assert gvisor_log.find_log(tmp_path, "other", 0) is None
    spawned = [{"pid": 40, "phase": "install", "label": "final", "mono": 1000.0}]
    reading = gvisor_log.read(log, spawned, 1000, ("/home/sandbox/",))
    facts = {r["call"]: r for r in reading.records if r["type"] == "syscall" and not r.get("via")}
    assert facts["open"]["path"] == "/home/sandbox/.ssh/id_rsa"  # normalised
    assert facts["execve"]["path"] == "/tmp/x/gcc" and facts["execve"]["argv"][0] == "gcc"
    assert (facts["sendto"]["address"], facts["sendto"]["port"]) == ("192.0.2.53", 53)
    assert any(r.get("via") == "openat2" for r in reading.records)
    wait = facts["wait"]  # cut by the end of the log: asked 1200 - 1000.216 s, waited 10.4 s
    assert wait["unfinished"] and 199 < wait["requested"] < 200 and wait["elapsed"] > 10
    assert all(r.get("pid") != 1 for r in reading.records)  # the probe's own reads are not facts
    assert reading.exit_status == 0 and reading.unparsed == 0


def test_gvisor_log_that_stops_early_or_floods_is_reported(tmp_path: Path) -> None:
    log = tmp_path / "runsc.log.boot.txt"
    lines = [*LOG.splitlines()[:-1], "I1201 15:34:18.0 22981 strace.go:1] [ 41: 41] gcc X bad"]
    log.write_text("\n".join(lines))
    spawned = [{"pid": 40, "phase": "install", "label": "final", "mono": 1000.0}]
    reading = gvisor_log.read(log, spawned, 1, ("/home/sandbox/",))
    assert reading.exit_status is None and reading.unparsed == 1
    assert any(r["type"] == "flood" for r in reading.records)
    report, findings = observe([*_phases(), *reading.records], Honeytokens.fresh(), image="i",
                               seconds=1, killed_by_host=False, timeout=10,
                               trace={"exit_status": None, "unparsed": 1, "lines": 12})
    assert {"PV819", "PV820"} <= {f.rule_id for f in findings}
    assert report.verdict is not Verdict.BENIGN


# --- the probe's own parsing (runc) ------------------------------------------------------


def test_paths_are_normalised() -> None:
    assert probe.normalise("/home/sandbox/./.ssh//../.ssh/id_rsa") == "/home/sandbox/.ssh/id_rsa"
    assert probe.normalise("/proc/self/root/home/sandbox/.aws") == "/home/sandbox/.aws"
    assert probe.normalise("/proc/1/root/proc/self/root/etc/shadow") == "/etc/shadow"
    assert probe.normalise(".ssh/id_rsa", "/home/sandbox") == "/home/sandbox/.ssh/id_rsa"


def test_strace_openat2_sleep_and_flood(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(probe, "_out", out)
    monkeypatch.setattr(probe, "READS_UNDER", ("/home/sandbox/",))
    reader = probe.TraceReader("install", 3)
    stamp = f"{__import__('time').time() - 12:.6f}"
    for line in (
        '7 openat2(AT_FDCWD</tmp>, "/tmp/../home/sandbox/.ssh/id_rsa", {flags=O_RDONLY}, 24) '
        '= 3</home/sandbox/.ssh/id_rsa> <0.000010>',
        f"8 {stamp} clock_nanosleep(CLOCK_REALTIME, 0, {{tv_sec=200, tv_nsec=0}},  "
        "<unfinished ...>) = ?",
        '7 io_uring_setup(8, {flags=0}) = 4 <0.000010>',
        '7 openat(AT_FDCWD</tmp>, "/home/sandbox/a", O_RDONLY) = -1 ENOENT (x) <0.0001>',
        '7 openat(AT_FDCWD</tmp>, "/home/sandbox/b", O_RDONLY) = -1 ENOENT (x) <0.0001>',
        '7 openat(AT_FDCWD</tmp>, "/home/sandbox/b", O_RDONLY) = -1 ENOENT (x) <0.0001>',
        '7 openat(AT_FDCWD</tmp>, "/home/sandbox/c", O_RDONLY',
    ):
        reader.feed(line)
    facts = [json.loads(line) for line in out.getvalue().splitlines()]
    assert facts[0] == {"type": "syscall", "phase": "install", "pid": 7, "call": "open",
                        "path": "/home/sandbox/.ssh/id_rsa", "write": False, "ok": True,
                        "errno": "", "via": "openat2"}
    wait = facts[1]
    assert wait["call"] == "wait" and wait["requested"] == 200 and wait["elapsed"] >= 11
    assert facts[2]["call"] == "io_uring_setup"
    assert [f["type"] for f in facts].count("flood") == 1 and reader.dropped >= 2
    assert reader.unparsed == 1


# --- the observer on recorded facts ------------------------------------------------------


def _phases(*install: dict[str, Any], end: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return [{"type": "phase_start", "phase": "install"}, *install,
            {"type": "phase_end", "phase": "install", "exit_code": 0, "timed_out": False,
             "output_tail": "", **(end or {})},
            {"type": "limits"}, {"type": "done"}]


def _call(**fact: Any) -> dict[str, Any]:
    return {"type": "syscall", "phase": "install", "pid": 9, **fact}


def test_programs_are_judged_by_content_not_by_name() -> None:
    records = _phases(
        _call(call="execve", path="/tmp/t/gcc", argv=["gcc", "-c", "x"], ok=True),
        _call(call="execve", path="/bin/sh", argv=["gcc", "-c", "y"], ok=True),  # argv[0] lies
        _call(call="execve", path="/usr/bin/gcc", argv=["gcc", "x.c"], ok=True),
        {"type": "programs", "phase": "install",
         "files": {"/tmp/t/gcc": {"sha256": "ab", "same_as": ["/usr/bin/dash"]}}})
    report, findings = observe(records, Honeytokens.fresh(), image="i", seconds=1,
                               killed_by_host=False, timeout=10)
    by_rule = {(f.rule_id, f.snippet.split(":")[0]) for f in findings}
    assert ("PV825", "/tmp/t/gcc is dash") in by_rule
    assert [f.snippet for f in findings if f.rule_id == "PV804"] == [
        "gcc -c x", "gcc -c y [/bin/sh]"]  # what ran, whatever argv[0] says
    assert [e.expected for e in report.processes] == [False, False, True]


def test_left_running_flood_and_forged_lines_are_findings() -> None:
    records = _phases(end={"lingering": True, "lingering_processes": ["12: sleep 300"],
                           "dropped_events": 5, "stuck_processes": ["13"]})
    report, findings = observe(records, Honeytokens.fresh(), image="i", seconds=1,
                               killed_by_host=False, timeout=10, foreign_lines=2,
                               runtime="runc")
    rules = {f.rule_id for f in findings}
    assert {"PV814", "PV819", "PV818", "PV828"} <= rules
    assert "sleep 300" in next(f.snippet for f in findings if f.rule_id == "PV814")
    assert report.runtime == "runc" and report.verdict is not Verdict.BENIGN


def test_reading_what_pid_1_is_is_recon_reading_its_memory_is_tampering() -> None:
    records = _phases(*(_call(call="open", path=f"/proc/1/{name}", write=False, ok=True)
                        for name in ("comm", "cmdline", "stat", "mem", "environ")),
                      _call(call="open", path="/proc/1/comm", write=True, ok=False))
    _, findings = observe(records, Honeytokens.fresh(), image="i", seconds=1,
                          killed_by_host=False, timeout=10)
    tampered = sorted(f.snippet for f in findings if f.rule_id == "PV817")
    assert tampered == ["read /proc/1/environ", "read /proc/1/mem", "write /proc/1/comm"]


def test_a_sleep_the_clock_library_cut_short_is_recorded_with_its_length() -> None:
    records = _phases({"type": "persona", "what": "sleep", "phase": "install", "pid": 12,
                       "call": "clock_nanosleep", "requested": 200.0})
    _, findings = observe(records, Honeytokens.fresh(), image="i", seconds=1,
                          killed_by_host=False, timeout=10)
    (wait,) = [f for f in findings if f.rule_id == "PV824"]
    assert "asked for 200 s" in wait.snippet and "clock moved on" in wait.snippet
    assert wait.severity.label == "high" and wait.phase is Phase.INSTALL


def test_a_thread_s_timed_wait_cut_short_is_a_note_not_a_finding() -> None:
    """Library threads wait on events with timeouts (flushers, pools, watchdogs): cut short
    like a sleep, but not graded as one."""
    records = _phases({"type": "persona", "what": "sleep", "phase": "import", "pid": 12,
                       "call": "sem_clockwait", "requested": 24.95})
    report, findings = observe(records, Honeytokens.fresh(), image="i", seconds=1,
                               killed_by_host=False, timeout=10)
    assert findings == [] and any("timed waits" in n for n in report.notes)


def test_the_image_compiles_the_clock_library_the_same_way_on_both_build_paths() -> None:
    from pkgvet.sandbox import persona

    dockerfile = (Path(engine.__file__).parent / "Dockerfile").read_text()
    assert f"RUN {persona.clock_build()}\n" in dockerfile
    assert persona.CLOCK_SOURCE in persona.image_files()
    assert "runtime/timecompat.c" in " ".join(engine._IMAGE_INPUTS)  # part of the recipe


def test_a_quiet_run_has_a_benign_sandbox_verdict() -> None:
    report, findings = observe(_phases(), Honeytokens.fresh(), image="i", seconds=1,
                               killed_by_host=False, timeout=10)
    assert findings == [] and report.verdict is Verdict.BENIGN


def test_daemon_json_entry_merges_and_is_recognised() -> None:
    existing = {"runtimes": {"runsc": {"path": "/usr/bin/runsc"}}, "debug": True}
    merged = runtime_mod.merged_config(existing, "/var/log/t/")
    assert merged["debug"] and "runsc" in merged["runtimes"]
    info = {"Runtimes": merged["runtimes"]}
    assert runtime_mod.traced_gvisor(info) == ("runsc-trace", Path("/var/log/t/"))
    assert runtime_mod.traced_gvisor({"Runtimes": existing["runtimes"]}) is None
    assert "without --strace" in runtime_mod.why_not_gvisor({"Runtimes": existing["runtimes"]})


class _Engine:
    def __init__(self, runtimes: dict[str, Any]) -> None:
        self.runtimes = runtimes

    def info(self) -> dict[str, Any]:
        return {"Runtimes": self.runtimes}


def test_runtime_choice_falls_back_to_runc_and_says_why(tmp_path: Path) -> None:
    plain = _Engine({"runc": {"path": "runc"}, "runsc": {"path": "/usr/bin/runsc"}})
    chosen = runtime_mod.choose(plain, "auto")  # type: ignore[arg-type]
    assert (chosen.name, chosen.kind) == ("runc", "runc") and "without --strace" in chosen.note
    with pytest.raises(SandboxUnavailable, match="gVisor was asked for"):
        runtime_mod.choose(plain, "runsc")  # type: ignore[arg-type]
    traced = _Engine(runtime_mod.daemon_entry(str(tmp_path) + "/"))
    chosen = runtime_mod.choose(traced, "auto")  # type: ignore[arg-type]
    assert (chosen.name, chosen.kind, chosen.log_dir) == ("runsc-trace", "gvisor", tmp_path)
    assert runtime_mod.choose(traced, "runc").kind == "runc"  # type: ignore[arg-type]
    missing = _Engine(runtime_mod.daemon_entry(str(tmp_path / "absent") + "/"))
    assert "trace folder" in runtime_mod.choose(missing, "auto").note  # type: ignore[arg-type]


# --- real containers ---------------------------------------------------------------------


def _ready(runtime: str) -> None:
    fx.require_sandbox(SandboxSettings(image=IMAGE, runtime=runtime), runtime)


def _run(tmp_path: Path, payload: str, runtime: str, **settings: Any) -> ScanResult:
    _ready(runtime)
    house = tmp_path / "wheelhouse"
    house.mkdir(exist_ok=True)
    options = {"wheelhouse": house, "install_seconds": 60.0, "import_seconds": 20.0,
               "runtime": runtime, "image": IMAGE, **settings}
    path = fx.sdist(tmp_path, "evasive", payload)
    report = scan_targets([str(path)], jobs=1, sandbox=SandboxSettings(**options))
    (result,) = report.results
    assert result.sandbox is not None, result.errors
    return result


def _rules(result: ScanResult) -> set[str]:
    return {f.rule_id for f in result.findings if f.analyzer == "sandbox"}


RUNC_TOO = {"tamper-report-channel", "tamper-trace-pipe", "ptrace-pid1", "openat2-read",
            "renamed-shell", "daemon-left-running", "daemon-sleeps-then-steals",
            "read-pid1-memory", "io-uring",
            "unnormalised-path", "detection-tricks-but-tracer"}
GVISOR = set(ev.SANDBOX_EVASIONS) - {"detection-tricks-but-tracer"}
CASES = [pytest.param(name, "runsc", id=f"{name}-gvisor") for name in ev.SANDBOX_EVASIONS
         if name in GVISOR] + \
    [pytest.param(name, "runc", id=f"{name}-runc") for name in ev.SANDBOX_EVASIONS
     if name in RUNC_TOO]


@pytest.mark.sandbox
@pytest.mark.parametrize(("name", "runtime"), CASES)
def test_evasion_then_theft_is_recorded(tmp_path: Path, name: str, runtime: str) -> None:
    payload, expected = ev.SANDBOX_EVASIONS[name]
    result = _run(tmp_path, payload, runtime)
    box = result.sandbox
    assert box is not None
    assert box.runtime == ("runc" if runtime == "runc" else "runsc-trace")
    assert expected <= _rules(result), (sorted(_rules(result)), box.network)
    assert box.verdict is not Verdict.BENIGN
    assert result.verdict is not Verdict.BENIGN


def _run_wheel(tmp_path: Path, init: str, runtime: str, **settings: Any) -> ScanResult:
    """Like `_run`, with the payload in a wheel's `__init__.py` (runs at import time)."""
    _ready(runtime)
    house = tmp_path / "wheelhouse"
    house.mkdir(exist_ok=True)
    options = {"wheelhouse": house, "install_seconds": 60.0, "import_seconds": 20.0,
               "runtime": runtime, "image": IMAGE, **settings}
    path = fx.wheel(tmp_path, "patient", init)
    report = scan_targets([str(path)], jobs=1, sandbox=SandboxSettings(**options))
    (result,) = report.results
    assert result.sandbox is not None, result.errors
    return result


def _caught_after_sleep(result: ScanResult, phase: Phase, asked: str = "asked for 200 s") -> None:
    waits = [f for f in result.findings if f.rule_id == "PV824"]
    assert any(w.phase is phase and asked in w.snippet for w in waits), \
        [(w.phase, w.snippet) for w in waits]
    assert {"PV801", "PV803"} <= _rules(result), sorted(_rules(result))  # the theft ran
    assert "PV811" not in _rules(result)  # within the time limit
    assert result.sandbox is not None and result.sandbox.verdict is Verdict.MALICIOUS


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_a_200_s_sleep_at_install_is_cut_short_recorded_and_the_theft_caught(
        tmp_path: Path, runtime: str) -> None:
    """The first sandbox waited the sleep out to its time limit (PV811 only)."""
    _caught_after_sleep(_run(tmp_path, ev.LONG_SLEEP, runtime), Phase.INSTALL)


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_a_200_s_sleep_at_import_is_cut_short_and_the_theft_caught(
        tmp_path: Path, runtime: str) -> None:
    _caught_after_sleep(_run_wheel(tmp_path, ev.LONG_SLEEP, runtime), Phase.IMPORT)


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_a_package_that_checks_the_sleep_lasted_still_proceeds(
        tmp_path: Path, runtime: str) -> None:
    """time.time, time.monotonic and datetime.now all moved on by the 260 s skipped."""
    _caught_after_sleep(_run(tmp_path, ev.CHECKED_SLEEP, runtime), Phase.INSTALL)


@pytest.mark.sandbox
@pytest.mark.parametrize(("payload", "asked"), [
    pytest.param(ev.NATIVE_SLEEP, "asked for 200 s", id="sleep-program"),
    pytest.param(ev.ASYNCIO_SLEEP, "asked for 200 s", id="asyncio-sleep"),
])
def test_other_kinds_of_sleep_are_cut_short_too(tmp_path: Path, payload: str,
                                                 asked: str) -> None:
    _caught_after_sleep(_run(tmp_path, payload, "runsc"), Phase.INSTALL, asked)


@pytest.mark.sandbox
def test_a_raw_nanosleep_system_call_is_still_recorded_with_its_length(tmp_path: Path) -> None:
    """Evasion of the clock library: the system call without libc. It is not cut short, but
    the host's trace still has it, with the length asked for, and the time limit ends it."""
    result = _run(tmp_path, ev.RAW_SYSCALL_SLEEP, "runsc", install_seconds=12.0)
    waits = [f for f in result.findings if f.rule_id == "PV824"]
    assert any("asked for 200 s" in w.snippet and w.phase is Phase.INSTALL for w in waits)
    assert "PV811" in _rules(result)
    assert result.sandbox is not None and result.sandbox.verdict is not Verdict.BENIGN


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_the_trace_pipe_is_out_of_reach_at_import_time_too(tmp_path: Path, runtime: str) -> None:
    """The first sandbox's package held strace's output pipe at import time."""
    payload, expected = ev.SANDBOX_EVASIONS["tamper-trace-pipe"]
    result = _run_wheel(tmp_path, payload, runtime)
    assert expected <= _rules(result), sorted(_rules(result))
    assert any(f.phase is Phase.IMPORT and f.rule_id == "PV803" for f in result.findings)


@pytest.mark.sandbox
def test_a_flood_past_the_budget_is_an_evasion_finding(tmp_path: Path) -> None:
    """The first sandbox kept 20,000 events per phase and dropped the rest in silence."""
    result = _run(tmp_path, ev.EVENT_FLOOD, "runc", max_events=20000)
    assert "PV819" in _rules(result)
    assert result.sandbox is not None and result.sandbox.verdict is not Verdict.BENIGN


@pytest.mark.sandbox
def test_gigabytes_of_output_are_a_finding_not_a_crash(tmp_path: Path) -> None:
    _ready("runsc")
    house = tmp_path / "wheelhouse"
    house.mkdir()
    path = fx.wheel(tmp_path, "loud", ev.OUTPUT_FLOOD)
    report = scan_targets([str(path)], jobs=1, sandbox=SandboxSettings(
        wheelhouse=house, runtime="runsc", import_seconds=60.0, image=IMAGE))
    (result,) = report.results
    assert "PV826" in _rules(result), result.errors
    assert result.sandbox is not None and result.sandbox.verdict is not Verdict.BENIGN


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_filling_the_disk_is_a_resource_finding(tmp_path: Path, runtime: str) -> None:
    """Under runc /tmp is a 200 MiB tmpfs (ENOSPC); gVisor ignores tmpfs sizes, so the same
    fill runs into the memory limit instead. Either way it is reported, never a clean run."""
    result = _run(tmp_path, ev.DISK_FILL, runtime, tmp_size="200m")
    assert _rules(result) & {"PV827", "PV813"}, sorted(_rules(result))
    assert result.sandbox is not None and result.sandbox.verdict is not Verdict.BENIGN
