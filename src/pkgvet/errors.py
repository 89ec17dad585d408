"""One exception hierarchy; every message says what the user can do next."""

from __future__ import annotations


class PkgvetError(Exception):
    """Base class: the CLI prints the message as one line and exits with `exit_code`."""

    exit_code = 3


class UsageError(PkgvetError):
    """The user asked for something that cannot work (bad option, unknown target form)."""


class PackageNotFound(PkgvetError):
    """No such project or release on the index."""


class IndexUnreachable(PkgvetError):
    """The index did not answer or answered with something that is not an index page."""


class HashMismatch(PkgvetError):
    """A downloaded file does not match the sha256 the index published for it."""


class ArchiveError(PkgvetError):
    """The file is not a readable archive (corrupt, encrypted, not an archive at all)."""


class SandboxError(PkgvetError):
    """The sandbox cannot run here (no engine, no image); the message says how to fix it."""


class StoreUnavailable(PkgvetError):
    """The shared store (SQLite file or PostgreSQL server) cannot be reached or written."""
