"""Ingesting deliveries into `raw_<source>` tables: as delivered, plus file name, content hash and row number.

A delivery is a file in `<inbox>/<municipality>/<source>/` (or one pull of an API). It is recognised by its content
hash: the same bytes are never ingested twice, a changed file is. Every delivery is logged in `deliveries`;
lines that are not records (malformed CSV/JSON lines) go straight to `quarantine` with their line number.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from connectors.errors import SourceFileError
from connectors.files import FileRead, file_hash, read_file
from schemas.sources import SourceMapping, load_source

DELIVERIES_DDL = """
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id   INTEGER PRIMARY KEY,
    source        VARCHAR NOT NULL,
    file          VARCHAR NOT NULL,
    file_hash     VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,      -- ingested | rejected
    problem       VARCHAR,               -- why a rejected delivery was rejected (never a value from the file)
    rows          INTEGER,
    malformed     INTEGER,
    blank_rows    INTEGER,
    encoding      VARCHAR,
    extra_headers VARCHAR[],
    ingested_at   TIMESTAMP NOT NULL,    -- when it arrived here
    file_modified_at TIMESTAMP,          -- the file's own date (its modification time); NULL for an API pull
    data_as_of    TIMESTAMP              -- the latest date in its data (the mapping's as_of_field), set by staging
)"""
# Databases made before freshness was kept get the new columns.
DELIVERIES_MIGRATIONS = ("ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS file_modified_at TIMESTAMP",
                         "ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS data_as_of TIMESTAMP")

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS quarantine (
    source         VARCHAR NOT NULL,
    delivery_id    INTEGER NOT NULL,
    file           VARCHAR NOT NULL,
    row            INTEGER NOT NULL,
    fields         VARCHAR[],
    reasons        VARCHAR[] NOT NULL,
    record         JSON,                 -- the row as delivered (stays in the database, never logged)
    quarantined_at TIMESTAMP NOT NULL
)"""


def ensure_deliveries(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DELIVERIES_DDL)
    for statement in DELIVERIES_MIGRATIONS:
        con.execute(statement)


def ensure_tables(con: duckdb.DuckDBPyConnection, source: SourceMapping) -> None:
    ensure_deliveries(con)
    con.execute(QUARANTINE_DDL)
    cols = ", ".join(f'"{f}" VARCHAR' for f in source.fields)
    con.execute(f"""CREATE TABLE IF NOT EXISTS raw_{source.source} (
        delivery_id INTEGER NOT NULL, _file VARCHAR NOT NULL, _file_hash VARCHAR NOT NULL, _row INTEGER NOT NULL,
        {cols}, _extra JSON)""")


@dataclass
class IngestReport:
    source: str
    files_seen: int = 0
    files_ingested: int = 0
    files_already_ingested: int = 0
    rows: int = 0
    malformed: int = 0
    blank_rows: int = 0
    extra_headers: list[str] = field(default_factory=list)
    encodings: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)   # (file name, problem): never a value

    def metadata(self) -> dict:
        """Counts, file names and problems only: safe for logs and Dagster metadata."""
        md = {k: v for k, v in self.__dict__.items() if k != "rejected"}
        md["files_rejected"] = len(self.rejected)
        md["rejected_files"] = [f"{name}: {problem}" for name, problem in self.rejected]
        return md


def delivery_files(source_dir: Path) -> list[Path]:
    """Files of one source folder in delivery order (name, then modification time); hidden files ignored."""
    if not source_dir.is_dir():
        return []
    files = [p for p in source_dir.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))]
    return sorted(files, key=lambda p: (p.name, p.stat().st_mtime))


