"""A seeded, structure-aware mutation loop over real sdists and wheels.

Plain byte flips mostly die at the first gzip CRC check, so mutations work at the layer that
matters: inside the decompressed tar stream (header fields, names, sizes, type flags) before
recompressing, and on zip local and central headers (sizes, offsets, methods, flags, names),
plus the blunt ones (flips, truncation, splices) on the outer bytes.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import random
import zlib
from collections.abc import Callable, Iterator

HOSTILE_NAMES = [
    b"../evil.py", b"/tmp/pkgvet-fuzz-abs", b"..\\..\\evil", b"C:\\evil", b"a/../../x",
    b"\x00hidden", b"setup.py\x00.txt", b"\xff\xfe\xfd.py", b"./././x", b"", b"/", b"..",
    b"a" * 300, b"x/" * 120 + b"y", b"\x1b[2J\x1b[31mred", b"[bold]markup[/bold]",
    b"setup.py", b"PKG-INFO", b"pkg.dist-info/RECORD", b"x.whl", b"inner.tar.gz",
]

TAR_FIELDS = [  # (offset, length) of ustar header fields
    (0, 100), (100, 8), (108, 8), (116, 8), (124, 12), (136, 12), (148, 8), (156, 1),
    (157, 100), (257, 6), (263, 2), (345, 155), (483, 12),
]
TYPEFLAGS = b"0123456789gxKLSAVDMN\x00"
ZIP_LOCAL_FIELDS = [(4, 2), (6, 2), (8, 2), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2)]
ZIP_CD_FIELDS = [(6, 2), (8, 2), (10, 2), (16, 4), (20, 4), (24, 4), (28, 2), (30, 2),
                 (32, 2), (38, 4), (42, 4)]
ZIP_EOCD_FIELDS = [(8, 2), (10, 2), (12, 4), (16, 4), (20, 2)]

Mutator = Callable[[random.Random, bytes], bytes]


def _interesting_int(rng: random.Random, width: int) -> bytes:
    choices = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, rng.getrandbits(8 * width)]
    value = rng.choice(choices) & ((1 << (8 * width)) - 1)
    return value.to_bytes(width, "little")


def flip_bytes(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        at = rng.randrange(len(out))
        out[at] ^= 1 << rng.randrange(8) if rng.random() < 0.7 else rng.randrange(256)
    return bytes(out)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)] if data else data


def splice(rng: random.Random, data: bytes) -> bytes:
    if len(data) < 2:
        return data + data
    a, b = sorted(rng.randrange(len(data)) for _ in range(2))
    at = rng.randrange(len(data))
    chunk = data[a:b] * rng.choice([1, 2, 8])
    return data[:at] + chunk + data[at:]


def _headers(data: bytes) -> list[int]:
    """Offsets of blocks that parse as tar headers (checksum aside): cheap structural guess."""
    return [o for o in range(0, len(data) - 511, 512) if data[o + 257:o + 262] == b"ustar"
            or (data[o] not in (0,) and data[o + 156:o + 157] in [bytes([c]) for c in TYPEFLAGS])]


def _fix_checksum(block: bytearray, at: int) -> None:
    block[at + 148:at + 156] = b"        "
    block[at + 148:at + 155] = f"{sum(block[at:at + 512]):06o}\x00".encode()


def mutate_tar(rng: random.Random, tar: bytes) -> bytes:
    """Corrupt one header field or name of a decompressed tar, usually keeping the checksum
    valid so that tarfile reads on into the damage."""
    heads = _headers(tar)
    if not heads:
        return flip_bytes(rng, tar)
    out = bytearray(tar)
    at = rng.choice(heads)
    what = rng.random()
    if what < 0.3:
        name = rng.choice(HOSTILE_NAMES)[:100]
        out[at:at + 100] = name.ljust(100, b"\x00")
    elif what < 0.45:
        out[at + 156] = rng.choice(TYPEFLAGS)
        if rng.random() < 0.5:
            target = rng.choice(HOSTILE_NAMES)[:100]
            out[at + 157:at + 257] = target.ljust(100, b"\x00")
    elif what < 0.7:
        size = rng.choice([0, 1, 511, 512, 10**6, 8**11 - 1, rng.getrandbits(33)])
        out[at + 124:at + 136] = (f"{size:011o}".encode() + b"\x00")[-12:]
        if rng.random() < 0.2:
            out[at + 124] = 0x80  # base-256 size
    else:
        offset, length = rng.choice(TAR_FIELDS)
        out[at + offset:at + offset + length] = bytes(rng.getrandbits(8) for _ in range(length))
    if rng.random() < 0.85:
        _fix_checksum(out, at)
    return bytes(out)


def _find_all(data: bytes, sig: bytes) -> list[int]:
    found, start = [], 0
    while (at := data.find(sig, start)) >= 0:
        found.append(at)
        start = at + 1
    return found


def mutate_zip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    kinds = [(b"PK\x03\x04", ZIP_LOCAL_FIELDS, 30, 26), (b"PK\x01\x02", ZIP_CD_FIELDS, 46, 28),
             (b"PK\x05\x06", ZIP_EOCD_FIELDS, 0, -1)]
    sig, fields, name_at, name_len_at = rng.choice(kinds)
    spots = _find_all(data, sig)
    if not spots:
        return flip_bytes(rng, data)
    at = rng.choice(spots)
    if name_len_at >= 0 and rng.random() < 0.35 and at + name_at < len(out):
        length = int.from_bytes(out[at + name_len_at:at + name_len_at + 2], "little")
        name = rng.choice(HOSTILE_NAMES).ljust(length, b"/")[:length]
        out[at + name_at:at + name_at + length] = name
        return bytes(out)
    offset, width = rng.choice(fields)
    if at + offset + width <= len(out):
        out[at + offset:at + offset + width] = _interesting_int(rng, width)
    return bytes(out)


def _compress(rng: random.Random, tar: bytes, codec: str) -> bytes:
    if codec == "gz":
        return gzip.compress(tar, compresslevel=1, mtime=0)
    if codec == "bz2":
        return bz2.compress(tar, 1)
    if codec == "xz":
        return lzma.compress(tar, preset=0)
    return tar


def _decompress(data: bytes) -> tuple[bytes, str] | None:
    try:
        if data.startswith(b"\x1f\x8b"):
            return gzip.decompress(data), "gz"
        if data.startswith(b"BZh"):
            return bz2.decompress(data), "bz2"
        if data.startswith(b"\xfd7zXZ\x00"):
            return lzma.decompress(data), "xz"
    except (OSError, EOFError, lzma.LZMAError, ValueError, zlib.error):
        return None
    if len(data) > 262 and data[257:262] == b"ustar":
        return data, ""
    return None


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One mutated variant of a seed archive."""
    roll = rng.random()
    if data.startswith(b"PK") and b"carried/" in data and rng.random() < 0.6:
        from fuzz.carried import mutate_member  # carried payloads inside a wheel

        return mutate_member(rng, data)
    if data.startswith(b"PK") and roll < 0.6:
        result = mutate_zip(rng, data)
        return mutate_zip(rng, result) if rng.random() < 0.3 else result
    inner = _decompress(data) if roll < 0.65 else None
    if inner is not None:
        tar, codec = inner
        for _ in range(rng.choice([1, 1, 2, 3])):
            tar = mutate_tar(rng, tar)
        if rng.random() < 0.1:
            tar = truncate(rng, tar)
        return _compress(rng, tar, rng.choice([codec, codec, codec, "gz", "bz2", "xz", ""]))
    return rng.choice([flip_bytes, flip_bytes, truncate, splice])(rng, data)


def cases(seeds: list[tuple[str, bytes]], count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """`count` mutated archives, reproducible from `seed`; names keep the seed's suffix."""
    rng = random.Random(seed)
    for i in range(count):
        name, data = rng.choice(seeds)
        for _ in range(rng.choice([1, 1, 1, 2])):
            data = mutate(rng, data)
        yield f"m{seed}-{i}-{name}", data
