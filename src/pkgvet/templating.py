"""One Jinja2 environment for every HTML pkgvet writes: the `-f html` report and the console.

Templates are files under `pkgvet/templates/`; autoescaping is on for all of them, so any
value from a package (file names, code, metadata, decoded payloads) is text, never markup.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined


def when(value: object) -> str:
    """Epoch seconds or an ISO string -> `2026-12-01 15:04 UTC`."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value[:40]
        return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "—"


def short(value: object, limit: int = 80) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("pkgvet", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["short"] = short
    return env


@cache
def stylesheet() -> str:
    return resources.files("pkgvet").joinpath("templates", "style.css").read_text("utf-8")
