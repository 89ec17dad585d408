"""Benign look-alikes: the same capabilities as the malicious cases, used honestly."""

from __future__ import annotations

from techniques import Case

CASES = [
    Case("CLI that downloads a model file", "modelfetch", {
        "modelfetch/__init__.py": "__version__ = '1.0'\n",
        "modelfetch/cli.py": (
            "import os, stat, sys, urllib.request\n\n\n"
            "def main():\n    url = sys.argv[1]\n"
            "    dest = os.path.expanduser('~/.cache/modelfetch/model.bin')\n"
            "    os.makedirs(os.path.dirname(dest), exist_ok=True)\n"
            "    with urllib.request.urlopen(url) as r, open(dest, 'wb') as out:\n"
            "        out.write(r.read())\n    print('saved', dest)\n"
        ),
        "modelfetch-1.0.dist-info/entry_points.txt": (
            "[console_scripts]\nmodelfetch = modelfetch.cli:main\n"),
    }, "benign", kind="wheel"),
    Case("plugin loader using importlib", "plugloader", {
        "plugloader/__init__.py": (
            "import importlib\nfrom importlib.metadata import entry_points\n\n"
            "PLUGINS = {}\n\n\ndef load_all():\n"
            "    for ep in entry_points(group='plugloader.plugins'):\n"
            "        PLUGINS[ep.name] = importlib.import_module(ep.module)\n"
            "    return PLUGINS\n\n\nfor name in ('json', 'csv'):\n"
            "    PLUGINS[name] = importlib.import_module('plugloader.formats.' + name)\n"
        ),
        "plugloader/formats/__init__.py": "",
        "plugloader/formats/json.py": "import json\n\nloads = json.loads\n",
        "plugloader/formats/csv.py": "import csv\n\nreader = csv.reader\n",
    }, "benign", kind="wheel"),
    Case("base64 used for data", "b64icons", {
        "b64icons/__init__.py": (
            "import base64, zlib\n\nICON = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB"
            "CAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==')\n"
            "TABLE = zlib.decompress(base64.b64decode('eJzLSM3JyVcozy/KSQEAGgQEXQ=='))\n\n\n"
            "def icon_bytes():\n    return ICON\n"
        ),
    }, "benign", kind="wheel"),
    Case("build backend that runs cmake", "cmakebuild", {
        "pyproject.toml": ("[build-system]\nrequires = ['setuptools']\n"
                           "build-backend = 'backend'\nbackend-path = ['_custom_build']\n"),
        "_custom_build/backend.py": (
            "import os, subprocess\nfrom setuptools import build_meta as _orig\n"
            "from setuptools.build_meta import *  # noqa\n\n\n"
            "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n"
            "    os.makedirs('build', exist_ok=True)\n"
            "    subprocess.check_call(['cmake', '-S', '.', '-B', 'build'])\n"
            "    subprocess.check_call(['cmake', '--build', 'build'])\n"
            "    return _orig.build_wheel(wheel_directory, config_settings, "
            "metadata_directory)\n"
        ),
        "cmakebuild/__init__.py": "",
    }, "benign"),
    Case(".pth that only adds a path", "pathonly", {
        "pathonly.pth": "/opt/pathonly/lib\n",
        "pathonly/__init__.py": "",
    }, "benign", kind="wheel"),
    Case(".pth importing a package's own start-up shim", "covshim", {
        "covshim.pth": "import covshim.startup\n",
        "covshim/__init__.py": "",
        "covshim/startup.py": (
            "import os\n\nif os.environ.get('COVSHIM_PROCESS_START'):\n"
            "    import covshim.measure\n    covshim.measure.start()\n"
        ),
        "covshim/measure.py": "import sys\n\n\ndef start():\n    sys.settrace(None)\n",
    }, "benign", kind="wheel"),
    Case("console script with a distinctive name", "zebracli", {
        "zebracli/__init__.py": "",
        "zebracli/__main__.py": "from .cli import main\n\nmain()\n",
        "zebracli/cli.py": (
            "import argparse, subprocess\n\n\ndef main():\n"
            "    p = argparse.ArgumentParser()\n    p.add_argument('cmd')\n"
            "    a = p.parse_args()\n    subprocess.run(['git', a.cmd], check=False)\n"
        ),
        "zebracli-1.0.dist-info/entry_points.txt": (
            "[console_scripts]\nzebra-stripes = zebracli.cli:main\n"),
    }, "benign", kind="wheel"),
    Case("pickle of plain data", "pickledata", {
        "pickledata/__init__.py": (
            "import os, pickle\n\n_HERE = os.path.dirname(__file__)\n\n\n"
            "def load_table():\n"
            "    with open(os.path.join(_HERE, 'table.pkl'), 'rb') as fh:\n"
            "        return pickle.load(fh)\n"
        ),
    }, "benign", kind="wheel"),
    Case("telemetry the user opts into", "optintel", {
        "optintel/__init__.py": (
            "import os, platform, threading, urllib.request, json\n\n\n"
            "def _send():\n    body = json.dumps({'py': platform.python_version(),\n"
            "                       'pkg': '1.0'}).encode()\n"
            "    urllib.request.urlopen('https://telemetry.optintel.invalid/v1', data=body)\n"
            "\n\nif os.environ.get('OPTINTEL_TELEMETRY') == '1':\n"
            "    threading.Thread(target=_send, daemon=True).start()\n"
        ),
    }, "benign", kind="wheel"),
    Case("HTTP client sending .netrc credentials to its own host", "netclient", {
        "netclient/__init__.py": "from .session import Session  # noqa\n",
        "netclient/session.py": (
            "import netrc, os, urllib.request\n\n\nclass Session:\n"
            "    def get(self, url, host):\n"
            "        auth = netrc.netrc(os.path.expanduser('~/.netrc')).authenticators(host)\n"
            "        req = urllib.request.Request(url)\n"
            "        if auth:\n            req.add_header('Authorization', auth[2])\n"
            "        return urllib.request.urlopen(req)\n"
        ),
    }, "benign", kind="wheel"),
    Case("GitHub token sent to the GitHub API in setup.py", "ghprebuilt", {
        "setup.py": (
            "import os, urllib.request\nfrom setuptools import setup\n\n"
            "token = os.environ.get('GITHUB_TOKEN') or os.environ.get('GH_TOKEN')\n"
            "req = urllib.request.Request('https://api.github.com/repos/o/r/releases/latest')\n"
            "if token:\n    req.add_header('Authorization', 'Bearer ' + token)\n"
            "try:\n    urllib.request.urlopen(req)\nexcept OSError:\n    pass\n"
            "setup(name='ghprebuilt', version='1.0')\n"
        ),
    }, "benign"),
    Case("six-style exec alias by a plain name", "sixlike", {
        "sixlike/__init__.py": (
            "import builtins\n\nexec_ = getattr(builtins, 'exec')\n\n\n"
            "def reraise(tp, value, tb=None):\n    raise value\n\n"
            "exec_('def _f():\\n    return 1\\n')\n"
        ),
    }, "benign", kind="wheel"),
    Case("test suite at the sdist root with network and processes", "hastests", {
        "setup.py": "from setuptools import setup\nsetup(name='hastests', version='1.0')\n",
        "hastests/__init__.py": "",
        "tests/__init__.py": "",
        "tests/test_net.py": (
            "import os, subprocess, urllib.request\n\n\ndef test_fetch():\n"
            "    token = os.environ.get('GITHUB_TOKEN')\n"
            "    urllib.request.urlopen('https://example.invalid/?t=%s' % token)\n"
            "    subprocess.run(['echo', 'ok'])\n"
        ),
    }, "benign"),
    Case("shell class registered with an ABC; a method loads code from a URL", "ashell", {
        "ashell/__init__.py": "from .core import Shell\n",
        "ashell/core.py": (
            "import abc, os, subprocess, sys, urllib.request\n\n\n"
            "class ShellABC(abc.ABC):\n    pass\n\n\n"
            "class Shell:\n    def __init__(self):\n        self.ns = {}\n\n"
            "    def load_url(self, url):\n"
            "        text = urllib.request.urlopen(url).read()\n"
            "        path = os.path.join(os.getcwd(), 'loaded.py')\n"
            "        with open(path, 'wb') as out:\n            out.write(text)\n"
            "        subprocess.run([sys.executable, path])\n\n\n"
            "ShellABC.register(Shell)\n"
        ),
        "ashell/show.py": (
            "from ashell.core import Shell\n\n\n"
            "def show(\n    obj,\n    raw=False,\n):\n"
            "    \"\"\"Show obj.\n\nCall `.load_url(x)` first.\n\"\"\"\n"
            "    Shell().load_url(obj)\n"
        ),
    }, "benign", kind="wheel"),
    Case("remote prompt thread swapping sys.stdout and restoring it", "rprompt", {
        "rprompt/__init__.py": "from . import agent\n",
        "rprompt/agent.py": (
            "import socket, sys\nfrom threading import Thread\n\n\n"
            "def connect(host, port):\n"
            "    s = socket.create_connection((host, port))\n"
            "    s.sendall(b'hello')\n    return s\n\n\n"
            "class Agent(Thread):\n    def __init__(self, out):\n"
            "        super().__init__()\n        self.out = out\n\n"
            "    def run(self):\n        saved, out = sys.stdout, self.out\n"
            "        sys.stdout = out\n        try:\n            print('>>>')\n"
            "        finally:\n            sys.stdout = saved\n\n\n"
            "if len(sys.argv) > 2:\n    connect(sys.argv[1], int(sys.argv[2]))\n"
            "else:\n    Agent(sys.stderr).start()\n"
        ),
    }, "benign", kind="wheel"),
    Case("setup.py build helper: fetches C sources, builds them with the environment, "
         "help text naming pip", "cbuild", {
        "setup.py": (
            "import sys\nfrom setuptools import setup\nimport buildhelp\n\n"
            "NOTE = \"\"\"\nFixes for a stable series are published on the project page.\n"
            "Running ``pip install cbuild==1.0.*`` picks up the newest fix of this series.\n"
            "Note that a C compiler is needed for the build.\n\"\"\"\n\n"
            "if '--static' in sys.argv:\n    buildhelp.build('libfoo')\n"
            "setup(name='cbuild', version='1.0', long_description=NOTE)\n"
        ),
        "buildhelp.py": (
            "import os, subprocess, tarfile, urllib.request\n\n\n"
            "def fetch(name):\n"
            "    dest = name + '.tar.gz'\n"
            "    req = urllib.request.Request('https://downloads.example.org/' + dest,\n"
            "                                 headers={'User-Agent': 'cbuild'})\n"
            "    with urllib.request.urlopen(req) as r, open(dest, 'wb') as out:\n"
            "        out.write(r.read())\n"
            "    with tarfile.open(dest) as tf:\n        tf.extractall('build')\n"
            "    return os.path.join('build', name)\n\n\n"
            "def build(name):\n"
            "    src = fetch(name)\n"
            "    env = {'CFLAGS': '-O2'}\n    env.update(os.environ)\n"
            "    subprocess.check_call(['./configure'], cwd=src, env=env)\n"
            "    subprocess.check_call(['make'], cwd=src, env=env)\n"
        ),
        "cbuild/__init__.py": "",
    }, "benign"),
    Case("setup.py exit message naming pip, metadata keywords naming system tools", "sysmon", {
        "setup.py": (
            "import os, subprocess, sys, textwrap\nfrom setuptools import setup\n\n"
            "if sys.version_info[0] == 2:\n"
            "    sys.exit(textwrap.dedent(\"\"\"\\\n"
            "        This release needs Python 3. Install the last Python 2 release with:\n\n"
            "            python2 -m pip install sysmon==1.0\"\"\"))\n\n"
            "sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'sysmon'))\n"
            "from _consts import LINUX  # noqa: E402\n\n"
            "if LINUX:\n    subprocess.call(['cc', '--version'])\n"
            "kwargs = dict(name='sysmon', version='1.0',\n"
            "              keywords=['ps', 'top', 'ifconfig', 'who', 'uptime'])\n"
            "setup(**kwargs)\n"
        ),
        "sysmon/__init__.py": "from ._consts import LINUX  # noqa\n",
        "sysmon/_consts.py": (
            "import socket, sys\n\nLINUX = sys.platform.startswith('linux')\n\n\n"
            "def has_ipv6():\n    try:\n"
            "        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:\n"
            "            s.bind(('::1', 0))\n        return True\n"
            "    except OSError:\n        return False\n"
        ),
    }, "benign"),
    Case("vendored build tool's dev shell: system shell, rcfile sourcing ~/.bashrc", "devshell", {
        "pyproject.toml": (
            "[build-system]\nrequires = ['setuptools']\n"
            "build-backend = 'setuptools.build_meta'\n"),
        "devshell/__init__.py": "",
        "vendored-tool/tool/__init__.py": "",
        "vendored-tool/tool/devenv.py": (
            "import os, subprocess, tempfile\n\n\n"
            "def run(windows=False):\n"
            "    if windows:\n"
            "        args = [os.environ.get('COMSPEC', r'C:\\WINDOWS\\system32\\cmd.exe')]\n"
            "    else:\n        args = [os.environ.get('SHELL', '/bin/sh')]\n"
            "    rc = tempfile.NamedTemporaryFile(mode='w', encoding='utf-8')\n"
            "    rc.write('[ -e ~/.bashrc ] && . ~/.bashrc\\n')\n    rc.flush()\n"
            "    args += ['--rcfile', rc.name]\n"
            "    zdot = tempfile.mkdtemp()\n"
            "    with open(os.path.join(zdot, '.zshrc'), 'w', encoding='utf-8') as z:\n"
            "        z.write('[ -e ~/.zshrc ] && . ~/.zshrc\\n')\n"
            "    return subprocess.run(args).returncode\n"
        ),
    }, "benign"),
    Case("proxy config: placeholder webhook in a field description, Postgres statement "
         "timeout, optional SDK installed when its DSN is set", "llmproxy", {
        "llmproxy/__init__.py": (
            "from . import config, db, telemetry  # noqa\n\ntelemetry.init()\n"),
        "llmproxy/config.py": (
            "class Field:\n    def __init__(self, default, description=''):\n"
            "        self.default, self.description = default, description\n\n\n"
            "ALERT_URLS = Field(None, description=\"Alert type to webhook url, e.g. "
            "{'budget': 'https://nothooks.slack.com/services/T00000000/B00000000/"
            "XXXXXXXXXXXXXXXXXXXXXXXX'}\")\n"
        ),
        "llmproxy/db.py": (
            "async def bounded_read(conn, sql, timeout_ms):\n"
            "    async with conn.tx() as tx:\n"
            "        await tx.execute_raw(f'SET LOCAL statement_timeout = {timeout_ms}')\n"
            "        return await tx.query_raw(sql)\n\n\n"
            "STARTUP = 'SET LOCAL statement_timeout = 5000'\n"
        ),
        "llmproxy/telemetry.py": (
            "import os, subprocess, sys\n\n\n"
            "def init():\n    dsn = os.environ.get('TRACKER_DSN')\n    if not dsn:\n"
            "        return\n    try:\n        import tracker_sdk  # noqa: F401\n"
            "    except ImportError:\n"
            "        subprocess.check_call([sys.executable, '-m', 'pip', 'install', 'tracker-sdk'])\n"
        ),
    }, "benign", kind="wheel"),
    Case("generated REST client naming a proto marshal module", "restgen", {
        "restgen/__init__.py": "",
        "restgen/rest.py": (
            "import os\nimport requests\nfrom proto.marshal.rules import wrappers\n\n\n"
            "def call(url, body):\n    env = os.environ.copy()\n"
            "    return requests.post(url, json=body, headers={'x': env.get('X', '')})\n"
        ),
    }, "benign", kind="wheel"),
    Case("frame lookup through a reversed attribute name at import", "framelookup", {
        # celery reaches sys._getframe as getattr(sys, 'emarfteg_'[::-1]): a hidden name that
        # folds back to a frame read, with nothing sent anywhere.
        "framelookup/__init__.py": (
            "import sys\n\n\ndef recreate_module(name, globals=None):\n"
            "    glob = globals or getattr(sys, 'emarfteg_'[::-1])(1).f_globals\n"
            "    return glob.get('__name__', name)\n\n\n"
            "ORIGIN = recreate_module(__name__)\n"
        ),
    }, "benign", kind="wheel"),
    Case("test suite shipped inside the package, imported by nothing", "shipsuite", {
        # pycryptodome's Crypto/SelfTest and nltk's nltk/test/unit: test modules inside the
        # installed package whose top level builds vectors and fixtures; no entry point
        # imports them, so they are demoted once like any test suite.
        "shipsuite/__init__.py": "__version__ = '1.0'\n",
        "shipsuite/selftest/__init__.py": "",
        "shipsuite/selftest/test_vectors.py": (
            "import importlib\n\n"
            "VECTOR = ('" + "0f1e2d3c4b5a6978" * 24 + "')\n"
            "codec = importlib.import_module('shipsuite.selftest.test_codec')\n"
            "PUBLIC = 'http://93.184.216.34/'  # a public address the guard must accept\n\n\n"
            "def test_vector():\n    exec(compile('x = 1', '<vector>', 'exec'), {})\n"
        ),
        "shipsuite/selftest/test_codec.py": "def roundtrip(x):\n    return x\n",
    }, "benign", kind="wheel"),
    Case("local agent client over a Unix socket at import", "localagent", {
        # A Unix-domain socket reaches this host's processes only: with a pid file written
        # and made private, it is not a download, save and run.
        "localagent/__init__.py": (
            "import os, socket, stat\n\n\n"
            "def _register(path='/run/localagent.sock'):\n"
            "    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
            "    try:\n        sock.connect(path)\n    except OSError:\n        return None\n"
            "    pid = os.path.expanduser('~/.localagent.pid')\n"
            "    with open(pid, 'w') as fh:\n        fh.write(str(os.getpid()))\n"
            "    os.chmod(pid, stat.S_IRUSR | stat.S_IWUSR)\n    return sock\n\n\n"
            "AGENT = _register()\n"
        ),
    }, "benign", kind="wheel"),
    Case("execfile shim in Python 2 syntax under docs/", "py2shim", {
        "py2shim/__init__.py": "",
        "docs/compat/py3compat.py": (
            "import sys\n\nif sys.version_info[0] == 2:\n"
            "    import __builtin__ as builtin_mod\n\n"
            "    def execfile(fname, glob, loc=None):\n"
            "        loc = loc if (loc is not None) else glob\n"
            "        exec compile(open(fname, 'rb').read(), fname, 'exec') in glob, loc\n"
        ),
        "setup.py": "from setuptools import setup\nsetup(name='py2shim', version='1.0')\n",
    }, "benign"),
    Case("cluster launcher passing a resolved address to its own CLI", "clusterup", {
        # ray's symmetric_run: the resolver's answer is an address, not a command.
        "clusterup/__init__.py": "",
        "clusterup/launch.py": (
            "import socket, subprocess\n\n\n"
            "def start(address, args):\n    host, port = address.split(':')\n"
            "    info = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM)\n"
            "    ip = info[0][4][0]\n"
            "    cmd = ['clusterup', 'start', '--head', f'--node-ip-address={ip}', *args]\n"
            "    subprocess.run(cmd, check=True, capture_output=True)\n"
        ),
    }, "benign", kind="wheel"),
    Case("CPUID through a few literal machine-code bytes in a called method", "cpuprobe", {
        # py-cpuinfo: VirtualAlloc + VirtualProtect around a CPUID stub written as literal
        # bytes, in a method the user calls; nothing decoded, fetched, or run at import.
        "cpuprobe/__init__.py": "",
        "cpuprobe/asm.py": (
            "import ctypes\n\n\nclass ASM:\n"
            "    def __init__(self, machine_code=()):\n"
            "        self.machine_code = list(machine_code)\n\n"
            "    def compile(self):\n        code = bytes.join(b'', self.machine_code)\n"
            "        alloc = ctypes.windll.kernel32.VirtualAlloc\n"
            "        address = alloc(None, len(code), 0x1000, 0x04)\n"
            "        ctypes.memmove(address, code, len(code))\n"
            "        old = ctypes.c_ulong(0)\n"
            "        ctypes.windll.kernel32.VirtualProtect(address, len(code), 0x20, "
            "ctypes.byref(old))\n        return address\n\n\n"
            "def cpuid():\n    return ASM([b'\\x0f\\xa2', b'\\xc3']).compile()\n"
        ),
    }, "benign", kind="wheel"),
    Case("engine context at import: a profiler switch named '<app>.python.profile', files "
         "copied onto sys.path", "enginectx", {
        # pyspark's SparkContext: dotted configuration keys that end in `.profile` are not
        # the shell's ~/.profile; the copy puts the user's own files on the path.
        "enginectx/__init__.py": (
            "import os\n\nfrom .context import start\n\n"
            "start({'engine.python.profile': os.environ.get('ENGINE_PROFILE', 'false')})\n"),
        "enginectx/context.py": (
            "import atexit, os, shutil, signal, subprocess, sys, tempfile, threading\n\n\n"
            "def start(conf):\n"
            "    root = tempfile.mkdtemp()\n"
            "    atexit.register(shutil.rmtree, root, True)\n"
            "    subprocess.Popen(['engine-submit', '--gateway', root])\n"
            "    for path in conf.get('engine.submit.pyFiles', '').split(','):\n"
            "        if path:\n"
            "            target = os.path.join(root, os.path.basename(path))\n"
            "            if not os.path.exists(target):\n"
            "                shutil.copyfile(path, target)\n"
            "            sys.path.insert(1, target)\n"
            "    if (conf.get('engine.python.profile', 'false') == 'true'\n"
            "            or conf.get('engine.python.profile.memory', 'false') == 'true'):\n"
            "        print(conf.get('engine.python.profile.dump', None))\n\n"
            "    def on_sigint(signum, frame):\n"
            "        raise KeyboardInterrupt()\n\n"
            "    if isinstance(threading.current_thread(), threading._MainThread):\n"
            "        signal.signal(signal.SIGINT, on_sigint)\n"
        ),
    }, "benign", kind="wheel"),
    Case("CONNECT proxy relaying between two sockets picked from a list", "relayproxy", {
        # moto's proxy: `other = conns[1] if r is conns[0] else conns[0]; other.sendall(data)`
        # picks a socket object out of a list; no function is hidden there.
        "relayproxy/__init__.py": "",
        "relayproxy/proxy.py": (
            "import select, socket, subprocess\nfrom http.server import BaseHTTPRequestHandler\n\n\n"
            "class Handler(BaseHTTPRequestHandler):\n    timeout = 5\n\n"
            "    def make_cert(self, host, key, out):\n"
            "        subprocess.run(['openssl', 'req', '-new', '-key', key, '-subj', "
            "'/CN=' + host, '-out', out], check=True)\n\n"
            "    def do_CONNECT(self):\n        host, port = self.path.split(':')\n"
            "        s = socket.create_connection((host, int(port)), timeout=self.timeout)\n"
            "        self.send_response(200, 'Connection Established')\n"
            "        self.end_headers()\n        conns = [self.connection, s]\n"
            "        while True:\n"
            "            rlist, _, xlist = select.select(conns, [], conns, self.timeout)\n"
            "            if xlist or not rlist:\n                break\n"
            "            for r in rlist:\n"
            "                other = conns[1] if r is conns[0] else conns[0]\n"
            "                data = r.recv(8192)\n                if not data:\n"
            "                    return\n                other.sendall(data)\n"
        ),
    }, "benign", kind="wheel"),
    Case("expression compiler exec'ing generated source into a namespace merged from a "
         "reversed module list", "exprgen", {
        # sympy's lambdify: exec's second argument is the namespace, not the code.
        "exprgen/__init__.py": "",
        "exprgen/lambdify.py": (
            "import math\n\n\ndef _namespace(m):\n    return vars(m)\n\n\n"
            "def lambdify(args, body, modules=(math,)):\n    namespace = {}\n"
            "    for m in list(modules)[::-1]:\n        namespace.update(_namespace(m))\n"
            "    for mod, keys in {'math': ['sqrt']}.items():\n        for k in keys:\n"
            "            ln = 'from %s import %s' % (mod, k)\n"
            "            exec(ln, {}, namespace)\n"
            "    src = 'def _f(%s):\\n    return %s\\n' % (', '.join(args), body)\n"
            "    exec(compile(src, '<gen>', 'exec'), namespace)\n    return namespace['_f']\n"
        ),
    }, "benign", kind="wheel"),
    Case("parser evaluating a kind selector with parameters a helper builds", "kindsel", {
        # numpy.f2py's crackfortran: a name reused through a long function, helpers whose
        # return values pass through chr() on an unrelated path.
        "kindsel/__init__.py": "",
        "kindsel/crack.py": (
            "def _label(n):\n    return ''.join(chr(65 + (n + i) % 26) for i in range(3))\n\n\n"
            "def get_parameters(names):\n    return {_label(i): i for i, _ in enumerate(names)}\n\n\n"
            "def analyze(vars, names):\n    params = get_parameters(names)\n"
            "    for n in vars:\n        for l in names:\n            vars[n] = l\n"
            "        l = vars[n]\n        try:\n            l = str(eval(l, {}, params))\n"
            "        except Exception:\n            pass\n        vars[n] = l\n    return vars\n"
        ),
    }, "benign", kind="wheel"),
]
