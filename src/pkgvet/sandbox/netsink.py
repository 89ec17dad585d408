"""A network that goes nowhere: the sandbox's `eth0`, whose far end is the probe.

Runs inside the sandbox container (standard library only; the probe builds it from the job's
copy of this source, like the execute phase). The probe, root with CAP_NET_ADMIN, creates a
TUN device named `eth0` before the package runs, gives it an ordinary private address and a
default route, and `/etc/resolv.conf` names the gateway. So "is there a network" checks
(`socket.if_nameindex()`, `/proc/net/route`, a lookup, a connect to a public address) pass.

Every packet the container sends out of `eth0` arrives on the TUN descriptor, which only the
probe holds. Nothing is forwarded: there is no other interface (`--network=none` under
gVisor, `network_mode=none` under runc), so the packets have nowhere else to go. The sink
answers what a "network check" expects and records everything as events:

- DNS (UDP port 53, whatever the server address): the name is recorded (`dns`) and answered
  with an address of SINK_POOL, unique per name, so the connect that follows says which name
  it was for;
- TCP: the handshake is completed for every address and port, the first bytes the client
  sends are recorded (`sink`, with `proto: tcp`), an HTTP request gets an empty `200`, then
  the connection is closed;
- other UDP datagrams: recorded with their data (`sink`, `proto: udp`).

The host (`pkgvet.sandbox.observe`) imports the constants below to know these addresses.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import random
import select
import socket
import struct
import threading
import time
from collections.abc import Callable

INTERFACE = "eth0"
ADDRESS = "192.168.1.37"
GATEWAY = "192.168.1.1"
"""The container's address, its router, and its resolver (`/etc/resolv.conf`)."""
PREFIX = 24
SINK_POOL = "104.18."
"""DNS answers: ordinary public-looking addresses (all of them end at this sink)."""
SINK_BYTES = 4096
IDLE_SECONDS = 2.0
"""A connection that sent nothing for this long is recorded and reset."""

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
RTM_NEWLINK, RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE = 16, 20, 21, 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

Emit = Callable[..., None]


class NetworkUnavailable(Exception):
    """The interface could not be made (no TUN device, no CAP_NET_ADMIN)."""


# --- set-up ----------------------------------------------------------------------------------


def _attr(kind: int, data: bytes) -> bytes:
    size = 4 + len(data)
    return struct.pack("=HH", size, kind) + data + b"\0" * (-size % 4)


class _Netlink:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    def request(self, kind: int, flags: int, body: bytes) -> int:
        """Send one request; 0 or the negative errno the kernel answered."""
        self.seq += 1
        header = struct.pack("=IHHII", 16 + len(body), kind, flags | NLM_F_REQUEST | NLM_F_ACK,
                             self.seq, 0)
        self.sock.send(header + body)
        reply = self.sock.recv(65536)
        if len(reply) >= 20 and struct.unpack("=H", reply[4:6])[0] == 2:  # NLMSG_ERROR
            return int(struct.unpack("=i", reply[16:20])[0])
        return 0

    def close(self) -> None:
        self.sock.close()


def make_interface() -> int:
    """Create `eth0` as a TUN device, address it and route everything through it; its
    descriptor (close-on-exec: no child of the probe holds it)."""
    try:
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        raise NetworkUnavailable(f"/dev/net/tun: {exc.strerror}") from None
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", INTERFACE.encode(), IFF_TUN | IFF_NO_PI))
        index = socket.if_nametoindex(INTERFACE)
        link = _Netlink()
        try:
            link.request(RTM_NEWLINK, 0, struct.pack("=BxHiII", 0, 0, index, 1, 1))  # up
            address = socket.inet_aton(ADDRESS)

            def address_request(kind: int, prefix: int) -> int:
                flags = NLM_F_CREATE | NLM_F_EXCL if kind == RTM_NEWADDR else 0
                return link.request(kind, flags,
                                    struct.pack("=BBBBI", socket.AF_INET, prefix, 0, 0, index)
                                    + _attr(2, address) + _attr(1, address))

            if address_request(RTM_NEWADDR, PREFIX):
                raise NetworkUnavailable("the interface's address was refused")
            # rtmsg: family, dst_len, src_len, tos, table main, protocol boot, scope
            # universe, type unicast, flags; then the gateway and the output interface.
            route = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 254, 3, 0, 1, 0) + \
                _attr(5, socket.inet_aton(GATEWAY)) + _attr(4, struct.pack("=I", index))
            # gVisor 2022 has no RTM_NEWROUTE: the same address with a prefix that covers
            # every destination gives the same path (a default route without a gateway).
            if link.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, route) and (
                    address_request(RTM_DELADDR, PREFIX) or address_request(RTM_NEWADDR, 0)):
                raise NetworkUnavailable("no default route could be set")
        finally:
            link.close()
    except (OSError, NetworkUnavailable) as exc:
        os.close(fd)
        if isinstance(exc, NetworkUnavailable):
            raise
        raise NetworkUnavailable(f"{INTERFACE}: {exc.strerror or exc}") from None
    return fd


