"""Where Toshav keeps its files. One DuckDB file per municipality: tenants never share a file or a lock."""

from __future__ import annotations

import os
from pathlib import Path


def toshav_home() -> Path:
    return Path(os.environ.get("TOSHAV_HOME", "./toshav-data")).resolve()


def default_inbox() -> Path:
    return Path(os.environ.get("TOSHAV_INBOX", str(toshav_home() / "inbox"))).resolve()


def municipality_db_path(municipality: int | str, home: Path | None = None) -> Path:
    return (home or toshav_home()) / "municipalities" / str(int(municipality)) / "toshav.duckdb"
