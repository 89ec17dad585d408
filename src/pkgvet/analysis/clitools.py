"""What a process call's words say it does, beyond running a program: programs that print a
credential (a cloud or developer CLI asked for its token) and programs that hand a URL to the
desktop's browser (a way out that no HTTP library call shows).

Read from the words of one process call (`["gcloud", "auth", "print-access-token"]`,
`"gh auth token"`), which the collector gathers anyway for the network-tool check.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

TOKEN_WORDS: dict[str, tuple[frozenset[str], ...]] = {
    # program -> alternatives, each a set of words that must all be present
    "gcloud": (frozenset({"print-access-token"}), frozenset({"print-identity-token"}),
               frozenset({"config-helper"})),
    "gh": (frozenset({"auth", "token"}),),
    "glab": (frozenset({"auth", "status", "--show-token"}),),
    "az": (frozenset({"get-access-token"}),),
    "aws": (frozenset({"export-credentials"}), frozenset({"get-session-token"}),
            frozenset({"get-login-password"}), frozenset({"get-secret-value"}),
            frozenset({"configure", "get", "aws_secret_access_key"})),
    "kubectl": (frozenset({"config", "view", "--raw"}), frozenset({"get", "secret"}),
                frozenset({"get", "secrets"})),
    "git": (frozenset({"credential", "fill"}),),
    "security": (frozenset({"find-generic-password"}), frozenset({"find-internet-password"}),
                 frozenset({"dump-keychain"})),
    "heroku": (frozenset({"auth:token"}),),
    "doctl": (frozenset({"auth", "token"}),),
    "vault": (frozenset({"print", "token"}), frozenset({"token", "lookup"})),
}
"""CLIs and the arguments with which they print a credential of the signed-in user."""

BROWSER_OPENERS = frozenset({"xdg-open", "open", "start", "explorer", "explorer.exe", "gio",
                             "sensible-browser", "x-www-browser", "www-browser", "firefox",
                             "chromium", "google-chrome", "msedge", "rundll32"})
"""Programs that open a URL in the desktop's browser: the request leaves from there."""


def credential_cli(words: Sequence[str]) -> str:
    """`gcloud auth print-access-token`, `gh auth token`, `kubectl config view --raw`...: the
    command line of a CLI printing the user's credential, or ''."""
    if not words:
        return ""
    program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    wanted = TOKEN_WORDS.get(program)
    if wanted is None:
        return ""
    present = {w.lower() for w in words[1:40]}
    if any(need <= present for need in wanted):
        return " ".join(words[:6])
    return ""


ENV_PRINTERS = frozenset({"env", "printenv", "set", "export", "declare"})
"""Programs that print the whole environment when run without arguments (`env`,
`printenv`, Windows' `set`, `export -p`)."""


def environment_printer(words: Sequence[str]) -> bool:
    """`check_output(["env"])`, `os.popen("printenv")`, `getoutput("set")`: the process prints
    every variable, secrets included."""
    if not words or len(words) > 2:
        return False
    program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
    return program in ENV_PRINTERS and (len(words) == 1 or words[1] in ("-p", "-0", "-x"))


def browser_opener(words: Sequence[str], computed: bool) -> str:
    """A process call handing a URL built at run time to the desktop's browser, or ''."""
    if not words or not computed:
        return ""
    program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
    return program if program in BROWSER_OPENERS else ""


DESTRUCTIVE = re.compile(
    r"^(sudo\s+)?(shutdown|poweroff|halt|reboot)(\.exe)?\s+(-[hrpP]\b|/[srp]\b|now\b)"
    r"|^(sudo\s+)?rm\s+(-\w*r\w*f\w*|-\w*f\w*r\w*|-r\s+-f|-f\s+-r)\s+(/|~/?|\$HOME/?|/\*|~/\*)(\s|$)"
    r"|\bvssadmin(\.exe)?\s+delete\s+shadows|^(sudo\s+)?mkfs(\.\w+)?\s+/dev/"
    r"|\bdd\s+if=/dev/(zero|u?random)\s+of=/dev/|^format(\.com)?\s+[a-z]:"
    r"|^(rd|rmdir)\s+/s\s+/q\s+[a-z]:\\?(\s|$)|^del\s+(/[fsq]\s+)+[a-z]:\\\*?(\s|$)"
    r"|^cipher(\.exe)?\s+/w:",
    re.IGNORECASE)
"""Command lines that wipe a disk, the home folder or the file system root, delete the
system's restore points, or stop the machine."""


def destructive(words: Sequence[str]) -> str:
    """The command line of a process call that destroys data or stops the machine, or ''."""
    line = " ".join(words[:20])
    return line[:120] if DESTRUCTIVE.search(line) else ""


PUBLISHERS: dict[str, frozenset[str]] = {
    "twine": frozenset({"upload", "register"}),
    "uv": frozenset({"publish"}), "poetry": frozenset({"publish"}),
    "flit": frozenset({"publish"}), "hatch": frozenset({"publish"}),
    "pdm": frozenset({"publish"}), "npm": frozenset({"publish"}),
    "yarn": frozenset({"publish", "npm"}), "pnpm": frozenset({"publish"}),
    "cargo": frozenset({"publish"}), "gem": frozenset({"push"}),
}
"""Package-index clients and the commands with which they publish a release."""


def publisher(words: Sequence[str]) -> str:
    """`twine upload dist/*`, `python -m twine upload`, `npm publish`: a process call that
    publishes a package with the credentials of whoever runs it, or ''."""
    names = [w.replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe")
             for w in words[:12]]
    for i, name in enumerate(names[:-1]):
        verbs = PUBLISHERS.get(name)
        if verbs is not None and names[i + 1] in verbs:
            return f"{name} {names[i + 1]}"
    return ""
