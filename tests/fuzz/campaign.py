"""`make fuzz`: the long campaign. Generated and mutated archives through the oracle.

    cd tests && ../.venv/bin/python -m fuzz.campaign --cases 10000 --seed 1

Prints cases, tracebacks, writes outside the work folder, the slowest case and cases over
30 s, and keeps every failing input under --keep for a regression test.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.mutate import cases
from fuzz.oracle import Outcome, Tally, check
from fuzz.seeds import built_seeds, real_seeds
from fuzz.strategies import archives


def generated(count: int, seed: int) -> list[tuple[str, bytes]]:
    """`count` archives drawn from the hypothesis strategies (no shrinking: just inputs)."""
    out: list[tuple[str, bytes]] = []

    @settings(max_examples=count, database=None, derandomize=False, deadline=None,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(st.randoms(use_true_random=False), archives())
    def collect(_rng: random.Random, archive: tuple[str, bytes]) -> None:
        out.append(archive)

    random.seed(seed)
    collect()
    return out[:count]


def report(tally: Tally, command: str, seconds: float, keep: Path) -> None:
    print(f"\ncommand:                  {command}")
    print(f"cases:                    {tally.cases}")
    print(f"  results / clean errors: {tally.results} / {tally.errors}")
    print(f"  verdicts:               {dict(sorted(tally.verdicts.items()))}")
    print(f"tracebacks:               {len(tally.crashes)}")
    print(f"writes outside:           {len(tally.written_outside)}")
    print(f"analyzer exceptions:      {len(tally.analyzer_errors)} (result marked partial)")
    print(f"max seconds per case:     {tally.max_seconds:.2f} ({tally.slowest})")
    print(f"cases over 30 s:          {tally.over_30s}")
    print(f"total seconds:            {seconds:.0f}")
    for o in (tally.crashes + tally.written_outside)[:10]:
        print(f"\n--- {o.name} (kept in {keep})\n{o.detail[-3000:]}\n{o.written_outside}")
    seen: set[str] = set()
    for o in tally.analyzer_errors:
        for e in o.analyzer_errors:
            key = e.split(":", 2)[1] if ":" in e else e
            if key not in seen:
                seen.add(key)
                print(f"analyzer exception ({o.name}): {e[:300]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generated-share", type=float, default=0.3)
    parser.add_argument("--keep", type=Path, default=Path("fuzz-failures"))
    parser.add_argument("--no-real-seeds", action="store_true")
    args = parser.parse_args(argv)

    seeds = built_seeds() + ([] if args.no_real_seeds else real_seeds())
    n_gen = int(args.cases * args.generated_share)
    print(f"seeds: {len(seeds)} ({', '.join(n for n, _ in seeds)})", flush=True)
    print(f"generating {n_gen} archives from strategies, mutating {args.cases - n_gen}",
          flush=True)
    inputs = generated(n_gen, args.seed) + list(cases(seeds, args.cases - n_gen, args.seed))

    tally = Tally()
    started = time.perf_counter()
    for i, (name, data) in enumerate(inputs, 1):
        outcome: Outcome = check(data, name)
        tally.add(outcome)
        if outcome.kind == "crash" or outcome.written_outside:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / name).write_bytes(data)
        if i % 500 == 0:
            print(f"  {i} cases, {len(tally.crashes)} tracebacks, "
                  f"max {tally.max_seconds:.2f} s", flush=True)
    command = "cd tests && ../.venv/bin/python -m fuzz.campaign " + " ".join(
        sys.argv[1:] if argv is None else argv)
    report(tally, command, time.perf_counter() - started, args.keep)
    return 0 if tally.ok else 1


if __name__ == "__main__":
    sys.exit(main())
