"""Decode steps applied to carried bytes exactly as code would apply them: base64, hex,
zlib, bz2, lzma, gzip, rot13, XOR with a key, reversal. Pure functions, bounded output.

Decoding data runs none of it; this is how a scanner reads what a loader would execute.
"""

from __future__ import annotations

import base64
import binascii
import bz2
import codecs
import contextlib
import lzma
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

MAX_OUT = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Step:
    """One decode step: `kind` is one of STEPS; `key` the XOR key when there is one."""

    kind: str
    key: bytes = b""


STEPS = ("b64", "b32", "b85", "a85", "hex", "zlib", "gzip", "bz2", "lzma", "rot13", "xor",
         "reverse", "text", "lsb")


def _inflate(data: bytes, wbits: int) -> bytes:
    obj = zlib.decompressobj(wbits)
    out = obj.decompress(data, MAX_OUT)
    if not out and not obj.eof:
        raise ValueError("not zlib data")
    return out


def _unpack(obj: lzma.LZMADecompressor | bz2.BZ2Decompressor, data: bytes) -> bytes:
    return obj.decompress(data, max_length=MAX_OUT)


def apply(step: Step, data: bytes) -> bytes:
    """`data` after one step; raises ValueError when the step does not fit the data."""
    try:
        kind = step.kind
        if kind == "b64":
            cleaned = b"".join(data.split())
            try:
                return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=True)
            except binascii.Error:
                return base64.urlsafe_b64decode(cleaned + b"=" * (-len(cleaned) % 4))
        if kind == "b32":
            return base64.b32decode(b"".join(data.split()))
        if kind == "b85":
            return base64.b85decode(b"".join(data.split()))
        if kind == "a85":
            return base64.a85decode(b"".join(data.split()))
        if kind == "hex":
            return binascii.unhexlify(b"".join(data.split()).replace(b"\\x", b""))
        if kind == "zlib":
            for wbits in (15, -15, 31):
                try:
                    return _inflate(data, wbits)
                except zlib.error:
                    continue
            raise ValueError("not zlib data")
        if kind == "gzip":
            return _inflate(data, 31)
        if kind == "bz2":
            return _unpack(bz2.BZ2Decompressor(), data)
        if kind == "lzma":
            return _unpack(lzma.LZMADecompressor(), data)
        if kind == "rot13":
            return codecs.encode(data.decode("latin-1"), "rot13").encode("latin-1")
        if kind == "xor":
            key = step.key or b"\x00"
            if len(key) == 1:
                table = bytes(b ^ key[0] for b in range(256))
                return data.translate(table)
            data = data[:MAX_OUT]
            stream = (key * (len(data) // len(key) + 1))[: len(data)]
            mixed = int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")
            return mixed.to_bytes(len(data), "big")
        if kind == "reverse":
            return data[::-1]
        if kind in ("text", "lsb"):
            return data
    except (binascii.Error, zlib.error, lzma.LZMAError, OSError, EOFError, UnicodeError) as exc:
        raise ValueError(f"{step.kind}: {exc}") from None
    raise ValueError(f"unknown step {step.kind}")


def run(steps: list[Step] | tuple[Step, ...], data: bytes) -> bytes:
    for step in steps:
        data = apply(step, data)
    return data


GUESSES: tuple[tuple[Step, ...], ...] = (
    (), (Step("b64"),), (Step("zlib"),), (Step("b64"), Step("zlib")), (Step("hex"),),
    (Step("bz2"),), (Step("lzma"),), (Step("b64"), Step("bz2")), (Step("b64"), Step("lzma")),
    (Step("reverse"), Step("b64")), (Step("b85"),), (Step("b32"),),
)
"""Decode chains tried on data whose decoder is not known (image trailers, LSB payloads)."""


def guess(data: bytes, is_code: object) -> tuple[tuple[Step, ...], bytes] | None:
    """The first chain of GUESSES under which `data` becomes code (`is_code(bytes)`)."""
    assert callable(is_code)
    for chain in GUESSES:
        try:
            out = run(chain, data)
        except ValueError:
            continue
        if out and is_code(out):
            return chain, out
    return None


LITERAL_MAX = 4 * 1024 * 1024
"""Bytes one layer of a literal may expand to."""


def literal_layers(text: str) -> Iterator[bytes]:
    """The bytes a literal's base64 or hex spelling stands for, and their zlib, gzip, bz2 and
    lzma layers, each bounded (decoding data runs none of it)."""
    compact = "".join(text.split())
    raw: bytes | None = None
    try:
        if len(compact) % 4 == 0 or compact.endswith("="):
            raw = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raw = None
    if raw is None and len(compact) % 2 == 0:
        try:
            raw = bytes.fromhex(compact)
        except ValueError:
            raw = None
    if raw is None:
        return
    yield raw
    for wbits in (zlib.MAX_WBITS, 31):
        with contextlib.suppress(zlib.error):
            yield zlib.decompressobj(wbits).decompress(raw, LITERAL_MAX)
    for obj in (bz2.BZ2Decompressor(), lzma.LZMADecompressor()):
        with contextlib.suppress(OSError, ValueError, EOFError, lzma.LZMAError):
            yield obj.decompress(raw, max_length=LITERAL_MAX)
