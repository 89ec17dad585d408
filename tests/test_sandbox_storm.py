"""Fork storms that stay under the process limit (PV829): children that pause, children that
sleep for ten minutes (the clock library cuts that short), a double-fork daemon storm, and a
storm spread over a tree so that no parent has many children. A build that runs its compiler
a few dozen times in sequence, and a pool of four workers, stay benign. The trace readers
(strace's and gVisor's) on recorded lines, then real containers under gVisor and runc."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pytest

import sandbox_fixtures as fx
from pkgvet.model import ScanResult, Verdict
from pkgvet.pipeline import scan_targets
from pkgvet.sandbox import SandboxSettings, engine, gvisor_log, probe
from pkgvet.sandbox.honeytokens import Honeytokens
from pkgvet.sandbox.observe import observe

IMAGE = os.environ.get("PKGVET_SANDBOX_IMAGE", engine.IMAGE)

# --- inert fixtures: each parks processes, none of them does anything else -----------------

PAUSE_STORM = """\
import os, signal
children = []
for _ in range(120):
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""

SLEEP_STORM = """\
import os, time
children = []
for _ in range(120):
    pid = os.fork()
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
"""

DAEMON_STORM = """\
import os, signal
for _ in range(60):
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            signal.pause()
        os._exit(0)
    os.waitpid(pid, 0)
"""

TREE_STORM = """\
import os

def grow(depth):
    if depth == 0:
        r, w = os.pipe()
        os.read(r, 1)
        os._exit(0)
    kids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            grow(depth - 1)
            os._exit(0)
        kids.append(pid)
    for pid in kids:
        os.waitpid(pid, 0)

grow(6)
"""
"""Two children per process, six levels (126 processes), each leaf blocked on a pipe read:
no parent has many children."""

BUILD_LOOKALIKE = """\
import multiprocessing, subprocess
for _ in range(60):  # more runs than STORM_COPIES: each one runs a program
    subprocess.run(["gcc", "--version"], check=True, stdout=subprocess.DEVNULL)
with multiprocessing.get_context("fork").Pool(4) as pool:
    assert pool.map(abs, range(-40, 0)) == list(range(40, 0, -1))
"""


# --- the readers on recorded lines --------------------------------------------------------


