"""`pkgvet sandbox doctor`: what the sandbox needs, and how to get what is missing."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pkgvet.errors import PkgvetError
from pkgvet.sandbox import engine, image, runtime, wheelhouse


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    optional: bool = False


def run_checks() -> list[Check]:
    checks: list[Check] = []
    try:
        client = engine.client()
        version = client.version().get("Version", "?")
        checks.append(Check("Docker engine", True, f"version {version} answers"))
        ready, detail = runtime.doctor_detail(client.info())
        checks.append(Check("gVisor runtime", ready, detail, optional=True))
    except PkgvetError as exc:
        checks.append(Check("Docker engine", False, str(exc)))
        client = None
    if client is not None:
        if engine.image_present(client):
            labels = client.images.get(engine.IMAGE).labels or {}
            checks.append(Check("sandbox image", True, f"{engine.IMAGE} (recipe "
                                f"{labels.get(engine.RECIPE_LABEL, '?')})"))
            try:
                out = client.containers.run(engine.IMAGE, ["strace", "-V"], remove=True,
                                            network_mode="none", user=f"{engine.SANDBOX_UID}")
                checks.append(Check("strace in the image", True,
                                    out.decode().splitlines()[0] if out else "present"))
            except Exception as exc:  # any engine error is the answer here
                checks.append(Check("strace in the image", False,
                                    f"{str(exc)[:200]}; rebuild with `pkgvet sandbox "
                                    "build-image --offline`"))
        else:
            checks.append(Check("sandbox image", False,
                                f"{engine.IMAGE} is not built: run `pkgvet sandbox build-image "
                                "--offline` (or without --offline where a registry answers)"))
    wheels = wheelhouse.wheels_in(wheelhouse.default_dir())
    wanted = {canonicalize_name(Requirement(r).name) for r in wheelhouse.requirements()}
    missing = sorted(wanted - set(wheels))
    checks.append(Check(
        "wheelhouse", not missing,
        f"{len(wheels)} projects in {wheelhouse.default_dir()}"
        + (f"; not there: {', '.join(missing)} (sdists that need them are reported as not "
           "installable offline; `pkgvet sandbox wheelhouse` fetches what the index has)"
           if missing else ""),
        optional=True))
    lacking = image.offline_missing()
    checks.append(Check("offline image build", not lacking,
                        "debootstrap and root available" if not lacking else "; ".join(lacking),
                        optional=True))
    return checks
