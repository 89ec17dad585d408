"""The console's pages: queue, one file, decide, decisions (export/import) and the audit log.

Server-rendered with Jinja2 (autoescape on), one small vendored script, no inline script:
every response carries a strict Content-Security-Policy. Every change is a POST with the
session's CSRF token, and the role it needs (triager to decide, admin to import).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from pkgvet import evidence, policy
from pkgvet.store import Action, Decision, ResultKind, Scope, Store
from pkgvet.templating import environment, stylesheet
from pkgvet.ui import auth, queue
from pkgvet.ui import compare as comparing
from pkgvet.ui import decisions as exporting

CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
MAX_BODY = 1024 * 1024 + 4096
REASON_MAX = 2000
FINDINGS_PAGE = 100
LOGIN_TRIES = 5
LOGIN_WINDOW = 15 * 60
"""At most LOGIN_TRIES wrong passwords per user name in LOGIN_WINDOW seconds (per replica)."""
SESSION_COOKIE = "pkgvet_session"
LOGIN_COOKIE = "pkgvet_login"
MESSAGES = {
    "decided": "Decision recorded. The proxy applies it to the next request.",
    "revoked": "Decision removed; the file is back to its verdict.",
    "imported": "Decisions imported.",
    "loggedout": "Signed out.",
}


@dataclass(frozen=True, slots=True)
class UiSettings:
    base: str = "/ui"
    auth: str = "accounts"
    """accounts (local accounts, login form), header (a reverse proxy names the user),
    local (one user, no login: `pkgvet ui`)."""
    header: str = "X-Remote-User"
    header_role: str = "viewer"
    local_user: str = "local"
    secure_cookies: bool = False
    policy: policy.PolicySettings = field(default_factory=policy.PolicySettings)
    archive_dirs: tuple[Path, ...] = ()


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Console:
    def __init__(self, store: Store, settings: UiSettings) -> None:
        self.store = store
        self.settings = settings
        self.base = settings.base.rstrip("/")
        self.accounts = auth.Accounts(store)
        self._secret: bytes | None = None
        self._failures: dict[str, list[float]] = {}

    @property
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = auth.store_secret(self.store)
        return self._secret

    # --- plumbing ------------------------------------------------------------------------

    def url(self, path: str, **query: str) -> str:
        return f"{self.base}{path}" + (f"?{urlencode(query)}" if query else "")

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        session = getattr(request.state, "session", None)
        message = MESSAGES.get(request.query_params.get("msg", ""), "")
        page = environment().get_template(f"ui/{name}").render(
            base=self.base, url=self.url, session=session, message=message,
            roles=auth.Role, **context)
        return HTMLResponse(page, status_code=status)

    def derived_csrf(self, user: str) -> str:
        return hmac.new(self.secret, f"csrf:{user}".encode(), "sha256").hexdigest()

    def session(self, request: Request) -> auth.Session | None:
        mode = self.settings.auth
        if mode == "local":
            user = self.settings.local_user
            return auth.Session(user, auth.Role.ADMIN, self.derived_csrf(user), float("inf"))
        if mode == "header":
            user = request.headers.get(self.settings.header, "").strip()
            if not auth.valid_name(user):
                return None
            role = self.accounts.role_of(user) or auth.Role.parse(self.settings.header_role)
            return auth.Session(user, role, self.derived_csrf(user), float("inf"))
        return auth.Sessions(self.secret).read(request.cookies.get(SESSION_COOKIE))

    async def form(self, request: Request, session: auth.Session | None) -> dict[str, str]:
        """The POSTed form, after the CSRF and origin checks."""
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            raise Refused(413, "the form is too large")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise Refused(413, "the form is too large")
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            if urlsplit(origin).netloc != host:
                raise Refused(403, "this change came from another site and was refused")
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=20,
                          keep_blank_values=True)
        data = {k: v[0] for k, v in fields.items() if v}
        expected = session.csrf if session is not None else request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(data.get("csrf", ""), expected):
            raise Refused(403, "missing or wrong CSRF token: reload the page and try again")
        return data

    def need(self, request: Request, role: auth.Role) -> auth.Session:
        session: auth.Session | None = request.state.session
        if session is None:
            raise Refused(401, "sign in first")
        if session.role < role:
            raise Refused(403, f"this needs the {role.label} role; you are {session.role.label}")
        return session

    # --- pages ---------------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        if self.settings.auth != "accounts":
            return RedirectResponse(self.url("/"), 303)
        token = secrets.token_urlsafe(24)
        response = self.render(request, "login.html", login_csrf=token,
                               error=request.query_params.get("error") == "1")
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=self.settings.secure_cookies, path=self.base or "/")
        return response

    async def login(self, request: Request) -> Response:
        data = await self.form(request, None)
        name, password = data.get("user", "")[:64], data.get("password", "")[:1024]
        now = time.time()
        recent = [t for t in self._failures.get(name, []) if now - t < LOGIN_WINDOW]
        if len(recent) >= LOGIN_TRIES:
            raise Refused(429, "too many wrong passwords for this user; wait 15 minutes")
        role = self.accounts.verify(name, password) if auth.valid_name(name) else None
        if role is None:
            if len(self._failures) > 10_000:
                self._failures.clear()
            self._failures[name] = [*recent, now]
            self.store.append_audit(name if auth.valid_name(name) else "?", "ui.login.failed",
                                    "ui", {})
            return RedirectResponse(self.url("/login", error="1"), 303)
        self._failures.pop(name, None)
        cookie, _ = auth.Sessions(self.secret).issue(name, role)
        response = RedirectResponse(self.url("/"), 303)
        response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="strict",
                            secure=self.settings.secure_cookies, path=self.base or "/",
                            max_age=auth.SESSION_SECONDS)
        response.delete_cookie(LOGIN_COOKIE, path=self.base or "/")
        return response

    async def logout(self, request: Request) -> Response:
        await self.form(request, request.state.session)
        response = RedirectResponse(self.url("/login", msg="loggedout"), 303)
        response.delete_cookie(SESSION_COOKIE, path=self.base or "/")
        return response

    async def queue_page(self, request: Request) -> Response:
        self.need(request, auth.Role.VIEWER)
        filters = queue.Filters.parse(dict(request.query_params))
        loaded = queue.load(self.store, filters)
        return self.render(request, "queue.html", q=loaded, f=filters,
                           page_url=lambda **c: self.url("/", **filters.query(**c)))

    async def file_page(self, request: Request) -> Response:
        self.need(request, auth.Role.VIEWER)
        sha = request.path_params["sha256"].lower()
        if not _is_sha(sha):
            raise Refused(404, "not a sha256")
        file = self.store.get_file(sha)
        static = comparing.latest_result(self.store, sha)
        sandbox = comparing.latest_result(self.store, sha, ResultKind.SANDBOX)
        if file is None and static is None:
            raise Refused(404, "pkgvet knows no file with this sha256")
        report: dict[str, Any] = static.report if static else {}
        project = file.project if file else str(report.get("name") or "")
        version = file.version if file else str(report.get("version") or "")
        decisions = self.store.decisions_for(sha, project, version)
        outcome = None
        if file is not None:
            outcome = policy.evaluate(file, static, sandbox, decisions, self.settings.policy,
                                      time.time())
        findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
        try:
            fpage = max(1, int(request.query_params.get("fp", "1")))
        except ValueError:
            fpage = 1
        fpages = max(1, -(-len(findings) // FINDINGS_PAGE))
        fpage = min(fpage, fpages)
        shown = findings[(fpage - 1) * FINDINGS_PAGE: fpage * FINDINGS_PAGE]
        result_view = {**report, "sha256": sha, "file": file.filename if file else
                       report.get("file", "")}
        contexts = evidence.contexts(result_view, shown, extra_dirs=self.settings.archive_dirs)
        comparison = (comparing.compare(self.store, file, report, self.settings.archive_dirs)
                      if file is not None else None)
        history = self.store.audit_log(limit=50, subject=f"file:{sha}")
        if project and version:
            history += self.store.audit_log(
                limit=50, subject=f"release:{Decision.release_key(project, version)}")
        history.sort(key=lambda e: -e.at)
        sandbox_view = (sandbox.report.get("sandbox") if sandbox else None) or report.get(
            "sandbox")
        return self.render(
            request, "file.html", sha=sha, file=file, static=static, report=report,
            sandbox=sandbox_view, decisions=decisions, outcome=outcome, findings=shown,
            total_findings=len(findings), fpage=fpage, fpages=fpages, contexts=contexts,
            comparison=comparison, history=history, project=project, version=version,
        )

    async def decide(self, request: Request) -> Response:
        session = self.need(request, auth.Role.TRIAGER)
        data = await self.form(request, session)
        sha = request.path_params["sha256"].lower()
        if not _is_sha(sha):
            raise Refused(404, "not a sha256")
        action = {"block": Action.BLOCK, "allow": Action.ALLOW}.get(data.get("action", ""))
        reason = " ".join(data.get("reason", "").split())
        if action is None:
            raise Refused(400, "choose 'malicious, block' or 'false positive, allow'")
        if not reason:
            raise Refused(400, "a decision needs a reason: say what you checked")
        if len(reason) > REASON_MAX:
            raise Refused(400, f"keep the reason under {REASON_MAX} characters")
        scope, key = Scope.FILE, sha
        if data.get("scope") == "release":
            file = self.store.get_file(sha)
            if file is None:
                raise Refused(400, "the release of this file is unknown; decide on the file")
            scope, key = Scope.RELEASE, Decision.release_key(file.project, file.version)
        self.store.decide(Decision(scope, key, action, reason, session.user, time.time()))
        return RedirectResponse(self.url(f"/file/{sha}", msg="decided"), 303)

    async def revoke(self, request: Request) -> Response:
        session = self.need(request, auth.Role.TRIAGER)
        data = await self.form(request, session)
        sha = request.path_params["sha256"].lower()
        scope = Scope.RELEASE if data.get("scope") == "release" else Scope.FILE
        key = data.get("key", "")[:400] if scope is Scope.RELEASE else sha
        reason = " ".join(data.get("reason", "").split())[:REASON_MAX] or "revoked in the console"
        self.store.revoke(scope, key, session.user, reason)
        return RedirectResponse(self.url(f"/file/{sha}", msg="revoked"), 303)

    async def decisions_page(self, request: Request) -> Response:
        self.need(request, auth.Role.VIEWER)
        listed = self.store.all_decisions()[:1000]
        return self.render(request, "decisions.html", decisions=listed,
                           error=request.query_params.get("error", "")[:0])

    async def export(self, request: Request) -> Response:
        self.need(request, auth.Role.VIEWER)
        return PlainTextResponse(
            exporting.export(self.store), media_type="application/toml; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="pkgvet-decisions.toml"'})

    async def import_decisions(self, request: Request) -> Response:
        session = self.need(request, auth.Role.ADMIN)
        data = await self.form(request, session)
        try:
            imported = exporting.parse(data.get("toml", ""), session.user)
        except ValueError as exc:
            raise Refused(400, f"cannot import: {exc}") from exc
        for d in imported.decisions:
            self.store.decide(d)
        return self.render(request, "decisions.html", decisions=self.store.all_decisions()[:1000],
                           imported=imported)

    async def audit_page(self, request: Request) -> Response:
        self.need(request, auth.Role.VIEWER)
        return self.render(request, "audit.html", entries=self.store.audit_log(limit=500))

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name == "style.css":
            return Response(stylesheet(), media_type="text/css; charset=utf-8")
        if name == "console.js":
            js = resources.files("pkgvet").joinpath("templates", "ui", "console.js")
            return Response(js.read_text("utf-8"), media_type="text/javascript; charset=utf-8")
        return PlainTextResponse("not found", 404)


def _is_sha(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def create_app(store: Store, settings: UiSettings | None = None) -> Starlette:
    """The console as an ASGI app whose routes are relative to `settings.base`."""
    console = Console(store, settings or UiSettings())
    Handler = Callable[[Request], Awaitable[Response]]

    def page(handler: Handler, public: bool = False) -> Handler:
        async def run(request: Request) -> Response:
            try:
                request.state.session = console.session(request)
                if request.state.session is None and not public:
                    if console.settings.auth == "accounts":
                        return RedirectResponse(console.url("/login"), 303)
                    raise Refused(401, f"no valid {console.settings.header} header")
                response = await handler(request)
            except Refused as exc:
                response = console.render(request, "error.html", status=exc.status,
                                          error=str(exc))
            _harden(response)
            return response
        return run

    routes = [
        Route("/", page(console.queue_page)),
        Route("/login", page(console.login_page, public=True)),
        Route("/login", page(console.login, public=True), methods=["POST"]),
        Route("/logout", page(console.logout), methods=["POST"]),
        Route("/file/{sha256}", page(console.file_page)),
        Route("/file/{sha256}/decide", page(console.decide), methods=["POST"]),
        Route("/file/{sha256}/revoke", page(console.revoke), methods=["POST"]),
        Route("/decisions", page(console.decisions_page)),
        Route("/decisions/export", page(console.export)),
        Route("/decisions/import", page(console.import_decisions), methods=["POST"]),
        Route("/audit", page(console.audit_page)),
        Route("/static/{name}", page(console.static, public=True)),
    ]
    app = Starlette(routes=routes)
    app.state.console = console
    return app


def _harden(response: Response) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")


def mount(app: Starlette, store: Store, settings: UiSettings | None = None) -> None:
    """Serve the console at `settings.base` (default /ui) of an existing Starlette app."""
    settings = settings or UiSettings()
    app.router.routes.append(Mount(settings.base.rstrip("/"), app=create_app(store, settings)))


def local_app(store: Store, settings: UiSettings | None = None) -> Starlette:
    """`pkgvet ui`: the console alone, `/` redirecting to it."""
    settings = settings or UiSettings(auth="local")

    async def home(request: Request) -> Response:
        return RedirectResponse(settings.base.rstrip("/") + "/", 307)

    app = Starlette(routes=[Route("/", home)])
    mount(app, store, settings)
    return app
