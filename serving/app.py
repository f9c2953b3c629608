"""One ASGI app for people and systems: `create_app(settings)` builds it (FastAPI, served by uvicorn: `server`).

The middleware stack, outermost first: strict security headers, a request deadline, a body limit, then the
identity layer, then the routes (the page in `web`; the open API adds its router here). Refusals of every layer
are audited with the peer address (`audit_refusal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response

from serving import guards, web
from serving.audit import AuditLog
from serving.identity import CallerSource
from serving.roles import AccessDenied

MAX_BODY = 64 * 1024
REQUEST_SECONDS = 60.0
QUERY_WORKERS = 4
PUBLIC_PATHS = ("/style.css",)


@dataclass(frozen=True)
class ServeSettings:
    municipality: int
    identity: Any                         # CallerSource
    home: Path | None = None
    max_body: int = MAX_BODY
    request_seconds: float = REQUEST_SECONDS
    query_workers: int = QUERY_WORKERS


def peer_of(scope: dict) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def create_app(settings: ServeSettings) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.identity = settings.identity
    app.state.workers = anyio.CapacityLimiter(settings.query_workers)
    audit = AuditLog.of(settings.municipality, settings.home)

    async def audit_refusal(scope: dict, outcome: str, reason: str, query: str = "") -> None:
        state = scope.get("state") or {}
        caller = state.get("caller")
        await anyio.to_thread.run_sync(partial_record(audit, settings.municipality, scope, caller, outcome,
                                                      reason, query))

    app.state.audit_refusal = audit_refusal

    @app.middleware("http")
    async def authenticate(request: Request, call_next):
        if request.url.path in PUBLIC_PATHS:
            return await call_next(request)
        try:
            request.state.caller = settings.identity.caller(request.headers, peer_of(request.scope))
        except AccessDenied as e:
            await audit_refusal(request.scope, "unauthenticated", "no_identity")
            return web.render(request, 403, "אין הרשאה", error=str(e))
        return await call_next(request)

    app.include_router(web.router)
    app.add_middleware(guards.BodyLimit, max_bytes=settings.max_body, on_refusal=audit_refusal)
    app.add_middleware(guards.Deadline, seconds=settings.request_seconds, on_refusal=audit_refusal)
    app.add_middleware(guards.SecurityHeaders)
    return app


def partial_record(audit: AuditLog, municipality: int, scope: dict, caller, outcome: str, reason: str,
                   query: str):
    def write() -> None:
        audit.record(municipality=municipality, subject=caller.subject if caller else "",
                     role=caller.role.name if caller else "", channel="web", query=query or scope.get("path", ""),
                     outcome=outcome, reason=reason, peer=peer_of(scope))
    return write
