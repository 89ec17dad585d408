"""Prometheus counters of the proxy, on their own registry (one per app, so tests and two
apps in one process do not share numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("pkgvet_requests", "HTTP requests answered, by route and status",
                                ["route", "status"], registry=r)
        self.page_hits = Counter("pkgvet_page_cache_hits", "Project pages answered from the "
                                 "proxy's copy of the upstream page", registry=r)
        self.page_misses = Counter("pkgvet_page_cache_misses", "Project pages fetched from the "
                                   "upstream", registry=r)
        self.file_hits = Counter("pkgvet_file_cache_hits", "Files served from the verified "
                                 "local copy", registry=r)
        self.file_downloads = Counter("pkgvet_file_downloads", "Files fetched from the upstream "
                                      "for a client", registry=r)
        self.scans = Counter("pkgvet_scans", "Scans submitted, by queue and when",
                             ["queue", "when"], registry=r)
        self.scan_failures = Counter("pkgvet_scan_failures", "Files that could not be vetted, "
                                     "by reason", ["reason"], registry=r)
        self.hidden = Counter("pkgvet_hidden_files", "Files left off a project page, by reason",
                              ["reason"], registry=r)
        self.listed = Counter("pkgvet_listed_files", "Files shown on a project page",
                              registry=r)
        self.upstream_errors = Counter("pkgvet_upstream_errors", "Upstream failures, by HTTP "
                                       "status the proxy answered", ["status"], registry=r)
        self.scan_seconds = Histogram("pkgvet_scan_seconds", "Time to vet one file "
                                      "(download and static scan)", registry=r,
                                      buckets=(0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128))
        self.inline_wait = Histogram("pkgvet_inline_wait_seconds", "Time a project page waited "
                                     "for scans", registry=r,
                                     buckets=(0.01, 0.1, 0.5, 1, 2, 4, 8, 16, 32))

    def render(self) -> bytes:
        return generate_latest(self.registry)
