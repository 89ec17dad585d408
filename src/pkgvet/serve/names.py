"""Names a client may ask for: PEP 503 project names and plain file names, nothing else.

The proxy builds upstream URLs and cache paths from these, so anything that is not a plain
ASCII name is refused before it reaches either: no separators, no dot-segments, no control
or non-ASCII characters (a Cyrillic 'а' is not an 'a': it is refused, never mapped to
another project), and a length cap.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

MAX_PROJECT = 128
MAX_FILENAME = 255
_PROJECT_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
_FILENAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+!-]*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class BadName(ValueError):
    """A name the proxy refuses; the message says why (shown to the client, 400)."""


def project(name: str) -> str:
    """The PEP 503 normalized form of a valid project name; BadName otherwise."""
    if len(name) > MAX_PROJECT:
        raise BadName(f"project names are at most {MAX_PROJECT} characters")
    if not _PROJECT_RE.match(name):
        raise BadName("not a valid project name (ASCII letters, digits, '.', '_', '-')")
    return canonicalize_name(name)


def filename(name: str) -> str:
    if len(name) > MAX_FILENAME or not _FILENAME_RE.match(name) or ".." in name:
        raise BadName("not a valid distribution file name")
    return name


def sha256(value: str) -> str:
    if not _SHA256_RE.match(value):
        raise BadName("not a sha256 (64 lower-case hex digits)")
    return value
