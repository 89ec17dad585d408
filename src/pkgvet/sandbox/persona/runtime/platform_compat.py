"""Compatibility names for code written for several platforms (installed in the image).

Runs at every interpreter start (a `.pth` line and Debian's sitecustomize import it; standard
library only). It lets Windows-only code reach the point where it acts, without pretending to be
Windows to ordinary code (`sys.platform` and `os.name` stay Linux):

- the `subprocess` constants and `STARTUPINFO` that Windows code passes, and a `Popen` that
  accepts (and records) `creationflags` / `startupinfo` and splits a Windows command string;
- `os.startfile`, recorded;
- `winreg` / `_winreg` and `ctypes.windll` / `ctypes.WinDLL` stand-ins that record each call;
- Windows folder variables (APPDATA, LOCALAPPDATA, USERPROFILE, TEMP) pointing into the home.

Each record is one JSON line appended to RECORDS. Nothing here raises: a failure to record
never changes what the code under observation sees.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import json
import os
import subprocess
import sys
import types
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from collections.abc import Callable

RECORDS = "/dev/shm/.X0-lock"
_LIMIT = 4000


def record(kind: str, **fields: Any) -> None:
    try:
        line = json.dumps({"kind": kind, "pid": os.getpid(), **fields}, default=repr)
        fd = os.open(RECORDS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line[:_LIMIT] + "\n").encode("utf-8", "replace"))
        finally:
            os.close(fd)
    except Exception:
        pass


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = "<unrepresentable>"
    return text[:300]


# --- subprocess -----------------------------------------------------------------------------

_CONSTANTS = {
    "CREATE_NEW_CONSOLE": 0x10, "CREATE_NEW_PROCESS_GROUP": 0x200, "DETACHED_PROCESS": 0x8,
    "CREATE_NO_WINDOW": 0x08000000, "CREATE_DEFAULT_ERROR_MODE": 0x04000000,
    "CREATE_BREAKAWAY_FROM_JOB": 0x01000000, "STARTF_USESHOWWINDOW": 0x1,
    "STARTF_USESTDHANDLES": 0x100, "SW_HIDE": 0, "STD_INPUT_HANDLE": -10,
    "STD_OUTPUT_HANDLE": -11, "STD_ERROR_HANDLE": -12, "ABOVE_NORMAL_PRIORITY_CLASS": 0x8000,
    "BELOW_NORMAL_PRIORITY_CLASS": 0x4000, "HIGH_PRIORITY_CLASS": 0x80,
    "IDLE_PRIORITY_CLASS": 0x40, "NORMAL_PRIORITY_CLASS": 0x20,
    "REALTIME_PRIORITY_CLASS": 0x100,
}


class STARTUPINFO:
    def __init__(self, *, dwFlags: int = 0, hStdInput: Any = None, hStdOutput: Any = None,
                 hStdError: Any = None, wShowWindow: int = 0, lpAttributeList: Any = None) -> None:
        self.dwFlags = dwFlags
        self.hStdInput = hStdInput
        self.hStdOutput = hStdOutput
        self.hStdError = hStdError
        self.wShowWindow = wShowWindow
        self.lpAttributeList = lpAttributeList or {"handle_list": []}

    def copy(self) -> STARTUPINFO:
        return STARTUPINFO(dwFlags=self.dwFlags, hStdInput=self.hStdInput,
                           hStdOutput=self.hStdOutput, hStdError=self.hStdError,
                           wShowWindow=self.wShowWindow, lpAttributeList=self.lpAttributeList)


def split_windows(command: str) -> list[str]:
    """A Windows command line split as CommandLineToArgvW does (quotes group, backslashes
    stay), which is how Windows code expects a string command to be read."""
    args: list[str] = []
    current: list[str] = []
    quoted = started = False
    for char in command:
        if char == '"':
            quoted = not quoted
            started = True
        elif char in " \t" and not quoted:
            if started:
                args.append("".join(current))
                current, started = [], False
        else:
            current.append(char)
            started = True
    if started:
        args.append("".join(current))
    return args


def _patch_subprocess() -> None:
    for name, value in _CONSTANTS.items():
        if not hasattr(subprocess, name):
            setattr(subprocess, name, value)
    if not hasattr(subprocess, "STARTUPINFO"):
        subprocess.STARTUPINFO = STARTUPINFO  # type: ignore[attr-defined]
    original = subprocess.Popen.__init__

    def __init__(self: Any, args: Any, *rest: Any, **kwargs: Any) -> None:
        flags = kwargs.pop("creationflags", 0)
        info = kwargs.pop("startupinfo", None)
        if flags or info is not None:
            record("popen", args=_short(args), creationflags=flags,
                   startupinfo=info is not None)
        if isinstance(args, str) and not kwargs.get("shell") and not os.path.exists(args) \
                and (" " in args.strip() or "\\" in args):
            args = split_windows(args)
            record("popen_split", args=args[:20])
        original(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = __init__  # type: ignore[method-assign]


def _patch_os() -> None:
    if not hasattr(os, "startfile"):
        def startfile(path: Any, operation: Any = None, arguments: Any = "", cwd: Any = None,
                      show_cmd: Any = 1) -> None:
            record("startfile", path=_short(path), operation=_short(operation),
                   arguments=_short(arguments))

        os.startfile = startfile  # type: ignore[attr-defined]
    home = os.path.expanduser("~")
    for name, value in (("APPDATA", f"{home}/.config"), ("LOCALAPPDATA", f"{home}/.local/share"),
                        ("USERPROFILE", home), ("TEMP", "/tmp"), ("TMP", "/tmp")):
        os.environ.setdefault(name, value)


# --- winreg ---------------------------------------------------------------------------------


class HKEYType:
    def __init__(self, path: str) -> None:
        self.path = path
        self.handle = id(self) & 0xFFFFFFFF

    def Close(self) -> None:
        return None

    def Detach(self) -> int:
        return self.handle

    def __enter__(self) -> HKEYType:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __int__(self) -> int:
        return self.handle


_ROOTS = {"HKEY_CLASSES_ROOT": 0x80000000, "HKEY_CURRENT_USER": 0x80000001,
          "HKEY_LOCAL_MACHINE": 0x80000002, "HKEY_USERS": 0x80000003,
          "HKEY_PERFORMANCE_DATA": 0x80000004, "HKEY_CURRENT_CONFIG": 0x80000005,
          "HKEY_DYN_DATA": 0x80000006}
_ROOT_NAMES = {v: k for k, v in _ROOTS.items()}
_WINREG_CONSTANTS = {
    "KEY_ALL_ACCESS": 0xF003F, "KEY_WRITE": 0x20006, "KEY_READ": 0x20019, "KEY_EXECUTE": 0x20019,
    "KEY_QUERY_VALUE": 1, "KEY_SET_VALUE": 2, "KEY_CREATE_SUB_KEY": 4,
    "KEY_ENUMERATE_SUB_KEYS": 8, "KEY_NOTIFY": 16, "KEY_CREATE_LINK": 32,
    "KEY_WOW64_64KEY": 0x100, "KEY_WOW64_32KEY": 0x200, "REG_NONE": 0, "REG_SZ": 1,
    "REG_EXPAND_SZ": 2, "REG_BINARY": 3, "REG_DWORD": 4, "REG_DWORD_LITTLE_ENDIAN": 4,
    "REG_DWORD_BIG_ENDIAN": 5, "REG_LINK": 6, "REG_MULTI_SZ": 7, "REG_QWORD": 11,
    "REG_OPTION_NON_VOLATILE": 0,
}


def _key_path(key: Any, sub: Any = "") -> str:
    base = key.path if isinstance(key, HKEYType) else _ROOT_NAMES.get(key, _short(key))
    sub = str(sub or "")
    return f"{base}\\{sub}" if sub else str(base)


def _winreg_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(_ROOTS)
    module.__dict__.update(_WINREG_CONSTANTS)
    module.HKEYType = HKEYType  # type: ignore[attr-defined]
    module.error = OSError  # type: ignore[attr-defined]

    def opened(call: str) -> Any:
        def fn(key: Any, sub_key: Any = "", *rest: Any, **kwargs: Any) -> HKEYType:
            path = _key_path(key, sub_key)
            record("winreg", call=call, key=path)
            return HKEYType(path)
        return fn

    def set_value(call: str) -> Any:
        def fn(key: Any, name: Any, *rest: Any) -> None:
            record("winreg", call=call, key=_key_path(key), name=_short(name),
                   value=_short(rest[-1] if rest else None))
        return fn

    def deleted(call: str) -> Any:
        def fn(key: Any, name: Any = "", *rest: Any, **kwargs: Any) -> None:
            record("winreg", call=call, key=_key_path(key), name=_short(name))
        return fn

    def query_value_ex(key: Any, name: Any) -> tuple[str, int]:
        record("winreg", call="QueryValueEx", key=_key_path(key), name=_short(name))
        return ("", 1)

    def query_value(key: Any, sub_key: Any = None) -> str:
        record("winreg", call="QueryValue", key=_key_path(key, sub_key))
        return ""

    def enumerate_nothing(key: Any, index: int) -> Any:
        raise OSError(259, "No more data is available")

    module.OpenKey = opened("OpenKey")  # type: ignore[attr-defined]
    module.OpenKeyEx = opened("OpenKeyEx")  # type: ignore[attr-defined]
    module.CreateKey = opened("CreateKey")  # type: ignore[attr-defined]
    module.CreateKeyEx = opened("CreateKeyEx")  # type: ignore[attr-defined]
    module.ConnectRegistry = lambda computer, key: HKEYType(_key_path(key))  # type: ignore[attr-defined]
    module.SetValue = set_value("SetValue")  # type: ignore[attr-defined]
    module.SetValueEx = set_value("SetValueEx")  # type: ignore[attr-defined]
    module.DeleteKey = deleted("DeleteKey")  # type: ignore[attr-defined]
    module.DeleteKeyEx = deleted("DeleteKeyEx")  # type: ignore[attr-defined]
    module.DeleteValue = deleted("DeleteValue")  # type: ignore[attr-defined]
    module.QueryValueEx = query_value_ex  # type: ignore[attr-defined]
    module.QueryValue = query_value  # type: ignore[attr-defined]
    module.EnumKey = enumerate_nothing  # type: ignore[attr-defined]
    module.EnumValue = enumerate_nothing  # type: ignore[attr-defined]
    module.QueryInfoKey = lambda key: (0, 0, 0)  # type: ignore[attr-defined]
    module.CloseKey = lambda key: None  # type: ignore[attr-defined]
    module.FlushKey = lambda key: None  # type: ignore[attr-defined]
    module.ExpandEnvironmentStrings = lambda text: os.path.expandvars(str(text))  # type: ignore[attr-defined]
    return module


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    NAMES = ("winreg", "_winreg")

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in self.NAMES:
            return importlib.machinery.ModuleSpec(fullname, self, origin="built-in")
        return None

    def create_module(self, spec: Any) -> types.ModuleType:
        return _winreg_module(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        return None


# --- ctypes ---------------------------------------------------------------------------------


class _WinFunction:
    def __init__(self, library: str, name: str) -> None:
        self._library = library
        self._name = name
        self.argtypes: Any = None
        self.restype: Any = None
        self.errcheck: Any = None

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        record("windll", library=self._library, function=self._name,
               args=[_short(a) for a in args[:8]])
        return 0


class WinDLL:
    def __init__(self, name: Any = "", *args: Any, **kwargs: Any) -> None:
        self._name = os.path.basename(str(name)).lower().removesuffix(".dll")
        self._handle = 0

    def __getattr__(self, name: str) -> _WinFunction:
        if name.startswith("__"):
            raise AttributeError(name)
        function = _WinFunction(self._name, name)
        setattr(self, name, function)
        return function

    def __getitem__(self, name: Any) -> _WinFunction:
        return _WinFunction(self._name, str(name))


def _patch_ctypes() -> None:
    import ctypes

    if hasattr(ctypes, "windll"):
        return
    ctypes.WinDLL = WinDLL  # type: ignore[attr-defined]
    ctypes.OleDLL = WinDLL  # type: ignore[attr-defined]
    ctypes.windll = ctypes.LibraryLoader(WinDLL)  # type: ignore[attr-defined]
    ctypes.oledll = ctypes.LibraryLoader(WinDLL)  # type: ignore[attr-defined]
    ctypes.WINFUNCTYPE = ctypes.CFUNCTYPE  # type: ignore[attr-defined]
    ctypes.GetLastError = lambda: 0  # type: ignore[attr-defined]
    ctypes.FormatError = lambda code=0: f"error {code}"  # type: ignore[attr-defined]
    ctypes.WinError = lambda code=None, descr=None: OSError(code or 0, descr or "error")  # type: ignore[attr-defined]


# --- asyncio.sleep ---------------------------------------------------------------------------

CLOCK_LIBRARY = "libtzcompat.so"
"""The preloaded library that cuts long timer waits short and moves the clock on (timecompat.c).
An event loop waits on descriptors, which the library leaves alone: asyncio.sleep hands a long
delay to time.sleep, which the library cuts, and then yields as asyncio.sleep(0)."""


def _clock_library_loaded() -> bool:
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            return CLOCK_LIBRARY in fh.read()
    except OSError:
        return False


def _patch_asyncio(module: types.ModuleType) -> None:
    import functools
    import time

    tasks = sys.modules.get("asyncio.tasks")
    real = getattr(tasks, "sleep", None)
    if real is None or not _clock_library_loaded():
        return

    @functools.wraps(real)
    async def sleep(delay: float, result: Any = None) -> Any:
        if isinstance(delay, (int, float)) and delay >= 3:
            time.sleep(delay)
            delay = 0
        return await real(delay, result)

    tasks.sleep = sleep  # type: ignore[union-attr]
    module.sleep = sleep  # type: ignore[attr-defined]


class _AfterImport(importlib.abc.MetaPathFinder):
    """Runs a patch right after a module's own code (the module is found as usual)."""

    PATCHES: ClassVar[dict[str, Callable[[types.ModuleType], None]]] = {
        "asyncio": _patch_asyncio}

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        patch = self.PATCHES.get(fullname)
        if patch is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        real = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            real(module)
            with contextlib.suppress(Exception):
                patch(module)

        loader.exec_module = exec_module
        return spec


def install() -> None:
    for step in (_patch_subprocess, _patch_os, _patch_ctypes):
        with contextlib.suppress(Exception):  # a broken shim must not break the interpreter
            step()
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
    if not any(isinstance(f, _AfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport())


install()
