"""Who is using the console: local accounts or a reverse proxy's header, roles, sessions, CSRF.

- Accounts live in the shared store (state key `ui.user.<name>`), so every `pkgvet serve`
  replica knows them; passwords are hashed with scrypt (salted, stdlib `hashlib.scrypt`).
- Behind a reverse proxy that authenticates people (`--ui-auth header`), the proxy's header
  names the user; the role comes from an account of that name, else the default role.
- Sessions are a signed cookie (HMAC-SHA256 with a secret kept in the store): user, role,
  expiry and the session's CSRF token. Every change (POST) must carry that token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum

from pkgvet.errors import UsageError
from pkgvet.store import Store

SESSION_SECONDS = 12 * 3600
_NAME = re.compile(r"^[A-Za-z0-9._@+-]{1,64}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class Role(IntEnum):
    VIEWER = 1
    TRIAGER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise UsageError(f"'{text}' is not a role; use viewer, triager or admin") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    role: Role
    csrf: str
    expires: float


def valid_name(name: str) -> bool:
    return bool(_NAME.match(name))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except ValueError:
        return False
    digest = hashlib.scrypt(password.encode()[:1024], salt=salt, dklen=len(expected), **_SCRYPT)
    return hmac.compare_digest(digest, expected)


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, name: str, password: str, role: Role) -> None:
        if not valid_name(name):
            raise UsageError(f"'{name}' is not a valid user name (letters, digits, ._@+-)")
        if len(password) < 8:
            raise UsageError("a password needs at least 8 characters")
        self.store.set_state(f"ui.user.{name}", json.dumps(
            {"hash": hash_password(password), "role": role.label}))
        self.store.append_audit("pkgvet", "ui.user.set", f"user:{name}", {"role": role.label})

    def _record(self, name: str) -> dict[str, str] | None:
        if not valid_name(name):
            return None
        raw = self.store.get_state(f"ui.user.{name}")
        if not raw:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def verify(self, name: str, password: str) -> Role | None:
        record = self._record(name)
        if record is None:
            check_password(password, hash_password("x" * 8))  # same time as a wrong password
            return None
        if not check_password(password, str(record.get("hash", ""))):
            return None
        return Role.parse(str(record.get("role", "viewer")))

    def role_of(self, name: str) -> Role | None:
        record = self._record(name)
        return Role.parse(str(record.get("role", "viewer"))) if record else None


def store_secret(store: Store) -> bytes:
    """The session-signing secret, made once and shared by every replica through the store."""
    raw = store.get_state("ui.secret")
    if not raw:
        store.set_state("ui.secret", secrets.token_hex(32))
        raw = store.get_state("ui.secret") or ""
    return bytes.fromhex(raw)


class Sessions:
    def __init__(self, secret: bytes, seconds: int = SESSION_SECONDS) -> None:
        self.secret = secret
        self.seconds = seconds

    def _sign(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def issue(self, user: str, role: Role) -> tuple[str, Session]:
        session = Session(user, role, secrets.token_urlsafe(32), time.time() + self.seconds)
        body = base64.urlsafe_b64encode(json.dumps(
            {"u": user, "r": role.label, "c": session.csrf, "e": session.expires}).encode())
        return body.decode() + "." + self._sign(body), session

    def read(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 4096 or "." not in cookie:
            return None
        body, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(self._sign(body.encode()), signature):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body.encode()))
            session = Session(str(data["u"]), Role.parse(str(data["r"])), str(data["c"]),
                              float(data["e"]))
        except (ValueError, KeyError, TypeError, UsageError):
            return None
        return session if session.expires > time.time() else None
