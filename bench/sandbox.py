"""`python -m bench.sandbox`: how long the sandbox takes per real sdist, under gVisor and runc.

Runs each sdist through `pkgvet.sandbox.run` (install and import in a fresh container, the
same call `pkgvet scan --sandbox` makes) once per runtime, one at a time, and prints the
seconds per package, whether it installed, the sandbox's own verdict and findings, and the
median per runtime. Benign packages should come out with no findings.

Files: paths given on the command line, or by default the requests sdist stored under
tests/data/real plus the small sdists (six, idna, mdurl, webencodings) found in pkgvet's
download cache (`pkgvet scan six idna mdurl webencodings` puts them there).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
from pathlib import Path

from platformdirs import user_cache_dir

from pkgvet.errors import PkgvetError
from pkgvet.model import ArtifactKind
from pkgvet.package import Artifact
from pkgvet.sandbox import SandboxSettings, run

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_NAMES = ("six", "idna", "mdurl", "webencodings")


def default_files() -> list[Path]:
    files = [ROOT / "tests" / "data" / "real" / "requests-2.32.3.tar.gz"]
    cache = Path(user_cache_dir("pkgvet")) / "files"
    for name in DEFAULT_NAMES:
        found = sorted(cache.glob(f"*/*/{name}-*.tar.gz"))
        if found:
            files.append(found[-1])
    return [f for f in files if f.is_file()]


def artifact(path: Path) -> Artifact:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    kind = ArtifactKind.WHEEL if path.suffix == ".whl" else ArtifactKind.SDIST
    return Artifact(path=path, kind=kind, sha256=digest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sandbox", description=__doc__)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--runtime", action="append", choices=["runsc", "runc"],
                        help="repeat for several (default: both)")
    args = parser.parse_args(argv)
    files = args.files or default_files()
    runtimes = args.runtime or ["runsc", "runc"]
    times: dict[str, list[float]] = {r: [] for r in runtimes}
    print(f"{'package':<34} {'runtime':<12} {'seconds':>8}  installed  verdict     findings")
    for path in files:
        for runtime in runtimes:
            try:
                outcome = run(artifact(path), SandboxSettings(runtime=runtime))
            except PkgvetError as exc:
                print(f"{path.name:<34} {runtime:<12} {'-':>8}  sandbox unavailable: {exc}")
                continue
            box = outcome.report
            times[runtime].append(box.seconds)
            rules = ",".join(sorted({f.rule_id for f in outcome.findings})) or "-"
            verdict = box.verdict.value if box.verdict else "-"
            print(f"{path.name:<34} {box.runtime:<12} {box.seconds:>8.1f}  "
                  f"{'yes' if box.installable else 'no':<9}  {verdict:<10}  {rules}")
    for runtime, seconds in times.items():
        if seconds:
            print(f"median {runtime}: {statistics.median(seconds):.1f} s over {len(seconds)} "
                  f"sdists (min {min(seconds):.1f}, max {max(seconds):.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
