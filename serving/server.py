"""Serving an ASGI app of Toshav with uvicorn: bounded connections, and no connection kept open by a slow client.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but a connection that opens and then
sends its request headers a byte at a time ("slow loris") is never timed out by uvicorn itself. `DeadlineH11`
closes any connection that has not delivered a complete request head within `REQUEST_HEAD_SECONDS` of opening
(or of its previous response). A slow body is bounded by the app's request deadline (`guards.Deadline`).

`running(app)` starts a server on 127.0.0.1 in a thread (tests, `toshav demo`), `serve(app, ...)` in the
foreground (`toshav serve`).
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

REQUEST_HEAD_SECONDS = 10.0        # from connection (or last response) to a complete request line and headers
KEEP_ALIVE_SECONDS = 5             # an idle keep-alive connection is closed after this
MAX_CONNECTIONS = 200              # beyond this uvicorn answers 503
MAX_HEAD_BYTES = 16 * 1024         # request line + headers (h11 refuses larger with 400)


class DeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline for receiving the request head."""

    head_seconds = REQUEST_HEAD_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:     # type: ignore[override]
        super().connection_made(transport)
        self._head_deadline: asyncio.TimerHandle | None = None
        self._arm_head_deadline()

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.head_seconds, self._head_deadline_passed)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_deadline_passed(self) -> None:
        self._head_deadline = None
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._waiting_for_head():
            self._arm_head_deadline()
        else:
            self._disarm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm_head_deadline()     # the keep-alive timer now guards the idle connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)


def config(app: Any, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    settings: dict[str, Any] = dict(
        host=host, port=port, http=DeadlineH11, loop="asyncio", lifespan="on",
        timeout_keep_alive=KEEP_ALIVE_SECONDS, limit_concurrency=MAX_CONNECTIONS,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES, server_header=False, date_header=True,
        proxy_headers=False,          # a proxy's forwarded address is trusted only by the identity layer's rules
        access_log=False, log_config=None,
    )
    settings.update(overrides)
    return uvicorn.Config(app, **settings)


def serve(app: Any, host: str, port: int, **overrides: Any) -> None:
    uvicorn.Server(config(app, host, port, **overrides)).run()


@contextmanager
def running(app: Any, host: str = "127.0.0.1", port: int = 0, **overrides: Any) -> Iterator[str]:
    """The app served on host:port (0 = a free port) in a thread; yields its base URL, stops when the block ends."""
    server = uvicorn.Server(config(app, host, port, **overrides))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()
    try:
        yield f"http://{bound[0]}:{bound[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
