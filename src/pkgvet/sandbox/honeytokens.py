"""Honeytokens: fake secrets planted in the sandbox, fresh for every run.

The files sit where stealers look (`~/.aws/credentials`, `~/.ssh/id_rsa`, `~/.pypirc`,
`~/.git-credentials`) and the environment carries token-shaped variables. Opening a planted
file is evidence by itself; a token value (or its hex or base64 form) turning up in a DNS name,
a connection's first bytes or a command line is proof that the package sends secrets out.
"""

from __future__ import annotations

import base64
import secrets
import string
from dataclasses import dataclass

_UPPER = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, size: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(size))


@dataclass(frozen=True, slots=True)
class Honeytokens:
    files: dict[str, str]
    """Home-relative path -> content."""
    env: dict[str, str]
    values: tuple[str, ...]
    """The secret strings themselves; `needles` adds their encodings."""

    @classmethod
    def fresh(cls) -> Honeytokens:
        key_id = "AKIA" + _random(_UPPER, 16)
        secret = _random(_ALNUM + "/+", 40)
        github = "ghp_" + _random(_ALNUM, 36)
        pypi = "pypi-AgEIcHlwaS5vcmc" + _random(_ALNUM, 48)
        npm = "npm_" + _random(_ALNUM, 36)
        ssh_body = base64.b64encode(secrets.token_bytes(180)).decode()
        files = {
            ".aws/credentials": (
                f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"
            ),
            ".ssh/id_rsa": (
                "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                + "\n".join(ssh_body[i : i + 70] for i in range(0, len(ssh_body), 70))
                + "\n-----END OPENSSH PRIVATE KEY-----\n"
            ),
            ".pypirc": (
                "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\n"
                f"password = {pypi}\n"
            ),
            ".git-credentials": f"https://pkgvet-dev:{github}@github.com\n",
        }
        env = {
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "GITHUB_TOKEN": github,
            "TWINE_PASSWORD": pypi,
            "NPM_TOKEN": npm,
        }
        return cls(files=files, env=env,
                   values=(key_id, secret, github, pypi, npm, ssh_body[:40]))

    @property
    def needles(self) -> dict[str, str]:
        """Searchable form -> which token it reveals. Each token also in hex and base64
        (what DNS and HTTP exfiltration use), cut to a prefix that survives truncation."""
        found: dict[str, str] = {}
        for value in self.values:
            raw = value[:16]
            found[raw.lower()] = value
            found[raw.encode().hex()] = value
            found[base64.b64encode(value.encode()).decode()[:16].lower()] = value
            found[base64.b32encode(value.encode()).decode()[:16].lower()] = value
        return found

    def find_in(self, text: str) -> str | None:
        """The token `text` reveals, if any (case-insensitive: DNS names are lower-cased)."""
        lowered = text.lower()
        for needle, value in self.needles.items():
            if needle in lowered:
                return value
        return None
