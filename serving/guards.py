"""Request guards shared by the page and the API, as plain ASGI middleware (they also guard error responses).

- `SecurityHeaders`  strict headers on every response: CSP without scripts, no framing, no caching, no referrer.
- `BodyLimit`        a request body larger than `max_bytes` (declared or streamed), or a Content-Length that is
                     not a number, is refused before the app reads it (413 / 400).
- `Deadline`         a request that has not been answered within `seconds` (a slow body, a stuck query) gets 408
                     or 503 and its connection is closed.
- `HostOrigin`       the Host header must be one of the allowed names (DNS rebinding); a state-changing request
                     must come from our own origin (`Origin`, else `Sec-Fetch-Site`), never cross-site.

Each refusal is reported to `on_refusal(scope, outcome, reason)`, which the app uses to audit it with the peer
address. Messages are short and fixed: they never echo what was sent.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterable
from urllib.parse import urlsplit

Scope = dict[str, Any]
ASGIApp = Callable[..., Awaitable[None]]
OnRefusal = Callable[[Scope, str, str], Awaitable[None]]

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


async def _nobody(scope: Scope, outcome: str, reason: str) -> None:
    return None


async def plain_response(send, status: int, text: str, extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close"), *extra]})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> list[bytes]:
    """Every value of a request header (duplicates kept, so callers can refuse them)."""
    return [v for k, v in scope.get("headers", []) if k == name]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None, hsts: bool = False):
        self.app = app
        extra = dict(headers or SECURITY_HEADERS)
        if hsts:
            extra["strict-transport-security"] = "max-age=31536000"
        self.headers = [(k.encode(), v.encode()) for k, v in extra.items()]

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *[(k, v) for k, v in self.headers if k not in names]]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, on_refusal: OnRefusal = _nobody):
        self.app, self.max_bytes, self.on_refusal = app, max_bytes, on_refusal

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        lengths = header(scope, b"content-length")
        if len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
            await self.on_refusal(scope, "malformed", "content_length")
            return await plain_response(send, 400, "bad Content-Length")
        if lengths and int(lengths[0]) > self.max_bytes:
            await self.on_refusal(scope, "too_large", "body")
            return await plain_response(send, 413, "request too large")
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracking_send)
        except _TooLarge:
            await self.on_refusal(scope, "too_large", "body")
            if not started:
                await plain_response(send, 413, "request too large")


class _TooLarge(Exception):
    pass


class Deadline:
    def __init__(self, app: ASGIApp, seconds: float, on_refusal: OnRefusal = _nobody):
        self.app, self.seconds, self.on_refusal = app, seconds, on_refusal

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracking_send), self.seconds)
        except asyncio.TimeoutError:
            await self.on_refusal(scope, "error", "timeout")
            if not started:
                await plain_response(send, 408, "request took too long")


class HostOrigin:
    """Allowed Host names; same-origin state-changing requests only."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str], on_refusal: OnRefusal = _nobody):
        self.app, self.on_refusal = app, on_refusal
        self.hosts = {h.lower() for h in hosts}

    def _host_ok(self, scope: Scope) -> str | None:
        values = header(scope, b"host")
        if len(values) != 1:
            return None
        host = values[0].decode("latin-1").strip().lower()
        return host if host in self.hosts or host.rsplit(":", 1)[0] in self.hosts else None

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        host = self._host_ok(scope)
        if host is None:
            await self.on_refusal(scope, "denied", "host")
            return await plain_response(send, 421, "unknown host")
        if scope["method"] not in SAFE_METHODS and not self._same_origin(scope, host):
            await self.on_refusal(scope, "denied", "origin")
            return await plain_response(send, 403, "cross-origin request refused")
        await self.app(scope, receive, send)

    @staticmethod
    def _same_origin(scope: Scope, host: str) -> bool:
        """Sec-Fetch-Site when the browser sends it (all current ones do; with `Referrer-Policy: no-referrer`
        Chromium sends `Origin: null` on same-origin form posts), else Origin; a client sending neither is not
        a browser (curl, the API's systems) and cannot be driven by a hostile page."""
        sites = header(scope, b"sec-fetch-site")
        origins = header(scope, b"origin")
        if len(sites) > 1 or len(origins) > 1:
            return False
        if sites:
            return sites[0] in (b"same-origin", b"none")
        if origins:
            origin = origins[0].decode("latin-1")
            return origin != "null" and urlsplit(origin).netloc.lower() == host
        return True
