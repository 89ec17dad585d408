"""`pkgvet serve`: a vetting package index in front of an upstream index.

pip, uv and poetry talk to it as to any simple index; it lists only the files the policy
lets through (`pkgvet.policy`), scanning files it has not seen within a time budget.

Stack: Starlette on uvicorn. Both are small, typed, maintained by the encode team (whose
httpx pkgvet already uses for its index client), and ASGI lets one process hold many slow
clients (installs waiting for a scan, large file downloads) without a thread each, while the
scans themselves run in threads/forked children or on Celery workers. aiohttp would do as
well but brings its own HTTP client beside httpx; FastAPI adds validation layers the Simple
API does not need.

Parts: `upstream` (the one index fetched from), `names` (what a client may ask for), `gate`
(what a page lists), `vetting` (who scans), `render` (the two page formats), `metrics`,
`app` (routes).
"""

from __future__ import annotations

import logging

from pkgvet.serve.app import ServeSettings, create_app

__all__ = ["ServeSettings", "create_app", "run"]


def run(settings: ServeSettings, host: str = "127.0.0.1", port: int = 8080,
        log_level: str = "info") -> None:
    """Serve until interrupted."""
    import uvicorn

    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=True,
                timeout_graceful_shutdown=5)
