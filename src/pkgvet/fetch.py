"""Index client: resolve `name[==version]` to release files, download them, verify, cache.

Only the index pkgvet is pointed at is asked: `--index-url`, else pip's own `index-url`
setting, else PyPI. On pypi.org the JSON API answers (one request per exact version); any
other index is read through the Simple API, PEP 691 JSON first and PEP 503 HTML as the
fallback, and `file://` folders laid out as a simple index work too.

Nothing is scanned that was not verified: every file must come with a sha256 from the index,
the download is hashed while it streams into a temporary file, and only a file whose hash
matches is renamed into the cache (`<cache>/files/<sha[:2]>/<sha>/<filename>`). The cache is
keyed by that hash, so a second scan of the same file downloads nothing.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx
import platformdirs
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, sys_tags
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from pkgvet import __version__
from pkgvet.errors import HashMismatch, IndexUnreachable, PackageNotFound, UsageError
from pkgvet.model import ArtifactKind
from pkgvet.package import Artifact
from pkgvet.sources.local import name_version_from_filename, sha256_file

PYPI_SIMPLE_URL = "https://pypi.org/simple/"
JSON_API_HOSTS = frozenset({"pypi.org", "test.pypi.org"})
"""Hosts that also serve the PyPI JSON API at `/pypi/<name>/json` (Warehouse)."""

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
SIMPLE_HTML = "application/vnd.pypi.simple.v1+html"
ACCEPT = f"{SIMPLE_JSON}, {SIMPLE_HTML};q=0.2, text/html;q=0.01"
SDIST_SUFFIXES = (".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".tar")
CACHE_ENV = "PKGVET_CACHE_DIR"
SYSTEM_PIP_CONF = Path("/etc/pip.conf")
CHUNK = 1024 * 1024
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
DOWNLOAD_THREADS = 4

_NAME_RE = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class IndexFile:
    """One downloadable file of a release, as the index describes it."""

    filename: str
    url: str
    sha256: str
    """Lower-case hex, or "" when the index published none (such a file is never scanned)."""
    kind: ArtifactKind
    yanked: bool = False
    yanked_reason: str = ""
    requires_python: str | None = None
    size: int | None = None
    """Bytes, when the index says (PyPI JSON API, PEP 700); informative only."""
    upload_time: str | None = None
    """PEP 700 `upload-time` (ISO 8601, UTC), when the index says; see `pkgvet.trust.age`."""
    provenance_url: str | None = None
    """PEP 740: where the file's provenance object is (PEP 691 `provenance`, PEP 503
    `data-provenance`), or None when the index states none."""


@dataclass(frozen=True, slots=True)
class Release:
    name: str
    version: str
    files: tuple[IndexFile, ...]
    yanked: bool = False
    """PEP 592: a release is yanked when all its files are."""


@dataclass(slots=True)
class _Project:
    """Everything one index page said about a project."""

    name: str
    releases: dict[Version, Release]
    """Parseable versions only; a version listed without files maps to a file-less release."""


# --- configuration -------------------------------------------------------------------------


def default_index_url() -> str:
    """The index pip would use: `PIP_INDEX_URL`, else `index-url` from pip's config files.

    Files are read in pip's order, later ones overriding earlier ones: site-wide
    (`$XDG_CONFIG_DIRS/pip/pip.conf`, `/etc/pip.conf`), per-user (`~/.pip/pip.conf`,
    `~/.config/pip/pip.conf`; skipped when `PIP_CONFIG_FILE` names an existing file, as pip
    does), the running environment's `<sys.prefix>/pip.conf`, then `PIP_CONFIG_FILE`. In each
    file `[install]` overrides `[global]`. Without any setting: PyPI.

    `extra-index-url` is ignored on purpose: pip takes the highest version from all indexes,
    which is how dependency-confusion attacks work; pkgvet vets what one index serves.
    """
    from_env = os.environ.get("PIP_INDEX_URL", "").strip()
    if from_env:
        return from_env
    found: str | None = None
    for path in pip_config_files():
        value = _index_url_in(path)
        if value:
            found = value
    return found or PYPI_SIMPLE_URL


def pip_config_files() -> list[Path]:
    """pip's configuration files on this machine, lowest priority first."""
    env_file = os.environ.get("PIP_CONFIG_FILE")
    files: list[Path] = []
    if sys.platform.startswith("win") or sys.platform == "darwin":
        files.append(Path(platformdirs.site_config_dir("pip", appauthor=False)) / _conf_name())
    else:
        xdg_dirs = os.environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files += [Path(d) / "pip" / "pip.conf" for d in xdg_dirs.split(os.pathsep) if d]
        files.append(SYSTEM_PIP_CONF)
    if not (env_file and Path(env_file).exists()):
        home = Path.home()
        files.append(home / ".pip" / _conf_name())
        if sys.platform.startswith("win") or sys.platform == "darwin":
            files.append(Path(platformdirs.user_config_dir("pip", appauthor=False)) / _conf_name())
        else:
            xdg_home = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
            files.append(Path(xdg_home) / "pip" / "pip.conf")
    files.append(Path(sys.prefix) / _conf_name())
    if env_file:
        files.append(Path(env_file))
    return files


