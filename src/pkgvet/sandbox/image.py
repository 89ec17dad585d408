"""Build the sandbox image: from the Dockerfile, or offline with debootstrap.

The offline build needs no registry (CI and many hosts have none): debootstrap installs a
minimal Debian with python3, python3-venv, strace and a C toolchain (so that C extensions
build) from a Debian mirror into a folder, the persona's user and its Windows stand-ins are
added (`pkgvet.sandbox.persona`), and the folder is imported as an image. It runs as root
(debootstrap needs it) and runs only Debian's own tools, never package code.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from pkgvet.sandbox import persona
from pkgvet.sandbox.engine import HOME, IMAGE, RECIPE, RECIPE_LABEL, SANDBOX_UID, SandboxUnavailable
from pkgvet.sandbox.engine import client as engine_client

DEFAULT_MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "python3-setuptools", "python3-wheel",
            "strace",
            # What a victim's environment usually already has, and setup.py scripts import
            # (pip runs a setup.py without pyproject.toml in the user's own environment).
            "python3-requests", "python3-six", "python3-colorama", "python3-psutil",
            # C extensions build (pip compiles them from sdists).
            "gcc", "libc6-dev", "python3-dev", "make",
            # An ordinary interactive shell for the persona's user.
            "bash")
TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
        "usr/share/locale", "usr/share/info")
CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    f"USER {SANDBOX_UID}:{SANDBOX_UID}",
    "WORKDIR /tmp",
    f'LABEL {RECIPE_LABEL}="{RECIPE}"',
)


def offline_missing() -> list[str]:
    """What the offline build needs and this host lacks, each with how to get it."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (debootstrap needs it): run as root or with sudo")
    for tool, package in (("debootstrap", "debootstrap"), ("tar", "tar")):
        if shutil.which(tool) is None:
            missing.append(f"{tool}: apt-get install -y {package}")
    return missing


def _add_user(rootfs: Path) -> None:
    etc = rootfs / "etc"
    user = persona.identity().user
    with (etc / "passwd").open("a") as fh:
        fh.write(f"{user}:x:{SANDBOX_UID}:{SANDBOX_UID}:{persona.identity().full_name},,,:"
                 f"{HOME}:/bin/bash\n")
    with (etc / "group").open("a") as fh:
        fh.write(f"{user}:x:{SANDBOX_UID}:\n")
    home = rootfs / HOME.lstrip("/")
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, SANDBOX_UID, SANDBOX_UID)


def add_persona(rootfs: Path) -> None:
    """The Windows persona (a start-up module every interpreter loads, and the recording
    stand-ins on PATH), under ordinary names: nothing in the image says "sandbox"."""
    modules = []
    for relpath, (content, mode) in persona.image_files().items():
        target = rootfs / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(content, encoding="utf-8")
        target.chmod(mode)
        if relpath.endswith(".py"):  # Debian links sitecustomize into the standard library
            modules.append("/" + relpath.replace("etc/python3.11/", "usr/lib/python3.11/"))
    # Compiled by the image's own Python now: the root is read-only when the sandbox runs,
    # and a failed cache write there would look like a write to the system folders.
    subprocess.run(["chroot", str(rootfs), "/usr/bin/python3", "-m", "py_compile", *modules],
                   check=True)
    subprocess.run(["chroot", str(rootfs), "/bin/sh", "-c", persona.clock_build()], check=True)


def build_offline(mirror: str = DEFAULT_MIRROR, image: str = IMAGE,
                  log: Path | None = None) -> float:
    """Build `image` without a registry; returns the seconds it took."""
    missing = offline_missing()
    if missing:
        raise SandboxUnavailable("cannot build the image offline; missing: " + "; ".join(missing))
    engine = engine_client()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pkgvet-rootfs-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        command = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
                   SUITE, str(rootfs), mirror]
        with (log.open("w") if log else open(os.devnull, "w")) as out:
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise SandboxUnavailable(
                f"debootstrap failed (exit {done.returncode}) fetching Debian {SUITE} from "
                f"{mirror}" + (f"; its log is {log}" if log else "; pass --log FILE to see why")
                + "; check that the mirror is reachable or pass --mirror")
        _add_user(rootfs)
        add_persona(rootfs)
        for relpath in TRIM:
            target = rootfs / relpath
            if target.is_dir():
                shutil.rmtree(target)
                target.mkdir()
        tarball = Path(tmp) / "rootfs.tar"
        subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tarball), "."],
                       check=True)
        repository, _, tag = image.partition(":")
        engine.api.import_image_from_file(str(tarball), repository=repository,
                                          tag=tag or "latest", changes=list(CHANGES))
    return time.perf_counter() - started


def dockerfile(text: str) -> str:
    """The shipped Dockerfile with this recipe's label (the recipe is a digest of the image's
    inputs, the Dockerfile among them, so the file itself cannot hold it)."""
    return re.sub(rf'^LABEL {re.escape(RECIPE_LABEL)}=".*"$', f'LABEL {RECIPE_LABEL}="{RECIPE}"',
                  text, flags=re.M)


def build_from_dockerfile(image: str = IMAGE) -> float:
    """Build `image` from the Dockerfile shipped in the package (needs a registry)."""
    engine = engine_client()
    started = time.perf_counter()
    source = importlib.resources.files("pkgvet.sandbox").joinpath("Dockerfile")
    with tempfile.TemporaryDirectory(prefix="pkgvet-image-") as tmp:
        (Path(tmp) / "Dockerfile").write_text(dockerfile(source.read_text(encoding="utf-8")))
        for relpath, (content, mode) in persona.image_files().items():
            target = Path(tmp) / "rootfs" / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
            target.chmod(mode)
        import docker

        try:
            engine.images.build(path=tmp, tag=image, rm=True, pull=False)
        except docker.errors.DockerException as exc:
            raise SandboxUnavailable(
                f"building {image} from the Dockerfile failed ({str(exc)[:200]}); without a "
                "registry use `pkgvet sandbox build-image --offline`") from None
    return time.perf_counter() - started
