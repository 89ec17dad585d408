"""`pkgvet watch`: follow new uploads upstream and vet them before anyone installs them.

- `feeds`: where news comes from: PyPI's XML-RPC `changelog_since_serial` (exact, resumable
  by serial), or the RSS updates feed (the newest ~100 releases, resumed by date) when
  XML-RPC is unavailable;
- `run`: which projects matter (a list, the projects in lock files, or all), and queuing the
  files of their new releases (Celery with a broker, else scanned here) into the shared store.

The position is saved in the store after each batch, so a restarted watcher goes on where it
stopped, and a proxy sharing the store lists the new files without scanning at install time.
"""
