"""Known-malicious lookup: OSV's malicious-package records (`MAL-` ids, ossf/malicious-packages).

Three sources answer the same question, "which MAL- records affect this name and version":
the OSV API (`POST /v1/query`, answers cached in SQLite under the data dir for a few hours),
or an offline copy of OSV's PyPI export (`pkgvet osv update` downloads `all.zip`;
`--osv-offline PATH` reads it). Withdrawn records are ignored. A match is a critical finding
(PV541) beside the analysis, never instead of it; a source that cannot answer gives a note
(PV542), never silence.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from pkgvet import __version__
from pkgvet.errors import PkgvetError
from pkgvet.model import Finding, Phase
from pkgvet.registry import rule

OSV_API = "https://api.osv.dev/v1/query"
EXPORT_URL = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
CACHE_SECONDS = 6 * 3600
MAX_RECORD_BYTES = 1024 * 1024


class OsvUnavailable(PkgvetError):
    """The OSV source could not answer (network down, bad export file)."""


@dataclass(frozen=True, slots=True)
class Affected:
    name: str
    """Canonical PyPI name."""
    versions: frozenset[str]
    ranges: tuple[tuple[tuple[str, str], ...], ...]
    """ECOSYSTEM ranges as (event, version) pairs: introduced, fixed, last_affected."""


@dataclass(frozen=True, slots=True)
class OsvRecord:
    id: str
    summary: str
    published: str
    modified: str
    withdrawn: str
    affected: tuple[Affected, ...]
    references: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"https://osv.dev/vulnerability/{self.id}"

    def affects(self, name: str, version: str | None) -> bool:
        canonical = canonicalize_name(name)
        for entry in self.affected:
            if entry.name != canonical:
                continue
            if version is None:
                return True
            if version in entry.versions or _normal(version) in {
                _normal(v) for v in entry.versions
            }:
                return True
            if any(_in_range(version, events) for events in entry.ranges):
                return True
        return False


def _normal(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _in_range(version: str, events: tuple[tuple[str, str], ...]) -> bool:
    """OSV's ECOSYSTEM range walk: inside after `introduced`, outside after `fixed`."""
    try:
        target = Version(version)
    except InvalidVersion:
        return False
    inside = False
    for kind, raw in sorted(events, key=lambda e: _sort_key(e[1])):
        point = Version("0") if raw == "0" else _version_or_none(raw)
        if point is None:
            continue
        if kind == "introduced" and target >= point:
            inside = True
        elif (kind == "fixed" and target >= point) or (
            kind == "last_affected" and target > point
        ):
            inside = False
    return inside


def _version_or_none(raw: str) -> Version | None:
    try:
        return Version(raw)
    except InvalidVersion:
        return None


def _sort_key(raw: str) -> Version:
    return _version_or_none(raw) or Version("0")


