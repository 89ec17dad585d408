"""Command line: parses options, calls the pipeline, picks a formatter. No logic here.

Exit codes: 0 benign, 1 suspicious, 2 malicious, 3 error (a target could not be vetted, or
a result is partial and nothing worse is to report: fail closed).
"""

from __future__ import annotations

import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pkgvet import __version__
from pkgvet.config import Config
from pkgvet.errors import PkgvetError, UsageError
from pkgvet.model import Report, Verdict
from pkgvet.options import ScanOptions, from_environment
from pkgvet.report import Format, render

if TYPE_CHECKING:
    from pkgvet.pipeline import Backend

app = typer.Typer(
    name="pkgvet",
    help="Vet a Python package before it runs on your machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_BENIGN, EXIT_SUSPICIOUS, EXIT_MALICIOUS, EXIT_ERROR = 0, 1, 2, 3


class FailOn(StrEnum):
    SUSPICIOUS = "suspicious"
    MALICIOUS = "malicious"


def exit_code(report: Report, fail_on: FailOn = FailOn.SUSPICIOUS) -> int:
    """3 if any target could not be vetted; else the worst verdict, gated by `--fail-on`;
    3 instead of 0 when a result is partial (a budget ran out, an analyzer crashed, a member
    could not be read): what was not analysed is not known to be benign."""
    if report.errors:
        return EXIT_ERROR
    verdict = report.verdict
    if verdict is Verdict.MALICIOUS:
        return EXIT_MALICIOUS
    if verdict is Verdict.SUSPICIOUS and fail_on is FailOn.SUSPICIOUS:
        return EXIT_SUSPICIOUS
    if any(r.partial for r in report.results):
        return EXIT_ERROR
    return EXIT_BENIGN


def emit(report: Report, fmt: Format, output: Path | None) -> None:
    """Write the report to `output` or stdout (colour only on a real terminal)."""
    if output is not None:
        output.write_text(render(report, fmt), encoding="utf-8")
        return
    console = Console()
    text = render(
        report, fmt, color=fmt is Format.TERMINAL and console.is_terminal, width=console.width
    )
    sys.stdout.write(text)


def _settings(
    path: Path | None, project_dir: Path | None = None, targets: list[str] | None = None
) -> Config:
    """The user's [tool.pkgvet] (see `pkgvet.config.resolve`); notes go to stderr."""
    from pkgvet import config as config_module

    scanned = [Path(t) for t in targets or () if Path(t).is_dir()]
    settings = config_module.resolve(path, project_dir, scanned)
    for note in settings.notes:
        Console(stderr=True, soft_wrap=True).print(f"[yellow]note:[/] {escape(note)}",
                                                   highlight=False)
    return settings


def _backend(broker: str | None, store: str | None) -> Backend | None:
    if not broker:
        return None
    from pkgvet.worker.fanout import backend

    return backend(broker, store)


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
]
FailOnOpt = Annotated[
    FailOn,
    typer.Option(help="Lowest verdict that gives a non-zero exit code (for CI gates)."),
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", "-j", help="Parallel scans (default: number of cores).")
]
IndexOpt = Annotated[
    str | None,
    typer.Option(
        "--index-url",
        help="Simple API (PEP 691) index to fetch from; default: pip's configuration, else PyPI.",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="pyproject.toml with [tool.pkgvet]; default: the nearest one."),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Scan again even if a result for the file is cached.")
]
MinAgeOpt = Annotated[
    str | None,
    typer.Option("--min-age", help="Report files the index says were uploaded less than this "
                 "long ago (PEP 700), e.g. 48h, 2d."),
]
OsvOpt = Annotated[
    str,
    typer.Option("--osv", help="Known-malicious lookup in OSV (MAL- records): auto (on for "
                 "network indexes), on, off."),
]
OsvOfflineOpt = Annotated[
    Path | None,
    typer.Option("--osv-offline", help="OSV PyPI export (all.zip) to look up offline; "
                 "download it with `pkgvet osv update`."),
]
ProvenanceOpt = Annotated[
    bool | None,
    typer.Option("--provenance/--no-provenance", help="Verify PEP 740 attestations and compare "
                 "publishers across releases (default: on for network indexes)."),
]
RecordOpt = Annotated[
    bool,
    typer.Option("--record", help="Also record the results in the store (--store, else the "
                 "local SQLite store) for the triage console (`pkgvet ui`)."),
]
RulesOpt = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra YARA rule file or folder (repeatable)."),
]


