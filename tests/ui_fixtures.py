"""A store with real scan results of inert fixtures, for the console tests (and screenshots)."""

from __future__ import annotations

from pathlib import Path

from builders import base64_exec_sdist, make_sdist
from hostile_fixtures import hostile_sdist
from pkgvet.model import Report
from pkgvet.pipeline import ResolveOptions, scan_targets
from pkgvet.store import Store, open_store
from pkgvet.ui.auth import Accounts, Role
from pkgvet.ui.record import record

PASSWORD = "correct horse battery"


def scanned(paths: list[Path]) -> Report:
    return scan_targets([str(p) for p in paths], ropts=ResolveOptions(), jobs=1)


def triage_store(root: Path, url: str | None = None) -> tuple[Store, dict[str, str]]:
    """evil 0.9 (benign) and 1.0 (base64 + exec in setup.py), a hostile-named package and a
    benign one, scanned for real and recorded; accounts ann (triager), vic (viewer), root
    (admin). Returns the store and the sha256 of each fixture by name."""
    root.mkdir(parents=True, exist_ok=True)
    older = root / "older"
    older.mkdir(exist_ok=True)
    files = {
        "evil-0.9": make_sdist(older, "evil", "0.9", {
            "setup.py": "from setuptools import setup\nsetup(name='evil', version='0.9')\n"}),
        "evil-1.0": base64_exec_sdist(root),
        "hostile": hostile_sdist(root),
        "calm": make_sdist(root, "calm", "2.0", {"calm/__init__.py": "X = 1\n"}),
    }
    report = scanned(list(files.values()))
    store = open_store(url or f"sqlite:///{root / 'store.sqlite'}")
    record(store, report.results)
    by_file = {r.file: r.sha256 for r in report.results}
    accounts = Accounts(store)
    accounts.add("ann", PASSWORD, Role.TRIAGER)
    accounts.add("vic", PASSWORD, Role.VIEWER)
    accounts.add("root", PASSWORD, Role.ADMIN)
    return store, {name: by_file[path.name] for name, path in files.items()}