# --- packets ---------------------------------------------------------------------------------


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), random.getrandbits(16),
                         0x4000, 64, proto, 0, src, dst)
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def tcp(src: bytes, dst: bytes, sport: int, dport: int, seq: int, ack: int, flags: int,
        payload: bytes = b"") -> bytes:
    options = b"\x02\x04\x05\xb4" if flags & SYN else b""  # MSS 1460
    offset = (20 + len(options)) // 4
    header = struct.pack("!HHIIHHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                         (offset << 12) | flags, 64240, 0, 0) + options
    segment = header + payload
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(segment))
    segment = segment[:16] + struct.pack("!H", checksum(pseudo + segment)) + segment[18:]
    return ipv4(src, dst, 6, segment)


def udp(src: bytes, dst: bytes, sport: int, dport: int, payload: bytes) -> bytes:
    return ipv4(src, dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)


def question(packet: bytes) -> tuple[str, int, int] | None:
    """(name, query type, end of the question) of a DNS query, or None."""
    if len(packet) < 17:
        return None
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        size = packet[i]
        if size > 63:
            return None
        labels.append(packet[i + 1 : i + 1 + size].decode("ascii", "replace"))
        i += 1 + size
    if i + 5 > len(packet):
        return None
    qtype = struct.unpack("!H", packet[i + 1 : i + 3])[0]
    return ".".join(labels).lower(), qtype, i + 5


def dns_answer(packet: bytes, address: str) -> bytes:
    """An answer to `packet` with `address` for an A question, and no records otherwise."""
    found = question(packet)
    if found is None:
        return b""
    _, qtype, end = found
    header = packet[:2] + b"\x81\x80" + packet[4:6]
    asked = packet[12:end]
    if qtype != 1:
        return header + b"\x00\x00\x00\x00\x00\x00" + asked
    record = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + socket.inet_aton(address)
    return header + b"\x00\x01\x00\x00\x00\x00" + asked + record


class Names:
    """The sink's answers: one address of SINK_POOL per name, each lookup recorded once."""

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.by_name: dict[str, str] = {}
        self.lock = threading.Lock()

    def address_for(self, name: str, resolver: str = "") -> str:
        with self.lock:
            if name not in self.by_name:
                n = len(self.by_name) + 1
                self.by_name[name] = f"{SINK_POOL}{n // 250 % 256}.{n % 250 + 1}"
                extra = {"resolver": resolver} if resolver else {}
                self.emit("dns", name=name, answer=self.by_name[name], **extra)
            return self.by_name[name]


class _Connection:
    def __init__(self, client_seq: int) -> None:
        self.ours = random.getrandbits(32)
        self.next = (client_seq + 1) & 0xFFFFFFFF
        self.data = b""
        self.last = time.monotonic()
        self.done = False
        self.sent = 0
        self.recorded = False

    @property
    def seq(self) -> int:
        """Our next sequence number: after the SYN, and after the reply and FIN once closed."""
        return self.ours + 1 + (self.sent + 1 if self.done else 0)


