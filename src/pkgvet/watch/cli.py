"""`pkgvet watch`: options -> settings -> polling."""

from __future__ import annotations

import logging
from pathlib import Path

from pkgvet.errors import UsageError
from pkgvet.store import open_store
from pkgvet.watch.run import (
    PYPI_RSS,
    PYPI_XMLRPC,
    WatchSettings,
    broker_submitter,
    local_submitter,
    projects_from,
    watch,
)


def watch_command(*, projects: list[str], locks: list[Path], everything: bool, feed: str,
                  feed_url: str | None, index_url: str | None, store: str | None,
                  broker: str | None, interval: float, once: bool) -> None:
    if feed not in ("xmlrpc", "rss"):
        raise UsageError(f"--feed {feed}: use xmlrpc or rss")
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = WatchSettings(
        feed=feed,
        feed_url=feed_url or (PYPI_XMLRPC if feed == "xmlrpc" else PYPI_RSS),
        index_url=index_url,
        projects=projects_from(projects, locks, everything),
    )
    the_store = open_store(store)
    submit = broker_submitter(broker, store) if broker else local_submitter(the_store)
    watch(the_store, settings, submit, interval, once)
