"""Put scan results into the shared store, for `pkgvet ui` in local mode (`scan --record`).

The proxy and the workers record what they scan themselves; a local scan records its files
(with what the index said: name, version, upload time) and results here, and keeps a copy
of the archive in pkgvet's download cache layout (by sha256) so that the console can show
code in context later.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable, Sequence

from packaging.utils import canonicalize_name

from pkgvet.model import ScanResult
from pkgvet.package import Artifact
from pkgvet.store import FileRecord, ResultKind, Store, result_record
from pkgvet.trust.age import parse_upload_time


def _keep_archive(artifact: Artifact) -> None:
    from pkgvet.fetch import cache_dir

    if not artifact.sha256 or not artifact.path.is_file():
        return
    target = cache_dir() / "files" / artifact.sha256[:2] / artifact.sha256 / artifact.path.name
    if target.exists() or target.resolve() == artifact.path.resolve():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    shutil.copyfile(artifact.path, tmp)
    tmp.replace(target)


def record(
    store: Store, results: Iterable[ScanResult], artifacts: Sequence[Artifact] = ()
) -> int:
    """Store each result (and its file); returns how many were stored."""
    by_sha = {a.sha256: a for a in artifacts if a.sha256}
    count = 0
    now = time.time()
    for r in results:
        if not r.sha256 or not r.name:
            continue
        artifact = by_sha.get(r.sha256)
        uploaded = parse_upload_time(r.upload_time)
        store.put_file(FileRecord(
            sha256=r.sha256,
            project=str(canonicalize_name(r.name)),
            version=r.version or "",
            filename=(artifact.index_file if artifact and artifact.index_file else r.file),
            url=r.source,
            upload_time=uploaded.timestamp() if uploaded else None,
            yanked=r.yanked,
            yanked_reason=r.yanked_reason,
            first_seen=now,
        ))
        store.put_result(result_record(r))
        if r.sandbox is not None:
            store.put_result(result_record(r, ResultKind.SANDBOX))
        if artifact is None and r.source and "://" not in r.source:
            from pathlib import Path

            artifact = Artifact(path=Path(r.source), kind=r.kind, sha256=r.sha256)
        if artifact is not None:
            _keep_archive(artifact)
        count += 1
    return count
