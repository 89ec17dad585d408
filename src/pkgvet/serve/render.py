"""Project pages in both Simple API forms, from the files the policy lets through.

Every field a client uses is carried over from the upstream page unchanged: hashes,
requires-python, yanked (with its reason), size and upload-time (PEP 700), core-metadata and
its older name dist-info-metadata with their hashes (PEP 658/714), provenance (PEP 740).
Only the URL changes: files are fetched through the proxy, by sha256, with a relative URL
so a reverse proxy may mount pkgvet under any path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from pkgvet.fetch import SIMPLE_HTML, SIMPLE_JSON
from pkgvet.serve.upstream import UpstreamFile

JSON_TYPES = (SIMPLE_JSON, "application/vnd.pypi.simple.latest+json")
HTML_TYPES = (SIMPLE_HTML, "application/vnd.pypi.simple.latest+html", "text/html")


def negotiate(accept: str | None, fmt: str | None = None) -> str | None:
    """The media type to answer with (PEP 691), or None when nothing acceptable is offered."""
    if fmt:
        return fmt if fmt in (SIMPLE_JSON, SIMPLE_HTML, "text/html") else None
    if not accept or not accept.strip():
        return "text/html"
    best: tuple[float, int, str] | None = None
    for position, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        media = bits[0].lower()
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if media in JSON_TYPES:
            answer = SIMPLE_JSON
        elif media in (SIMPLE_HTML, "application/vnd.pypi.simple.latest+html"):
            answer = SIMPLE_HTML
        elif media in ("text/html", "text/*", "*/*"):
            answer = "text/html"
        else:
            continue
        key = (q, -position, answer)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def file_url(f: UpstreamFile) -> str:
    return f"../../files/{f.sha256}/{f.filename}"


def _metadata_hashes(f: UpstreamFile) -> dict[str, str] | bool:
    # Advertised only with a hash: the proxy verifies the .metadata file it serves.
    if isinstance(f.core_metadata, dict) and f.metadata_sha256:
        return dict(f.core_metadata)
    return False


def project_json(name: str, files: Sequence[UpstreamFile], sizes: dict[str, int]) -> bytes:
    entries: list[dict[str, Any]] = []
    complete = True
    for f in files:
        entry: dict[str, Any] = {
            "filename": f.filename,
            "url": file_url(f),
            "hashes": dict(f.hashes),
            "requires-python": f.requires_python,
            "yanked": f.yanked,
            "core-metadata": _metadata_hashes(f),
            "dist-info-metadata": _metadata_hashes(f),
        }
        size = f.size if f.size is not None else sizes.get(f.sha256)
        if size is None:
            complete = False
        else:
            entry["size"] = size
        if f.upload_time:
            entry["upload-time"] = f.upload_time
        if f.provenance:
            entry["provenance"] = f.provenance
        entries.append(entry)
    versions = sorted({f.version for f in files})
    body: dict[str, Any] = {
        "meta": {"api-version": "1.1" if complete else "1.0"},
        "name": name,
        "files": entries,
    }
    if complete:
        body["versions"] = versions
    return json.dumps(body).encode()


def project_html(name: str, files: Sequence[UpstreamFile]) -> bytes:
    lines = [
        "<!DOCTYPE html>",
        "<html><head>",
        '<meta name="pypi:repository-version" content="1.0">',
        f"<title>Links for {escape(name)}</title></head><body>",
        f"<h1>Links for {escape(name)}</h1>",
    ]
    for f in files:
        attrs = [f'href="{escape(file_url(f))}#sha256={f.sha256}"']
        if f.requires_python:
            attrs.append(f'data-requires-python="{escape(f.requires_python)}"')
        if f.yanked:
            reason = f.yanked if isinstance(f.yanked, str) else ""
            attrs.append(f'data-yanked="{escape(reason)}"')
        meta = _metadata_hashes(f)
        if isinstance(meta, dict):
            value = escape(f"sha256={meta['sha256']}")
            attrs.append(f'data-core-metadata="{value}"')
            attrs.append(f'data-dist-info-metadata="{value}"')
        if f.provenance:
            attrs.append(f'data-provenance="{escape(f.provenance)}"')
        lines.append(f"<a {' '.join(attrs)}>{escape(f.filename)}</a><br>")
    lines.append("</body></html>")
    return "\n".join(lines).encode()


def root_json(names: Sequence[str]) -> bytes:
    return json.dumps({"meta": {"api-version": "1.0"},
                       "projects": [{"name": n} for n in names]}).encode()


def root_html(names: Sequence[str]) -> bytes:
    from packaging.utils import canonicalize_name

    links = "\n".join(
        f'<a href="{escape(str(canonicalize_name(n)))}/">{escape(n)}</a><br>' for n in names)
    return ("<!DOCTYPE html>\n<html><head>"
            '<meta name="pypi:repository-version" content="1.0">'
            f"<title>Simple index</title></head><body>\n{links}\n</body></html>").encode()
