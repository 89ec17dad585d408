"""The carried-payload readers on their own: random and mutated bytes, never an exception
(other than the readers' own `Evaded`) and never past their budgets.

Times are not asserted; the budgets bound them (see pkgvet.readers.budget)."""

from __future__ import annotations

import contextlib
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.carried import mutate_payload, payloads
from pkgvet.analyzer.carried import _lsb_payload, _pickle_streams
from pkgvet.model import Context
from pkgvet.package import PackageFile
from pkgvet.readers import Budget, Evaded
from pkgvet.readers.decoding import GUESSES, run
from pkgvet.readers.marshal_code import code_facts, pyc_facts
from pkgvet.readers.media import image_tail, wav_samples
from pkgvet.readers.native import native_facts
from pkgvet.readers.pickle_ops import pickle_facts


def read_all(data: bytes) -> None:
    budget = Budget(max_steps=200_000, seconds=2.0)
    code_facts(data, budget=budget)
    pyc_facts(data, Budget(max_steps=200_000, seconds=2.0))
    pickle_facts(data, Budget(max_steps=200_000, seconds=2.0))
    native_facts(data, Budget(max_steps=200_000, seconds=2.0))
    for reader in (image_tail, wav_samples):
        with contextlib.suppress(Evaded):
            reader(data)
    _lsb_payload(data)
    ghost = PackageFile("x.pkl", "x.pkl", len(data), "", data, True, Context.PACKAGE)
    list(_pickle_streams(data, ghost, True, lambda: Budget(max_steps=200_000, seconds=2.0)))
    for chain in GUESSES:
        with contextlib.suppress(ValueError):
            run(chain, data[:65536])


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(
    st.binary(max_size=4096),
    st.sampled_from(sorted(payloads().values())).flatmap(
        lambda seed: st.binary(max_size=64).map(lambda junk: seed[: len(seed) // 2] + junk)),
))
def test_readers_on_random_bytes(data: bytes) -> None:
    read_all(data)


@pytest.mark.parametrize("seed", [21, 22])
def test_readers_on_mutated_payloads(seed: int) -> None:
    rng = random.Random(seed)
    seeds = list(payloads().values())
    for _ in range(150):
        data = rng.choice(seeds)
        for _ in range(rng.choice([1, 2, 4])):
            data = mutate_payload(rng, data)
        read_all(data)
