"""The Docker engine and the sandbox image's name: one place for both."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pkgvet.errors import PkgvetError

if TYPE_CHECKING:
    import docker

_IMAGE_INPUTS = ("Dockerfile", "image.py", "persona/persona.toml", "persona/__init__.py",
                 "persona/runtime", "persona/runtime/timecompat.c")
"""What goes into the image (not what is sent to a container when it starts)."""


def _recipe(generation: str = "3") -> str:
    """The image's tag: a generation plus a digest of what goes into it, so that an image
    built from an older recipe (a stale one on a CI machine, say) is never used."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _IMAGE_INPUTS:
        path = here / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            if f.is_file():
                digest.update(f.relative_to(here).as_posix().encode() + b"\0" + f.read_bytes())
    return f"{generation}-{digest.hexdigest()[:10]}"


RECIPE = _recipe()
"""Changes whenever the image must change; old images are not used."""
DEFAULT_IMAGE = f"pkgvet-sandbox:{RECIPE}"
IMAGE = os.environ.get("PKGVET_SANDBOX_IMAGE") or DEFAULT_IMAGE
"""The image the sandbox runs; PKGVET_SANDBOX_IMAGE names another build of the same recipe."""
RECIPE_LABEL = "org.pkgvet.recipe"
SANDBOX_UID = 10001
HOME = "/home/dana"
"""The persona's home (its user is declared in sandbox/persona/persona.toml)."""


class SandboxUnavailable(PkgvetError):
    """The sandbox cannot run here; the message says what to do."""


def client() -> docker.DockerClient:
    """A client of the engine DOCKER_HOST (or the local socket) names, checked to answer."""
    import docker

    try:
        engine = docker.from_env(timeout=120)
        engine.ping()
    except docker.errors.DockerException as exc:
        raise SandboxUnavailable(
            "no Docker engine answers (" + str(exc).split("\n")[0][:160] + "); start one "
            "(`sudo systemctl start docker`, or `sudo dockerd &`), or set DOCKER_HOST; "
            "`pkgvet sandbox doctor` checks everything the sandbox needs"
        ) from None
    return engine


def image_present(engine: docker.DockerClient, image: str = IMAGE) -> bool:
    import docker

    try:
        engine.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def require_image(engine: docker.DockerClient, image: str = IMAGE) -> None:
    if not image_present(engine, image):
        raise SandboxUnavailable(
            f"the sandbox image {image} is not built; run `pkgvet sandbox build-image "
            "--offline` (no registry needed, runs as root) or `pkgvet sandbox build-image` "
            "(from the Dockerfile, needs a registry)"
        )
