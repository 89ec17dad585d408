"""The rule registry: every rule id pkgvet emits is declared once, as data."""

from __future__ import annotations

import re
from pathlib import Path

from pkgvet.model import Phase
from pkgvet.registry import rule, rules

SRC = Path(__file__).resolve().parent.parent / "src" / "pkgvet"

# Ids still built by hand in code, not yet moved into rules/data/rules/*.toml. The list only
# shrinks: a new rule is declared in the registry from the start.
LEGACY_UNDECLARED = {
    *(f"PV{n:03d}" for n in range(1, 13)),
    "PV102", "PV103", "PV104", "PV105", "PV106", "PV107", "PV109",
    "PV201", "PV202", "PV203", "PV204", "PV205", "PV206", "PV207", "PV209",
    "PV301", "PV302", "PV303", "PV304", "PV305", "PV306", "PV307", "PV308", "PV310", "PV311",
    "PV312", "PV313", "PV401",
    "PV501", "PV502", "PV504", "PV505", "PV507", "PV508",
    *(f"PV{n}" for n in range(901, 911)),
}


def _yara_ids() -> set[str]:
    ids: set[str] = set()
    for path in (SRC / "rules").rglob("*.yar"):
        ids.update(re.findall(r'id\s*=\s*"(PV\d{3})"', path.read_text(encoding="utf-8")))
    return ids


def test_every_declaration_loads_with_a_unique_id() -> None:
    declared = rules()
    assert all(r.id == key for key, r in declared.items())
    assert not set(declared) & _yara_ids(), "an id is declared both as YARA meta and as data"


def test_every_emitted_id_is_declared() -> None:
    emitted: set[str] = set()
    for path in SRC.rglob("*.py"):
        emitted.update(re.findall(r'"(PV\d{3})"', path.read_text(encoding="utf-8")))
    undeclared = emitted - set(rules()) - _yara_ids() - LEGACY_UNDECLARED
    assert not undeclared, f"declare these in src/pkgvet/rules/data/rules/*.toml: {undeclared}"


def test_a_finding_takes_its_defaults_from_the_declaration() -> None:
    for declared in list(rules().values())[:5]:
        f = declared.finding(phase=Phase.INSTALL, path="setup.py", line=3, snippet="x")
        assert (f.rule_id, f.title, f.severity) == (declared.id, declared.title, declared.severity)
    try:
        rule("PV000")
    except KeyError as exc:
        assert "not declared" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("an unknown id must raise")
