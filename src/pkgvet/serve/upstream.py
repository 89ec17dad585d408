"""The upstream index, read through its Simple API (PEP 691 JSON first, PEP 503 HTML).

Only this index is ever asked: project pages are fetched from the configured root, and
files only from the URLs its pages gave (kept in the store, never taken from a client).
Every read is bounded: a page larger than `max_page_bytes` is refused, and timeouts apply
to connecting and to each read. Pages are kept for `page_ttl` seconds, so a burst of
installs of one project costs one upstream request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpx
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from pkgvet import __version__
from pkgvet.fetch import SIMPLE_HTML, SIMPLE_JSON, redact

ACCEPT = f"{SIMPLE_JSON}, {SIMPLE_HTML};q=0.2, text/html;q=0.01"
MAX_PAGE_BYTES = 32 * 1024 * 1024
MAX_FILES = 50_000


class UpstreamError(Exception):
    """The upstream failed; `status` is what the proxy answers (502, 504, 404)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class UpstreamFile:
    """One file as the upstream page describes it, every field a client relies on."""

    filename: str
    url: str
    hashes: dict[str, str]
    version: str
    kind: str
    """wheel | sdist | other (other files are never listed: pkgvet cannot vet them)."""
    requires_python: str | None = None
    yanked: bool | str = False
    core_metadata: bool | dict[str, str] = False
    """PEP 658/714: False, True, or the metadata file's hashes."""
    size: int | None = None
    upload_time: str | None = None
    provenance: str | None = None
    """PEP 740: URL of the file's provenance object."""

    @property
    def sha256(self) -> str:
        value = self.hashes.get("sha256", "").lower()
        return value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else ""

    @property
    def upload_timestamp(self) -> float | None:
        if not self.upload_time:
            return None
        try:
            return datetime.fromisoformat(self.upload_time.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None

    @property
    def metadata_sha256(self) -> str | None:
        if isinstance(self.core_metadata, dict):
            return self.core_metadata.get("sha256")
        return None


@dataclass(frozen=True, slots=True)
class UpstreamPage:
    name: str
    files: tuple[UpstreamFile, ...]
    versions: tuple[str, ...] = ()
    fetched: float = field(default_factory=time.time)


def _kind_version(filename: str, project: str) -> tuple[str, str] | None:
    lower = filename.lower()
    try:
        if lower.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            kind = "wheel"
        elif lower.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            kind = "sdist"
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    if canonicalize_name(name) != project:
        return None  # a file of another project on this page: never listed
    return kind, str(version)


def _yanked(value: Any) -> bool | str:
    if isinstance(value, str):
        return value or True
    return bool(value)


def _metadata(value: Any) -> bool | dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
    return bool(value)


def parse_json(body: bytes, page_url: str, project: str) -> UpstreamPage:
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UpstreamError(502, f"the upstream page for {project} is not valid JSON") from exc
    raw_files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(raw_files, list):
        raise UpstreamError(502, f"the upstream page for {project} has no 'files' list")
    if len(raw_files) > MAX_FILES:
        raise UpstreamError(502, f"the upstream page for {project} lists too many files")
    files: list[UpstreamFile] = []
    for entry in raw_files:
        if not isinstance(entry, dict):
            continue
        name, url, hashes = entry.get("filename"), entry.get("url"), entry.get("hashes")
        if not isinstance(name, str) or not isinstance(url, str) or not isinstance(hashes, dict):
            continue
        kv = _kind_version(name, project)
        if kv is None:
            continue
        meta = entry.get("core-metadata", entry.get("dist-info-metadata", False))
        size = entry.get("size")
        upload = entry.get("upload-time")
        prov = entry.get("provenance")
        rp = entry.get("requires-python")
        files.append(UpstreamFile(
            filename=name, url=urljoin(page_url, url),
            hashes={str(k): str(v) for k, v in hashes.items() if isinstance(v, str)},
            version=kv[1], kind=kv[0],
            requires_python=rp if isinstance(rp, str) and rp else None,
            yanked=_yanked(entry.get("yanked", False)),
            core_metadata=_metadata(meta),
            size=size if isinstance(size, int) else None,
            upload_time=upload if isinstance(upload, str) else None,
            provenance=urljoin(page_url, prov) if isinstance(prov, str) and prov else None,
        ))
    versions = data.get("versions")
    listed = tuple(str(v) for v in versions) if isinstance(versions, list) else ()
    display = data.get("name")
    return UpstreamPage(display if isinstance(display, str) else project, tuple(files), listed)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text).strip()))
            self._open = None


def parse_html(text: str, page_url: str, project: str) -> UpstreamPage:
    parser = _Links()
    parser.feed(text)
    parser.close()
    if len(parser.anchors) > MAX_FILES:
        raise UpstreamError(502, f"the upstream page for {project} lists too many files")
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files: list[UpstreamFile] = []
    for attrs, _ in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        parts = urlsplit(urljoin(base, href))
        name = unquote(parts.path.rsplit("/", 1)[-1])
        kv = _kind_version(name, project)
        if kv is None:
            continue
        hashes = dict(i.split("=", 1) for i in parts.fragment.split("&") if "=" in i)
        meta_attr = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        meta: bool | dict[str, str] = False
        if "data-core-metadata" in attrs or "data-dist-info-metadata" in attrs:
            meta = True
            if meta_attr and "=" in meta_attr:
                algo, value = meta_attr.split("=", 1)
                meta = {algo: value}
        files.append(UpstreamFile(
            filename=name, url=urlunsplit(parts._replace(fragment="")), hashes=hashes,
            version=kv[1], kind=kv[0],
            requires_python=attrs.get("data-requires-python") or None,
            yanked=(attrs.get("data-yanked") or True) if "data-yanked" in attrs else False,
            core_metadata=meta,
            provenance=attrs.get("data-provenance") or None,
        ))
    return UpstreamPage(project, tuple(files))


