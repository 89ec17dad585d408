"""`python -m bench.techniques`: the per-technique table over the inert fixtures.

Each case of `tests/techniques/` is built into a real sdist or wheel in a temporary folder
and scanned by the static pipeline, exactly as `pkgvet scan` does. The table gives, per
technique class, how many cases reached their expected verdict, and lists the ones that did
not. Accuracy lives here, not in timed tests.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from builders import make_sdist, make_wheel  # noqa: E402
from carried_fixtures import FIXTURES  # noqa: E402
from pkgvet.options import ScanOptions  # noqa: E402
from pkgvet.pipeline import scan_artifacts  # noqa: E402
from pkgvet.sources.local import local_artifact  # noqa: E402
from techniques import all_cases  # noqa: E402

console = Console()


@dataclass(frozen=True, slots=True)
class Sample:
    """One inert fixture: what it reproduces, what it must get, how to build it."""

    name: str
    technique: str
    verdict: str
    rules: frozenset[str]
    build: Callable[[Path], Path | None]


def samples() -> dict[str, list[Sample]]:
    """Every technique class: the source-code cases of tests/techniques/ and the payloads
    carried in data of tests/carried_fixtures.py (benign look-alikes of each included)."""
    out = {cls: [Sample(c.name, c.technique, c.verdict, frozenset(c.rules), c.build)
                 for c in cases] for cls, cases in all_cases().items()}

    def carried_build(fx: Any) -> Callable[[Path], Path | None]:
        def build(folder: Path) -> Path | None:
            files = fx.build()
            if files is None:
                return None  # needs gcc
            maker = make_sdist if "setup.py" in files else make_wheel
            return maker(folder, "mypkg", "1.0", files)
        return build

    out["carried-payloads"] = [Sample(fx.name, f"{fx.technique} ({fx.shape})", fx.verdict,
                                      frozenset(fx.rules), carried_build(fx)) for fx in FIXTURES]
    return out


def run_case(case: Sample, folder: Path) -> tuple[str, set[str]]:
    path = case.build(folder)
    if path is None:
        return "skipped", set()
    results, errors = scan_artifacts([local_artifact(path)], ScanOptions(), 1)
    if errors or not results:
        return "error", set()
    return results[0].verdict.value, {f.rule_id for f in results[0].findings}


def main() -> None:
    table = Table(title="techniques (inert fixtures, static scan)")
    for column in ("class", "cases", "expected verdict", "expected rules", "misses"):
        table.add_column(column)
    misses: list[str] = []
    totals: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(prefix="pkgvet-techniques-") as tmp:
        for cls, cases in samples().items():
            right = rules_ok = 0
            missed: list[str] = []
            for i, case in enumerate(cases):
                folder = Path(tmp) / f"{cls}-{i}"
                folder.mkdir()
                verdict, found = run_case(case, folder)
                ok = verdict == case.verdict
                right += ok
                rules_ok += set(case.rules) <= found
                if not ok:
                    missed.append(case.name)
                    misses.append(f"{cls}: {case.technique} -> {verdict} ({sorted(found)})")
            totals.update(cases=len(cases), right=right)
            table.add_row(cls, str(len(cases)), f"{right}/{len(cases)}",
                          f"{rules_ok}/{len(cases)}", ", ".join(missed) or "-")
    table.add_row("all", str(totals["cases"]), f"{totals['right']}/{totals['cases']}", "", "")
    console.print(table)
    for line in misses:
        console.print(line, highlight=False, markup=False)


if __name__ == "__main__":
    typer.run(main)