def _conf_name() -> str:
    return "pip.ini" if sys.platform.startswith("win") else "pip.conf"


def _index_url_in(path: Path) -> str | None:
    if not path.is_file():
        return None
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise UsageError(
            f"{path} is not a valid pip configuration file ({exc}); fix it, or set "
            "PIP_INDEX_URL or pass --index-url"
        ) from exc
    found: str | None = None
    for section in ("global", "install"):
        if not parser.has_section(section):
            continue
        for key, value in parser.items(section):
            if key.replace("_", "-") == "index-url" and value.strip():
                found = value.strip()
    return found


def cache_dir() -> Path:
    """Root of pkgvet's download cache: `$PKGVET_CACHE_DIR`, else the user cache folder."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(platformdirs.user_cache_dir("pkgvet"))


# --- HTTP ----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _client() -> httpx.Client:
    """One pooled client for the process (thread-safe); proxies and CA certs from the env."""
    return httpx.Client(
        transport=httpx.HTTPTransport(retries=2),
        timeout=httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT),
        follow_redirects=True,
        headers={"User-Agent": f"pkgvet/{__version__}"},
        trust_env=True,
    )


def redact(url: str) -> str:
    """The URL without a password, for messages (index URLs may carry credentials)."""
    parts = urlsplit(url)
    if parts.password is None and parts.username is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def _unreachable(url: str, why: str) -> IndexUnreachable:
    return IndexUnreachable(
        f"cannot use the package index at {redact(url)}: {why}; check the network and proxy "
        "settings, or pass --index-url"
    )


def _http_error(url: str, exc: httpx.HTTPError) -> IndexUnreachable:
    if isinstance(exc, httpx.TimeoutException):
        return _unreachable(url, "timed out")
    return _unreachable(url, str(exc) or exc.__class__.__name__)


def _get(url: str, accept: str) -> httpx.Response | None:
    """GET a page; None when it does not exist (404/410), IndexUnreachable on other failures."""
    try:
        response = _client().get(url, headers={"Accept": accept})
    except httpx.HTTPError as exc:
        raise _http_error(url, exc) from exc
    if response.status_code in (404, 410):
        return None
    if response.status_code in (401, 403):
        raise _unreachable(
            url, f"access refused (HTTP {response.status_code}); check the credentials"
        )
    if response.status_code >= 400:
        raise _unreachable(url, f"HTTP {response.status_code}")
    return response


# --- resolving -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Index:
    url: str
    """The simple index root, with a trailing slash."""

    @property
    def json_api(self) -> str | None:
        """Base of the PyPI JSON API when the index is Warehouse, else None."""
        parts = urlsplit(self.url)
        if parts.hostname in JSON_API_HOSTS:
            return urlunsplit((parts.scheme, parts.netloc, "/pypi/", "", ""))
        return None

    def project_url(self, canonical: str) -> str:
        return urljoin(self.url, f"{canonical}/")


def _index(index_url: str | None) -> _Index:
    url = (index_url or default_index_url()).strip()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise UsageError(
            f"index URL '{redact(url)}' must start with https://, http:// or file://"
        )
    return _Index(url if url.endswith("/") else url + "/")


def _canonical(name: str) -> str:
    if not _NAME_RE.match(name):
        raise UsageError(f"'{name}' is not a valid project name")
    return canonicalize_name(name)


def versions(name: str, *, index_url: str | None = None) -> list[str]:
    """Every version the index knows for `name` (yanked and pre-releases too), oldest first.

    Versions that do not parse (legacy PyPI uploads) are left out.
    """
    project = _load_project(_index(index_url), name)
    return [str(v) for v in sorted(project.releases)]


def get_release(name: str, spec: str | None = None, *, index_url: str | None = None) -> Release:
    """The release `spec` selects, chosen as pip would.

    `==X` (or `===X`) picks that release even when it is yanked (the files then say so). Any
    other specifier, or none, picks the newest release that matches, is not yanked and has
    files, preferring final releases over pre-releases unless only pre-releases match.
    """
    index = _index(index_url)
    specifier = _specifier(spec)
    pinned = _pinned(specifier)
    if pinned is not None and index.json_api is not None:
        release = _pypi_json_release(index, index.json_api, name, pinned)
        if release is not None:
            return release
    project = _load_project(index, name)
    return _choose(project, name, specifier, pinned)


def _specifier(spec: str | None) -> SpecifierSet:
    try:
        return SpecifierSet(spec or "")
    except InvalidSpecifier as exc:
        raise UsageError(
            f"'{spec}' is not a version specifier; write e.g. '==1.2.3' or '>=2'"
        ) from exc


def _pinned(specifier: SpecifierSet) -> str | None:
    """The version an exact `==X` / `===X` specifier names, else None."""
    specs = list(specifier)
    if len(specs) != 1:
        return None
    only = specs[0]
    if only.operator == "===" or (only.operator == "==" and not only.version.endswith(".*")):
        return only.version
    return None


def _matches_pin(version: Version, pinned: str) -> bool:
    try:
        return version == Version(pinned)
    except InvalidVersion:
        return str(version) == pinned


def _choose(
    project: _Project, name: str, specifier: SpecifierSet, pinned: str | None
) -> Release:
    usable = {v: r for v, r in project.releases.items() if r.files}
    if not usable:
        raise PackageNotFound(
            f"'{name}' has no sdist or wheel files on the index; nothing to scan"
        )
    if pinned is not None:
        for version in sorted(project.releases, reverse=True):
            if not _matches_pin(version, pinned):
                continue
            if version in usable:
                return usable[version]
            raise PackageNotFound(
                f"release {pinned} of '{name}' has no sdist or wheel files; newest is "
                f"{_newest(usable)}"
            )
        raise PackageNotFound(f"no release {pinned} of '{name}'; newest is {_newest(usable)}")
    candidates = [v for v, r in usable.items() if not r.yanked]
    matching = list(specifier.filter(candidates))
    if not matching:
        raise PackageNotFound(
            f"no release of '{name}' matches '{specifier}'; newest is {_newest(usable)}"
        )
    return usable[max(matching)]


def _newest(releases: Mapping[Version, Release]) -> str:
    live = [v for v, r in releases.items() if not r.yanked]
    final = [v for v in live if not v.is_prerelease]
    return str(max(final or live or list(releases)))


def _not_found(index: _Index, name: str) -> PackageNotFound:
    return PackageNotFound(f"no project '{name}' on {redact(index.url)}; check the spelling")


def _load_project(index: _Index, name: str) -> _Project:
    canonical = _canonical(name)
    if index.json_api is not None:
        project = _pypi_json_project(index, index.json_api, name, canonical)
        if project is not None:
            return project
    page_url = index.project_url(canonical)
    if urlsplit(page_url).scheme == "file":
        return _file_project(index, name, canonical, page_url)
    response = _get(page_url, ACCEPT)
    if response is None:
        raise _not_found(index, name)
    return _parse_simple(response, str(response.url), canonical)


def _parse_simple(response: httpx.Response, page_url: str, canonical: str) -> _Project:
    ctype = response.headers.get("content-type", "").split(";")[0].strip().lower()
    body = response.content
    looks_json = body.lstrip()[:1] == b"{"
    if ctype in (SIMPLE_JSON, "application/json") or (not ctype and looks_json):
        return _project_from_files(canonical, *_simple_json(body, page_url))
    if ctype in (SIMPLE_HTML, "text/html") or (not ctype and body.lstrip()[:1] == b"<"):
        text = response.text
        return _project_from_files(canonical, canonical, _simple_html(text, page_url), [])
    raise _unreachable(page_url, f"the answer is {ctype or 'untyped'}, not a simple index page")


def _simple_json(body: bytes, page_url: str) -> tuple[str, list[IndexFile], list[str]]:
    """PEP 691 project page: (name, files, versions listed by PEP 700)."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _unreachable(page_url, "the JSON page does not parse") from exc
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise _unreachable(page_url, "the JSON page has no 'files' list")
    api_version = str(_dig(data, "meta", "api-version") or "1.0")
    if api_version.split(".")[0] != "1":
        raise _unreachable(page_url, f"simple API version {api_version} is not supported")
    files: list[IndexFile] = []
    for entry in data["files"]:
        if not isinstance(entry, dict):
            continue
        url = entry.get("url")
        filename = entry.get("filename")
        if not isinstance(url, str) or not isinstance(filename, str):
            continue
        hashes = entry.get("hashes")
        sha = hashes.get("sha256", "") if isinstance(hashes, dict) else ""
        yanked = entry.get("yanked", False)
        requires = entry.get("requires-python")
        size = entry.get("size")
        uploaded = entry.get("upload-time")
        provenance = entry.get("provenance")
        made = _index_file(
            filename,
            urljoin(page_url, url),
            sha,
            yanked=bool(yanked),
            yanked_reason=yanked if isinstance(yanked, str) else "",
            requires_python=requires if isinstance(requires, str) else None,
            size=size if isinstance(size, int) else None,
            upload_time=uploaded if isinstance(uploaded, str) else None,
            provenance_url=urljoin(page_url, provenance) if isinstance(provenance, str) else None,
        )
        if made is not None:
            files.append(made)
    listed = data.get("versions")
    listed_versions = [v for v in listed if isinstance(v, str)] if isinstance(listed, list) else []
    name = data.get("name")
    return (name if isinstance(name, str) else "", files, listed_versions)


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


