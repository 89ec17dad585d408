"""bandit over install-time code (setup.py, in-tree build backends): code-quality context.

bandit flags what is risky in code a developer wrote (shell=True, eval, urlopen), not what is
hostile, and it flags plenty of it in ordinary setup.py files. So its issues are `info`, and
only the calls that matter most in a root setup.py (exec, eval, shell and process calls,
urlopen, pickle) are `low`: evidence a reviewer sees next to the real findings, never a
verdict on its own. Install-time files only, at most `MAX_FILES` per package.

bandit works on files: the selected sources are written (as data, never run) into a private
temporary folder, bandit parses them with `ast`, and its results are mapped back to package
paths. `# nosec` comments are ignored: a package must not be able to silence its own scan.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pkgvet.analysis import reachability
from pkgvet.model import Category, Confidence, Finding, Phase, Severity
from pkgvet.options import ScanOptions
from pkgvet.package import Package, PackageFile

NAME = "bandit"
MAX_FILES = 50
SETUP_LOW = frozenset({"B102", "B307", "B602", "B605", "B607", "B310", "B301"})
"""exec, eval, shell and process calls, urlopen, pickle: worth a look when setup.py does them."""
CONFIDENCE = {"LOW": Confidence.LOW, "MEDIUM": Confidence.MEDIUM, "HIGH": Confidence.HIGH}


def install_time_files(pkg: Package) -> list[PackageFile]:
    """setup.py, the in-tree build backend and the build hooks: the files pip runs whole.
    The package graph is not walked for this (it costs seconds on large packages and is
    charged to whichever analyzer asks first); where it is already known, the files it adds
    (opened and executed by those) are included."""
    wanted = set(reachability.backend_files(pkg)) | set(reachability.hook_files(pkg))
    wanted.add("setup.py")
    known = pkg.memo.get("reach")
    wanted |= set(getattr(known, "whole", ()))
    files = [f for f in pkg.python_files if not f.binary and f.relpath in wanted]
    files.sort(key=lambda f: (f.relpath != "setup.py", f.relpath))
    return files[:MAX_FILES]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """bandit logs parse errors and warnings; pkgvet's analyzers never print."""
    logger = logging.getLogger("bandit")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL + 1)
    logger.propagate = False
    try:
        with (
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate


def run_bandit(files: list[PackageFile]) -> list[tuple[PackageFile, object]]:
    """(package file, bandit issue) pairs for the given files."""
    if not files:
        return []
    with tempfile.TemporaryDirectory(prefix="pkgvet-bandit-") as tmp, _quiet():
        from bandit.core import config as b_config  # its plugin loading warns at import
        from bandit.core import manager as b_manager

        by_temp: dict[str, PackageFile] = {}
        for index, f in enumerate(files):
            assert f.data is not None
            target = Path(tmp) / f"m{index:03d}.py"
            target.write_bytes(f.data)
            by_temp[os.path.realpath(target)] = f
        conf = b_config.BanditConfig()
        manager = b_manager.BanditManager(conf, "file", quiet=True, ignore_nosec=True)
        manager.discover_files([tmp], recursive=True)
        manager.run_tests()
        pairs: list[tuple[PackageFile, object]] = []
        for issue in manager.get_issue_list():
            owner = by_temp.get(os.path.realpath(issue.fname))
            if owner is not None:
                pairs.append((owner, issue))
        return pairs


def to_finding(f: PackageFile, issue: object) -> Finding:
    test_id = str(getattr(issue, "test_id", "B000"))
    text = str(getattr(issue, "text", "")).strip().splitlines()
    line = int(getattr(issue, "lineno", 0) or 0) or None
    source = f.text() or ""
    lines = source.splitlines()
    snippet = lines[line - 1].strip()[:200] if line and line <= len(lines) else ""
    severity = Severity.LOW if f.relpath == "setup.py" and test_id in SETUP_LOW else Severity.INFO
    return Finding(
        rule_id=test_id,
        title=text[0] if text else test_id,
        severity=severity,
        confidence=CONFIDENCE.get(str(getattr(issue, "confidence", "")).upper(), Confidence.LOW),
        category=Category.CODE_QUALITY,
        phase=Phase.INSTALL,
        path=f.path,
        line=line,
        snippet=snippet,
        explanation=(
            f"bandit {test_id} ({getattr(issue, 'test', '')}) in code that runs at install. "
            "Risky practice rather than proof of intent; read it with the other findings."
        ),
        analyzer=NAME,
        column=getattr(issue, "col_offset", None),
        context=f.context,
    )


@dataclass(frozen=True, slots=True)
class BanditAnalyzer:
    name: str = NAME

    def analyze(self, pkg: Package) -> Iterator[Finding]:
        for f, issue in run_bandit(install_time_files(pkg)):
            yield to_finding(f, issue)


def create(options: ScanOptions) -> BanditAnalyzer:
    return BanditAnalyzer()
