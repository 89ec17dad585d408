from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import pytest


@pytest.fixture(autouse=True)
def _private_result_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every pkgvet it starts) gets an empty result cache of its own."""
    monkeypatch.setenv("PKGVET_DATA_DIR", str(tmp_path_factory.mktemp("pkgvet-data")))
