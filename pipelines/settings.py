"""Where Toshav keeps its files. One directory per municipality: tenants never share a file or a lock.

    municipalities/<code>/toshav.duckdb    the working file a run builds and checks (one writer: the run)
    municipalities/<code>/serving.duckdb   the last published, checked state readers open (pipelines/publishing.py)
"""

from __future__ import annotations

import os
from pathlib import Path


def toshav_home() -> Path:
    return Path(os.environ.get("TOSHAV_HOME", "./toshav-data")).resolve()


def default_inbox() -> Path:
    return Path(os.environ.get("TOSHAV_INBOX", str(toshav_home() / "inbox"))).resolve()


def municipality_dir(municipality: int | str, home: Path | None = None) -> Path:
    return (home or toshav_home()) / "municipalities" / str(int(municipality))


def municipality_db_path(municipality: int | str, home: Path | None = None) -> Path:
    """The working file of a municipality: only a run opens it (for writing)."""
    return municipality_dir(municipality, home) / "toshav.duckdb"


def serving_db_path(municipality: int | str, home: Path | None = None) -> Path:
    """The published state of a municipality: what the emergency page, `toshav query` and the API read.

    Replaced whole (atomic rename) when a run's checks pass; never written in place, so a reader never waits."""
    return municipality_dir(municipality, home) / "serving.duckdb"
