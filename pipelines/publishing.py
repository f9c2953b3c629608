"""Publishing: a run builds and checks in the municipality's working file, then hands readers a new serving file.

Readers (the emergency page, `toshav query`, the API) never open the working file: DuckDB lets one process write a
file, and a reader's lock blocks that writer too. Instead, once every blocking check has passed, the run copies the
tables readers need into a new DuckDB file beside the serving one (DuckDB `ATTACH` + `CREATE TABLE AS`, set-based)
and renames it over the serving file (`os.replace`, atomic on one file system). A reader that opened the previous
file keeps reading it (its inode lives until it is closed); the next reader opens the new one. A run that fails, or
whose blocking checks fail, never gets here: the previous state stays published.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.settings import serving_db_path
from schemas.model import index_statements

# What readers read (schemas/emergency_queries.yaml's bases and the street matching of serving/queries.py).
SERVED_TABLES = ("resident_file", "emergency_profile", "emergency_system_reports")
# Copied when present: without the street tables names are matched against the national registry copy instead;
# without `deliveries` the lists cannot say how old each source's data is; the open API's change feed reads the
# history, the merges and the consent withdrawals (serving/feed.py).
OPTIONAL_TABLES = ("ref_streets", "ref_street_keys", "deliveries", "resident_file_history", "identity_merges",
                   "consent_withdrawals")
PUBLICATION_TABLE = "publication"   # one row: which run published this state, and when


class NothingToPublish(RuntimeError):
    """The working file lacks a table readers need."""


@dataclass
class Publication:
    path: Path
    rows: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0

    def metadata(self) -> dict:
        return {**{f"rows_{t}": n for t, n in self.rows.items()}, "serving_file_bytes": self.bytes,
                "publish_seconds": round(self.seconds, 2)}


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                      "WHERE table_catalog = current_database()").fetchall()}


def publish(con: duckdb.DuckDBPyConnection, municipality: int, home: Path | None = None,
            run_id: str = "manual") -> Publication:
    """Copy the served tables from `con` (the run's connection to the working file) into a new serving file and
    rename it into place. The file is owner-only (0600)."""
    started = time.perf_counter()
    target = serving_db_path(municipality, home)
    target.parent.mkdir(parents=True, exist_ok=True)
    present = _tables(con)
    missing = [t for t in SERVED_TABLES if t not in present]
    if missing:
        raise NothingToPublish(f"municipality {municipality}: the working file has no {', '.join(missing)}; "
                               "nothing was published")
    staging = target.with_name(f".{target.stem}-{run_id}.duckdb")
    for leftover in (staging, staging.with_name(staging.name + ".wal")):
        leftover.unlink(missing_ok=True)
    publication = Publication(target)
    old_umask = os.umask(0o077)
    try:
        con.execute("ATTACH ? AS published", [str(staging)])
    finally:
        os.umask(old_umask)
    try:
        for table in SERVED_TABLES + tuple(t for t in OPTIONAL_TABLES if t in present):
            con.execute(f"CREATE TABLE published.{table} AS SELECT * FROM main.{table}")
            publication.rows[table] = con.execute(f"SELECT count(*) FROM published.{table}").fetchall()[0][0]
        for statement in index_statements("resident_file", "published"):     # lookups by ID (the open API)
            con.execute(statement)
        con.execute(f"CREATE TABLE published.{PUBLICATION_TABLE} AS SELECT ?::VARCHAR AS run_id, "
                    "?::TIMESTAMPTZ AS published_at", [run_id, dt.datetime.now(dt.timezone.utc)])
        con.execute("CHECKPOINT published")
    except BaseException:
        con.execute("DETACH published")
        staging.unlink(missing_ok=True)
        raise
    con.execute("DETACH published")
    os.chmod(staging, 0o600)
    with open(staging, "rb") as f:
        os.fsync(f.fileno())
    os.replace(staging, target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    publication.bytes = target.stat().st_size
    publication.seconds = time.perf_counter() - started
    return publication


def published_run(municipality: int, home: Path | None = None) -> tuple[str, dt.datetime] | None:
    """(run id, published at) of the state readers see now, or None if nothing was published yet."""
    path = serving_db_path(municipality, home)
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        return tuple(con.execute(f"SELECT run_id, published_at FROM {PUBLICATION_TABLE}").fetchall()[0])


def served_rows(municipality: int, home: Path | None = None) -> dict[str, int]:
    """Rows per served table in the published state ({} if nothing was published yet)."""
    path = serving_db_path(municipality, home)
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in SERVED_TABLES}
