"""Which files an index shows: one pure function shared by the proxy and the triage console.

`evaluate(file, static, sandbox, decisions, settings, now)` answers listed or hidden, with a
reason a person can act on. It reads nothing but its arguments, so the proxy, the console's
"what would the proxy do" and the tests agree by construction; the caller reads decisions
fresh from the store on every request, so a console decision applies at once.

Order, first match wins:
1. a person's decision on the file (sha256), then on its release: allow lists, block hides;
2. `min_age`: a file younger than that, by PEP 700 upload-time, is hidden (no upload-time:
   hidden too, since its age cannot be shown);
3. the sandbox found it malicious: hidden ("withdrawn" when it had been listed before);
4. the static verdict: malicious hidden; suspicious hidden unless `hide_suspicious` is off;
   a partial benign result (an analyzer could not finish) counts as not vetted;
5. not vetted (no result yet, or the scan failed): hidden, unless `fail_open`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pkgvet.store.records import Action, Decision, FileRecord, ResultRecord, Scope


class Reason(StrEnum):
    BENIGN = "benign"
    ALLOWED = "allowed-by-decision"
    BLOCKED = "blocked-by-decision"
    MALICIOUS = "malicious"
    SUSPICIOUS = "suspicious"
    SANDBOX = "sandbox-malicious"
    TOO_NEW = "too-new"
    UNVETTED = "not-vetted"
    UNVETTED_OPEN = "not-vetted-fail-open"
    PARTIAL = "partial-scan"


@dataclass(frozen=True, slots=True)
class PolicySettings:
    hide_suspicious: bool = True
    fail_open: bool = False
    min_age: float = 0.0
    """Seconds; 0 shows files at any age."""


@dataclass(frozen=True, slots=True)
class Outcome:
    listed: bool
    reason: Reason
    detail: str
    verdict: str | None = None


def evaluate(
    file: FileRecord,
    static: ResultRecord | None,
    sandbox: ResultRecord | None,
    decisions: Sequence[Decision],
    settings: PolicySettings,
    now: float,
) -> Outcome:
    verdict = static.verdict if static is not None else None
    for scope in (Scope.FILE, Scope.RELEASE):
        for d in decisions:
            if d.scope is scope:
                listed = d.action is Action.ALLOW
                return Outcome(
                    listed,
                    Reason.ALLOWED if listed else Reason.BLOCKED,
                    f"{d.action.value} by {d.who}: {d.reason}",
                    verdict,
                )
    if settings.min_age > 0:
        if file.upload_time is None:
            return Outcome(False, Reason.TOO_NEW,
                           "the index gives no upload-time, so its age is unknown", verdict)
        age = now - file.upload_time
        if age < settings.min_age:
            return Outcome(False, Reason.TOO_NEW,
                           f"uploaded {_human(max(age, 0))} ago; the minimum age is "
                           f"{_human(settings.min_age)}", verdict)
    if sandbox is not None and sandbox.verdict == "malicious":
        return Outcome(False, Reason.SANDBOX, "the sandbox run found malicious behaviour",
                       "malicious")
    if static is not None:
        if static.verdict == "malicious":
            return Outcome(False, Reason.MALICIOUS, _top(static), verdict)
        if static.verdict == "suspicious" and settings.hide_suspicious:
            return Outcome(False, Reason.SUSPICIOUS, _top(static), verdict)
        if static.partial and static.verdict == "benign" and not settings.fail_open:
            return Outcome(False, Reason.PARTIAL,
                           "the scan could not finish, so the file is not vetted", verdict)
        return Outcome(True, Reason.BENIGN if static.verdict == "benign" else Reason.SUSPICIOUS,
                       f"verdict {static.verdict}", verdict)
    if settings.fail_open:
        return Outcome(True, Reason.UNVETTED_OPEN, "not vetted yet; listed because of --fail-open")
    return Outcome(False, Reason.UNVETTED, "not vetted yet (the scan is queued)")


def _top(result: ResultRecord) -> str:
    findings = result.report.get("findings") or []
    for f in findings:
        if isinstance(f, dict) and not f.get("suppressed"):
            return f"verdict {result.verdict}: {f.get('rule_id')} {f.get('title')}"
    return f"verdict {result.verdict}"


def _human(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def parse_age(text: str) -> float:
    """'48h', '2d', '30m', '90s' or plain seconds -> seconds."""
    from pkgvet.errors import UsageError

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    raw = text.strip().lower()
    try:
        if raw and raw[-1] in units:
            return float(raw[:-1]) * units[raw[-1]]
        return float(raw)
    except ValueError:
        raise UsageError(f"'{text}' is not an age; write e.g. 48h, 2d or 30m") from None
