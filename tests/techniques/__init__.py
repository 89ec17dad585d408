"""Inert fixtures, one module per technique class, each case named after its technique.

Every case is data: the files of a package (built into a real sdist or wheel by the tests
and by `python -m bench.techniques`), the verdict pkgvet must reach and the rule ids that
must be among its findings. Payloads are inert: they read nothing that exists on a test
machine or they print, and every host is `*.invalid` or 127.0.0.1; nothing here is ever run.
Malicious cases are shapes of techniques from public PyPI campaign reports; benign cases use
the same capabilities for honest reasons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from builders import make_sdist, make_wheel


@dataclass(frozen=True, slots=True)
class Case:
    technique: str
    """What the case reproduces, e.g. `setup.py imports tests/helper.py`."""
    name: str
    """Distribution name of the built package."""
    files: dict[str, str | bytes]
    verdict: str
    """"malicious", "suspicious" or "benign"."""
    rules: tuple[str, ...] = ()
    """Rule ids that must be among the findings."""
    kind: str = "sdist"
    """"sdist" or "wheel"."""
    version: str = "1.0"
    extra: dict[str, str] = field(default_factory=dict)

    def build(self, dest: Path) -> Path:
        if self.kind == "wheel":
            return make_wheel(dest, self.name, self.version, self.files)
        return make_sdist(dest, self.name, self.version, self.files)


def all_cases() -> dict[str, list[Case]]:
    """Technique class -> its cases (each module's CASES)."""
    from techniques import (
        benign,
        build_systems,
        bytes_to_code,
        campaigns_2025,
        definition_time,
        dns_channel,
        flows,
        folder_words,
        hidden_runners,
        install_hooks,
        language,
        plugin_hosts,
        runtime_names,
        sinks,
        start_up,
    )

    return {
        "folder-words": folder_words.CASES,
        "runtime-names": runtime_names.CASES,
        "flows": flows.CASES,
        "install-hooks": install_hooks.CASES,
        "benign-look-alikes": benign.CASES,
        # techniques the issue does not list: other ways code runs without being called,
        # other ways bytes become code, other ways data leaves
        "start-up-and-import-hooks": start_up.CASES,
        "definition-time": definition_time.CASES,
        "build-systems": build_systems.CASES,
        "plugin-hosts": plugin_hosts.CASES,
        "bytes-to-code": bytes_to_code.CASES,
        "sinks-and-planted-code": sinks.CASES,
        "command-channels": dns_channel.CASES,
        "hidden-runners": hidden_runners.CASES,
        "language-evasions": language.CASES,
        # shapes from 2025-2026 public reports of malicious PyPI packages
        "campaigns-2025": campaigns_2025.CASES,
    }
