"""Bench of `pkgvet serve` and the Celery workers, on loopback only.

    nice -n 10 .venv/bin/python -m bench.serve [--requests 300] [--files 300] [--json out.json]

Reports:
- the latency a project page and a file download gain through the proxy, against the same
  local upstream directly, once the files are vetted and the page is cached (p50/p99);
- the wait of a first install of packages the proxy has not vetted yet (and of the same
  install once vetted);
- throughput of the static queue through one and through two Celery workers (concurrency 1
  each) on a private redis-server, over the files in pkgvet's fetch cache (the top-300 set
  that `make bench` fetched), in files per minute.

The upstream is tests/fake_index.py serving packages built by tests/index_packages.py (and
one real wheel from the fetch cache), so nothing leaves the machine.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from fake_index import FakeIndex  # noqa: E402
from index_packages import populate  # noqa: E402
from pkgvet import RULESET_VERSION, fetch  # noqa: E402
from pkgvet.store import ResultKind, open_store  # noqa: E402
from pkgvet.worker.app import make_app  # noqa: E402
from pkgvet.worker.jobs import FileJob  # noqa: E402
from pkgvet.worker.tasks import submit_static  # noqa: E402
from proxy_env import BIN, Proc, Proxy, clean_env, pip  # noqa: E402
from services import Redis  # noqa: E402

JSON = "application/vnd.pypi.simple.v1+json"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_gets(client: httpx.Client, url: str, n: int, accept: str = JSON) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        r = client.get(url, headers={"Accept": accept})
        r.read()
        out.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:200])
    return out


def latency(index: FakeIndex, home: Path, n: int) -> dict[str, Any]:
    proxy = Proxy(index.url, home / "lat", "--page-ttl", "3600")
    try:
        with httpx.Client(timeout=300) as client:
            page = client.get(f"{proxy.index}benign-app/", headers={"Accept": JSON}).json()
            f = page["files"][0]
            via_file = str(httpx.URL(f"{proxy.index}benign-app/").join(f["url"]))
            direct_file = f"http://127.0.0.1:{index.port}/files/benign-app/{f['filename']}"
            client.get(via_file)
            rows = {
                "page_direct_ms": timed_gets(client, f"{index.url}benign-app/", n),
                "page_proxy_ms": timed_gets(client, f"{proxy.index}benign-app/", n),
                "file_direct_ms": timed_gets(client, direct_file, n, "*/*"),
                "file_proxy_ms": timed_gets(client, via_file, n, "*/*"),
            }
    finally:
        proxy.stop()
    out: dict[str, Any] = {"requests": n}
    for key, values in rows.items():
        out[key] = {"p50": round(pct(values, 0.5), 2), "p99": round(pct(values, 0.99), 2)}
    for what in ("page", "file"):
        out[f"{what}_added_ms"] = {
            q: round(out[f"{what}_proxy_ms"][q] - out[f"{what}_direct_ms"][q], 2)
            for q in ("p50", "p99")}
    return out


def first_install(index: FakeIndex, home: Path, real: Path | None) -> dict[str, Any]:
    proxy = Proxy(index.url, home / "first")
    out: dict[str, Any] = {}
    try:
        for label, args in (("benign-app+dep (2 new files)", ["benign-app"]),
                            ("evil-app (2 malicious + 1 benign file)", ["evil-app"]),
                            *([(f"{real.name} (real wheel, {real.stat().st_size // 1024} KiB)",
                                ["--no-deps", "requests"])] if real else [])):
            times = []
            for attempt in ("first", "vetted"):
                target = home / "first" / f"t-{len(out)}-{attempt}"
                started = time.perf_counter()
                done = pip(proxy.env, proxy.index, target, *args)
                times.append(round(time.perf_counter() - started, 2))
                if done.returncode != 0:
                    raise RuntimeError(done.stderr)
            out[label] = {"first_install_s": times[0], "vetted_install_s": times[1]}
    finally:
        proxy.stop()
    return out


def cache_files(limit: int) -> list[Path]:
    """Files of the top-300 projects in pkgvet's fetch cache (what `make bench` fetched)."""
    from packaging.utils import canonicalize_name

    from bench.run import top_names
    from pkgvet.sources.local import name_version_from_filename

    top = {canonicalize_name(n) for n in top_names(300)}
    root = fetch.cache_dir() / "files"
    found = []
    for p in sorted(root.glob("*/*/*")):
        if not p.is_file() or not p.name.endswith((".whl", ".tar.gz", ".zip", ".tgz")):
            continue
        name, _ = name_version_from_filename(p.name)
        if name and canonicalize_name(name) in top:
            found.append(p)
    return found[:limit]


def throughput(files: list[Path], home: Path, workers: int) -> dict[str, Any]:
    folder = home / f"tp{workers}"
    redis = Redis(folder / "redis")
    store_url = f"sqlite://{folder / 'store.sqlite'}"
    env = clean_env(folder, PKGVET_DATA_DIR=str(folder / "data"))
    procs: list[Proc] = []
    try:
        for i in range(workers):
            procs.append(Proc([str(BIN / "pkgvet"), "worker", "--broker", redis.url,
                               "--store", store_url, "--concurrency", "1", "--hostname",
                               f"b{i}@bench"], folder / f"w{i}.log", env))
        for p in procs:
            while "ready" not in p.text():
                time.sleep(0.2)
        app = make_app(redis.url, store_url)
        store = open_store(store_url)
        jobs = [FileJob(sha256=p.parent.name, filename=p.name, url="", path=str(p),
                        kind="wheel" if p.name.endswith(".whl") else "sdist") for p in files]
        started = time.perf_counter()
        for job in jobs:
            submit_static(app, job)
        waiting = {j.sha256 for j in jobs}
        while waiting:
            time.sleep(1)
            got = store.results_for(sorted(waiting), RULESET_VERSION)
            waiting -= {s for s, k in got.items() if ResultKind.STATIC in k}
            waiting = {s for s in waiting if store.get_state(f"failure:{s}:{RULESET_VERSION}")
                       is None}
        seconds = time.perf_counter() - started
    finally:
        for p in procs:
            p.stop()
        redis.stop()
    return {"workers": workers, "files": len(files), "seconds": round(seconds, 1),
            "files_per_minute": round(len(files) / seconds * 60, 1)}


def main(
    requests: Annotated[int, typer.Option(help="Requests per latency series.")] = 300,
    files: Annotated[int, typer.Option(help="Files from the fetch cache for throughput.")] = 300,
    skip_throughput: Annotated[bool, typer.Option("--skip-throughput")] = False,
    output: Annotated[Path | None, typer.Option("--json")] = None,
) -> None:
    results: dict[str, Any] = {"ruleset": RULESET_VERSION}
    with tempfile.TemporaryDirectory(prefix="pkgvet-bench-serve-") as tmp:
        home = Path(tmp)
        with FakeIndex(home / "index") as index:
            populate(index, home / "build")
            real = next((p for p in cache_files(10_000) if p.name.startswith("requests-")
                         and p.name.endswith(".whl")), None)
            if real is not None:
                index.add("requests", real)
            results["latency"] = latency(index, home, requests)
            print(json.dumps({"latency": results["latency"]}, indent=1), flush=True)
            results["first_install"] = first_install(index, home, real)
            print(json.dumps({"first_install": results["first_install"]}, indent=1), flush=True)
        if not skip_throughput:
            chosen = cache_files(files)
            results["throughput"] = [throughput(chosen, home, n) for n in (1, 2)]
            print(json.dumps({"throughput": results["throughput"]}, indent=1), flush=True)
    if output is not None:
        output.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    typer.run(main)
