"""Run one package file through the sandbox container and observe it.

The container: no network (`network_mode=none`), read-only root with tmpfs for /tmp and the
home, every capability dropped, `no-new-privileges`, Docker's default seccomp profile, a
non-root user, limits on processes, memory (no swap) and CPU, and a wall-clock limit after
which pkgvet kills it. The package file, the probe and the wheelhouse are mounted read-only.
The container is removed in every case: success, error, timeout or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pkgvet.model import Finding, SandboxReport
from pkgvet.package import Artifact
from pkgvet.sandbox import engine as engine_mod
from pkgvet.sandbox import execute, persona, wheelhouse
from pkgvet.sandbox.honeytokens import Honeytokens
from pkgvet.sandbox.observe import observe, policy
from pkgvet.sandbox.persona import delivery  # persona: how a run reaches the container

OWNER_LABEL = "org.pkgvet.owner-pid"
HOST_MARGIN = 60.0
"""Seconds the host waits past the probe's own limits before it kills the container."""


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    image: str = engine_mod.IMAGE
    install_seconds: float = 180.0
    import_seconds: float = 60.0
    max_modules: int = 10
    memory: str = "1g"
    tmp_size: str = "1g"
    pids: int = 256
    cpus: float = 1.0
    max_events: int = 20000
    wheelhouse: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    """Extra container labels (on top of org.pkgvet.sandbox), e.g. to find one run's container."""

    @property
    def wall_seconds(self) -> float:
        """The probe's own limits (an install may be tried twice: isolated, then with the
        image's setuptools) plus a margin; past it pkgvet kills the container."""
        return (2 * self.install_seconds + self.import_seconds * self.max_modules
                + execute.worst_case_seconds() + HOST_MARGIN)


@dataclass(frozen=True, slots=True)
class Outcome:
    report: SandboxReport
    findings: list[Finding]
    records: list[dict[str, Any]]


def _job(folder: Path, artifact: Artifact, tokens: Honeytokens, settings: SandboxSettings) -> str:
    probe = importlib.resources.files("pkgvet.sandbox").joinpath("probe.py")
    (folder / "probe.py").write_text(probe.read_text(encoding="utf-8"))
    target = f"/pkgvet/input/{artifact.path.name}"
    job = {
        "target": target,
        "kind": artifact.kind.value,
        "honey_files": tokens.files,
        "sink_ports": list(policy().sink_ports),
        "reads_under": policy().reads_under,
        "timeouts": {"install": settings.install_seconds, "import": settings.import_seconds},
        "max_modules": settings.max_modules,
        "max_events": settings.max_events,
    }
    (folder / "job.json").write_text(json.dumps(job))
    (folder / "resolv.conf").write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
    # A copy, readable by the container's user (cached downloads are private to their owner);
    # links are copied as links, never followed.
    inputs = folder / "input"
    inputs.mkdir()
    if artifact.path.is_dir():
        shutil.copytree(artifact.path, inputs / artifact.path.name, symlinks=True)
    else:
        shutil.copyfile(artifact.path, inputs / artifact.path.name)
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    return target


def _records(raw: bytes) -> tuple[list[dict[str, Any]], int]:
    records, foreign = [], 0
    for line in raw.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            foreign += 1
            continue
        if isinstance(record, dict) and "type" in record:
            records.append(record)
        else:
            foreign += 1
    return records, foreign


def run(artifact: Artifact, settings: SandboxSettings = SandboxSettings()) -> Outcome:
    """Install and import `artifact` in a fresh container; what it did, and the findings."""
    import docker
    from docker.types import LogConfig

    engine = engine_mod.client()
    engine_mod.require_image(engine, settings.image)
    house = settings.wheelhouse or wheelhouse.default_dir()
    house.mkdir(parents=True, exist_ok=True)
    tokens = delivery.tokens()
    started = time.perf_counter()
    container = None
    killed_by_host = False
    with tempfile.TemporaryDirectory() as tmp:  # no "pkgvet" in what mountinfo shows
        job = Path(tmp)
        _job(job, artifact, tokens, settings)
        program = delivery.program(json.loads((job / "job.json").read_text()), artifact.path,
                                   tokens)
        try:
            container = engine.containers.create(
                settings.image,
                **delivery.container_options(engine_mod.HOME, tokens, settings.extra_env),
                user=f"{engine_mod.SANDBOX_UID}:{engine_mod.SANDBOX_UID}",
                network_mode="none",
                read_only=True,
                tmpfs={
                    "/tmp": f"rw,exec,nosuid,nodev,size={settings.tmp_size}",
                    engine_mod.HOME: f"rw,nosuid,nodev,size=64m,uid={engine_mod.SANDBOX_UID},"
                                     f"gid={engine_mod.SANDBOX_UID},mode=0700",
                },
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
                pids_limit=settings.pids,
                mem_limit=settings.memory,
                memswap_limit=settings.memory,
                nano_cpus=int(settings.cpus * 1e9),
                sysctls={"net.ipv4.ip_unprivileged_port_start": "0"},
                volumes={
                    str(job / "resolv.conf"): {"bind": "/etc/resolv.conf", "mode": "ro"},
                    **delivery.wheelhouse_volume(job, house.resolve()),
                },
                working_dir="/tmp",
                labels={"org.pkgvet.sandbox": "1", OWNER_LABEL: str(os.getpid()),
                        **settings.labels},
                log_config=LogConfig(type="json-file", config={"max-size": "256m"}),
                init=False,
            )
            delivery.start(container, program)
            try:
                container.wait(timeout=settings.wall_seconds)
            except Exception:  # the engine's read timed out: the run is over its wall clock
                killed_by_host = True
                container.kill()
                container.wait(timeout=60)
            raw = container.logs(stdout=True, stderr=False)
            errors = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")
        except docker.errors.DockerException as exc:
            raise engine_mod.SandboxUnavailable(
                f"the sandbox container failed: {str(exc)[:300]}; `pkgvet sandbox doctor` "
                "checks the engine and the image") from None
        finally:
            if container is not None:
                with contextlib.suppress(docker.errors.DockerException):
                    container.remove(force=True)
    seconds = time.perf_counter() - started
    records, foreign = _records(raw)
    report, findings = observe(records, tokens, image=settings.image, seconds=seconds,
                               killed_by_host=killed_by_host, timeout=settings.wall_seconds)
    findings = [*findings, *persona.grade(records)]  # persona: recon, Windows stand-ins
    notes = list(report.notes)
    if foreign:
        notes.append(f"{foreign} lines on the probe's output were not the probe's")
    if errors.strip() and not any(r.get("type") == "done" for r in records):
        notes.append("probe stderr: " + errors.strip()[-500:])
    if notes != list(report.notes):
        report = replace(report, notes=tuple(notes))
    return Outcome(report, findings, records)


def remove_leftovers() -> int:
    """Remove sandbox containers a killed pkgvet left behind; how many there were."""
    engine = engine_mod.client()
    removed = 0
    for container in engine.containers.list(all=True, filters={"label": "org.pkgvet.sandbox"}):
        container.remove(force=True)
        removed += 1
    return removed


def remove_mine() -> None:
    """Kill and remove the containers this process started (on Ctrl-C: threads that wait on
    them then return at once, and nothing is left running)."""
    import docker

    try:
        engine = engine_mod.client()
        for container in engine.containers.list(
                all=True, filters={"label": f"{OWNER_LABEL}={os.getpid()}"}):
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
    except engine_mod.SandboxUnavailable:
        pass
