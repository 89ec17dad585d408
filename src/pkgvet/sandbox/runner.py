"""Run one package file through the sandbox container and observe it.

The container: gVisor (`runsc-trace`, traced on the host) or runc (strace inside), no network
(`network_mode=none`), read-only root with tmpfs for /tmp and the home, `no-new-privileges`,
limits on processes, memory (no swap) and CPU, and a wall-clock limit after which pkgvet
kills it. The probe is root with a handful of capabilities; the package runs as the sandbox
user with none (see docs/sandbox-isolation.md). The package file, the probe and the
wheelhouse are mounted read-only. The container and gVisor's trace log are removed in every
case: success, error, timeout or Ctrl-C.
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
from pkgvet.sandbox import execute, gvisor_log, netsink, persona, runtime_weight, wheelhouse
from pkgvet.sandbox import runtime as runtime_mod
from pkgvet.sandbox.honeytokens import Honeytokens
from pkgvet.sandbox.observe import observe, policy, sandbox_verdict
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
    max_events: int = 100000
    """Distinct facts kept per phase; more is an event flood, reported as such."""
    runtime: str | None = None
    """`auto`, `runsc` or `runc`; None reads $PKGVET_SANDBOX_RUNTIME (default `auto`)."""
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


def _job(folder: Path, artifact: Artifact, tokens: Honeytokens, settings: SandboxSettings,
         tracer: str) -> str:
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
        "tracer": tracer,
    }
    (folder / "job.json").write_text(json.dumps(job))
    (folder / "resolv.conf").write_text(f"nameserver {netsink.GATEWAY}\n")
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
    (folder / "job.json").chmod(0o600)  # the probe's (root with DAC_READ_SEARCH), not the package's
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


PROBE_CAPS = ["SETUID", "SETGID", "KILL", "DAC_READ_SEARCH", "NET_BIND_SERVICE", "NET_ADMIN"]
"""What the probe (root in the container) keeps: enough to start the package as the sandbox
user, kill it, read its own job file, bind the sinks and make the container's `eth0` (a TUN
device in the container's own network namespace, see netsink). The package gets none of
them."""
TUN = "/dev/net/tun"
"""runc needs the host's TUN device node (Docker's default device rules allow it); gVisor has
its own. Without it (no `tun` module on the host) the sandbox runs with only `lo`, noted."""
MAX_TRACE_BYTES = 2 * 2**30
"""A gVisor trace log larger than this is a flood: the run is stopped and says so."""


def _container_options(settings: SandboxSettings, chosen: runtime_mod.Runtime, job: Path,
                       house: Path, tokens: Honeytokens) -> dict[str, Any]:
    from docker.types import LogConfig

    # runc: strace. gVisor: a fresh /sys that lists eth0 (in gVisor's own kernel; the probe
    # drops it with NET_ADMIN once the interface exists, see netsink).
    caps = [*PROBE_CAPS, "SYS_PTRACE"] if chosen.kind == "runc" else [*PROBE_CAPS, "SYS_ADMIN"]
    return {
        # persona: command (the program on stdin), host name and environment
        **delivery.container_options(engine_mod.HOME, tokens, settings.extra_env),
        "user": "0:0",
        "runtime": chosen.name,
        "network_mode": "none",
        "read_only": True,
        "tmpfs": {
            "/tmp": f"rw,exec,nosuid,nodev,size={settings.tmp_size}",
            engine_mod.HOME: f"rw,nosuid,nodev,size=64m,uid={engine_mod.SANDBOX_UID},"
                             f"gid={engine_mod.SANDBOX_UID},mode=0700",
        },
        "cap_drop": ["ALL"],
        "cap_add": caps,
        "security_opt": ["no-new-privileges"],
        # Under gVisor the host's process limit counts the sandbox kernel's threads and one
        # ptrace stub per process: room for them, and a fork storm still hits it.
        "pids_limit": settings.pids * (2 if chosen.kind == "gvisor" else 1),
        "mem_limit": settings.memory,
        "memswap_limit": settings.memory,
        "nano_cpus": int(settings.cpus * 1e9),
        "volumes": {
            str(job / "resolv.conf"): {"bind": "/etc/resolv.conf", "mode": "ro"},
            **delivery.wheelhouse_volume(job, house.resolve()),
        },
        **({"devices": [f"{TUN}:{TUN}:rwm"]} if chosen.kind == "runc" and os.path.exists(TUN)
           else {}),
        "working_dir": "/tmp",
        "labels": {"org.pkgvet.sandbox": "1", OWNER_LABEL: str(os.getpid()), **settings.labels},
        "log_config": LogConfig(type="json-file", config={"max-size": "256m"}),
        "init": False,
    }


@dataclass
class _Watch:
    """The host-side trace of one gVisor container, watched while it runs."""

    folder: Path
    container_id: str
    since: float
    log: Path | None = None
    overflow: bool = False

    def poll(self) -> None:
        if self.log is None:
            self.log = gvisor_log.find_log(self.folder, self.container_id, self.since)
        if self.log is not None:
            with contextlib.suppress(OSError):
                self.overflow = self.log.stat().st_size > MAX_TRACE_BYTES


def _wait(container: Any, settings: SandboxSettings, watch: _Watch | None) -> bool:
    """Wait for the container's end; kill it past its wall clock or on a trace flood.
    True when the host killed it."""
    import docker

    deadline = time.monotonic() + settings.wall_seconds
    while True:
        try:
            container.wait(timeout=2)
            return False
        except docker.errors.DockerException:
            raise  # gone (Ctrl-C removed it) or the engine failed: not a run to wait for
        except Exception:  # the engine's read timed out: still running
            pass
        if watch is not None:
            watch.poll()
        if time.monotonic() > deadline or (watch is not None and watch.overflow):
            container.kill()
            container.wait(timeout=60)
            return True


def run(artifact: Artifact, settings: SandboxSettings = SandboxSettings()) -> Outcome:
    """Install and import `artifact` in a fresh container; what it did, and the findings."""
    import docker

    engine = engine_mod.client()
    engine_mod.require_image(engine, settings.image)
    chosen = runtime_mod.choose(engine, settings.runtime)
    house = settings.wheelhouse or wheelhouse.default_dir()
    house.mkdir(parents=True, exist_ok=True)
    tokens = delivery.tokens()
    started = time.perf_counter()
    container = None
    killed_by_host = False
    watch: _Watch | None = None
    trace: gvisor_log.Reading | None = None
    with tempfile.TemporaryDirectory() as tmp:  # no "pkgvet" in what mountinfo shows
        job = Path(tmp)
        _job(job, artifact, tokens, settings, tracer="host" if chosen.kind == "gvisor"
             else "strace")
        program = delivery.program(json.loads((job / "job.json").read_text()), artifact.path,
                                   tokens)
        try:
            container = engine.containers.create(
                settings.image, **_container_options(settings, chosen, job, house, tokens))
            if chosen.log_dir is not None:
                watch = _Watch(chosen.log_dir, container.id, time.time())
            delivery.start(container, program)
            killed_by_host = _wait(container, settings, watch)
            container.reload()
            oom_killed = bool((container.attrs.get("State") or {}).get("OOMKilled"))
            raw = container.logs(stdout=True, stderr=False)
            errors = container.logs(stdout=False, stderr=True).decode("utf-8", "replace")
        except docker.errors.DockerException as exc:
            raise engine_mod.SandboxUnavailable(
                f"the sandbox container failed under {chosen.name}: {str(exc)[:300]}; "
                "`pkgvet sandbox doctor` checks the engine, the runtime and the image") from None
        finally:
            if container is not None:
                with contextlib.suppress(docker.errors.DockerException):
                    container.remove(force=True)
        records, foreign = _records(raw)
        if watch is not None:
            trace = _host_trace(watch, records, settings)
    seconds = time.perf_counter() - started
    if trace is not None:
        records = [*records, *trace.records]
    report, findings = observe(records, tokens, image=settings.image, seconds=seconds,
                               killed_by_host=killed_by_host, timeout=settings.wall_seconds,
                               runtime=chosen.name, foreign_lines=foreign,
                               trace={**_trace_health(trace, watch), "oom": oom_killed})
    findings = [*findings, *persona.grade(records)]  # persona: recon, Windows stand-ins
    findings = runtime_weight.weigh(findings)  # the execute phase's calls: runtime evidence
    report = replace(report, verdict=sandbox_verdict(findings))  # of all the sandbox's findings
    notes = list(report.notes)
    if chosen.note:
        notes.append(chosen.note)
    if errors.strip() and not any(r.get("type") == "done" for r in records):
        notes.append("probe stderr: " + errors.strip()[-500:])
    if notes != list(report.notes):
        report = replace(report, notes=tuple(notes))
    return Outcome(report, findings, records)


def _host_trace(watch: _Watch, records: list[dict[str, Any]],
                settings: SandboxSettings) -> gvisor_log.Reading:
    """Read, then delete, the container's gVisor trace log."""
    deadline = time.monotonic() + 10
    while watch.log is None and time.monotonic() < deadline:
        watch.poll()
        if watch.log is None:
            time.sleep(0.2)
    if watch.log is None:
        raise engine_mod.SandboxUnavailable(
            f"gVisor ran, but its trace log for container {watch.container_id[:12]} is not in "
            f"{watch.folder}; check the runtime's --debug-log setting (`pkgvet sandbox "
            "doctor`)")
    spawned = [r for r in records if r.get("type") == "spawned"]
    starts = {(r.get("phase"), r.get("label")): r.get("mono") for r in records
              if r.get("type") == "phase_start"}
    for record in spawned:
        record.setdefault("mono", starts.get((record.get("phase"), record.get("label"))))
    home = engine_mod.HOME + "/"
    try:
        watched = (*policy().reads_under, *persona.recon_watch(), home)  # as the job's
        return gvisor_log.read(watch.log, spawned, settings.max_events, watched,
                               storm=settings.pids // 5)
    finally:
        if not os.environ.get("PKGVET_KEEP_TRACE"):  # kept only when debugging the sandbox
            with contextlib.suppress(OSError):
                watch.log.unlink()


def _trace_health(trace: gvisor_log.Reading | None, watch: _Watch | None) -> dict[str, Any]:
    if trace is None:
        return {}
    return {"unparsed": trace.unparsed, "exit_status": trace.exit_status,
            "overflow": bool(watch and watch.overflow), "lines": trace.lines,
            "crash": trace.crash}


def remove_leftovers() -> int:
    """Remove sandbox containers a killed pkgvet left behind, and their gVisor trace logs;
    how many containers there were."""
    engine = engine_mod.client()
    removed = []
    for container in engine.containers.list(all=True, filters={"label": "org.pkgvet.sandbox"}):
        container.remove(force=True)
        removed.append(container.id)
    _forget_traces(engine, removed)
    return len(removed)


def remove_mine() -> None:
    """Kill and remove the containers this process started (on Ctrl-C: threads that wait on
    them then return at once, and nothing is left running), and their trace logs."""
    import docker

    try:
        engine = engine_mod.client()
        removed = []
        for container in engine.containers.list(
                all=True, filters={"label": f"{OWNER_LABEL}={os.getpid()}"}):
            with contextlib.suppress(docker.errors.DockerException):
                container.remove(force=True)
                removed.append(container.id)
        _forget_traces(engine, removed)
    except engine_mod.SandboxUnavailable:
        pass


def _forget_traces(engine: Any, container_ids: list[str]) -> None:
    """Delete the gVisor trace logs of `container_ids` (nothing of a run stays on the host)."""
    if not container_ids:
        return
    found = runtime_mod.traced_gvisor(engine.info())
    if found is None:
        return
    for container_id in container_ids:
        log = gvisor_log.find_log(found[1], container_id, since=0)
        if log is not None:
            with contextlib.suppress(OSError):
                log.unlink()
