"""Shared by the emergency tests: run a named query on the crafted file and read back resident keys."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from serving.queries import QueryResult, run_query
from serving.web import CallerSource, make_server

MUNI = 6600


def raw(**params) -> dict[str, list[str]]:
    return {k: [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)] for k, v in params.items()}


def run(home: Path, name: str, role: str = "emergency_manager", user: str = "test-user", **params) -> QueryResult:
    return run_query(name, MUNI, raw(**params), role=role, user=user, channel="cli", home=home)


def keys(result: QueryResult) -> list[str]:
    """Resident keys in result order (the role must see the resident_key column)."""
    i = [c.name for c in result.columns].index("resident_key")
    return [row[i] for row in result.rows]


def column(result: QueryResult, name: str) -> list:
    i = [c.name for c in result.columns].index(name)
    return [row[i] for row in result.rows]


@contextmanager
def serving(home: Path, callers: CallerSource) -> Iterator[str]:
    """The emergency web server on 127.0.0.1 and a free port, shut down when the block ends."""
    server = make_server(MUNI, callers=callers, host="127.0.0.1", port=0, home=home, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