def parse_record(data: Any) -> OsvRecord:
    """One OSV JSON record; ValueError when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise ValueError("not an OSV record (no 'id')")
    affected: list[Affected] = []
    for entry in data.get("affected") or []:
        if not isinstance(entry, dict):
            continue
        package = entry.get("package") or {}
        if not isinstance(package, dict) or package.get("ecosystem") != "PyPI":
            continue
        name = package.get("name")
        if not isinstance(name, str):
            continue
        versions = frozenset(v for v in entry.get("versions") or [] if isinstance(v, str))
        ranges: list[tuple[tuple[str, str], ...]] = []
        for r in entry.get("ranges") or []:
            if not isinstance(r, dict) or r.get("type") != "ECOSYSTEM":
                continue
            events = tuple(
                (k, str(v))
                for ev in r.get("events") or [] if isinstance(ev, dict)
                for k, v in ev.items()
                if k in ("introduced", "fixed", "last_affected")
            )
            ranges.append(events)
        affected.append(Affected(canonicalize_name(name), versions, tuple(ranges)))
    refs = tuple(
        r["url"] for r in data.get("references") or []
        if isinstance(r, dict) and isinstance(r.get("url"), str)
    )
    return OsvRecord(
        id=data["id"],
        summary=str(data.get("summary") or ""),
        published=str(data.get("published") or ""),
        modified=str(data.get("modified") or ""),
        withdrawn=str(data.get("withdrawn") or ""),
        affected=tuple(affected),
        references=refs,
    )


def malicious(records: Iterable[OsvRecord], name: str, version: str | None) -> list[OsvRecord]:
    """The live MAL- records among `records` that affect name==version."""
    return [
        r for r in records
        if r.id.startswith("MAL-") and not r.withdrawn and r.affects(name, version)
    ]


class OsvSource(Protocol):
    def lookup(self, name: str, version: str | None) -> list[OsvRecord]:
        """Live MAL- records for name==version; raises OsvUnavailable."""
        ...


class OsvOffline:
    """An OSV PyPI export (`all.zip`) or a folder of OSV JSON files, read once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._by_name: dict[str, list[OsvRecord]] | None = None

    def _load(self) -> dict[str, list[OsvRecord]]:
        if self._by_name is None:
            by_name: dict[str, list[OsvRecord]] = {}
            for record in self._records():
                for entry in record.affected:
                    by_name.setdefault(entry.name, []).append(record)
            self._by_name = by_name
        return self._by_name

    def _records(self) -> Iterator[OsvRecord]:
        try:
            if self.path.is_dir():
                for file in sorted(self.path.rglob("MAL-*.json")):
                    yield from self._parse(file.read_bytes(), str(file))
                return
            with zipfile.ZipFile(self.path) as archive:
                for info in archive.infolist():
                    base = info.filename.rsplit("/", 1)[-1]
                    if not base.startswith("MAL-") or not base.endswith(".json"):
                        continue
                    if info.file_size > MAX_RECORD_BYTES:
                        continue
                    yield from self._parse(archive.read(info), info.filename)
        except (OSError, zipfile.BadZipFile) as exc:
            raise OsvUnavailable(
                f"cannot read the OSV export {self.path} ({exc}); download it again with "
                "`pkgvet osv update`"
            ) from exc

    @staticmethod
    def _parse(body: bytes, where: str) -> Iterator[OsvRecord]:
        try:
            yield parse_record(json.loads(body))
        except (ValueError, UnicodeDecodeError):
            return  # one bad record must not hide the others

    def lookup(self, name: str, version: str | None) -> list[OsvRecord]:
        return malicious(self._load().get(canonicalize_name(name), []), name, version)


