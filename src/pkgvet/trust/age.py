"""Release age: how long ago the index says a file was uploaded (PEP 700 `upload-time`).

Most malicious uploads are reported and removed within hours, so waiting is a cheap defence:
`audit --min-age 48h` reports younger files (PV540) and the proxy's `--min-age` hides them.
`parse_age` reads the same forms as the proxy's option (`pkgvet.policy.parse_age`: a bare
number is seconds) plus compound ages like `1d12h`; `too_young` is the comparison.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from pkgvet.errors import UsageError
from pkgvet.model import Finding, Phase
from pkgvet.registry import rule

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_age(text: str) -> timedelta:
    """`48h`, `2d`, `90m`, `1d12h`, `1w` (a bare number is seconds) -> timedelta."""
    value = text.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return timedelta(seconds=float(value))
    if not value or _PART.sub("", value):
        raise UsageError(
            f"'{text}' is not an age; write it like 48h, 2d, 90m or 1d12h"
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(value))
    return timedelta(seconds=seconds)


def parse_upload_time(text: str | None) -> datetime | None:
    """The PEP 700 timestamp as an aware UTC datetime; None when missing or unreadable."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_of(upload_time: str | None, now: datetime | None = None) -> timedelta | None:
    uploaded = parse_upload_time(upload_time)
    if uploaded is None:
        return None
    return (now or datetime.now(UTC)) - uploaded


def too_young(upload_time: str | None, min_age: timedelta, now: datetime | None = None) -> bool:
    """True when the file was uploaded less than `min_age` ago. Unknown times are not young:
    the caller decides what an unknown age means (the proxy may fail closed)."""
    age = age_of(upload_time, now)
    return age is not None and age < min_age


def describe(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def finding(
    upload_time: str | None, min_age: timedelta, now: datetime | None = None
) -> Finding | None:
    """PV540 when the file is younger than `min_age`, else None."""
    age = age_of(upload_time, now)
    if age is None or age >= min_age:
        return None
    return rule("PV540").finding(
        phase=Phase.METADATA,
        snippet=f"uploaded {upload_time} ({describe(age)} ago; minimum age {describe(min_age)})",
    )
