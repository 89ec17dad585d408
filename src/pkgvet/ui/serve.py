"""`pkgvet ui` and `pkgvet ui-user`: the console on its own, and its accounts."""

from __future__ import annotations

import getpass
import os

from pkgvet.errors import UsageError
from pkgvet.store import open_store
from pkgvet.ui.app import UiSettings, local_app
from pkgvet.ui.auth import Accounts, Role


def run_local(*, host: str, port: int, store_url: str | None, accounts: bool) -> None:
    import uvicorn

    store = open_store(store_url)
    user = getpass.getuser() if not accounts else ""
    settings = UiSettings(auth="accounts" if accounts else "local",
                          local_user=user if user and len(user) <= 64 else "local")
    if not accounts and host not in ("127.0.0.1", "::1", "localhost"):
        raise UsageError("without --accounts the console has no sign-in; listen on 127.0.0.1 "
                         "or pass --accounts")
    print(f"pkgvet triage console on http://{host}:{port}/ui/ (store {store.url})")
    uvicorn.run(local_app(store, settings), host=host, port=port, log_level="warning")


def set_user(name: str, role: str, store_url: str | None) -> None:
    password = os.environ.get("PKGVET_UI_PASSWORD") or getpass.getpass(f"password for {name}: ")
    Accounts(open_store(store_url)).add(name, password, Role.parse(role))
