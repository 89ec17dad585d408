"""`pkgvet sandbox doctor`: what the sandbox needs, and how to get what is missing."""

from __future__ import annotations

from dataclasses import dataclass

from pkgvet.errors import PkgvetError
from pkgvet.sandbox import engine, image, wheelhouse


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
    wanted = {r.split(";")[0].split("<")[0].split(">")[0].split("=")[0].strip()
              for r in wheelhouse.requirements()}
    missing = sorted(w for w in wanted if w.replace("_", "-").lower() not in wheels)
    checks.append(Check(
        "wheelhouse", not missing,
        f"{len(wheels)} wheels in {wheelhouse.default_dir()}" if not missing else
        f"missing {', '.join(missing)}: run `pkgvet sandbox wheelhouse` (sdists need build "
        "back-ends to install offline; wheels install without them)"))
    lacking = image.offline_missing()
    checks.append(Check("offline image build", not lacking,
                        "debootstrap and root available" if not lacking else "; ".join(lacking),
                        optional=True))
    return checks