def _strace_tree(lines: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(probe, "_out", io.StringIO())
    reader = probe.TraceReader("install", 1000)
    for line in lines:
        reader.feed(line)
    return reader.tree.summary()


def _clone(parent: int, child: int) -> str:
    return (f"{parent} clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|"
            f"SIGCHLD, child_tidptr=0x7f00) = {child} <0.000100>")


def test_strace_children_alive_together_make_a_storm(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [_clone(10, 100 + i) for i in range(20)]
    lines.append("10 clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
                 "CLONE_SYSVSEM, exit_signal=0}, 88) = 300 <0.0001>")  # a thread: not counted
    lines.append("10 clone(child_stack=NULL, flags=SIGCHLD) = -1 EAGAIN (Resource temporarily "
                 "unavailable) <0.0001>")
    tree = _strace_tree(lines, monkeypatch)
    assert (tree["created"], tree["peak_children"], tree["peak_parent"]) == (20, 20, 10)
    assert tree["copies"] == 20 and tree["failed_forks"] == 1


def test_strace_compiler_runs_in_sequence_are_no_storm(monkeypatch: pytest.MonkeyPatch) -> None:
    """As strace writes a vfork: the child's execve (and, for a quick child, its exit) comes
    before the parent's return from clone."""
    lines = []
    for i in range(80):
        child = 100 + i
        execve = (f'{child} execve("/usr/bin/gcc", ["gcc", "-c", "x{i}.c"], 0x7ff /* 9 vars */)'
                  " = 0 <0.000300>")
        if i % 2:
            lines += [execve, f"{child} +++ exited with 0 +++", _clone(10, child)]
        else:
            lines += [execve, _clone(10, child), f"{child} +++ exited with 0 +++"]
    tree = _strace_tree(lines, monkeypatch)
    assert tree["created"] == 80
    assert (tree["peak_alive"], tree["peak_children"], tree["copies"]) == (1, 1, 0)


GVISOR_HEAD = ("I1201 15:34:16.276001   22981 main.go:217] Args: [runsc-sandbox "
               "--debug-log=/x/ boot abc123]\n")


def _gline(second: float, pid: int, text: str) -> str:
    return f"I1201 15:34:{second:09.6f}   22981 strace.go:611] [{pid:4d}:{pid:4d}] python3 {text}\n"


def test_gvisor_double_fork_daemons_pile_up_across_parents(tmp_path: Path) -> None:
    log = tmp_path / "runsc.log.boot.txt"
    text = GVISOR_HEAD
    for i in range(40):  # 40 -> intermediate (exits) -> daemon (stays)
        middle, daemon = 100 + 2 * i, 101 + 2 * i
        text += _gline(17 + i / 100, 40, f"X clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|0x11,"
                                         f" 0x0, 0x0, 0x7f, 0x0) = {middle} ({hex(middle)}) (1ms)")
        text += _gline(17 + i / 100, middle, f"X clone(CLONE_CHILD_CLEARTID|0x11, 0x0, 0x0, 0x7f,"
                                             f" 0x0) = {daemon} ({hex(daemon)}) (1ms)")
        text += _gline(17 + i / 100, middle, "E exit_group(0x0)")
    text += _gline(20, 40, "X clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
                           "CLONE_SYSVSEM|CLONE_SETTLS, 0x7f, 0x7f, 0x7f, 0x7f) = 999 (0x3e7) (1ms)")
    text += "I1201 15:34:27.000000   22981 main.go:266] Exiting with status: 0\n"
    log.write_text(text)
    spawned = [{"pid": 40, "phase": "install", "label": "final", "mono": 1000.0}]
    reading = gvisor_log.read(log, spawned, 1000, ("/home/sandbox/",))
    (tree,) = [r for r in reading.records if r["type"] == "process_tree"]
    assert tree["created"] == 80 and tree["peak_children"] <= 2 and tree["peak_alive"] == 41
    assert reading.crash == ""
    _, findings = observe([*_phases(), tree], Honeytokens.fresh(), image="i", seconds=1,
                          killed_by_host=False, timeout=10)
    (storm,) = [f for f in findings if f.rule_id == "PV829"]
    assert "41 of its processes alive at once" in storm.snippet


def test_gvisor_vfork_children_that_run_first_are_no_storm(tmp_path: Path) -> None:
    """gVisor writes a vfork's return after the child's execve, and a quick child's
    exit_group can come first too: 80 compiler runs in sequence stay one process at a time."""
    log = tmp_path / "runsc.log.boot.txt"
    text = GVISOR_HEAD
    for i in range(80):
        child, second = 100 + i, 17 + i / 100
        text += _gline(second, child, f"X execve(0x7f /usr/bin/gcc, 0x7f [\"gcc\", \"x{i}.c\"], "
                                      "0x7f [\"HOME=/root\"]) = 0 (0x0) (1ms)")
        if i % 2:
            text += _gline(second, child, "E exit_group(0x0)")
        text += _gline(second, 40, f"X clone(CLONE_VM|CLONE_VFORK|0x11, 0x7f, 0x0, 0x0, 0x0) = "
                                   f"{child} ({hex(child)}) (1ms)")
        if not i % 2:
            text += _gline(second, child, "E exit_group(0x0)")
    text += "I1201 15:34:27.000000   22981 main.go:266] Exiting with status: 0\n"
    log.write_text(text)
    spawned = [{"pid": 40, "phase": "install", "label": "final", "mono": 1000.0}]
    reading = gvisor_log.read(log, spawned, 1000, ("/home/sandbox/",))
    (tree,) = [r for r in reading.records if r["type"] == "process_tree"]
    assert tree["created"] == 80
    assert (tree["peak_alive"], tree["peak_children"], tree["copies"]) == (1, 1, 0)


def _phases() -> list[dict[str, Any]]:
    return [{"type": "phase_start", "phase": "install"},
            {"type": "phase_end", "phase": "install", "exit_code": 0, "timed_out": False,
             "output_tail": ""},
            {"type": "limits"}, {"type": "done"}]


def test_many_processes_asking_for_long_sleeps_are_a_storm_a_few_are_not() -> None:
    def sleeps(count: int) -> list[dict[str, Any]]:
        return [{"type": "persona", "what": "sleep", "call": "clock_nanosleep", "pid": 200 + i,
                 "requested": 600.0, "phase": "install"} for i in range(count)]

    _, storm = observe([*sleeps(30), *_phases()], Honeytokens.fresh(), image="i", seconds=1,
                       killed_by_host=False, timeout=10)
    assert "PV829" in {f.rule_id for f in storm}
    _, few = observe([*sleeps(2), *_phases()], Honeytokens.fresh(), image="i", seconds=1,
                     killed_by_host=False, timeout=10)
    runs = [{**r, "label": f"run {i}"} for i, r in enumerate(sleeps(30))]  # 30 separate runs
    _, apart = observe([*runs, *_phases()], Honeytokens.fresh(), image="i", seconds=1,
                       killed_by_host=False, timeout=10)
    assert "PV829" not in {f.rule_id for f in apart}
    assert "PV829" not in {f.rule_id for f in few}
    assert "PV824" in {f.rule_id for f in few}


# --- real containers ------------------------------------------------------------------------


def _run(tmp_path: Path, payload: str, runtime: str) -> ScanResult:
    fx.require_sandbox(SandboxSettings(image=IMAGE, runtime=runtime), runtime)
    house = tmp_path / "wheelhouse"
    house.mkdir(exist_ok=True)
    settings = SandboxSettings(wheelhouse=house, install_seconds=25.0, import_seconds=10.0,
                               runtime=runtime, image=IMAGE)
    report = scan_targets([str(fx.sdist(tmp_path, "swarm", payload))], jobs=1, sandbox=settings)
    (result,) = report.results
    assert result.sandbox is not None, result.errors
    return result


def _sandbox_rules(result: ScanResult) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in result.findings:
        if f.analyzer == "sandbox":
            found.setdefault(f.rule_id, []).append(f.snippet)
    return found


STORMS = {"pause": PAUSE_STORM, "sleep-600": SLEEP_STORM, "double-fork-daemons": DAEMON_STORM,
          "tree": TREE_STORM}


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
@pytest.mark.parametrize("name", sorted(STORMS))
def test_a_fork_storm_under_the_process_limit_is_a_finding(
        tmp_path: Path, name: str, runtime: str) -> None:
    result = _run(tmp_path, STORMS[name], runtime)
    rules = _sandbox_rules(result)
    assert "PV829" in rules or "PV812" in rules, json.dumps(rules, indent=1)
    assert result.sandbox is not None and result.sandbox.verdict is not Verdict.BENIGN


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_a_build_that_runs_its_compiler_in_sequence_and_a_small_pool_is_benign(
        tmp_path: Path, runtime: str) -> None:
    result = _run(tmp_path, BUILD_LOOKALIKE, runtime)
    assert result.sandbox is not None and result.sandbox.installable, result.sandbox
    rules = _sandbox_rules(result)
    assert "PV829" not in rules and "PV812" not in rules, rules
    assert result.sandbox.verdict is Verdict.BENIGN, rules
