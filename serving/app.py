"""One ASGI app for people and systems: `create_app(settings)` builds it (FastAPI, served by uvicorn: `server`).

The middleware stack, outermost first:
  SecurityHeaders (every response) -> Deadline -> BodyLimit -> HostOrigin (Host allow-list, same-origin POSTs)
  -> session cookie (signed, idle timeout) -> identity (who is asking: `identity`) -> routes.
The page's routes are in `web`; the open API adds its own router (it reads bearer tokens with `serving.tokens`).
Refusals of every layer are audited with the peer address (`App.audit_refusal`).

The app refuses to be built when it would be unsafe: listening beyond loopback without a login (OIDC) or a
trusted proxy, or a data folder that other users can read.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware

from pipelines.private_files import exposed
from pipelines.settings import toshav_home
from serving import guards, web
from serving.audit import AuditLog
from serving.limits import REQUESTS_PER_MINUTE, RequestRate
from serving.identity import (IDLE_SECONDS, LOOPBACK_NAMES, SESSION_COOKIE, LocalIdentity, NotAuthenticated,
                              OidcIdentity, Refused, check_csrf, csrf_token, is_loopback)

MAX_BODY = 64 * 1024
REQUEST_SECONDS = 60.0
QUERY_WORKERS = 4
PUBLIC_PATHS = ("/style.css", "/call-sheet.css", "/login", "/auth/callback")


class UnsafeToServe(RuntimeError):
    """The server would expose the resident file; the message says why and what to do."""


@dataclass(frozen=True)
class ServeSettings:
    municipality: int
    identity: Any                         # LocalIdentity | OidcIdentity | ProxyIdentity
    home: Path | None = None
    host: str = "127.0.0.1"               # the address the server listens on
    allowed_hosts: tuple[str, ...] = ()   # Host header names besides loopback's (the public name)
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    max_body: int = MAX_BODY
    request_seconds: float = REQUEST_SECONDS
    query_workers: int = QUERY_WORKERS
    requests_per_minute: int = REQUESTS_PER_MINUTE


def check_safe(settings: ServeSettings) -> None:
    """Raise UnsafeToServe when the settings would hand the resident file to people we cannot name."""
    if not is_loopback(settings.host) and isinstance(settings.identity, LocalIdentity):
        raise UnsafeToServe(f"refusing to listen on {settings.host}: beyond this machine people must log in "
                            "(--auth oidc) or come through a trusted proxy (--auth proxy --trusted-proxy ADDR)")
    if not is_loopback(settings.host) and not settings.allowed_hosts:
        raise UnsafeToServe(f"listening on {settings.host} needs the name people use to reach it "
                            "(--allowed-host NAME)")
    home = settings.home or toshav_home()
    readable = exposed(home, limit=3) if home.exists() else []
    if readable:
        raise UnsafeToServe(f"refusing to serve: {readable[0]} can be read by other users of this machine; "
                            f"run `chmod -R go-rwx {home}` (see docs/security.md)")


def _hosts(settings: ServeSettings) -> set[str]:
    hosts = set(settings.allowed_hosts)
    if is_loopback(settings.host):
        hosts.update(LOOPBACK_NAMES)
    return hosts


def create_app(settings: ServeSettings) -> FastAPI:
    check_safe(settings)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    identity = settings.identity
    audit = AuditLog.of(settings.municipality, settings.home)
    app.state.settings = settings
    app.state.identity = identity
    app.state.workers = anyio.CapacityLimiter(settings.query_workers)
    app.state.audit = audit
    rate = RequestRate(settings.requests_per_minute)

    async def audit_request(scope: dict, outcome: str, reason: str = "", query: str = "",
                            row_count: int | None = None) -> None:
        caller = (scope.get("state") or {}).get("caller")
        client = scope.get("client")
        peer = caller.peer if caller else (client[0] if client else "")
        write = partial(audit.record, municipality=settings.municipality,
                        subject=caller.subject if caller else "", role=caller.role.name if caller else "",
                        channel="web", query=query or scope.get("path", ""), outcome=outcome, reason=reason,
                        peer=peer, row_count=row_count)
        await anyio.to_thread.run_sync(write)

    app.state.audit_refusal = audit_request
    app.state.audit_request = audit_request

    @app.middleware("http")
    async def authenticate(request: Request, call_next):
        if request.url.path in PUBLIC_PATHS:
            return await call_next(request)
        try:
            answer = await identity.authenticate(request)
        except NotAuthenticated as e:
            await audit_request(request.scope, "unauthenticated", "no_session")
            if isinstance(identity, OidcIdentity) and request.method == "GET":
                return RedirectResponse("/login", status_code=303)
            return web.render(request, 401, "נדרשת הזדהות", error=str(e))
        except Refused as e:
            await audit_request(request.scope, "denied", e.reason)
            return web.render(request, 403, "אין הרשאה", error=str(e))
        if isinstance(answer, Response):          # e.g. the local token accepted: redirect without it
            await audit_request(request.scope, "ok", "login", query="login")
            return answer
        request.state.caller = answer
        if not rate.allow(answer.subject):
            await audit_request(request.scope, "rate_limited", "requests_per_minute")
            return web.render(request, 429, "יותר מדי בקשות", error="too many requests; wait a minute")
        request.state.csrf_token = csrf_token(request)
        return await call_next(request)

    @app.get("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if not isinstance(identity, OidcIdentity):
            return web.render(request, 404, "אין כניסה כאן", error="this server does not log people in itself")
        return await identity.login(request)

    @app.get("/auth/callback", name="auth_callback", include_in_schema=False)
    async def auth_callback(request: Request) -> Response:
        if not isinstance(identity, OidcIdentity):
            return web.render(request, 404, "אין כניסה כאן", error="this server does not log people in itself")
        try:
            response = await identity.callback(request)
        except Refused as e:
            await audit_request(request.scope, "denied", e.reason, query="login")
            return web.render(request, 403, "אין הרשאה", error=str(e))
        await audit_request({**request.scope, "state": {}}, "ok", "login", query="login")
        return response

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        if not check_csrf(request, form.get("csrf_token")):
            await audit_request(request.scope, "denied", "csrf", query="logout")
            return web.render(request, 403, "אין הרשאה", error="the form is out of date; reload the page")
        await audit_request(request.scope, "ok", "logout", query="logout")
        request.session.clear()
        return web.render(request, 200, "יצאת מהמערכת", error=None, logged_out=True)

    app.include_router(web.router)
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret, session_cookie=SESSION_COOKIE,
                       max_age=IDLE_SECONDS, same_site="lax", https_only=identity.secure_cookies)
    app.add_middleware(guards.HostOrigin, hosts=_hosts(settings), on_refusal=audit_request)
    app.add_middleware(guards.BodyLimit, max_bytes=settings.max_body, on_refusal=audit_request)
    app.add_middleware(guards.Deadline, seconds=settings.request_seconds, on_refusal=audit_request)
    app.add_middleware(guards.SecurityHeaders, hsts=identity.secure_cookies)
    return app