def ingest_files(con: duckdb.DuckDBPyConnection, source_name: str, files: list[Path]) -> IngestReport:
    """Ingest the files not seen before. A file that cannot be read is rejected as a file, not as a run: it is
    recorded in `deliveries` (status `rejected`, the problem, never a value), the next file is read, and the source
    keeps its last good delivery for staging. The same rejected bytes are not read again."""
    source = load_source(source_name)
    ensure_tables(con, source)
    report = IngestReport(source_name, files_seen=len(files))
    known = {h for (h,) in con.execute(
        "SELECT file_hash FROM deliveries WHERE source = ? AND status IN ('ingested', 'rejected')",
        [source_name]).fetchall()}
    for path in files:
        digest = file_hash(path)
        if digest in known:
            report.files_already_ingested += 1
            continue
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime)
        try:
            read = read_file(source, path)
            if read.table.num_rows == 0:
                # every source delivers full snapshots: one without records would empty the source: not believed
                raise SourceFileError(source_name, path, "the file has no records (a header only, or no readable line)")
        except SourceFileError as e:
            problem = e.problem
        except Exception as e:   # a reader's own error may quote the file's bytes: only its kind is kept
            problem = f"cannot be read ({type(e).__name__})"
        else:
            problem = None
        if problem is not None:
            _log_delivery(con, source_name, path.name, digest, "rejected", problem=problem, modified=modified)
            known.add(digest)
            report.rejected.append((path.name, problem))
            continue
        store_delivery(con, source, path.name, digest, read, modified=modified)
        known.add(digest)
        report.files_ingested += 1
        report.rows += read.table.num_rows
        report.malformed += len(read.malformed)
        report.blank_rows += read.blank_rows
        report.extra_headers += [h for h in read.extra_headers if h not in report.extra_headers]
        if read.encoding and read.encoding not in report.encodings:
            report.encodings.append(read.encoding)
    return report


def store_delivery(con: duckdb.DuckDBPyConnection, source: SourceMapping, file: str, digest: str, read: FileRead,
                   modified: dt.datetime | None = None) -> int:
    """Write one read delivery to raw_<source> (+ malformed lines to quarantine) in one transaction."""
    ensure_tables(con, source)
    con.execute("BEGIN")
    try:
        delivery_id = _log_delivery(con, source.source, file, digest, "ingested", read=read, modified=modified)
        con.register("_delivery_rows", read.table)
        fields = ", ".join(f'"{f}"' for f in source.fields)
        con.execute(f"""INSERT INTO raw_{source.source} (delivery_id, _file, _file_hash, _row, {fields}, _extra)
                        SELECT ?, ?, ?, _row, {fields}, _extra FROM _delivery_rows""", [delivery_id, file, digest])
        con.unregister("_delivery_rows")
        if read.malformed:
            now = dt.datetime.now()
            con.executemany("INSERT INTO quarantine VALUES (?, ?, ?, ?, NULL, [?], NULL, ?)",
                            [(source.source, delivery_id, file, row, reason, now) for row, reason in read.malformed])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return delivery_id


def _log_delivery(con, source: str, file: str, digest: str, status: str, problem: str | None = None,
                  read: FileRead | None = None, modified: dt.datetime | None = None) -> int:
    ensure_deliveries(con)
    delivery_id = con.execute("SELECT coalesce(max(delivery_id), 0) + 1 FROM deliveries").fetchone()[0]
    con.execute(
        """INSERT INTO deliveries (delivery_id, source, file, file_hash, status, problem, rows, malformed, blank_rows,
                                    encoding, extra_headers, ingested_at, file_modified_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [delivery_id, source, file, digest, status, problem,
         read.table.num_rows if read else None, len(read.malformed) if read else None,
         read.blank_rows if read else None, read.encoding if read else None,
         read.extra_headers if read else None, dt.datetime.now(), modified])
    return delivery_id


def latest_delivery(con: duckdb.DuckDBPyConnection, source: str) -> int | None:
    """The delivery staging works from: every source here delivers full snapshots, so the newest one."""
    row = con.execute("SELECT max(delivery_id) FROM deliveries WHERE source = ? AND status = 'ingested'", [source]).fetchone()
    return row[0] if row else None
