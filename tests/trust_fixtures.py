"""A PEP 691 index folder for trust tests: upload times, provenance URLs, real attestations.

Release 0.0.0 of gcb-attestation-test is the real file with its real provenance (see
tests/data/provenance/README.md); the later releases are built here to lose, change or break
that provenance.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from builders import make_sdist, make_wheel

DATA = Path(__file__).parent / "data"
REAL_SDIST = DATA / "provenance" / "gcb_attestation_test-0.0.0.tar.gz"
REAL_PROVENANCE = DATA / "provenance" / "gcb_attestation_test-0.0.0.tar.gz.provenance"
PROJECT = "gcb-attestation-test"
GOOGLE_EMAIL = "919436158236-compute@developer.gserviceaccount.com"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def other_publisher() -> bytes:
    """The real bundle with its publisher swapped for a GitHub repository it never came from."""
    data = json.loads(REAL_PROVENANCE.read_text())
    data["attestation_bundles"][0]["publisher"] = {
        "kind": "GitHub", "repository": "someone-else/fork", "workflow": "release.yml",
        "environment": None,
    }
    return json.dumps(data).encode()


def write_index(root: Path, files: list[dict[str, Any]], project: str = PROJECT) -> str:
    """`root/simple/<project>/index.json` listing `files` (each: path, upload_time,
    provenance bytes or None); returns the index URL."""
    page = root / "simple" / project
    page.mkdir(parents=True, exist_ok=True)
    store = root / "files"
    store.mkdir(exist_ok=True)
    entries = []
    for item in files:
        path: Path = item["path"]
        if path.parent != store:
            shutil.copy(path, store / path.name)
        entry: dict[str, Any] = {
            "filename": path.name,
            "url": f"../../files/{path.name}",
            "hashes": {"sha256": sha256(path)},
            "upload-time": item.get("upload_time", "2025-04-21T15:05:00.000000Z"),
        }
        if item.get("provenance") is not None:
            prov = store / f"{path.name}.provenance"
            prov.write_bytes(item["provenance"])
            entry["provenance"] = f"../../files/{prov.name}"
        else:
            entry["provenance"] = None
        entries.append(entry)
    body = {"meta": {"api-version": "1.1"}, "name": project, "files": entries}
    (page / "index.json").write_text(json.dumps(body))
    return (root / "simple").as_uri()


def recent(minutes: int = 5) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def attested_project(root: Path) -> str:
    """0.0.0 attested (real); 0.0.1 lost it; 0.0.2 changed publisher and mixed status;
    0.0.3 carries 0.0.0's bundle (wrong digest); 0.0.4 a malformed bundle."""
    built = root / "built"
    built.mkdir(parents=True, exist_ok=True)
    name = "gcb_attestation_test"
    init = {f"{name}/__init__.py": "VERSION = 1\n"}
    v1 = make_sdist(built, name, "0.0.1", init)
    v2 = make_sdist(built, name, "0.0.2", init)
    v2w = make_wheel(built, name, "0.0.2", init)
    v3 = make_sdist(built, name, "0.0.3", init)
    v4 = make_sdist(built, name, "0.0.4", init)
    return write_index(root, [
        {"path": REAL_SDIST, "provenance": REAL_PROVENANCE.read_bytes(),
         "upload_time": "2025-04-21T15:02:30.000000Z"},
        {"path": v1, "upload_time": "2025-05-01T10:00:00.000000Z"},
        {"path": v2, "provenance": other_publisher(), "upload_time": "2025-06-01T10:00:00Z"},
        {"path": v2w, "upload_time": "2025-06-01T10:00:01Z"},
        {"path": v3, "provenance": REAL_PROVENANCE.read_bytes(), "upload_time": recent()},
        {"path": v4, "provenance": b'{"version": 1, "attestation_bundles": [{"publ',
         "upload_time": recent()},
    ])