class OsvOnline:
    """The OSV API, with answers cached in SQLite (`<data dir>/osv-cache.sqlite`)."""

    def __init__(self, cache_path: Path | None, url: str = OSV_API, timeout: float = 8.0,
                 client: httpx.Client | None = None) -> None:
        self.url = url
        self.cache_path = cache_path
        self.timeout = timeout
        self._client = client
        self._down: str | None = None
        """Set at the first network failure: the rest of the run fails fast with the same
        note instead of waiting on the network once per package."""

    def _connect(self) -> sqlite3.Connection | None:
        if self.cache_path is None:
            return None
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.cache_path, timeout=10)
        conn.execute("CREATE TABLE IF NOT EXISTS osv (key TEXT PRIMARY KEY, at REAL, body TEXT)")
        return conn

    def _cached(self, key: str) -> list[Any] | None:
        conn = self._connect()
        if conn is None:
            return None
        with conn:
            row = conn.execute("SELECT at, body FROM osv WHERE key=?", (key,)).fetchone()
        conn.close()
        if row is None or time.time() - row[0] > CACHE_SECONDS:
            return None
        body = json.loads(row[1])
        return body if isinstance(body, list) else None

    def _store(self, key: str, vulns: list[Any]) -> None:
        conn = self._connect()
        if conn is None:
            return
        with conn:
            conn.execute("INSERT OR REPLACE INTO osv VALUES (?, ?, ?)",
                         (key, time.time(), json.dumps(vulns)))
        conn.close()

    def _query(self, name: str, version: str | None) -> list[Any]:
        payload: dict[str, Any] = {"package": {"name": name, "ecosystem": "PyPI"}}
        if version:
            payload["version"] = version
        client = self._client or httpx.Client(
            timeout=self.timeout, headers={"User-Agent": f"pkgvet/{__version__}"},
            trust_env=True,
        )
        vulns: list[Any] = []
        try:
            while True:
                response = client.post(self.url, json=payload)
                if response.status_code >= 400:
                    raise OsvUnavailable(f"the OSV API answered HTTP {response.status_code}")
                data = response.json()
                if not isinstance(data, dict):
                    raise OsvUnavailable("the OSV API answered something that is not JSON")
                vulns.extend(v for v in data.get("vulns") or [] if isinstance(v, dict))
                token = data.get("next_page_token")
                if not token:
                    return vulns
                payload["page_token"] = token
        except httpx.HTTPError as exc:
            raise OsvUnavailable(
                f"the OSV API at {self.url} is not reachable ({exc.__class__.__name__}); "
                "retry, or use an offline export (`pkgvet osv update`, then --osv-offline)"
            ) from exc
        except ValueError as exc:
            raise OsvUnavailable("the OSV API answered something that is not JSON") from exc
        finally:
            if self._client is None:
                client.close()

    def lookup(self, name: str, version: str | None) -> list[OsvRecord]:
        key = f"{canonicalize_name(name)}=={version or ''}"
        vulns = self._cached(key)
        if vulns is None:
            if self._down is not None:
                raise OsvUnavailable(self._down)
            try:
                vulns = self._query(name, version)
            except OsvUnavailable as exc:
                self._down = str(exc)
                raise
            self._store(key, vulns)
        records = []
        for v in vulns:
            try:
                records.append(parse_record(v))
            except ValueError:
                continue
        return malicious(records, name, version)


def findings(source: OsvSource, name: str | None, version: str | None) -> list[Finding]:
    """PV541 per matching record, or a PV542 note when the source could not answer."""
    if not name:
        return []
    try:
        records = source.lookup(name, version)
    except OsvUnavailable as exc:
        return [rule("PV542").finding(phase=Phase.METADATA, snippet=str(exc))]
    return [
        rule("PV541").finding(
            phase=Phase.METADATA,
            snippet=f"{r.id}: {r.summary or 'malicious release'} ({r.url})",
            explanation=(
                f"{rule('PV541').explanation} Record {r.id}, published {r.published or '?'}"
                + (f"; references: {', '.join(r.references[:3])}" if r.references else "")
            ),
        )
        for r in records
    ]


def download_export(dest: Path, url: str = EXPORT_URL) -> Path:
    """Download OSV's PyPI export to `dest` (atomically), for --osv-offline."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_suffix(dest.suffix + ".part")
    try:
        with httpx.stream("GET", url, timeout=60, follow_redirects=True, trust_env=True,
                          headers={"User-Agent": f"pkgvet/{__version__}"}) as response:
            if response.status_code >= 400:
                raise OsvUnavailable(f"downloading {url} failed with HTTP {response.status_code}")
            with part.open("wb") as out:
                for chunk in response.iter_bytes(1024 * 1024):
                    out.write(chunk)
    except httpx.HTTPError as exc:
        part.unlink(missing_ok=True)
        raise OsvUnavailable(
            f"cannot download {url} ({exc.__class__.__name__}); retry later"
        ) from exc
    try:
        with zipfile.ZipFile(part) as archive:
            archive.testzip()
    except zipfile.BadZipFile as exc:
        part.unlink(missing_ok=True)
        raise OsvUnavailable(f"{url} did not give a zip file; retry later") from exc
    part.replace(dest)
    return dest
