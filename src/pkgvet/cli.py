"""Command line: parses options, calls the pipeline, picks a formatter. No logic here.

Exit codes: 0 benign, 1 suspicious, 2 malicious, 3 error (a target could not be vetted).
"""

from __future__ import annotations

import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from pkgvet import __version__
from pkgvet.config import Config
from pkgvet.errors import PkgvetError, UsageError
from pkgvet.model import Report, Verdict
from pkgvet.options import ScanOptions
from pkgvet.report import Format, render

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
    """3 if any target could not be vetted; else the worst verdict, gated by `--fail-on`."""
    if report.errors:
        return EXIT_ERROR
    verdict = report.verdict
    if verdict is Verdict.MALICIOUS:
        return EXIT_MALICIOUS
    if verdict is Verdict.SUSPICIOUS and fail_on is FailOn.SUSPICIOUS:
        return EXIT_SUSPICIOUS
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


def _settings(path: Path | None) -> Config:
    from pkgvet import config as config_module

    return config_module.load(path) if path is not None else config_module.discover()


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
) -> None:
    """Scan packages statically and print a verdict with its evidence."""
    from pkgvet.cache import ResultCache
    from pkgvet.pipeline import ResolveOptions, scan_targets

    settings = _settings(config)
    options = ScanOptions(extra_rules=tuple(rules or ()))
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
    )
    report = settings.apply(report)
    emit(report, fmt, output)
    raise typer.Exit(exit_code(report, fail_on))


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
) -> None:
    """Vet every package a requirements or lock file installs; optionally write hash pins."""
    from rich.progress import Progress

    from pkgvet.audit.run import Resolved, pin_lines
    from pkgvet.audit.run import audit as run_audit
    from pkgvet.cache import ResultCache
    from pkgvet.pipeline import default_jobs

    settings = _settings(config)
    options = ScanOptions(extra_rules=tuple(rules or ()))
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
        )
    report = settings.apply(report)
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
) -> None:
    """Show what changed between two versions: files, new findings, metadata."""
    from pkgvet import diff as diffing

    result = diffing.compare(a, b, ScanOptions(), wheel=wheel, index_url=index_url)
    renderers = {
        Format.JSON: diffing.render_json,
        Format.MARKDOWN: diffing.render_markdown,
        Format.TERMINAL: diffing.render_terminal,
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
