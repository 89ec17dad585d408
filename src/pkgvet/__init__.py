"""pkgvet: tell whether a Python package is safe to adopt before it runs on your machine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pkgvet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

from pkgvet.ruleset import version as _ruleset_version

RULESET_VERSION = _ruleset_version()
"""Derived from the rules, the analyzers and the verdict function (`pkgvet.ruleset`), so a
changed rule set never answers from results cached under another."""