@app.command()
def scan(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="name, name==version, an sdist or wheel file, or an unpacked folder.",
            show_default=False,
        ),
    ],
    fmt: FormatOpt = Format.TERMINAL,
    output: OutputOpt = None,
    fail_on: FailOnOpt = FailOn.SUSPICIOUS,
    jobs: JobsOpt = None,
    index_url: IndexOpt = None,
    all_files: Annotated[
        bool, typer.Option("--all-files", help="Scan every file of the release, not two.")
    ] = False,
    rules: RulesOpt = None,
    no_cache: NoCacheOpt = False,
    config: ConfigOpt = None,
    sandbox: Annotated[
        bool,
        typer.Option("--sandbox", help="Also install and import each file in the sandbox "
                     "container (needs Docker; see `pkgvet sandbox doctor`)."),
    ] = False,
    sandbox_timeout: Annotated[
        float,
        typer.Option("--sandbox-timeout", help="Seconds the install may take in the sandbox; "
                     "each import gets a third of it.", min=5),
    ] = 180.0,
    wheelhouse: Annotated[
        Path | None,
        typer.Option("--wheelhouse", help="Folder of build back-end wheels the sandbox "
                     "installs from (default: `pkgvet sandbox wheelhouse`'s folder)."),
    ] = None,
    min_age: MinAgeOpt = None,
    osv: OsvOpt = "auto",
    osv_offline: OsvOfflineOpt = None,
    provenance: ProvenanceOpt = None,
    record: RecordOpt = False,
    broker: Annotated[
        str | None,
        typer.Option("--broker", help="Celery broker (redis://...): scan on `pkgvet worker`s "
                     "and gather the results from the shared store (--store)."),
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", envvar="PKGVET_STORE",
                                 help="The workers' shared store (with --broker).")
    ] = None,
) -> None:
    """Scan packages statically and print a verdict with its evidence."""
    from pkgvet import trust
    from pkgvet.cache import ResultCache
    from pkgvet.fetch import default_index_url
    from pkgvet.pipeline import ResolveOptions, scan_targets

    trust_settings = trust.build(min_age=min_age, osv_mode=osv, osv_offline=osv_offline,
                                 provenance=provenance, index_url=index_url)

    settings = _settings(config, targets=targets)
    options = from_environment(extra_rules=tuple(rules or ()))
    sandbox_settings = None
    if sandbox:
        from pkgvet.sandbox import SandboxSettings, check_ready

        sandbox_settings = SandboxSettings(install_seconds=sandbox_timeout,
                                           import_seconds=max(5.0, sandbox_timeout / 3),
                                           wheelhouse=wheelhouse)
        check_ready(sandbox_settings)
    report = scan_targets(
        targets,
        options,
        ResolveOptions(index_url=index_url, all_files=all_files),
        jobs=jobs,
        cache=None if no_cache else ResultCache.default(),
        sandbox=sandbox_settings,
        trust=trust_settings,
        backend=_backend(broker, store),
    )
    report = settings.apply(report, index_url or default_index_url())
    if record:
        _record(report, store)
    emit(report, fmt, output)
    raise typer.Exit(exit_code(report, fail_on))


def _record(report: Report, store: str | None) -> None:
    from pkgvet.store import open_store
    from pkgvet.ui.record import record as put

    count = put(open_store(store), report.results)
    Console(stderr=True).print(f"recorded {count} results in the store for `pkgvet ui`",
                               highlight=False)


