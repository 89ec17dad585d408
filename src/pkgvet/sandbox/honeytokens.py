"""Honeytokens: fake secrets planted in the sandbox, fresh for every run.

The files sit where stealers look (`~/.aws/credentials`, `~/.ssh/id_rsa`, `~/.pypirc`,
`~/.git-credentials`, cloud CLI configs, browser, Discord and wallet profiles) and the
environment carries token-shaped variables. Opening a planted file is evidence by itself; a
token value (or its hex or base64 form) turning up in a DNS name, a connection's first bytes
or a command line is proof that the package sends secrets out.

Around them, `home` holds what makes the home a developer's (shell history, git config, a
project folder with its own git repository): ordinary files, never graded when read. The
values exist only on the host and in the files planted in the container; the container is
given the files, never a list of the values.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import uuid
from dataclasses import dataclass, field

_UPPER = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, size: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(size))


def _hex(size: int) -> str:
    return secrets.token_hex(size // 2)


@dataclass(frozen=True, slots=True)
class Honeytokens:
    files: dict[str, str]
    """Home-relative path -> content: the planted secrets (reading one is PV801)."""
    env: dict[str, str]
    values: tuple[str, ...]
    """The secret strings themselves; `needles` adds their encodings."""
    home: dict[str, str] = field(default_factory=dict)
    """Home-relative path -> content: ordinary files of a developer's home (not graded)."""

    @classmethod
    def fresh(cls, user: str = "dana", email: str = "dana@example.com",
              full_name: str = "Dana") -> Honeytokens:
        key_id = "AKIA" + _random(_UPPER, 16)
        secret = _random(_ALNUM + "/+", 40)
        github = "ghp_" + _random(_ALNUM, 36)
        pypi = "pypi-AgEIcHlwaS5vcmc" + _random(_ALNUM, 48)
        npm = "npm_" + _random(_ALNUM, 36)
        ssh_body = base64.b64encode(secrets.token_bytes(180)).decode()
        discord = (base64.b64encode(str(secrets.randbelow(10**18) + 10**17).encode())
                   .decode().rstrip("=") + "." + _random(_ALNUM, 6) + "." + _random(_ALNUM, 38))
        gcloud = "1//0" + _random(_ALNUM + "-_", 60)
        azure = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + _random(_ALNUM, 80)
        kube = _random(_ALNUM, 48)
        seed = " ".join(secrets.choice(_SEED_WORDS) for _ in range(12))
        wallet = _hex(64)
        project = secrets.choice(("invoice-api", "dataset-tools", "ml-pipeline", "webshop"))
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
            ".git-credentials": f"https://{user}:{github}@github.com\n",
            ".aws/config": "[default]\nregion = eu-west-1\noutput = json\n",
            ".ssh/id_ed25519": (
                "-----BEGIN OPENSSH PRIVATE KEY-----\n" + ssh_body[40:110]
                + "\n-----END OPENSSH PRIVATE KEY-----\n"),
            ".npmrc": f"//registry.npmjs.org/:_authToken={npm}\n",
            ".config/gcloud/application_default_credentials.json": json.dumps({
                "client_id": f"{secrets.randbelow(10**12)}-{_random(_ALNUM, 20).lower()}"
                             ".apps.googleusercontent.com",
                "client_secret": "d-" + _random(_ALNUM, 22), "refresh_token": gcloud,
                "type": "authorized_user"}, indent=2),
            ".config/gcloud/credentials.db": f"SQLite format 3\x00 {gcloud}\n",
            ".azure/msal_token_cache.json": json.dumps({"AccessToken": {"x": {
                "secret": azure, "credential_type": "AccessToken",
                "home_account_id": str(uuid.uuid4())}}}),
            ".kube/config": (
                "apiVersion: v1\nclusters:\n- cluster:\n    server: https://10.20.0.1:6443\n"
                "  name: prod\ncontexts:\n- context:\n    cluster: prod\n    user: admin\n"
                f"  name: prod\ncurrent-context: prod\nusers:\n- name: admin\n  user:\n"
                f"    token: {kube}\n"),
            ".docker/config.json": json.dumps({"auths": {"https://index.docker.io/v1/": {
                "auth": base64.b64encode(f"{user}:{github}".encode()).decode()}}}),
            ".config/google-chrome/Default/Login Data": f"SQLite format 3\x00 {github}\n",
            ".config/google-chrome/Default/Cookies": f"SQLite format 3\x00 {secret}\n",
            ".config/google-chrome/Local State": json.dumps(
                {"os_crypt": {"encrypted_key": base64.b64encode(b"DPAPI" + secret.encode())
                              .decode()}}),
            ".local/share/Google/Chrome/User Data/Default/Login Data":
                f"SQLite format 3\x00 {github}\n",
            ".local/share/Google/Chrome/User Data/Local State": json.dumps(
                {"os_crypt": {"encrypted_key": base64.b64encode(b"DPAPI" + secret.encode())
                              .decode()}}),
            ".mozilla/firefox/x8k2jd1q.default-release/logins.json": json.dumps(
                {"logins": [{"hostname": "https://github.com", "encryptedUsername": user,
                             "encryptedPassword": github}]}),
            ".config/discord/Local Storage/leveldb/000003.log": f'_https://discord.com\x00'
                                                                f'token"{discord}"\n',
            ".electrum/wallets/default_wallet": json.dumps({"seed": seed, "wallet_type":
                                                            "standard"}),
            ".config/Exodus/exodus.wallet/seed.seco": f"SECO{wallet}\n",
            ".ethereum/keystore/UTC--2024-03-11T09-21-44.117Z--" + _hex(40): json.dumps(
                {"address": _hex(40), "crypto": {"ciphertext": wallet}}),
        }
        env = {
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "GITHUB_TOKEN": github,
            "TWINE_PASSWORD": pypi,
            "NPM_TOKEN": npm,
        }
        return cls(files=files, env=env,
                   values=(key_id, secret, github, pypi, npm, ssh_body[:40], discord, gcloud,
                           azure[37:], kube, seed, wallet),
                   home=_developer_home(user, email, full_name, project))

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


