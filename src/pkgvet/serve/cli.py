"""`pkgvet serve`: options -> settings -> a running server."""

from __future__ import annotations

import os

from pkgvet.errors import UsageError
from pkgvet.policy import PolicySettings, parse_age
from pkgvet.serve.app import ServeSettings
from pkgvet.serve.gate import GateSettings


def serve_command(*, upstream: str | None, host: str, port: int, store: str | None,
                  broker: str | None, budget: float, fail_open: bool, show_suspicious: bool,
                  min_age: str, sandbox: bool, backfill: int, jobs: int | None,
                  token_env: str | None, upstream_timeout: float = 20.0,
                  page_ttl: float = 60.0, ui_auth: str = "accounts",
                  ui_header: str = "X-Remote-User") -> None:
    from pkgvet import fetch
    from pkgvet.pipeline import default_jobs
    from pkgvet.serve import run

    url = upstream or fetch.default_index_url()
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"the upstream '{fetch.redact(url)}' must be an http(s) simple index; "
                         "pass --upstream https://...")
    if ui_auth not in ("accounts", "header", "off"):
        raise UsageError(f"--ui-auth takes accounts, header or off, not '{ui_auth}'")
    token = None
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise UsageError(f"--token-env names {token_env}, which is not set or empty")
    if sandbox and not broker:
        from pkgvet.sandbox import SandboxSettings, check_ready

        check_ready(SandboxSettings())
    settings = ServeSettings(
        upstream=url,
        store_url=store,
        broker=broker,
        token=token,
        gate=GateSettings(
            policy=PolicySettings(hide_suspicious=not show_suspicious, fail_open=fail_open,
                                  min_age=parse_age(min_age)),
            budget=budget,
            backfill=backfill,
            sandbox=sandbox,
        ),
        jobs=jobs or default_jobs(),
        upstream_timeout=upstream_timeout,
        page_ttl=page_ttl,
        ui_auth=ui_auth,
        ui_header=ui_header,
    )
    run(settings, host, port)