@app.command()
def audit(
    requirements: Annotated[
        Path,
        typer.Argument(
            help="requirements.txt, uv.lock, poetry.lock, pylock.toml or pyproject.toml."
        ),
    ],
    fmt: FormatOpt = Format.TERMINAL,
    output: OutputOpt = None,
    fail_on: FailOnOpt = FailOn.SUSPICIOUS,
    jobs: JobsOpt = None,
    index_url: IndexOpt = None,
    pin: Annotated[
        Path | None,
        typer.Option(help="Write hash-pinned requirements of the benign packages to this file."),
    ] = None,
    rules: RulesOpt = None,
    no_cache: NoCacheOpt = False,
    config: ConfigOpt = None,
    min_age: MinAgeOpt = None,
    osv: OsvOpt = "auto",
    osv_offline: OsvOfflineOpt = None,
    provenance: ProvenanceOpt = None,
    record: RecordOpt = False,
    broker: Annotated[
        str | None,
        typer.Option("--broker", help="Celery broker (redis://...): scan on `pkgvet worker`s."),
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", envvar="PKGVET_STORE",
                                 help="The workers' shared store (with --broker).")
    ] = None,
) -> None:
    """Vet every package a requirements or lock file installs; optionally write hash pins."""
    from rich.progress import Progress

    from pkgvet import trust
    from pkgvet.audit.run import Resolved, index_in_effect, pin_lines
    from pkgvet.audit.run import audit as run_audit
    from pkgvet.cache import ResultCache
    from pkgvet.pipeline import default_jobs

    settings = _settings(config, project_dir=requirements.resolve().parent)
    options = from_environment(extra_rules=tuple(rules or ()))
    cache = None if no_cache else ResultCache.default()
    err = Console(stderr=True)
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("scanning", total=0)

        def resolved_one(item: Resolved) -> None:
            spec = item.entry.specifier
            if not spec.startswith("=="):
                err.print(f"resolved {item.entry.name}{spec} to {item.version}", highlight=False)
            progress.update(task, total=(progress.tasks[0].total or 0) + len(item.artifacts))

        report, resolved = run_audit(
            requirements,
            options,
            jobs or default_jobs(),
            index_url,
            on_result=lambda _: progress.advance(task),
            on_resolved=resolved_one,
            cache=cache,
            trust=trust.build(min_age=min_age, osv_mode=osv, osv_offline=osv_offline,
                              provenance=provenance, index_url=index_url),
            backend=_backend(broker, store),
        )
    report = settings.apply(report, index_in_effect(requirements, index_url))
    if record:
        _record(report, store)
    emit(report, fmt, output)
    if pin is not None:
        pin.write_text(pin_lines(report, resolved), encoding="utf-8")
    raise typer.Exit(exit_code(report, fail_on))


@app.command()
def diff(
    a: Annotated[str, typer.Argument(help="Old: name==version or a local sdist/wheel.")],
    b: Annotated[str, typer.Argument(help="New: name==version or a local sdist/wheel.")],
    fmt: FormatOpt = Format.TERMINAL,
    output: OutputOpt = None,
    index_url: IndexOpt = None,
    wheel: Annotated[bool, typer.Option("--wheel", help="Compare wheels, not sdists.")] = False,
    provenance: ProvenanceOpt = None,
) -> None:
    """Show what changed between two versions: files, new findings, metadata, provenance."""
    from pkgvet import diff as diffing
    from pkgvet import trust
    from pkgvet.report.html_format import render_diff

    settings = trust.build(min_age=None, osv_mode="off", osv_offline=None,
                           provenance=provenance, index_url=index_url)
    result = diffing.compare(a, b, ScanOptions(), wheel=wheel, index_url=index_url,
                             trust=settings if settings.provenance else None)
    renderers = {
        Format.JSON: diffing.render_json,
        Format.MARKDOWN: diffing.render_markdown,
        Format.TERMINAL: diffing.render_terminal,
        Format.HTML: render_diff,
    }
    if fmt not in renderers:
        raise UsageError(f"diff reports come as {', '.join(f.value for f in renderers)}")
    text = renderers[fmt](result)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    raise typer.Exit(result.exit_code)