class Sink(threading.Thread):
    """Reads every packet the container sends out of `eth0`; answers and records them."""

    def __init__(self, fd: int, emit: Emit, names: Names) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.emit = emit
        self.names = names
        self.connections: dict[tuple[bytes, int, bytes, int], _Connection] = {}

    def run(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.5)
                if ready:
                    for reply in self.handle(os.read(self.fd, 65536)):
                        os.write(self.fd, reply)
                for reply in self.expire(time.monotonic()):
                    os.write(self.fd, reply)
            except Exception as exc:  # a malformed packet must not stop the sink
                self.emit("probe_note", text=f"network sink: {exc!r}")

    def handle(self, packet: bytes) -> list[bytes]:
        if len(packet) < 20 or packet[0] >> 4 != 4:
            return []  # IPv6: the interface has no IPv6 address, nothing to answer
        ihl = (packet[0] & 0x0F) * 4
        proto, src, dst = packet[9], packet[12:16], packet[16:20]
        body = packet[ihl : struct.unpack("!H", packet[2:4])[0]]
        if proto == 17 and len(body) >= 8:
            return self.datagram(src, dst, body)
        if proto == 6 and len(body) >= 20:
            return self.segment(src, dst, body)
        return []

    def datagram(self, src: bytes, dst: bytes, body: bytes) -> list[bytes]:
        sport, dport = struct.unpack("!HH", body[:4])
        data = body[8:]
        if dport == 53:
            found = question(data)
            if found is not None:
                address = self.names.address_for(found[0], socket.inet_ntoa(dst))
                return [udp(dst, src, 53, sport, dns_answer(data, address))]
        self.emit("sink", proto="udp", address=socket.inet_ntoa(dst), port=dport,
                  data=data[:SINK_BYTES].decode("latin-1"))
        return []

    def segment(self, src: bytes, dst: bytes, body: bytes) -> list[bytes]:
        sport, dport, seq, ack, off_flags = struct.unpack("!HHIIH", body[:14])
        flags = off_flags & 0x3F
        payload = body[(off_flags >> 12) * 4 :]
        key = (src, sport, dst, dport)
        conn = self.connections.get(key)
        if flags & RST:
            if conn is not None:
                self.record(key, conn)
                del self.connections[key]
            return []
        if flags & SYN:
            if conn is None or conn.done:
                conn = self.connections[key] = _Connection(seq)
            return [tcp(dst, src, dport, sport, conn.ours, conn.next, SYN | ACK)]
        if conn is None:  # not ours (an old connection): tell the client so
            return [tcp(dst, src, dport, sport, ack, 0, RST)] if flags & ACK else []
        conn.last = time.monotonic()
        replies = []
        if payload and seq == conn.next and not conn.done:
            conn.data = (conn.data + payload)[:SINK_BYTES]
            conn.next = (conn.next + len(payload)) & 0xFFFFFFFF
            if b"\r\n\r\n" in conn.data and conn.data[:1].isalpha():  # an HTTP request
                replies += self.close(key, conn, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
                                                 b"Connection: close\r\n\r\n")
            elif len(conn.data) >= SINK_BYTES:
                replies += self.close(key, conn)
        if flags & FIN and not conn.done:
            conn.next = (conn.next + 1) & 0xFFFFFFFF
            replies += self.close(key, conn)
        elif flags & FIN:
            conn.next = (seq + len(payload) + 1) & 0xFFFFFFFF
        if payload or flags & FIN:
            replies.append(tcp(dst, src, dport, sport, conn.seq, conn.next, ACK))
        return replies

    def close(self, key: tuple[bytes, int, bytes, int], conn: _Connection,
              reply: bytes = b"") -> list[bytes]:
        """Record the connection, send `reply` and a FIN."""
        src, sport, dst, dport = key
        self.record(key, conn)
        out = []
        seq = conn.ours + 1
        if reply:
            out.append(tcp(dst, src, dport, sport, seq, conn.next, PSH | ACK, reply))
            seq += len(reply)
        out.append(tcp(dst, src, dport, sport, seq, conn.next, FIN | ACK))
        conn.sent = len(reply)
        conn.done = True
        return out

    def record(self, key: tuple[bytes, int, bytes, int], conn: _Connection) -> None:
        if conn.recorded:
            return
        conn.recorded = True
        self.emit("sink", proto="tcp", address=socket.inet_ntoa(key[2]), port=key[3],
                  data=conn.data.decode("latin-1"))

    def expire(self, now: float) -> list[bytes]:
        """Record and reset connections that went quiet; forget closed ones."""
        out = []
        for key, conn in list(self.connections.items()):
            if now - conn.last < IDLE_SECONDS:
                continue
            if not conn.done:
                self.record(key, conn)
                src, sport, dst, dport = key
                out.append(tcp(dst, src, dport, sport, conn.seq, conn.next, RST | ACK))
            del self.connections[key]
        return out


CAP_NET_ADMIN, CAP_SYS_ADMIN = 12, 21
MS_RDONLY, MS_NOEXEC, MNT_DETACH = 0x1, 0x8, 0x2


def show_in_sysfs() -> str:
    """gVisor lists in /sys/class/net the interfaces it booted with: a fresh sysfs, mounted
    where the old one was (same flags), lists `eth0` too. Needs CAP_SYS_ADMIN, which the
    probe has only under gVisor (in gVisor's own kernel); runc's sysfs follows the network
    namespace by itself. What went wrong, or ''."""
    with contextlib.suppress(OSError):
        if INTERFACE in os.listdir("/sys/class/net"):
            return ""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.umount2(b"/sys", MNT_DETACH) != 0 or \
            libc.mount(b"sysfs", b"/sys", b"sysfs", MS_RDONLY | MS_NOEXEC, None) != 0:
        return f"/sys not remounted: {os.strerror(ctypes.get_errno())}"
    return ""


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities(caps: tuple[int, ...] = (CAP_NET_ADMIN, CAP_SYS_ADMIN)) -> bool:
    """Give up `caps` for good once the interface exists (call before any thread starts:
    capabilities belong to a thread, and every later thread and child inherits these)."""
    libc = ctypes.CDLL(None, use_errno=True)
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        return False
    for cap in caps:
        word, bit = divmod(cap, 32)
        mask = ~(1 << bit) & 0xFFFFFFFF
        data[word].effective &= mask
        data[word].permitted &= mask
        data[word].inheritable &= mask
    return bool(libc.capset(ctypes.byref(header), data) == 0)


def start(emit: Emit) -> Names | None:
    """Bring the network up and start the sink; the names table the loopback resolver
    shares, or None (with a note) when the interface cannot be made. Either way the probe
    keeps neither CAP_NET_ADMIN nor CAP_SYS_ADMIN afterwards."""
    try:
        fd = make_interface()
        problem = show_in_sysfs()
        if problem:
            emit("probe_note", text=problem)
    except NetworkUnavailable as exc:
        emit("probe_note", text=f"no network interface: {exc}")
        return None
    finally:
        if not drop_capabilities():
            emit("probe_note", text="could not drop the network set-up capabilities")
    names = Names(emit)
    Sink(fd, emit, names).start()
    emit("network", interface=INTERFACE, address=ADDRESS, gateway=GATEWAY)
    return names
