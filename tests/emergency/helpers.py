"""Shared by the emergency tests: run a named query on the crafted file and read back resident keys."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from serving.queries import QueryResult, run_query
from serving.app import ServeSettings, create_app
from serving.identity import CallerSource
from serving.server import running

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
    """The emergency page served by uvicorn on 127.0.0.1 and a free port, shut down when the block ends."""
    with running(create_app(ServeSettings(MUNI, identity=callers, home=home))) as base:
        yield base
