"""The embedded store: one SQLite file in WAL mode, shared by the processes of one machine."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pkgvet.errors import StoreUnavailable
from pkgvet.store.sql import SqlStore, schema


class SqliteStore(SqlStore):
    placeholder = "?"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.url = f"sqlite://{path}"
        self._ready = False
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        from pkgvet.cache import _enable_wal

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=30000")
            if not self._ready:
                with self._lock:
                    _enable_wal(conn)
                    for statement in schema("INTEGER PRIMARY KEY AUTOINCREMENT", "REAL"):
                        conn.execute(statement)
                    self._ready = True
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(
                f"cannot open the store {self.path} ({exc}); check that the folder is "
                "writable, or pass --store / set PKGVET_STORE"
            ) from exc
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        conn = self._connect()
        try:
            cur = conn.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the store {self.path} failed: {exc}") from exc
        finally:
            conn.close()
