"""The development malware corpus, scanned whole: every file gets a result or a clean error.

The samples are live malware. Each is decrypted into memory and written only into the
oracle's own temporary work folder outside the repository, read as data by the scanner
(never run, imported or built), and deleted with that folder.
Skipped when shared/corpus is not next to the repository.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import pytest

from fuzz.oracle import Tally, check

PASSWORD = b"infected"
CANDIDATES = [
    Path(__file__).resolve().parents[3] / "shared" / "corpus" / "malicious-dev.zip",
    Path("/work/shared/corpus/malicious-dev.zip"),
]
CORPUS = next((p for p in CANDIDATES if p.is_file()), None)


@pytest.mark.skipif(CORPUS is None, reason="shared/corpus/malicious-dev.zip not found")
def test_whole_malware_corpus_scans_without_a_traceback() -> None:
    assert CORPUS is not None
    tally = Tally()
    saved = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="pkgvet-corpus-") as root:
        tempfile.tempdir = root  # this test's own temp root: its listing must end empty
        try:
            with zipfile.ZipFile(CORPUS) as outer:
                names = [i.filename for i in outer.infolist() if not i.is_dir()]
                for name in names:
                    data = outer.read(name, pwd=PASSWORD)
                    # check() writes the sample into a work folder under `root`, deletes it.
                    tally.add(check(data, Path(name).name, also_extract=False))
            left = os.listdir(root)
        finally:
            tempfile.tempdir = saved
    assert tally.cases == len(names) == 400
    assert tally.results + tally.errors == tally.cases
    assert tally.crashes == [], tally.crashes[0].detail
    assert tally.written_outside == []
    assert left == [], left
    print(f"\ncorpus: {tally.cases} files, verdicts {tally.verdicts}, clean errors "
          f"{tally.errors}, analyzer exceptions {len(tally.analyzer_errors)}, max "
          f"{tally.max_seconds:.2f} s ({tally.slowest})")
