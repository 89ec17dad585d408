"""The bounded fuzz run of `make test`: a few hundred generated and mutated archives.

The oracle (see oracle.py): a ScanResult or a clean PkgvetError, never a traceback, nothing
written outside the case's work folder. Times are reported, not asserted; `make fuzz` runs
the long campaign.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from fuzz.mutate import cases
from fuzz.oracle import Outcome, Tally, check
from fuzz.seeds import built_seeds
from fuzz.strategies import archives


def assert_clean(outcome: Outcome) -> None:
    assert outcome.kind != "crash", outcome.detail
    assert outcome.written_outside == [], outcome.written_outside


@settings(max_examples=120, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(archives())
def test_generated_archives(archive: tuple[str, bytes]) -> None:
    name, data = archive
    assert_clean(check(data, name))


@pytest.mark.parametrize("seed", [11, 12])
def test_mutated_seeds(seed: int) -> None:
    tally = Tally()
    for name, data in cases(built_seeds(), 100, seed):
        outcome = check(data, name)
        tally.add(outcome)
        assert_clean(outcome)
    print(f"mutation seed {seed}: {tally.cases} cases, max {tally.max_seconds:.2f} s "
          f"({tally.slowest}), verdicts {tally.verdicts}, errors {tally.errors}")


def test_seeds_scan_clean() -> None:
    for name, data in built_seeds():
        outcome = check(data, name)
        assert outcome.kind == "result", (name, outcome.detail)
        assert outcome.analyzer_errors == []
