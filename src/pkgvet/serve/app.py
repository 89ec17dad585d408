"""The HTTP side of the proxy: routes, content negotiation, errors, access to the API.

Routes:
- `/simple/` and `/simple/<project>/`: the Simple API (PEP 503 HTML, PEP 691 JSON by
  `Accept` or `?format=`), with only the files the policy allows;
- `/files/<sha256>/<filename>` (and `<filename>.metadata`): the upstream file, checked
  against its sha256 before a byte leaves the proxy, never modified; a file the policy hides
  is refused here too, so a client that kept an old page gets nothing it should not;
- `/api/v1/files/<sha256>`, `/api/v1/projects/<project>`: the evidence, as JSON;
- `/metrics` (Prometheus) and `/health`.

Every failure is answered with a status and one line of text, and logged; the proxy never
crashes on a request and keeps serving the others.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from pkgvet import RULESET_VERSION, fetch
from pkgvet.errors import PkgvetError, StoreUnavailable
from pkgvet.fetch import SIMPLE_JSON
from pkgvet.model import ArtifactKind
from pkgvet.policy import PolicySettings, evaluate
from pkgvet.serve import names, render
from pkgvet.serve.gate import Gate, GateSettings
from pkgvet.serve.metrics import Metrics
from pkgvet.serve.upstream import Upstream, UpstreamError
from pkgvet.serve.vetting import CeleryVetter, LocalVetter, Vetter
from pkgvet.store import RequestEntry, ResultKind, Store, open_store
from pkgvet.worker.jobs import FileJob

log = logging.getLogger("pkgvet.serve")


@dataclass(frozen=True, slots=True)
class ServeSettings:
    upstream: str
    store_url: str | None = None
    broker: str | None = None
    token: str | None = None
    """Bearer token for /api and /metrics; None leaves them open (loopback by default)."""
    gate: GateSettings = field(default_factory=GateSettings)
    jobs: int = 2
    page_ttl: float = 60.0
    upstream_timeout: float = 20.0
    max_page_bytes: int = 32 * 1024 * 1024
    ui_auth: str = "accounts"
    """The triage console at /ui/ (`pkgvet.ui`): accounts, header or off."""
    ui_header: str = "X-Remote-User"


def _text(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=status)


class Proxy:
    def __init__(self, settings: ServeSettings, store: Store | None = None,
                 vetter: Vetter | None = None) -> None:
        self.settings = settings
        self.store = store or open_store(settings.store_url)
        self.metrics = Metrics()
        self.upstream = Upstream(settings.upstream, timeout=settings.upstream_timeout,
                                 page_ttl=settings.page_ttl,
                                 max_page_bytes=settings.max_page_bytes)
        self.vetter = vetter or self._vetter()
        self.gate = Gate(self.store, self.vetter, settings.gate, self.metrics)

    def _vetter(self) -> Vetter:
        if self.settings.broker:
            # Workers write to the store given to `pkgvet worker --store`; the proxy reads the
            # same one (its own --store), so nothing about the store travels with a task.
            return CeleryVetter(self.settings.broker, "", self.settings.gate.sandbox)
        sandbox_settings = None
        if self.settings.gate.sandbox:
            from pkgvet.sandbox import SandboxSettings

            sandbox_settings = SandboxSettings()

        def done(job: FileJob, outcome: Any, seconds: float) -> None:
            self.metrics.scan_seconds.observe(seconds)
            if not hasattr(outcome, "verdict"):
                reason = "hash-mismatch" if outcome.hash_mismatch else "error"
                self.metrics.scan_failures.labels(reason).inc()

        return LocalVetter(self.store, self.settings.jobs, sandbox_settings=sandbox_settings,
                           on_done=done)

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def requester(request: Request) -> str:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            import base64
            import binascii

            try:
                user = base64.b64decode(auth[6:]).decode("utf-8", "replace").split(":", 1)[0]
                return user[:64] or "anonymous"
            except (binascii.Error, ValueError):
                pass
        return request.client.host if request.client else "unknown"

    def authorized(self, request: Request) -> bool:
        token = self.settings.token
        if not token:
            return True
        given = request.headers.get("authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(),
                                                                   token.encode())

    # --- routes ----------------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        media = render.negotiate(request.headers.get("accept"),
                                 request.query_params.get("format"))
        if media is None:
            return _text(406, "offer application/vnd.pypi.simple.v1+json or text/html")
        projects = await self.upstream.root()
        if media == SIMPLE_JSON:
            return Response(render.root_json(projects), media_type=media)
        return Response(render.root_html(projects), media_type=media)

    async def project(self, request: Request) -> Response:
        raw = request.path_params["project"]
        try:
            project = names.project(raw)
        except names.BadName as exc:
            return _text(400, f"{exc}")
        if raw != project:
            url = request.url.replace(path=request.url.path.rsplit(raw, 1)[0] + project + "/")
            return RedirectResponse(str(url), status_code=301)
        media = render.negotiate(request.headers.get("accept"),
                                 request.query_params.get("format"))
        if media is None:
            return _text(406, "offer application/vnd.pypi.simple.v1+json or text/html")
        page, hit = await self.upstream.project(project)
        (self.metrics.page_hits if hit else self.metrics.page_misses).inc()
        verdicts = await self.gate.listing(project, page, not hit, self.requester(request))
        listed = [v.file for v in verdicts if v.outcome.listed]
        hidden = len(verdicts) - len(listed)
        headers = {"X-Pkgvet-Hidden": str(hidden), "Cache-Control": "max-age=60"}
        if media == SIMPLE_JSON:
            sizes = {f.sha256: p.stat().st_size for f in listed if f.size is None
                     and (p := self._cached(f.sha256, f.filename, f.kind)).is_file()}
            body = render.project_json(page.name, listed, sizes)
        else:
            body = render.project_html(page.name, listed)
        return Response(body, media_type=media, headers=headers)

    @staticmethod
    def _cached(sha256: str, filename: str, kind: str) -> Path:
        return fetch.cached_path(fetch.IndexFile(filename=filename, url="", sha256=sha256,
                                                 kind=ArtifactKind(kind)))

    async def file(self, request: Request) -> Response:
        try:
            sha = names.sha256(request.path_params["sha256"])
            filename = names.filename(request.path_params["filename"])
        except names.BadName as exc:
            return _text(400, f"{exc}")
        metadata = filename.endswith(".metadata")
        wanted = filename[: -len(".metadata")] if metadata else filename
        record = await asyncio.to_thread(self.store.get_file, sha)
        if record is None or record.filename != wanted:
            return _text(404, "no such file on this index")
        results = (await asyncio.to_thread(self.store.results_for, [sha], RULESET_VERSION)
                   ).get(sha, {})
        decisions = await asyncio.to_thread(self.store.decisions_for, sha, record.project,
                                            record.version)
        outcome = evaluate(record, results.get(ResultKind.STATIC),
                           results.get(ResultKind.SANDBOX), decisions,
                           self.settings.gate.policy, time.time())
        requester = self.requester(request)
        if not outcome.listed:
            await asyncio.to_thread(self.store.log_requests, [RequestEntry(
                time.time(), requester, record.project, filename, sha, False,
                f"{outcome.reason.value}: {outcome.detail}", outcome.verdict)])
            return _text(404, f"{wanted} is withheld by pkgvet ({outcome.reason.value}): "
                         f"{outcome.detail}")
        if metadata:
            if not record.metadata_sha256:
                return _text(404, "the upstream publishes no metadata hash for this file")
            path = fetch.cache_dir() / "metadata" / record.metadata_sha256[:2] / (
                record.metadata_sha256 + ".metadata")
            if not path.is_file():
                await self.upstream.download(record.url + ".metadata", record.metadata_sha256,
                                             path)
            return FileResponse(path, media_type="application/octet-stream")
        kind = "wheel" if wanted.endswith(".whl") else "sdist"
        path = self._cached(sha, wanted, kind)
        if path.is_file():
            self.metrics.file_hits.inc()
        else:
            self.metrics.file_downloads.inc()
            await self.upstream.download(record.url, sha, path)
        await asyncio.to_thread(self.store.log_requests, [RequestEntry(
            time.time(), requester, record.project, filename, sha, True,
            f"served: {outcome.reason.value}", outcome.verdict)])
        return FileResponse(path, media_type="application/octet-stream", filename=wanted)

    async def api_file(self, request: Request) -> Response:
        if not self.authorized(request):
            return _text(401, "this API needs 'Authorization: Bearer <token>'")
        try:
            sha = names.sha256(request.path_params["sha256"])
        except names.BadName as exc:
            return _text(400, f"{exc}")
        record = await asyncio.to_thread(self.store.get_file, sha)
        results = (await asyncio.to_thread(self.store.results_for, [sha], RULESET_VERSION)
                   ).get(sha, {})
        if record is None and not results:
            return _text(404, "pkgvet has not seen this file")
        decisions = (await asyncio.to_thread(self.store.decisions_for, sha, record.project,
                                             record.version)) if record else []
        body: dict[str, Any] = {
            "sha256": sha,
            "ruleset_version": RULESET_VERSION,
            "file": _asdict(record) if record else None,
            "report": results[ResultKind.STATIC].report if ResultKind.STATIC in results
            else None,
            "sandbox": results[ResultKind.SANDBOX].report if ResultKind.SANDBOX in results
            else None,
            "decisions": [_asdict(d) for d in decisions],
        }
        if record is not None:
            outcome = evaluate(record, results.get(ResultKind.STATIC),
                               results.get(ResultKind.SANDBOX), decisions,
                               self.settings.gate.policy, time.time())
            body["policy"] = {"listed": outcome.listed, "reason": outcome.reason.value,
                              "detail": outcome.detail}
        body["requests"] = [_asdict(r) for r in
                            await asyncio.to_thread(self.store.requests, 20, sha)]
        return JSONResponse(body)

    async def api_project(self, request: Request) -> Response:
        if not self.authorized(request):
            return _text(401, "this API needs 'Authorization: Bearer <token>'")
        try:
            project = names.project(request.path_params["project"])
        except names.BadName as exc:
            return _text(400, f"{exc}")
        files = await asyncio.to_thread(self.store.files_of, project)
        results = await asyncio.to_thread(self.store.results_for, [f.sha256 for f in files],
                                          RULESET_VERSION)
        decisions = await asyncio.to_thread(
            self.store.decisions_many, [(f.sha256, f.project, f.version) for f in files])
        now = time.time()
        out = []
        for f in files:
            got = results.get(f.sha256, {})
            o = evaluate(f, got.get(ResultKind.STATIC), got.get(ResultKind.SANDBOX),
                         decisions.get(f.sha256, []), self.settings.gate.policy, now)
            out.append({"filename": f.filename, "version": f.version, "sha256": f.sha256,
                        "listed": o.listed, "reason": o.reason.value, "detail": o.detail,
                        "verdict": o.verdict})
        return JSONResponse({"project": project, "files": out})

    async def metrics_route(self, request: Request) -> Response:
        if not self.authorized(request):
            return _text(401, "/metrics needs 'Authorization: Bearer <token>'")
        return Response(self.metrics.render(),
                        media_type="text/plain; version=0.0.4; charset=utf-8")

    async def health(self, request: Request) -> Response:
        try:
            await asyncio.to_thread(self.store.ping)
        except StoreUnavailable as exc:
            return _text(503, f"store unavailable: {exc}")
        return _text(200, "ok")


def _asdict(value: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(value).items()}


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(proxy: Proxy, route: str, handler: Handler) -> Handler:
    """Every failure becomes a status and a log line; the metrics count each answer."""

    async def run(request: Request) -> Response:
        try:
            response = await handler(request)
        except UpstreamError as exc:
            proxy.metrics.upstream_errors.labels(str(exc.status)).inc()
            log.warning("%s %s: upstream: %s", request.method, request.url.path, exc)
            response = _text(exc.status, f"upstream: {exc}")
        except StoreUnavailable as exc:
            log.error("%s %s: %s", request.method, request.url.path, exc)
            response = _text(503, "the pkgvet store is unavailable; try again shortly")
        except PkgvetError as exc:
            log.warning("%s %s: %s", request.method, request.url.path, exc)
            response = _text(502, str(exc))
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            response = _text(500, "internal error in pkgvet serve (logged)")
        proxy.metrics.requests.labels(route, str(response.status_code)).inc()
        return response

    return run


def create_app(settings: ServeSettings, store: Store | None = None,
               vetter: Vetter | None = None) -> Starlette:
    proxy = Proxy(settings, store, vetter)

    @asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        yield
        await proxy.upstream.close()
        proxy.vetter.close()

    def r(path: str, name: str, handler: Handler) -> Route:
        return Route(path, _guarded(proxy, name, handler), methods=["GET", "HEAD"])

    app = Starlette(routes=[
        r("/simple/", "root", proxy.root),
        r("/simple/{project}/", "project", proxy.project),
        r("/files/{sha256}/{filename}", "file", proxy.file),
        r("/api/v1/files/{sha256}", "api-file", proxy.api_file),
        r("/api/v1/projects/{project}", "api-project", proxy.api_project),
        r("/metrics", "metrics", proxy.metrics_route),
        r("/health", "health", proxy.health),
    ], lifespan=lifespan)
    app.state.proxy = proxy
    if settings.ui_auth != "off":
        from pkgvet.ui import UiSettings, mount

        mount(app, proxy.store, UiSettings(auth=settings.ui_auth, header=settings.ui_header,
                                           policy=settings.gate.policy))
    return app


def default_policy(hide_suspicious: bool, fail_open: bool, min_age: float) -> PolicySettings:
    return PolicySettings(hide_suspicious=hide_suspicious, fail_open=fail_open, min_age=min_age)
