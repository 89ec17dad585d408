"""HTML report: one self-contained page to attach to a ticket (scan, audit or diff).

Inline CSS, no script, no external fetch (a Content-Security-Policy meta tag forbids any),
every value escaped by the template engine. Findings show their code in context, read from
the scanned archive when it is still on this machine (the download cache or the local path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from pkgvet import evidence
from pkgvet.model import Report
from pkgvet.report.json_format import finding_dict, report_dict, result_dict
from pkgvet.templating import environment, stylesheet

if TYPE_CHECKING:
    from pkgvet.diff import Diff

FINDINGS_PER_FILE = 300


def _css() -> Markup:
    """pkgvet's own stylesheet, inlined as is (escaping would break its quoted font names);
    it holds nothing from a package, and no `</style>` (checked here)."""
    css = stylesheet()
    if "<" in css:
        raise ValueError("the stylesheet must not contain '<'")
    return Markup(css)


def render(report: Report) -> str:
    data = report_dict(report)
    results = data["results"][:1000]
    contexts = [evidence.contexts(r, r["findings"][:FINDINGS_PER_FILE]) for r in results]
    return environment().get_template("report/scan.html").render(
        css=_css(), tool=data["tool"], verdict=data["verdict"], results=results,
        errors=data["errors"], contexts=contexts, limit=FINDINGS_PER_FILE,
    )


def render_diff(diff: Diff) -> str:
    from pkgvet import RULESET_VERSION, __version__
    from pkgvet import diff as diffing

    a, b = result_dict(diff.a.result), result_dict(diff.b.result)
    new = [finding_dict(f) for f in diff.new_findings]
    context: dict[str, Any] = {
        "css": _css(),
        "tool": {"name": "pkgvet", "version": __version__, "ruleset": RULESET_VERSION},
        "a": a,
        "b": b,
        "added": diff.added,
        "removed": diff.removed,
        "changed": diff.changed,
        "new_findings": new,
        "gone_findings": [finding_dict(f) for f in diff.gone_findings],
        "metadata_changes": diff.metadata_changes,
        "provenance_changes": diffing.provenance_changes(diff),
        "contexts": evidence.contexts(b, new[:FINDINGS_PER_FILE]),
    }
    return environment().get_template("report/diff.html").render(**context)
