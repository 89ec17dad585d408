"""Output formats: one module each, each with `render(report) -> str`.

Formatters only read the model; they never scan, fetch or decide anything.
"""

from __future__ import annotations

import importlib
from enum import StrEnum

from pkgvet.model import Report


class Format(StrEnum):
    TERMINAL = "terminal"
    JSON = "json"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    HTML = "html"


def render(report: Report, fmt: Format, *, color: bool = False, width: int = 100) -> str:
    module = importlib.import_module(f"{__name__}.{fmt.value}_format")
    if fmt is Format.TERMINAL:
        return str(module.render(report, color=color, width=width))
    return str(module.render(report))