@app.command()
def extract(
    archive: Annotated[Path, typer.Argument(help="An sdist or wheel file.")],
    dest: Annotated[Path, typer.Argument(help="Folder to write the files into.")],
) -> None:
    """Unpack an archive safely for reading: regular files only, nothing outside DEST."""
    from pkgvet.archive import extract as do_extract

    findings = do_extract(archive, dest)
    for f in findings:
        typer.echo(f"skipped {f.path}: {f.title}", err=True)
    typer.echo(f"extracted into {dest}")


cache_app = typer.Typer(help="The result cache (keyed by file sha256 and rule-set version).")
app.add_typer(cache_app, name="cache")


@cache_app.command("info")
def cache_info() -> None:
    """Where the cache is and how many results it holds."""
    from pkgvet.cache import ResultCache

    info = ResultCache.default().info()
    typer.echo(
        f"{info['path']}: {info['entries']} results ({info['current']} for this rule set), "
        f"{info['bytes']} bytes"
    )


@cache_app.command("clear")
def cache_clear() -> None:
    """Forget every cached result."""
    from pkgvet.cache import ResultCache

    typer.echo(f"removed {ResultCache.default().clear()} cached results")


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
    store: StoreOpt = None,
    accounts: Annotated[bool, typer.Option("--accounts", help="Require sign-in with local "
                                           "accounts (`pkgvet ui-user`) instead of one "
                                           "local user.")] = False,
) -> None:
    """The triage console on its own, over the local store (single user by default)."""
    from pkgvet.ui.serve import run_local

    run_local(host=host, port=port, store_url=store, accounts=accounts)


@app.command("ui-user")
def ui_user(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="viewer, triager or admin.")] = "triager",
    store: StoreOpt = None,
) -> None:
    """Create or update a console account (password from $PKGVET_UI_PASSWORD or a prompt)."""
    from pkgvet.ui.serve import set_user

    set_user(name, role, store)
    typer.echo(f"account {name} saved")


osv_app = typer.Typer(help="OSV's known-malicious records (MAL- ids) for offline lookups.")
app.add_typer(osv_app, name="osv")


@osv_app.command("update")
def osv_update(
    dest: Annotated[Path | None, typer.Option("--dest", help="Where to save all.zip.")] = None,
) -> None:
    """Download OSV's PyPI export (all.zip) for `--osv-offline`."""
    from pkgvet.trust import default_export_path
    from pkgvet.trust.osv import download_export

    path = download_export(dest or default_export_path())
    typer.echo(f"saved {path} ({path.stat().st_size} bytes); use --osv-offline {path}")


sandbox_app = typer.Typer(help="The sandbox: its image, its wheelhouse and a health check.")
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("build-image")
def sandbox_build_image(
    offline: Annotated[
        bool, typer.Option("--offline", help="Build with debootstrap, without any registry "
                           "(needs root and a Debian mirror).")
    ] = False,
    mirror: Annotated[str | None, typer.Option("--mirror", help="Debian mirror.")] = None,
    log: Annotated[Path | None, typer.Option("--log", help="Write debootstrap's log here.")] = None,
    if_missing: Annotated[
        bool, typer.Option("--if-missing", help="Do nothing when the image exists.")
    ] = False,
) -> None:
    """Build the sandbox image, from the Dockerfile or offline."""
    from pkgvet.sandbox import engine, image
    from pkgvet.sandbox.engine import IMAGE

    if if_missing and engine.image_present(engine.client()):
        typer.echo(f"{IMAGE} is already built")
        return
    if offline:
        seconds = image.build_offline(mirror or image.DEFAULT_MIRROR, log=log)
    else:
        seconds = image.build_from_dockerfile()
    typer.echo(f"built {IMAGE} in {seconds:.1f} s")


