"""Imports and telling strings of native libraries (ELF, PE, Mach-O), read from their headers.

A library that Python loads with `ctypes` or `cffi` runs native code nobody reviews; what
it can do shows in the functions it imports from the C library (`socket`, `connect`,
`execve`, `system`, `fork`, `dlopen`, `curl_easy_perform`...) and the strings it carries
(URLs, addresses, `/bin/sh`, credential paths). This module reads just that, by offsets
checked against the data; it never maps or loads the file.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from pkgvet.readers.budget import Budget, Evaded

MAX_SYMBOLS = 200_000
STRINGS_SCAN_BYTES = 16 * 1024 * 1024
_PRINTABLE = re.compile(rb"[\x20-\x7e]{6,512}")


@dataclass(frozen=True, slots=True)
class NativeFacts:
    format: str = ""
    imports: frozenset[str] = frozenset()
    """Undefined (imported) function names, without leading underscores or version tags."""
    libraries: tuple[str, ...] = ()
    strings: tuple[str, ...] = ()
    """Printable strings that look like endpoints, shells or secret paths (bounded)."""
    evaded: str = ""


def native_format(data: bytes) -> str:
    if data[:4] == b"\x7fELF":
        return "elf"
    if data[:2] == b"MZ":
        return "pe"
    if data[:4] in (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce",
                    b"\xfe\xed\xfa\xcf"):
        return "macho"
    return ""


class _View:
    def __init__(self, data: bytes, endian: str) -> None:
        self.data = data
        self.e = endian

    def u(self, fmt: str, at: int) -> tuple[int, ...]:
        size = struct.calcsize(self.e + fmt)
        if at < 0 or at + size > len(self.data):
            raise Evaded("header points past the end of the file")
        return struct.unpack_from(self.e + fmt, self.data, at)

    def cstr(self, at: int, limit: int = 1024) -> str:
        if at < 0 or at >= len(self.data):
            raise Evaded("string offset past the end of the file")
        end = self.data.find(b"\x00", at, at + limit)
        return self.data[at:end if end >= 0 else at + limit].decode("latin-1")


def _clean(name: str) -> str:
    return name.split("@", 1)[0].lstrip("_")


def _elf(data: bytes, budget: Budget) -> tuple[set[str], list[str]]:
    if len(data) < 52:
        raise Evaded("truncated ELF header")
    is64 = data[4] == 2
    v = _View(data, "<" if data[5] != 2 else ">")
    if is64:
        shoff, = v.u("Q", 0x28)
        shentsize, shnum, _shstrndx = v.u("HHH", 0x3A)
        phoff, = v.u("Q", 0x20)
        _phentsize, phnum = v.u("HH", 0x36)
    else:
        shoff, = v.u("I", 0x20)
        shentsize, shnum, _shstrndx = v.u("HHH", 0x2E)
        phoff, = v.u("I", 0x1C)
        _phentsize, phnum = v.u("HH", 0x2A)
    sections: list[tuple[int, int, int, int, int]] = []  # type, offset, size, link, entsize
    if shoff and shnum and shentsize >= (64 if is64 else 40):
        if shnum > 4096:
            raise Evaded(f"{shnum} ELF sections")
        for i in range(shnum):
            budget.step()
            at = shoff + i * shentsize
            if is64:
                _n, stype, _f, _a, off, size, link, _i, _al, ent = v.u("IIQQQQIIQQ", at)
            else:
                _n, stype, _f, _a, off, size, link, _i, _al, ent = v.u("IIIIIIIIII", at)
            sections.append((stype, off, size, link, ent))
    imports: set[str] = set()
    needed: list[str] = []
    for stype, off, size, link, ent in sections:
        if stype != 11 or not 0 <= link < len(sections):  # SHT_DYNSYM
            continue
        str_off = sections[link][1]
        ent = ent or (24 if is64 else 16)
        count = min(size // ent, MAX_SYMBOLS)
        for i in range(count):
            budget.step()
            at = off + i * ent
            if is64:
                name, _info, _other, shndx, _value, _size = v.u("IBBHQQ", at)
            else:
                name, _value, _size, _info, _other, shndx = v.u("IIIBBH", at)
            if shndx == 0 and name:
                imports.add(_clean(v.cstr(str_off + name)))
    for stype, off, size, link, _ent in sections:
        if stype != 6 or not 0 <= link < len(sections):  # SHT_DYNAMIC
            continue
        str_off = sections[link][1]
        step = 16 if is64 else 8
        for at in range(off, off + min(size, 64 * 1024), step):
            budget.step()
            tag, val = v.u("qQ" if is64 else "iI", at)
            if tag == 0:
                break
            if tag == 1:  # DT_NEEDED
                needed.append(v.cstr(str_off + val))
    if not sections and phnum:
        needed.append("?")  # no section table: imports hidden; the caller reports it
        if phnum > 4096 or phoff <= 0:
            raise Evaded("ELF program headers out of range")
    return imports, needed


def _pe(data: bytes, budget: Budget) -> tuple[set[str], list[str]]:
    v = _View(data, "<")
    pe_at, = v.u("I", 0x3C)
    if data[pe_at:pe_at + 4] != b"PE\x00\x00":
        raise Evaded("MZ file without a PE header")
    _machine, nsections, _t, _p, _n, opt_size, _c = v.u("HHIIIHH", pe_at + 4)
    opt = pe_at + 24
    magic, = v.u("H", opt)
    dirs = opt + (112 if magic == 0x20B else 96)
    imp_rva, _imp_size = v.u("II", dirs + 8)
    sec_at = opt + opt_size
    sections = []
    for i in range(min(nsections, 96)):
        budget.step()
        vsize, vaddr, rsize, raw = v.u("IIII", sec_at + i * 40 + 8)
        sections.append((vaddr, max(vsize, rsize), raw))

    def offset(rva: int) -> int:
        for vaddr, size, raw in sections:
            if vaddr <= rva < vaddr + size:
                return raw + rva - vaddr
        raise Evaded("PE address outside every section")

    imports: set[str] = set()
    libs: list[str] = []
    if not imp_rva:
        return imports, libs
    desc = offset(imp_rva)
    wide = magic == 0x20B
    for _ in range(1024):
        budget.step()
        lookup, _ts, _fw, name_rva, thunk = v.u("IIIII", desc)
        if not name_rva:
            break
        libs.append(v.cstr(offset(name_rva)).lower())
        at = offset(lookup or thunk)
        for _ in range(10_000):
            budget.step()
            entry, = v.u("Q" if wide else "I", at)
            if not entry:
                break
            if not entry >> (63 if wide else 31):
                imports.add(_clean(v.cstr(offset(entry & 0x7FFFFFFF) + 2)))
            at += 8 if wide else 4
        desc += 20
    return imports, libs


def _macho(data: bytes, budget: Budget) -> tuple[set[str], list[str]]:
    endian = "<" if data[:4] in (b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe") else ">"
    v = _View(data, endian)
    is64 = data[:4] in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf")
    _m, _cpu, _sub, _ft, ncmds, _size, _flags = v.u("IiiIIII", 0)
    at = 32 if is64 else 28
    imports: set[str] = set()
    libs: list[str] = []
    for _ in range(min(ncmds, 4096)):
        budget.step()
        cmd, size = v.u("II", at)
        if size < 8:
            raise Evaded("Mach-O load command of size < 8")
        if cmd in (0xC, 0x80000018, 0x8000001F, 0xD):  # LC_LOAD_(WEAK_|REEXPORT_)DYLIB
            name_off, = v.u("I", at + 8)
            libs.append(v.cstr(at + name_off))
        elif cmd == 0x2:  # LC_SYMTAB
            symoff, nsyms, stroff, _strsize = v.u("IIII", at + 8)
            ent = 16 if is64 else 12
            for i in range(min(nsyms, MAX_SYMBOLS)):
                budget.step()
                strx, ntype = v.u("IB", symoff + i * ent)
                if ntype & 0x0E == 0 and ntype & 0x01 and strx:
                    imports.add(_clean(v.cstr(stroff + strx)))
        at += size
    return imports, libs


INTERESTING = re.compile(
    r"https?://|ftp://|\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|/bin/(ba|z|da)?sh\b|cmd\.exe|"
    r"powershell|\.ssh/|\.aws/|/etc/(passwd|shadow)|wallet|\.onion\b|stratum\+tcp|"
    r"\b(curl|wget)\s|/dev/tcp/|LD_PRELOAD|crontab|\.bashrc|discord(app)?\.com/api/webhooks",
    re.IGNORECASE,
)


def telling_strings(data: bytes, budget: Budget, limit: int = 200) -> tuple[str, ...]:
    out: list[str] = []
    for m in _PRINTABLE.finditer(data, 0, min(len(data), STRINGS_SCAN_BYTES)):
        budget.step()
        text = m.group().decode("ascii")
        if INTERESTING.search(text):
            out.append(text[:300])
            if len(out) >= limit:
                break
    return tuple(out)


def native_facts(data: bytes, budget: Budget | None = None) -> NativeFacts:
    """Imports, needed libraries and telling strings of one ELF, PE or Mach-O; never raises."""
    budget = budget or Budget(max_steps=2_000_000, seconds=3.0)
    fmt = native_format(data)
    if not fmt:
        return NativeFacts(evaded="not an ELF, PE or Mach-O file")
    reader = {"elf": _elf, "pe": _pe, "macho": _macho}[fmt]
    try:
        imports, libs = reader(data, budget)
        strings = telling_strings(data, budget)
    except Evaded as exc:
        return NativeFacts(format=fmt, evaded=exc.reason)
    except (struct.error, ValueError, OverflowError) as exc:
        return NativeFacts(format=fmt, evaded=f"malformed header ({exc.__class__.__name__})")
    evaded = "no section table (imports not readable)" if "?" in libs else ""
    return NativeFacts(fmt, frozenset(i for i in imports if i), tuple(x for x in libs if x != "?"),
                       strings, evaded)
