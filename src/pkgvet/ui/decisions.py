"""Decisions <-> `[tool.pkgvet]` entries: export what the team decided, import it back.

A file decision becomes an entry with `sha256` (plus its package and version when the store
knows the file); a release decision an entry with `package` and `version`. `allow` entries
are what `pkgvet scan`/`audit` already honour; `block` entries report the file malicious
(PV551). Import reads the same entries back (entries without a version or sha256 apply to a
whole project, which the console cannot decide, and are skipped with a note).
"""

from __future__ import annotations

import re
import time
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime

from packaging.utils import canonicalize_name

from pkgvet.store import Action, Decision, Scope, Store

MAX_IMPORT_BYTES = 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _entry(store: Store, d: Decision) -> str:
    fields: list[tuple[str, str]] = []
    if d.scope is Scope.FILE:
        file = store.get_file(d.key)
        if file is not None:
            fields += [("package", file.project), ("version", file.version)]
        fields.append(("sha256", d.key))
    else:
        project, _, version = d.key.partition("==")
        fields += [("package", project), ("version", version)]
    fields += [
        ("reason", d.reason),
        ("decided_by", d.who),
        ("decided", datetime.fromtimestamp(d.created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
    return "  { " + ", ".join(f"{k} = {toml_string(v)}" for k, v in fields) + " },"


def export(store: Store) -> str:
    decisions = store.all_decisions()
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# pkgvet triage decisions, exported {stamp}: paste into pyproject.toml.",
           "[tool.pkgvet]"]
    for action in (Action.ALLOW, Action.BLOCK):
        chosen = [d for d in decisions if d.action is action]
        out.append(f"{action.value} = [")
        out += [_entry(store, d) for d in sorted(chosen, key=lambda d: (d.scope, d.key))]
        out.append("]")
    return "\n".join(out) + "\n"


@dataclass(frozen=True, slots=True)
class Imported:
    decisions: tuple[Decision, ...]
    skipped: tuple[str, ...]


def parse(text: str, who: str) -> Imported:
    """Decisions from `[tool.pkgvet]` text (a whole pyproject.toml or just the table)."""
    if len(text.encode()) > MAX_IMPORT_BYTES:
        raise ValueError("the text is larger than 1 MiB")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not TOML: {exc}") from exc
    table = data.get("tool", {}).get("pkgvet", {}) if isinstance(data.get("tool"), dict) else {}
    if not isinstance(table, dict):
        raise ValueError("[tool.pkgvet] is not a table")
    decisions: list[Decision] = []
    skipped: list[str] = []
    now = time.time()
    for action in (Action.ALLOW, Action.BLOCK):
        entries = table.get(action.value, [])
        if not isinstance(entries, list):
            raise ValueError(f"[tool.pkgvet] {action.value} must be a list of tables")
        for e in entries[:10_000]:
            if not isinstance(e, dict):
                continue
            reason = str(e.get("reason", "")).strip()[:2000]
            label = str({k: e.get(k) for k in ("package", "version", "sha256")})[:200]
            if not reason:
                skipped.append(f"{action.value} {label}: no reason")
                continue
            sha = str(e.get("sha256", "")).lower()
            if sha:
                if not _SHA.match(sha):
                    skipped.append(f"{action.value} {label}: sha256 is not 64 hex digits")
                    continue
                decisions.append(Decision(Scope.FILE, sha, action, reason, who, now))
            elif e.get("package") and e.get("version"):
                key = Decision.release_key(str(canonicalize_name(str(e["package"]))),
                                           str(e["version"]))
                decisions.append(Decision(Scope.RELEASE, key[:300], action, reason, who, now))
            else:
                skipped.append(f"{action.value} {label}: a whole project, not a file or release")
    return Imported(tuple(decisions), tuple(skipped))
