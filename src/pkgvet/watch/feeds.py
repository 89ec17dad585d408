"""Upload feeds: PyPI's XML-RPC changelog, and its RSS updates feed as the fallback.

XML-RPC is sent with httpx (one client, time-outs), encoded and decoded with the standard
library's xmlrpc.client, whose parser refuses external entities.
"""

from __future__ import annotations

import xmlrpc.client
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

import httpx

from pkgvet import __version__
from pkgvet.errors import IndexUnreachable

MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Upload:
    """A release that got a new file (or was created): project, version, and where in the
    feed it was (the serial for XML-RPC, a timestamp for RSS)."""

    project: str
    version: str
    position: int


def _post(url: str, method: str, *params: int, timeout: float) -> object:
    body = xmlrpc.client.dumps(params, method)
    try:
        response = httpx.post(url, content=body.encode(), timeout=timeout,
                              headers={"Content-Type": "text/xml",
                                       "User-Agent": f"pkgvet-watch/{__version__}"})
    except httpx.HTTPError as exc:
        raise IndexUnreachable(f"the changelog at {url} did not answer ({exc}); "
                               "check the URL or use --feed rss") from exc
    if response.status_code != 200 or len(response.content) > MAX_BODY:
        raise IndexUnreachable(f"the changelog at {url} answered HTTP {response.status_code}; "
                               "use --feed rss if XML-RPC is blocked")
    try:
        (value,), _ = xmlrpc.client.loads(response.content)
    except (xmlrpc.client.Fault, xmlrpc.client.ResponseError, ExpatError, ValueError) as exc:
        raise IndexUnreachable(f"the changelog at {url} sent something that is not an XML-RPC "
                               f"answer ({exc.__class__.__name__})") from exc
    return value


def last_serial(url: str, timeout: float = 30.0) -> int:
    value = _post(url, "changelog_last_serial", timeout=timeout)
    if not isinstance(value, int):
        raise IndexUnreachable(f"the changelog at {url} gave no serial")
    return value


def changelog_since(url: str, serial: int, timeout: float = 60.0) -> list[Upload]:
    """Uploads after `serial`, oldest first. Entries are (name, version, time, action,
    serial); only file additions and new releases count."""
    value = _post(url, "changelog_since_serial", serial, timeout=timeout)
    if not isinstance(value, list):
        raise IndexUnreachable(f"the changelog at {url} is not a list")
    out: list[Upload] = []
    for entry in value:
        if not isinstance(entry, list | tuple) or len(entry) < 5:
            continue
        name, version, _, action, position = entry[:5]
        if not (isinstance(name, str) and isinstance(version, str) and version
                and isinstance(action, str) and isinstance(position, int)):
            continue
        if (action.startswith("add ") and " file " in action) or action == "new release":
            out.append(Upload(name, version, position))
    return sorted(out, key=lambda u: u.position)


def rss_since(url: str, after: int, timeout: float = 30.0) -> list[Upload]:
    """Releases in the RSS updates feed newer than `after` (a Unix time), oldest first.
    Item titles are "<project> <version>"."""
    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True,
                             headers={"User-Agent": f"pkgvet-watch/{__version__}"})
    except httpx.HTTPError as exc:
        raise IndexUnreachable(f"the feed at {url} did not answer ({exc})") from exc
    if response.status_code != 200 or len(response.content) > MAX_BODY:
        raise IndexUnreachable(f"the feed at {url} answered HTTP {response.status_code}")
    if b"<!DOCTYPE" in response.content[:1024] or b"<!ENTITY" in response.content:
        raise IndexUnreachable(f"the feed at {url} declares entities; refused")
    try:
        root = ElementTree.fromstring(response.content)
    except ElementTree.ParseError as exc:
        raise IndexUnreachable(f"the feed at {url} is not XML ({exc})") from exc
    out: list[Upload] = []
    for item in root.iter("item"):
        title = (item.findtext("title") or "").strip()
        date = (item.findtext("pubDate") or "").strip()
        parts = title.split()
        if len(parts) != 2 or not date:
            continue
        try:
            when = int(parsedate_to_datetime(date).timestamp())
        except (TypeError, ValueError):
            continue
        if when > after:
            out.append(Upload(parts[0], parts[1], when))
    return sorted(out, key=lambda u: u.position)