def _root_names_json(body: bytes) -> list[str]:
    data = json.loads(body)
    return [p["name"] for p in data.get("projects", []) if isinstance(p, dict)
            and isinstance(p.get("name"), str)]


def _root_names_html(text: str) -> list[str]:
    parser = _Links()
    parser.feed(text)
    parser.close()
    return [label for _, label in parser.anchors if label]


class Upstream:
    """The one index the proxy fronts; every network read of the proxy goes through here."""

    def __init__(self, url: str, *, timeout: float = 20.0, page_ttl: float = 60.0,
                 max_page_bytes: int = MAX_PAGE_BYTES) -> None:
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"upstream '{redact(url)}' must be an http(s) simple index URL")
        self.url = url if url.endswith("/") else url + "/"
        self.page_ttl = page_ttl
        self.max_page_bytes = max_page_bytes
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            headers={"User-Agent": f"pkgvet-serve/{__version__}"},
            trust_env=True,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
        self._pages: dict[str, UpstreamPage] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def close(self) -> None:
        await self._client.aclose()

    async def _read(self, url: str, accept: str, cap: int | None = None
                    ) -> tuple[bytes, str, str]:
        """(body, content type, final URL), bounded in size and time."""
        cap = cap or self.max_page_bytes
        try:
            async with self._client.stream("GET", url, headers={"Accept": accept}) as resp:
                if resp.status_code in (404, 410):
                    raise UpstreamError(404, "not found upstream")
                if resp.status_code >= 400:
                    raise UpstreamError(502, f"upstream answered HTTP {resp.status_code}")
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > cap:
                    raise UpstreamError(502, "upstream page is larger than the proxy accepts")
                chunks: list[bytes] = []
                total = 0
                async for chunk in resp.aiter_bytes():
                    total += len(chunk)
                    if total > cap:
                        raise UpstreamError(502, "upstream page is larger than the proxy accepts")
                    chunks.append(chunk)
                ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                return b"".join(chunks), ctype, str(resp.url)
        except httpx.TimeoutException as exc:
            raise UpstreamError(504, "upstream timed out") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(502, f"upstream failed ({exc.__class__.__name__})") from exc

    async def project(self, project: str) -> tuple[UpstreamPage, bool]:
        """The project's page and whether it came from the proxy's copy (a cache hit)."""
        lock = self._locks.setdefault(project, asyncio.Lock())
        async with lock:
            cached = self._pages.get(project)
            if cached is not None and time.time() - cached.fetched < self.page_ttl:
                return cached, True
            body, ctype, final = await self._read(urljoin(self.url, f"{project}/"), ACCEPT)
            if ctype in (SIMPLE_JSON, "application/json") or (
                    not ctype and body.lstrip()[:1] == b"{"):
                page = parse_json(body, final, project)
            elif ctype in (SIMPLE_HTML, "text/html") or body.lstrip()[:1] == b"<":
                page = parse_html(body.decode("utf-8", "replace"), final, project)
            else:
                raise UpstreamError(502, f"upstream answered {ctype or 'untyped'} content, "
                                    "not a simple index page")
            if len(self._pages) > 4096:
                self._pages.clear()
            self._pages[project] = page
            return page, False

    async def root(self) -> list[str]:
        # PyPI's root lists every project (tens of MB); clients never need it to install.
        body, ctype, _ = await self._read(self.url, ACCEPT, cap=8 * self.max_page_bytes)
        try:
            if ctype in (SIMPLE_JSON, "application/json"):
                return _root_names_json(body)
            return _root_names_html(body.decode("utf-8", "replace"))
        except (json.JSONDecodeError, AttributeError) as exc:
            raise UpstreamError(502, "the upstream root page is malformed") from exc

    async def download(self, url: str, sha256: str, dest: Path) -> None:
        """Stream `url` into `dest` only if its bytes hash to `sha256` (else UpstreamError,
        nothing written). `url` must come from an upstream page, never from a client."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, suffix=".part")
        tmp = Path(tmp_name)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in self._stream(url):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != sha256:
                raise UpstreamError(
                    502, f"the upstream file has sha256 {digest.hexdigest()}, not the "
                    f"published {sha256}; it is not served")
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)

    async def _stream(self, url: str) -> AsyncIterator[bytes]:
        try:
            async with self._client.stream("GET", url) as resp:
                if resp.status_code >= 400:
                    raise UpstreamError(502, f"upstream file answered HTTP {resp.status_code}")
                async for chunk in resp.aiter_bytes(1024 * 1024):
                    yield chunk
        except httpx.TimeoutException as exc:
            raise UpstreamError(504, "upstream timed out sending the file") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(502, f"upstream failed sending the file "
                                f"({exc.__class__.__name__})") from exc
