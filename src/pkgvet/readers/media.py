"""Where an image or archive really ends, and what a WAV hides in its low bits.

Image viewers stop at the end marker (PNG `IEND`, JPEG end-of-image, GIF trailer, the ZIP
end record), so bytes after it are invisible to anyone looking at the picture: a known place
to carry a second stage. The same goes for the least significant bits of audio samples.
These readers walk each format's own structure (chunk lengths, segment lengths, block
sizes) rather than searching for the marker, so a marker inside the data does not fool them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pkgvet.readers.budget import Budget, Evaded

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, slots=True)
class Tail:
    format: str
    end: int
    """Offset just past the format's end marker; `data[end:]` is the trailing data."""


def media_format(data: bytes) -> str:
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    return ""


def _png_end(data: bytes, budget: Budget) -> int:
    at = 8
    while at + 12 <= len(data):
        budget.step()
        length: int
        kind: bytes
        length, kind = struct.unpack_from(">I4s", data, at)
        at += 12 + length
        if kind == b"IEND":
            return at
    raise Evaded("PNG without an IEND chunk")


def _jpeg_end(data: bytes, budget: Budget) -> int:
    at = 2
    while at + 4 <= len(data):
        budget.step()
        if data[at] != 0xFF:
            raise Evaded("JPEG segment without its 0xFF marker")
        marker = data[at + 1]
        if marker == 0xD9:
            return at + 2
        if marker == 0xFF:
            at += 1
            continue
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            at += 2
            continue
        length = int.from_bytes(data[at + 2:at + 4], "big")
        at += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data until a non-RST marker
            while at + 1 < len(data):
                budget.step()
                at = data.find(b"\xff", at)
                if at < 0 or at + 1 >= len(data):
                    raise Evaded("JPEG scan data runs to the end of the file")
                nxt = data[at + 1]
                if nxt == 0 or 0xD0 <= nxt <= 0xD7:
                    at += 2
                    continue
                break
    raise Evaded("JPEG without an end-of-image marker")


def _gif_sub_blocks(data: bytes, at: int, budget: Budget) -> int:
    while at < len(data):
        budget.step()
        size = data[at]
        at += 1 + size
        if size == 0:
            return at
    raise Evaded("GIF data block runs to the end of the file")


def _gif_end(data: bytes, budget: Budget) -> int:
    if len(data) < 13:
        raise Evaded("truncated GIF header")
    flags = data[10]
    at = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    while at < len(data):
        budget.step()
        kind = data[at]
        if kind == 0x3B:
            return at + 1
        if kind == 0x21:
            at = _gif_sub_blocks(data, at + 2, budget)
        elif kind == 0x2C:
            if at + 10 > len(data):
                break
            local = data[at + 9]
            at += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            at = _gif_sub_blocks(data, at + 1, budget)
        else:
            raise Evaded("GIF block of unknown kind")
    raise Evaded("GIF without a trailer")


def _zip_end(data: bytes) -> int:
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if at < 0 or at + 22 > len(data):
        raise Evaded("ZIP without an end record")
    comment = int.from_bytes(data[at + 20:at + 22], "little")
    return at + 22 + comment


def image_tail(data: bytes, budget: Budget | None = None) -> Tail | None:
    """Where the image (or ZIP) in `data` ends; None for other formats. Raises Evaded."""
    budget = budget or Budget(max_steps=1_000_000, seconds=2.0)
    fmt = media_format(data) or ("zip" if data[:4] == b"PK\x03\x04" else "")
    try:
        if fmt == "png":
            return Tail(fmt, _png_end(data, budget))
        if fmt == "jpeg":
            return Tail(fmt, _jpeg_end(data, budget))
        if fmt == "gif":
            return Tail(fmt, _gif_end(data, budget))
        if fmt == "zip":
            return Tail(fmt, _zip_end(data))
    except (struct.error, IndexError) as exc:
        raise Evaded(f"malformed {fmt} ({exc.__class__.__name__})") from None
    return None


def wav_samples(data: bytes, budget: Budget | None = None) -> tuple[bytes, int]:
    """The `data` chunk of a RIFF/WAVE file and its bytes per sample. Raises Evaded."""
    budget = budget or Budget()
    if media_format(data) != "wav":
        raise Evaded("not a WAV file")
    at = 12
    width = 2
    while at + 8 <= len(data):
        budget.step()
        kind, size = struct.unpack_from("<4sI", data, at)
        body = data[at + 8:at + 8 + size]
        if kind == b"fmt " and len(body) >= 16:
            width = max(1, struct.unpack_from("<H", body, 14)[0] // 8)
        if kind == b"data":
            return body, width
        at += 8 + size + (size & 1)
    raise Evaded("WAV without a data chunk")


_LSB_DIGIT = bytes(0x30 | (b & 1) for b in range(256))
_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def lsb_bytes(samples: bytes, stride: int = 1, max_out: int = 1 << 20,
              msb_first: bool = True) -> bytes:
    """The least significant bit of every `stride`-th byte, packed eight to a byte: the
    classic LSB steganography layout (one bit per sample, or per byte of the frames).

    Done with `bytes.translate` and one base-2 `int()`, both linear and in C."""
    bits = samples[::max(stride, 1)][: max_out * 8]
    n = len(bits) // 8 * 8
    if not n:
        return b""
    packed = int(bits[:n].translate(_LSB_DIGIT), 2).to_bytes(n // 8, "big")
    return packed if msb_first else packed.translate(_REVERSED)
