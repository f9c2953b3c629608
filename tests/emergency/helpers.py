"""Shared by the emergency tests: run a named query on the crafted file and read back resident keys."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import httpx

from serving.queries import QueryResult, run_query
from serving.app import ServeSettings, create_app
from serving.identity import LocalIdentity
from serving.server import running

MUNI = 6600


def raw(**params) -> dict[str, list[str]]:
    return {k: [str(x) for x in v] if isinstance(v, (list, tuple)) else [str(v)] for k, v in params.items()}


def run(home: Path, name: str, role: str = "emergency_manager", user: str = "test-user", view: str = "list",
        **params) -> QueryResult:
    return run_query(name, MUNI, raw(**params), role=role, user=user, channel="cli", home=home, view=view)


def keys(result: QueryResult) -> list[str]:
    """Resident keys in result order (the role must see the resident_key column)."""
    i = [c.name for c in result.columns].index("resident_key")
    return [row[i] for row in result.rows]


def column(result: QueryResult, name: str) -> list:
    i = [c.name for c in result.columns].index(name)
    return [row[i] for row in result.rows]


@contextmanager
def serving(home: Path, identity) -> Iterator[str]:
    """The emergency page served by uvicorn on 127.0.0.1 and a free port, shut down when the block ends."""
    with running(create_app(ServeSettings(MUNI, identity=identity, home=home))) as base:
        yield base


@contextmanager
def local_page(home: Path, role: str = "emergency_manager", subject: str = "dana") -> Iterator[httpx.Client]:
    """The page in local mode, and a client that opened the printed link (so it holds the session cookie)."""
    identity = LocalIdentity(role, subject=subject)
    with serving(home, identity) as base, httpx.Client(base_url=base, timeout=30) as client:
        opened = client.get(identity.login_url(base))
        assert opened.status_code == 303 and "token" not in opened.headers["location"]
        yield client


def csrf_of(client: httpx.Client) -> str:
    page = client.get("/").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def post_form(client: httpx.Client, path: str, data: dict, **kwargs) -> httpx.Response:
    """POST a form as the page does: with this session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_of(client)}, **kwargs)