_SEED_WORDS = ("abandon", "ability", "able", "about", "above", "absent", "absorb", "abstract",
               "absurd", "abuse", "access", "accident", "account", "accuse", "achieve", "acid",
               "acoustic", "acquire", "across", "act", "action", "actor", "actress", "actual",
               "adapt", "add", "addict", "address", "adjust", "admit", "adult", "advance")


def _developer_home(user: str, email: str, full_name: str, project: str) -> dict[str, str]:
    """The ordinary files of a developer's home: history, git config, a project."""
    history = [
        "cd ~/projects/" + project, "git status", "git pull --rebase", "source .venv/bin/activate",
        "pip install -r requirements.txt", "pytest -q", "git log --oneline | head",
        "docker compose up -d db", "aws s3 ls", "kubectl get pods -n staging",
        "gcloud config list", "vim src/app/settings.py", "git commit -am 'fix settings'",
        "git push", "python -m http.server 8000", "htop", "ssh deploy@10.20.0.15",
        "pip list --outdated", "az account show", "code .",
    ]
    return {
        ".bash_history": "\n".join(history) + "\n",
        ".python_history": "import json\njson.loads('{}')\nexit()\n",
        ".bashrc": "# ~/.bashrc\n[ -z \"$PS1\" ] && return\nHISTSIZE=5000\n"
                   "alias ll='ls -alF'\nexport PATH=\"$HOME/.local/bin:$PATH\"\n",
        ".profile": "# ~/.profile\nif [ -n \"$BASH_VERSION\" ]; then . \"$HOME/.bashrc\"; fi\n",
        ".gitconfig": f"[user]\n\tname = {full_name}\n\temail = {email}\n[pull]\n\trebase = true\n"
                      "[init]\n\tdefaultBranch = main\n",
        ".config/pip/pip.conf": "[global]\ntimeout = 60\n",
        f"projects/{project}/README.md": f"# {project}\n\nInternal service. See docs/.\n",
        f"projects/{project}/requirements.txt": "requests>=2.31\nsqlalchemy>=2.0\npydantic>=2\n",
        f"projects/{project}/.env": "DATABASE_URL=postgresql://app:app@localhost:5432/app\n"
                                    "DEBUG=1\n",
        f"projects/{project}/.git/HEAD": "ref: refs/heads/main\n",
        f"projects/{project}/.git/config": (
            "[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote \"origin\"]\n"
            f"\turl = git@github.com:{user}/{project}.git\n"
            "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"),
        f"projects/{project}/src/app/__init__.py": "",
        f"projects/{project}/src/app/settings.py": "DEBUG = False\nTIMEOUT = 30\n",
        "Documents/notes.md": "- renew certificate before the 14th\n- ask about VPN access\n",
        "Downloads/.keep": "",
        "Desktop/.keep": "",
    }