@sandbox_app.command("wheelhouse")
def sandbox_wheelhouse(
    index_url: IndexOpt = None,
    folder: Annotated[Path | None, typer.Option("--dir", help="Where to put the wheels.")] = None,
    top: Annotated[int, typer.Option("--top", help="Also the N most-used projects (pure and "
                                     "small manylinux wheels), with their dependencies, so "
                                     "packages install with their dependencies.")] = 0,
) -> None:
    """Fetch the build back-ends (hash-checked) that sdists need to install offline."""
    from pkgvet.sandbox import wheelhouse

    missing: list[str] = []
    wheels = wheelhouse.prepare(folder, index_url=index_url, missing=missing, top=top)
    typer.echo(f"{len(wheels)} wheels in {(folder or wheelhouse.default_dir())}")
    for line in missing:
        typer.echo(f"not in the wheelhouse: {line}", err=True)


@sandbox_app.command("doctor")
def sandbox_doctor() -> None:
    """Check everything the sandbox needs; say how to fix what is missing (exit 3 if any)."""
    from pkgvet.sandbox import doctor

    checks = doctor.run_checks()
    for check in checks:
        mark = ("[green]ok[/]     " if check.ok else
                "[yellow]partial[/]" if check.optional else "[red]missing[/]")
        Console(soft_wrap=True).print(f"{mark} {escape(check.name)}: {escape(check.detail)}",
                                      highlight=False)
    raise typer.Exit(0 if all(c.ok or c.optional for c in checks) else EXIT_ERROR)


@sandbox_app.command("runtime-config")
def sandbox_runtime_config(
    merge: Annotated[Path | None, typer.Option("--merge", help="An existing daemon.json to "
                                               "merge into (kept as it is otherwise).")] = None,
    log_dir: Annotated[str, typer.Option("--log-dir", help="Where runsc writes its traces "
                                         "(a folder, ending in /).")] = "/var/log/runsc-trace/",
) -> None:
    """Print dockerd's daemon.json with the gVisor runtime the sandbox traces through."""
    from pkgvet.sandbox import runtime

    typer.echo(runtime.config_text(merge, log_dir), nl=False)


@sandbox_app.command("clean")
def sandbox_clean() -> None:
    """Remove sandbox containers that a killed pkgvet left behind."""
    from pkgvet.sandbox.runner import remove_leftovers

    typer.echo(f"removed {remove_leftovers()} leftover containers")


StoreOpt = Annotated[
    str | None,
    typer.Option("--store", envvar="PKGVET_STORE",
                 help="Shared store: postgresql://... or sqlite:///path (default: SQLite in "
                 "the user data folder)."),
]
BrokerOpt = Annotated[
    str | None,
    typer.Option("--broker", envvar="PKGVET_BROKER",
                 help="Celery broker (redis://host:6379/0): scans run on `pkgvet worker`s."),
]


@app.command()
def serve(
    upstream: Annotated[
        str | None,
        typer.Option("--upstream", help="Simple index to front (default: pip's index-url, "
                     "else PyPI)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8080,
    store: StoreOpt = None,
    broker: BrokerOpt = None,
    budget: Annotated[
        float, typer.Option("--budget", help="Seconds a page waits for scans of files it has "
                            "not vetted.", min=0)
    ] = 5.0,
    fail_open: Annotated[
        bool, typer.Option("--fail-open", help="List files not vetted within the budget.")
    ] = False,
    show_suspicious: Annotated[
        bool, typer.Option("--show-suspicious", help="List suspicious files (hidden by "
                           "default).")
    ] = False,
    min_age: Annotated[
        str, typer.Option("--min-age", help="Hide files younger than this, by upload-time "
                          "(e.g. 48h, 2d).")
    ] = "0",
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Also run listed files in the sandbox, in the "
                           "background; a malicious run withdraws the file.")
    ] = False,
    backfill: Annotated[
        int, typer.Option("--backfill", help="Older releases vetted in the background after "
                          "a page request (0: all).", min=0)
    ] = 10,
    jobs: JobsOpt = None,
    token_env: Annotated[
        str | None, typer.Option("--token-env", help="Name of an environment variable "
                                 "holding a bearer token for /api and /metrics.")
    ] = None,
    upstream_timeout: Annotated[
        float, typer.Option("--upstream-timeout", help="Seconds to wait for the upstream.",
                            min=0.1)
    ] = 20.0,
    page_ttl: Annotated[
        float, typer.Option("--page-ttl", help="Seconds an upstream page is reused.", min=0)
    ] = 60.0,
    ui_auth: Annotated[
        str, typer.Option("--ui-auth", help="Triage console at /ui/: accounts (sign in, "
                          "`pkgvet ui-user`), header (a reverse proxy names the user), off.")
    ] = "accounts",
    ui_header: Annotated[
        str, typer.Option("--ui-header", help="With --ui-auth header: the header that names "
                          "the user.")
    ] = "X-Remote-User",
) -> None:
    """Run a vetting package index that pip, uv and poetry can use unchanged."""
    from pkgvet.serve.cli import serve_command

    serve_command(upstream=upstream, host=host, port=port, store=store, broker=broker,
                  budget=budget, fail_open=fail_open, show_suspicious=show_suspicious,
                  min_age=min_age, sandbox=sandbox, backfill=backfill, jobs=jobs,
                  token_env=token_env, upstream_timeout=upstream_timeout, page_ttl=page_ttl,
                  ui_auth=ui_auth, ui_header=ui_header)


