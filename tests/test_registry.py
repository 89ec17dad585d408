"""The rule registry: every rule id pkgvet emits is declared once, as data."""

from __future__ import annotations

import re
from pathlib import Path

from pkgvet.model import Phase
from pkgvet.registry import rule, rules

SRC = Path(__file__).resolve().parent.parent / "src" / "pkgvet"

# Ids still built by hand in code, not yet moved into rules/data/rules/*.toml. The list only
# shrinks: a new rule is declared in the registry from the start.
LEGACY_UNDECLARED: set[str] = set()


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


def test_the_readme_rule_table_shows_every_declared_rule_as_declared() -> None:
    """README's rule table is read from the registry: every declared rule has a row whose
    title is the declared title (`python -m bench.readme_rules` rewrites those rows)."""
    readme = (SRC.parent.parent / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (PV\d{3}) \| (.+?) \| [^|]+ \|$", readme, re.M))
    for declared in rules().values():
        assert rows.get(declared.id) == declared.title.replace("|", "\\|"), (
            f"README row for {declared.id}: run `python -m bench.readme_rules`"
        )
