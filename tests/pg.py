"""PostgreSQL for tests: a fresh database per test session on the server CI started.

`PKGVET_TEST_PG` names the server (default: the local one on 5432, user postgres). Tests that
need it skip when it does not answer, unless `PKGVET_REQUIRE_SERVICES=1` (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid

import pytest

SERVER = os.environ.get("PKGVET_TEST_PG", "postgresql://postgres@127.0.0.1:5432")


def required() -> bool:
    return os.environ.get("PKGVET_REQUIRE_SERVICES") == "1"


def fresh_database(server: str = SERVER) -> str:
    """A new empty database on `server`; returns its URL."""
    import psycopg

    name = f"pkgvet_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if required():
            raise
        pytest.skip(f"PostgreSQL not reachable at {server}: {exc}")
    return f"{server}/{name}"


def drop_database(url: str) -> None:
    import psycopg

    server, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.OperationalError:
        pass
