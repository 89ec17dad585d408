"""Hypothesis strategies for whole archives: containers, hostile names, links, sizes,
duplicate names and Python-ish sources (deep nesting, odd encodings, NUL bytes)."""

from __future__ import annotations

import tarfile

from hypothesis import strategies as st

from fuzz.archives import T, Z, tar_bytes, zip_bytes

NAME_PARTS = st.sampled_from([
    "pkg", "setup.py", "__init__.py", "..", ".", "", "a\\b", "C:", "PKG-INFO", "RECORD",
    "x.dist-info", "__pycache__", "m.pyc", "inner.zip", "in.tar.gz", "n\x00ul", "caf\udce9",
    "\u202eevil", "[red]", "a" * 120, "tests", "docs",
])

names = st.one_of(
    st.lists(NAME_PARTS, min_size=1, max_size=6).map("/".join),
    st.sampled_from(["/etc/passwd", "/tmp/pkgvet-fuzz-abs", "../../x", "C:\\x", "\\\\srv\\s"]),
    st.text(min_size=0, max_size=40),
)

_atoms = st.sampled_from(["x", "1", "'s'", "b'b'", "f(x)", "os.system('true')", "None"])


@st.composite
def deep_expressions(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=1, max_value=3000))
    shape = draw(st.sampled_from(["paren", "plus", "list", "call", "unary", "lambda", "dict"]))
    atom = draw(_atoms)
    if shape == "paren":
        return "(" * depth + atom + ")" * depth
    if shape == "plus":
        return "+".join([atom] * depth)
    if shape == "list":
        return "[" * depth + atom + "]" * depth
    if shape == "call":
        return "f(" * depth + atom + ")" * depth
    if shape == "unary":
        return "-" * depth + atom
    if shape == "lambda":
        return "lambda: " * min(depth, 500) + atom
    return "{1: " * depth + atom + "}" * depth


python_sources = st.one_of(
    deep_expressions().map(lambda e: f"x = {e}\n".encode()),
    st.sampled_from([
        b"print 'py2'\nexec 'x'\n", b"import os\r\nos.getcwd()\r\n", b"x = 1\x00\ny = 2\n",
        b"# -*- coding: latin-1 -*-\nx = '\xe9'\n", b"# coding: utf-16\n\xff\xfe",
        b"\xef\xbb\xbf# coding: latin-1\n", b"# coding: punycode\nx = 1\n",
        b"import base64\nexec(base64.b64decode('cHJpbnQoMSk='))\n", b"def f(:\n",
        b"x = '" + b"a" * 100_000 + b"'\n", b"\t" * 1000 + b"x\n", b"if 1:\n" * 150 + b" x\n",
    ]),
    st.binary(max_size=2000),
    st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
)

contents = st.one_of(python_sources, st.binary(max_size=4000))

tar_kinds = st.sampled_from([
    tarfile.REGTYPE, tarfile.REGTYPE, tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE,
    tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE,
])


@st.composite
def tar_members(draw: st.DrawFn) -> T:
    kind = draw(tar_kinds)
    name = draw(names)
    if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        return T(name, kind=kind, link=draw(names))
    return T(name, draw(contents), kind=kind)


@st.composite
def zip_members(draw: st.DrawFn) -> Z:
    name = draw(names)
    if draw(st.integers(0, 9)) == 0:
        return Z(name, link=draw(names))
    return Z(name, draw(contents), method=draw(st.sampled_from([0, 8, 12, 14])),
             encrypted=draw(st.integers(0, 20)) == 0)


def _dedupe_warnings(members: list[Z]) -> bytes:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return zip_bytes(members)


@st.composite
def archives(draw: st.DrawFn) -> tuple[str, bytes]:
    """(filename, bytes) of a generated sdist or wheel."""
    root = draw(st.sampled_from(["demo-1.0/", "", "../", "demo-1.0/demo-1.0/"]))
    setup = T(f"{root}setup.py", draw(python_sources))
    if draw(st.booleans()):
        members = [Z("demo/__init__.py", draw(python_sources))]
        members += draw(st.lists(zip_members(), max_size=8))
        if draw(st.booleans()) and members:
            members.append(members[0])  # duplicate name
        try:
            return "demo-1.0-py3-none-any.whl", _dedupe_warnings(members)
        except (ValueError, UnicodeError, OverflowError):  # zipfile refuses to write it
            return "demo-1.0-py3-none-any.whl", _dedupe_warnings(members[:1])
    tmembers = [setup, *draw(st.lists(tar_members(), max_size=8))]
    if draw(st.booleans()):
        tmembers.append(tmembers[0])
    compression = draw(st.sampled_from(["gz", "gz", "bz2", "xz", ""]))
    fmt = draw(st.sampled_from([tarfile.PAX_FORMAT, tarfile.GNU_FORMAT]))
    suffix = {"gz": ".tar.gz", "bz2": ".tar.bz2", "xz": ".tar.xz", "": ".tar"}[compression]
    try:
        data = tar_bytes(tmembers, compression, fmt)
    except (ValueError, UnicodeError):  # a name tarfile itself refuses to write
        data = tar_bytes([setup], compression, fmt)
    return f"demo-1.0{suffix}", data
