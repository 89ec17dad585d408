"""Which new releases to vet, and queuing their files."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from pkgvet import fetch
from pkgvet.errors import PkgvetError, UsageError
from pkgvet.store import FileRecord, Store
from pkgvet.watch.feeds import Upload, changelog_since, last_serial, rss_since
from pkgvet.worker.jobs import FileJob

log = logging.getLogger("pkgvet.watch")

PYPI_XMLRPC = "https://pypi.org/pypi"
PYPI_RSS = "https://pypi.org/rss/updates.xml"


@dataclass(frozen=True, slots=True)
class WatchSettings:
    feed: str = "xmlrpc"
    """xmlrpc | rss"""
    feed_url: str = PYPI_XMLRPC
    index_url: str | None = None
    projects: frozenset[str] | None = None
    """Canonical names to follow; None follows everything."""


def projects_from(names: Sequence[str], locks: Sequence[Path], everything: bool
                  ) -> frozenset[str] | None:
    if everything:
        if names or locks:
            raise UsageError("--all follows every project; drop --project/--lock, or --all")
        return None
    chosen = {canonicalize_name(n) for n in names}
    for lock in locks:
        from pkgvet.audit.lockfiles import parse_any

        chosen |= {canonicalize_name(e.name) for e in parse_any(lock).entries}
    if not chosen:
        raise UsageError("say which projects to follow: --project NAME, --lock FILE, or --all")
    return frozenset(chosen)


def position_key(settings: WatchSettings) -> str:
    return f"watch:{settings.feed}:{settings.feed_url}"


Submit = Callable[[Sequence[FileJob]], None]


def poll(store: Store, settings: WatchSettings, submit: Submit) -> tuple[int, int]:
    """One round: read the feed from the saved position, queue the files of new releases of
    the followed projects, save the new position. Returns (releases, files) queued.

    With no saved position the watcher starts from now (it does not replay history)."""
    key = position_key(settings)
    saved = store.get_state(key)
    if saved is None:
        start = last_serial(settings.feed_url) if settings.feed == "xmlrpc" else int(time.time())
        store.set_state(key, str(start))
        log.info("watching from %s %d", "serial" if settings.feed == "xmlrpc" else "time", start)
        return 0, 0
    position = int(saved)
    uploads = (changelog_since(settings.feed_url, position) if settings.feed == "xmlrpc"
               else rss_since(settings.feed_url, position))
    releases = _newest_per_project(u for u in uploads if settings.projects is None
                                   or canonicalize_name(u.project) in settings.projects)
    queued = 0
    for upload in releases:
        try:
            queued += _queue_release(store, settings, upload, submit)
        except PkgvetError as exc:
            log.warning("%s %s: %s", upload.project, upload.version, exc)
    if uploads:
        store.set_state(key, str(max(u.position for u in uploads)))
    return len(releases), queued


def _newest_per_project(uploads: Iterable[Upload]) -> list[Upload]:
    """One entry per (project, version): a release that got ten files is queued once."""
    seen: dict[tuple[str, str], Upload] = {}
    for u in uploads:
        seen[(canonicalize_name(u.project), u.version)] = u
    return sorted(seen.values(), key=lambda u: u.position)


def _queue_release(store: Store, settings: WatchSettings, upload: Upload, submit: Submit) -> int:
    release = fetch.get_release(upload.project, f"=={upload.version}",
                                index_url=settings.index_url)
    project = canonicalize_name(release.name)
    files = [f for f in release.files if f.sha256]
    store.put_files([FileRecord(sha256=f.sha256, project=project, version=release.version,
                                filename=f.filename, url=f.url,
                                requires_python=f.requires_python, yanked=f.yanked,
                                yanked_reason=f.yanked_reason, size=f.size) for f in files])
    submit([FileJob(sha256=f.sha256, filename=f.filename, url=f.url, kind=f.kind.value,
                    project=project, version=release.version) for f in files])
    log.info("queued %d file(s) of %s %s", len(files), project, release.version)
    return len(files)


def local_submitter(store: Store) -> Submit:
    """Without a broker: scan each file here, one after another."""
    from pkgvet.worker.jobs import failure_of, run_static

    def submit(jobs: Sequence[FileJob]) -> None:
        for job in jobs:
            try:
                record = run_static(job, store)
                log.info("vetted %s: %s", job.filename, record.verdict)
            except Exception as exc:
                log.warning("cannot vet %s: %s", job.filename, failure_of(job, exc).message)

    return submit


def broker_submitter(broker: str, store_url: str | None) -> Submit:
    from pkgvet.worker.app import make_app
    from pkgvet.worker.tasks import submit_static

    app = make_app(broker, store_url or "")

    def submit(jobs: Sequence[FileJob]) -> None:
        for job in jobs:
            submit_static(app, job, priority=6)

    return submit


def watch(store: Store, settings: WatchSettings, submit: Submit, interval: float,
          once: bool) -> None:
    while True:
        try:
            releases, files = poll(store, settings, submit)
            if releases:
                log.info("%d new release(s), %d file(s) queued", releases, files)
        except PkgvetError as exc:
            if once:
                raise
            log.warning("%s; trying again in %.0f s", exc, interval)
        if once:
            return
        time.sleep(interval)