@app.command()
def worker(
    queues: Annotated[
        str, typer.Option("--queues", help="Queues to take work from: static, sandbox or both.")
    ] = "static",
    broker: BrokerOpt = None,
    store: StoreOpt = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", "-c", help="Parallel scans (default: cores).")
    ] = None,
    hostname: Annotated[str | None, typer.Option("--hostname", help="Worker name.")] = None,
) -> None:
    """Start a Celery worker that runs pkgvet scans (needs --broker or PKGVET_BROKER)."""
    from pkgvet.worker.cli import worker_command

    worker_command(queues=queues, broker=broker, store=store, concurrency=concurrency,
                   hostname=hostname)


@app.command()
def watch(
    project: Annotated[
        list[str] | None, typer.Option("--project", "-p", help="A project to follow "
                                       "(repeatable).")
    ] = None,
    lock: Annotated[
        list[Path] | None, typer.Option("--lock", help="Follow the projects in this "
                                        "requirements or lock file (repeatable).")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Follow every project.")] = False,
    feed: Annotated[str, typer.Option("--feed", help="xmlrpc (changelog_since_serial) or "
                                      "rss (the updates feed).")] = "xmlrpc",
    feed_url: Annotated[
        str | None, typer.Option("--feed-url", help="The feed's URL (default: PyPI's).")
    ] = None,
    index_url: IndexOpt = None,
    store: StoreOpt = None,
    broker: BrokerOpt = None,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between polls.",
                                            min=1)] = 60.0,
    once: Annotated[bool, typer.Option("--once", help="Poll once and exit.")] = False,
) -> None:
    """Follow new uploads upstream and vet them before anyone installs them."""
    from pkgvet.watch.cli import watch_command

    watch_command(projects=project or [], locks=lock or [], everything=everything, feed=feed,
                  feed_url=feed_url, index_url=index_url, store=store, broker=broker,
                  interval=interval, once=once)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"pkgvet {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """pkgvet: vet Python packages before they run on your machine."""


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so that sandbox containers are removed on the way out."""
    raise KeyboardInterrupt


def main() -> NoReturn:
    """Entry point: every PkgvetError becomes one red line and exit code 3."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = app(standalone_mode=False)
    except PkgvetError as exc:
        message = escape(str(exc).replace("\n", " "))
        console = Console(stderr=True, soft_wrap=True)
        console.print(f"[bold red]error:[/] {message}", highlight=False)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        Console(stderr=True).print("[bold red]interrupted[/]")
        sys.exit(130)
    except Exception as exc:  # usage errors arrive here in standalone_mode=False
        # typer's bundled click raises exceptions with show(); duck-typed because typer no
        # longer exposes click as a dependency. A usage error is exit 3, never a verdict code.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
            sys.exit(EXIT_ERROR)
        if exc.__class__.__name__ == "Abort":
            sys.exit(130)
        raise
    sys.exit(code if isinstance(code, int) else 0)
