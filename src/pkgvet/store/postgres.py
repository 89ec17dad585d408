"""The shared store on PostgreSQL (psycopg 3), for several proxies and workers on many hosts.

One connection per thread, opened on first use and checked before each transaction. When
the server restarts, the broken connection is replaced, so a proxy keeps answering after a
database restart without being restarted itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg

from pkgvet.errors import StoreUnavailable
from pkgvet.store.sql import SqlStore, schema

CONNECT_TIMEOUT = 5


def _redact(url: str) -> str:
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"


class PostgresStore(SqlStore):
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        self._dsn = url
        self.url = _redact(url)
        self._local = threading.local()
        self._ready = False
        self._lock = threading.Lock()

    def _connection(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        conn = psycopg.connect(self._dsn, connect_timeout=CONNECT_TIMEOUT, autocommit=True)
        if not self._ready:
            with self._lock, conn.transaction():
                # Several processes may create the schema at once; one lock serializes them.
                conn.execute("SELECT pg_advisory_xact_lock(7531)")
                for statement in schema("BIGSERIAL PRIMARY KEY", "DOUBLE PRECISION"):
                    conn.execute(statement)
            self._ready = True
        self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with suppress(psycopg.Error):
                conn.close()

    def _live_connection(self) -> psycopg.Connection[Any]:
        """A connection that answered just now: one that a server restart broke is replaced
        (a loopback round trip costs far less than a failed request)."""
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.execute("SELECT 1")
                return conn
            except psycopg.OperationalError as exc:
                self._drop()
                if attempt == 2:
                    raise StoreUnavailable(
                        f"the store {self.url} is unreachable ({exc}); check that PostgreSQL "
                        "is running and the URL is right"
                    ) from exc
        raise AssertionError("unreachable")

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        conn = self._live_connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                yield cur
        except psycopg.OperationalError as exc:
            self._drop()
            raise StoreUnavailable(f"the store {self.url} failed: {exc}") from exc
        except psycopg.Error as exc:
            raise StoreUnavailable(f"the store {self.url} failed: {exc}") from exc
