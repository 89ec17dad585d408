"""How a run reaches the container without leaving a trace that says "sandbox".

The container gets no job file and no folder mounted from pkgvet: its PID 1 reads one
program from its standard input (`python3 -I -`), which the host writes and closes right after
the start. The program (`runtime/bootstrap.py`) carries the probe's source, the job, the
home's files (planted secrets among ordinary ones) and the package file, staged under its
canonical name in ~/Downloads. PID 1 renames itself to an ordinary shell before the package
runs. The wheelhouse is mounted read-only where a company's wheel mirror would be.
"""

from __future__ import annotations

import base64
import importlib.resources
import io
import json
import os
import shutil
import socket
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pkgvet.sandbox import persona
from pkgvet.sandbox.canonical import canonical_name
from pkgvet.sandbox.honeytokens import Honeytokens

if TYPE_CHECKING:
    from docker.models.containers import Container

COMMAND = ["python3", "-I", "-"]
"""PID 1's command; the bootstrap rewrites what /proc/1/cmdline shows to PROCESS_TITLE."""
PROCESS_TITLE = "/bin/bash"
WHEELHOUSE_MOUNT = "/srv/wheels"
EXECUTE_MODULE = "_runcheck"
"""The execute phase's module, written into the import phase's working folder."""
IMPORT_WORKDIR = "/tmp/import"


def tokens() -> Honeytokens:
    who = persona.identity()
    return Honeytokens.fresh(user=who.user, email=who.email, full_name=who.full_name)


def _input(artifact_path: Path) -> dict[str, str]:
    if artifact_path.is_dir():
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            tar.add(artifact_path, arcname=artifact_path.name)
        return {"kind": "folder", "name": artifact_path.name,
                "data": base64.b64encode(buffer.getvalue()).decode()}
    return {"kind": "file", "name": canonical_name(artifact_path),
            "data": base64.b64encode(artifact_path.read_bytes()).decode()}


def project_name(staged: str, kind: str) -> str:
    """The project a staged file or folder name belongs to (`foo_bar-1.0-py3-none-any.whl`,
    `foo-bar-1.0.tar.gz`, a folder `foo-bar`)."""
    if kind == "folder":
        return staged
    if staged.endswith(".whl"):
        return staged.split("-", 1)[0]
    stem = staged
    for suffix in (".tar.gz", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".zip"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem.rsplit("-", 1)[0] if "-" in stem else stem


def _source(package: str, *parts: str) -> str:
    return importlib.resources.files(package).joinpath(*parts).read_text(encoding="utf-8")


def program(job: dict[str, Any], artifact_path: Path, honey: Honeytokens) -> bytes:
    """The bytes PID 1 reads: the bootstrap with everything the run needs."""
    job = dict(job)
    job.pop("honey_files", None)
    job["wheelhouse"] = WHEELHOUSE_MOUNT
    job["reads_under"] = [*job.get("reads_under", []), *persona.recon_watch()]
    job["execute_module"] = EXECUTE_MODULE
    job["execute_source"] = _source("pkgvet.sandbox", "execute.py")
    job["netsink_source"] = _source("pkgvet.sandbox", "netsink.py")  # the sandbox's eth0
    staged = _input(artifact_path)
    job["project"] = project_name(staged["name"], staged["kind"])
    job["persona_records"] = persona.RECORDS_PATH
    payload = {
        "title": PROCESS_TITLE,
        "home": {**honey.home, **honey.files},
        "input": staged,
        "job": job,
        "modules": {f"{IMPORT_WORKDIR}/{EXECUTE_MODULE}.py": job["execute_source"]},
        "probe": _source("pkgvet.sandbox", "probe.py"),
    }
    bootstrap = _source("pkgvet.sandbox.persona", "runtime", "bootstrap.py")
    return ("PAYLOAD = " + json.dumps(payload) + "\n" + bootstrap).encode()


def container_options(home: str, honey: Honeytokens, extra_env: dict[str, str]) -> dict[str, Any]:
    """The parts of `containers.create` that make the persona: command, host name, env."""
    hostname = persona.identity().hostname()
    return {
        "command": COMMAND,
        "stdin_open": True,
        "hostname": hostname,
        "environment": {**persona.environment(home, hostname), **honey.env, **extra_env},
    }


def wheelhouse_volume(scratch: Path, house: Path) -> dict[str, dict[str, str]]:
    """The wheelhouse, mounted from a neutrally named folder of links to its wheels: a bind
    mount's source path shows in /proc/self/mountinfo, and the cache's path names pkgvet."""
    mirror = scratch / "wheels"
    mirror.mkdir(mode=0o755)
    for wheel in sorted(house.glob("*.whl")):
        try:
            os.link(wheel, mirror / wheel.name)
        except OSError:
            shutil.copyfile(wheel, mirror / wheel.name)
            (mirror / wheel.name).chmod(0o644)
    return {str(mirror): {"bind": WHEELHOUSE_MOUNT, "mode": "ro"}}


def start(container: Container, data: bytes) -> None:
    """Start `container` and hand PID 1 its program on standard input, then close it."""
    stream = container.attach_socket(params={"stdin": 1, "stream": 1})
    raw = getattr(stream, "_sock", stream)
    try:
        container.start()
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
    finally:
        raw.close()
