"""pkgvet: tell whether a Python package is safe to adopt before it runs on your machine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pkgvet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

RULESET_VERSION = "2026.11.1"
"""Bumped whenever a rule or the scoring changes, so cached results are re-scanned."""
