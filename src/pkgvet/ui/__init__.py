"""The triage console: a web page over the shared store, at `/ui/` of `pkgvet serve` or on
its own with `pkgvet ui` (one user, the local SQLite store).

`mount(app, store)` adds it to the proxy's Starlette app; `local_app(store)` is the
single-user server. See `pkgvet.ui.app` for the pages and `pkgvet.ui.auth` for access.
"""

from __future__ import annotations

from pkgvet.ui.app import UiSettings, create_app, local_app, mount

__all__ = ["UiSettings", "create_app", "local_app", "mount"]