class _LinkParser(HTMLParser):
    """The anchors of a PEP 503 page, with their attributes and the page's `<base href>`.

    The standard library's parser is enough for these machine-written pages; the HTML
    libraries on PyPI are either large (lxml, html5lib) or unmaintained, and pip itself
    parses the simple index with `html.parser`.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self.anchors.append(dict(attrs))


def _simple_html(text: str, page_url: str) -> list[IndexFile]:
    parser = _LinkParser()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files: list[IndexFile] = []
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        absolute = urljoin(base, href)
        parts = urlsplit(absolute)
        fragment = dict(
            item.split("=", 1) for item in parts.fragment.split("&") if "=" in item
        )
        filename = unquote(parts.path.rsplit("/", 1)[-1])
        yanked = "data-yanked" in attrs
        provenance = attrs.get("data-provenance")
        made = _index_file(
            filename,
            urlunsplit(parts._replace(fragment="")),
            fragment.get("sha256", ""),
            yanked=yanked,
            yanked_reason=(attrs.get("data-yanked") or "") if yanked else "",
            requires_python=attrs.get("data-requires-python") or None,
            provenance_url=urljoin(base, provenance) if provenance else None,
        )
        if made is not None:
            files.append(made)
    return files


def _index_file(
    filename: str,
    url: str,
    sha256: str,
    *,
    yanked: bool = False,
    yanked_reason: str = "",
    requires_python: str | None = None,
    size: int | None = None,
    upload_time: str | None = None,
    provenance_url: str | None = None,
) -> IndexFile | None:
    """An IndexFile for a wheel or sdist with a safe file name; None for anything else."""
    if not _safe_filename(filename):
        return None
    lower = filename.lower()
    if lower.endswith(".whl"):
        kind = ArtifactKind.WHEEL
    elif lower.endswith(SDIST_SUFFIXES):
        kind = ArtifactKind.SDIST
    else:
        return None  # eggs, Windows installers, signatures: not scanned
    sha = sha256.strip().lower()
    return IndexFile(
        filename=filename,
        url=url,
        sha256=sha if _SHA256_RE.match(sha) else "",
        kind=kind,
        yanked=yanked,
        yanked_reason=yanked_reason,
        requires_python=requires_python,
        size=size,
        upload_time=upload_time,
        provenance_url=provenance_url,
    )


def _safe_filename(filename: str) -> bool:
    """A plain file name: the cache path is built from it, so no separators or dot-names."""
    return (
        bool(filename)
        and filename not in (".", "..")
        and not any(c in filename for c in "/\\\x00:")
        and len(filename) <= 255
    )


def _version_of(file: IndexFile, canonical: str) -> Version | None:
    """The version a file name states, per the wheel and sdist naming rules."""
    if file.kind is ArtifactKind.WHEEL:
        try:
            name, version, _, _ = parse_wheel_filename(file.filename)
        except (InvalidWheelFilename, InvalidVersion):
            return None
        return version if name == canonical else None
    stem = file.filename
    for suffix in SDIST_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    # The name part may itself contain dashes: find the dash after which the name ends.
    for i, char in enumerate(stem):
        if char == "-" and canonicalize_name(stem[:i]) == canonical:
            try:
                return Version(stem[i + 1:])
            except InvalidVersion:
                return None
    return None


def _project_from_files(
    canonical: str, name: str, files: list[IndexFile], listed: list[str]
) -> _Project:
    grouped: dict[Version, list[IndexFile]] = {}
    for raw in listed:
        try:
            grouped.setdefault(Version(raw), [])
        except InvalidVersion:
            continue
    for file in files:
        version = _version_of(file, canonical)
        if version is not None:
            grouped.setdefault(version, []).append(file)
    display = name or canonical
    return _Project(
        display,
        {v: _release(display, str(v), fs) for v, fs in grouped.items()},
    )


def _release(name: str, version: str, files: list[IndexFile]) -> Release:
    return Release(
        name=name,
        version=version,
        files=tuple(files),
        yanked=bool(files) and all(f.yanked for f in files),
    )


def _file_project(index: _Index, name: str, canonical: str, page_url: str) -> _Project:
    """A local folder laid out as a simple index: `<root>/<project>/index.html`.

    A project folder without an index page is read as a plain list of its archives; their
    sha256 is computed from the disk they are on.
    """
    folder = Path(url2pathname(urlsplit(page_url).path))
    if not folder.is_dir():
        raise _not_found(index, name)
    for page in ("index.json", "index.html"):
        path = folder / page
        if path.is_file():
            body = path.read_bytes()
            page_file_url = path.resolve().as_uri()
            if page == "index.json":
                return _project_from_files(canonical, *_simple_json(body, page_file_url))
            html = body.decode("utf-8", errors="replace")
            return _project_from_files(
                canonical, canonical, _simple_html(html, page_file_url), []
            )
    files = [
        made
        for path in sorted(folder.iterdir())
        if path.is_file()
        and (made := _index_file(path.name, path.resolve().as_uri(), sha256_file(path)))
    ]
    return _project_from_files(canonical, canonical, files, [])


# --- PyPI JSON API ---------------------------------------------------------------------------


def _pypi_json_project(index: _Index, base: str, name: str, canonical: str) -> _Project | None:
    """Project from `/pypi/<name>/json`; None when PyPI dropped the (deprecated) `releases`."""
    url = urljoin(base, f"{canonical}/json")
    response = _get(url, "application/json")
    if response is None:
        raise _not_found(index, name)
    data = _json_body(response, url)
    releases = data.get("releases")
    if not isinstance(releases, dict):
        return None
    display = str(_dig(data, "info", "name") or canonical)
    parsed: dict[Version, Release] = {}
    for raw, entries in releases.items():
        try:
            version = Version(raw)
        except InvalidVersion:
            continue
        files = _json_api_files(entries if isinstance(entries, list) else [], url)
        parsed[version] = _release(display, str(version), files)
    return _Project(display, parsed)


def _pypi_json_release(index: _Index, base: str, name: str, pinned: str) -> Release | None:
    """One release from `/pypi/<name>/<version>/json`; None if that URL does not exist."""
    canonical = _canonical(name)
    url = urljoin(base, f"{canonical}/{pinned}/json")
    response = _get(url, "application/json")
    if response is None:
        return None
    data = _json_body(response, url)
    raw_version = str(_dig(data, "info", "version") or "")
    try:
        if not _matches_pin(Version(raw_version), pinned):
            return None
        version = str(Version(raw_version))
    except InvalidVersion:
        return None
    entries = data.get("urls")
    files = _json_api_files(entries if isinstance(entries, list) else [], url)
    if not files:
        return None
    display = str(_dig(data, "info", "name") or canonical)
    return _release(display, version, files)


def _json_body(response: httpx.Response, url: str) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _unreachable(url, "the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise _unreachable(url, "the answer is not a JSON object")
    return data


def _json_api_files(entries: list[Any], page_url: str) -> list[IndexFile]:
    files: list[IndexFile] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if entry.get("packagetype") not in ("sdist", "bdist_wheel"):
            continue
        filename, url = entry.get("filename"), entry.get("url")
        if not isinstance(filename, str) or not isinstance(url, str):
            continue
        reason = entry.get("yanked_reason")
        requires = entry.get("requires_python")
        size = entry.get("size")
        uploaded = entry.get("upload_time_iso_8601")
        made = _index_file(
            filename,
            urljoin(page_url, url),
            str(_dig(entry, "digests", "sha256") or ""),
            yanked=bool(entry.get("yanked")),
            yanked_reason=reason if isinstance(reason, str) else "",
            requires_python=requires if isinstance(requires, str) and requires else None,
            size=size if isinstance(size, int) else None,
            upload_time=uploaded if isinstance(uploaded, str) else None,
        )
        if made is not None:
            files.append(made)
    return files


# --- choosing files ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tag_priority() -> dict[Tag, int]:
    priority: dict[Tag, int] = {}
    for i, tag in enumerate(sys_tags()):
        priority.setdefault(tag, i)
    return priority


def _wheel_tags(file: IndexFile) -> frozenset[Tag]:
    try:
        return parse_wheel_filename(file.filename)[3]
    except (InvalidWheelFilename, InvalidVersion):
        return frozenset()


def _is_pure(tags: frozenset[Tag]) -> bool:
    return any(
        t.abi == "none" and t.platform == "any" and t.interpreter.startswith("py3") for t in tags
    )


def select_files(release: Release, *, all_files: bool = False) -> list[IndexFile]:
    """The files to scan: the sdist and the wheel pip would install here, or every file.

    The wheel is the first one in `packaging.tags.sys_tags()` order (pip's preference), else
    a pure-Python `py3-none-any` wheel. Yanked files are passed over unless the whole release
    is yanked (then it was pinned on purpose).
    """
    if all_files:
        return list(release.files)
    files = [f for f in release.files if not f.yanked] or list(release.files)
    chosen: list[IndexFile] = []
    sdists = [f for f in files if f.kind is ArtifactKind.SDIST]
    if sdists:
        chosen.append(min(sdists, key=lambda f: not f.filename.lower().endswith(".tar.gz")))
    priority = _tag_priority()
    best: tuple[int, IndexFile] | None = None
    for file in (f for f in files if f.kind is ArtifactKind.WHEEL):
        ranks = [priority[t] for t in _wheel_tags(file) if t in priority]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), file)
    if best is not None:
        chosen.append(best[1])
    else:
        pure = [f for f in files if f.kind is ArtifactKind.WHEEL and _is_pure(_wheel_tags(f))]
        if pure:
            chosen.append(pure[0])
    return chosen


# --- downloading ---------------------------------------------------------------------------


def cached_path(file: IndexFile) -> Path:
    return cache_dir() / "files" / file.sha256[:2] / file.sha256 / file.filename


def download(
    file: IndexFile, *, name: str | None = None, version: str | None = None
) -> Artifact:
    """The file on local disk, verified against the index's sha256; from the cache if there.

    The download streams into a temporary file beside the cache and is renamed into place
    only after its hash matched, so the cache never holds an unverified file.
    """
    if not file.sha256:
        raise HashMismatch(
            f"the index publishes no sha256 for {file.filename}, so a download could not be "
            "verified and pkgvet will not scan it; download and check it yourself, then scan "
            "the local file"
        )
    if not _safe_filename(file.filename):
        raise IndexUnreachable(f"the index gave an unsafe file name {file.filename!r}")
    final = cached_path(file)
    if not (final.is_file() and sha256_file(final) == file.sha256):
        _download_into(file, final)
    from_name, from_version = name_version_from_filename(file.filename)
    return Artifact(
        path=final,
        kind=file.kind,
        sha256=file.sha256,
        name=name or from_name,
        version=version or from_version,
        source=redact(file.url),
        yanked=file.yanked,
        yanked_reason=file.yanked_reason,
        upload_time=file.upload_time,
        provenance_url=file.provenance_url,
        index_file=file.filename,
    )


def _download_into(file: IndexFile, final: Path) -> None:
    staging = cache_dir() / "tmp"
    staging.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=staging, prefix=file.sha256[:12] + "-", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            actual = _stream(file.url, out)
        if actual != file.sha256:
            raise HashMismatch(
                f"{file.filename} from {redact(file.url)} has sha256 {actual}, but the index "
                f"published {file.sha256}; the download was discarded. Someone may have "
                "tampered with the file or the index: do not install it"
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _stream(url: str, out: IO[bytes]) -> str:
    """Copy `url` into `out`, returning the sha256 of what was written."""
    digest = hashlib.sha256()
    for chunk in _chunks(url):
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest()


def _chunks(url: str) -> Iterator[bytes]:
    if urlsplit(url).scheme == "file":
        path = Path(url2pathname(urlsplit(url).path))
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(CHUNK):
                    yield chunk
        except OSError as exc:
            raise _unreachable(url, f"cannot read {path} ({exc.strerror})") from exc
        return
    try:
        with _client().stream("GET", url) as response:
            if response.status_code >= 400:
                raise _unreachable(url, f"download failed with HTTP {response.status_code}")
            yield from response.iter_bytes(CHUNK)
    except httpx.HTTPError as exc:
        raise _http_error(url, exc) from exc


def fetch(
    name: str,
    spec: str | None = None,
    *,
    index_url: str | None = None,
    all_files: bool = False,
) -> list[Artifact]:
    """Resolve, choose and download: the verified local files of one release."""
    release = get_release(name, spec, index_url=index_url)
    files = select_files(release, all_files=all_files)
    if not files:
        raise PackageNotFound(
            f"release {release.version} of '{name}' has no sdist and no wheel for this "
            "platform; pass --all-files to scan every file"
        )
    if len(files) == 1:
        return [download(files[0], name=release.name, version=release.version)]
    with ThreadPoolExecutor(max_workers=min(DOWNLOAD_THREADS, len(files))) as pool:
        return list(
            pool.map(lambda f: download(f, name=release.name, version=release.version), files)
        )


# --- trust signals ---------------------------------------------------------------------------


def project_releases(name: str, *, index_url: str | None = None) -> list[Release]:
    """Every parseable release of `name`, oldest first, from the Simple API.

    The Simple API, unlike PyPI's JSON API, states each file's PEP 740 provenance and PEP 700
    upload time, which the trust checks compare across releases (`pkgvet.trust`).
    """
    index = _index(index_url)
    canonical = _canonical(name)
    page_url = index.project_url(canonical)
    if urlsplit(page_url).scheme == "file":
        project = _file_project(index, name, canonical, page_url)
    else:
        response = _get(page_url, ACCEPT)
        if response is None:
            raise _not_found(index, name)
        project = _parse_simple(response, str(response.url), canonical)
    return [project.releases[v] for v in sorted(project.releases)]


def integrity_url(index_url: str | None, project: str, version: str, filename: str) -> str | None:
    """PyPI's Integrity API URL for a file's provenance, on Warehouse hosts only."""
    parts = urlsplit(_index(index_url).url)
    if parts.hostname not in JSON_API_HOSTS:
        return None
    path = f"/integrity/{canonicalize_name(project)}/{version}/{filename}/provenance"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def get_bytes(url: str, *, max_bytes: int) -> bytes | None:
    """A small document (a provenance object) from the index; None when it does not exist.

    Raises IndexUnreachable on network failures and on answers larger than `max_bytes`.
    """
    if urlsplit(url).scheme == "file":
        path = Path(url2pathname(urlsplit(url).path))
        if not path.is_file():
            return None
        if path.stat().st_size > max_bytes:
            raise _unreachable(url, f"the document is larger than {max_bytes} bytes")
        return path.read_bytes()
    response = _get(url, "application/vnd.pypi.integrity.v1+json, application/json")
    if response is None:
        return None
    if len(response.content) > max_bytes:
        raise _unreachable(url, f"the document is larger than {max_bytes} bytes")
    return response.content
