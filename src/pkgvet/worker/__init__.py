"""Scans as Celery tasks on a Redis broker, for work that outgrows one process or one host.

- `jobs`: the unit of work (a file by sha256 -> a stored result), the same in-process and in
  a worker;
- `app`: the Celery application and its settings (late acknowledgement, requeue when a
  worker dies, time limits);
- `tasks`: the `static` and `sandbox` tasks and how to send them;
- `fanout`: `scan`/`audit --broker`: send a batch, gather the results from the shared store.

Without a broker nothing here is imported: pkgvet scans in-process as it always has.
"""
