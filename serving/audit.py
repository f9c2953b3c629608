"""The audit log of emergency query runs: who, when, with which role, which query, which parameters, how many rows.

Never the rows themselves. One SQLite file per municipality (`<municipality folder>/audit.sqlite`), beside and not
inside the municipality's DuckDB file, because pipeline runs rewrite that file; SQLite also lets the CLI and the
web server append at the same time.

Retention: the Protection of Privacy (Data Security) Regulations, 2017, ask for access records to be kept at
least 24 months. The store enforces it itself: triggers refuse any UPDATE and any DELETE of a record younger
than RETENTION_MONTHS, so only `purge` of older records (or removing the file) can shorten the log.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.settings import municipality_db_path

RETENTION_MONTHS = 24
OUTCOMES = ("ok", "denied", "invalid", "error")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"   # SQLite's own datetime() format, so the triggers compare like with like

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,          -- UTC, {_TIME_FORMAT}
    municipality INTEGER NOT NULL,
    user_name    TEXT NOT NULL,
    role         TEXT NOT NULL,
    channel      TEXT NOT NULL,          -- cli | web
    query        TEXT NOT NULL,
    parameters   TEXT NOT NULL,          -- JSON, as the caller gave them
    row_count    INTEGER,                -- NULL when nothing was returned
    outcome      TEXT NOT NULL CHECK (outcome IN {OUTCOMES!r}),
    exports      TEXT                    -- csv, xlsx: what the rows were handed out as
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit records are never changed'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_retention BEFORE DELETE ON audit_log
WHEN old.at > datetime('now', '-{RETENTION_MONTHS} months')
BEGIN SELECT RAISE(ABORT, 'audit records are kept {RETENTION_MONTHS} months'); END;
"""


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    municipality: int
    user_name: str
    role: str
    channel: str
    query: str
    parameters: dict[str, Any]
    row_count: int | None
    outcome: str
    exports: str | None = None


def audit_path(municipality: int | str, home: Path | None = None) -> Path:
    return municipality_db_path(municipality, home).parent / "audit.sqlite"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


class AuditLog:
    """Append-only access to one municipality's audit log."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def of(cls, municipality: int | str, home: Path | None = None) -> "AuditLog":
        return cls(audit_path(municipality, home))

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        con.executescript(SCHEMA)
        return con

    def record(self, *, municipality: int, user_name: str, role: str, channel: str, query: str,
               parameters: dict[str, Any], row_count: int | None, outcome: str, exports: str | None = None,
               at: dt.datetime | None = None) -> None:
        """Append one record; raises if it cannot be written (the caller then hands out nothing)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown audit outcome {outcome!r}")
        with closing(self._connect()) as con, con:
            con.execute(
                "INSERT INTO audit_log (at, municipality, user_name, role, channel, query, parameters, row_count,"
                " outcome, exports) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((at or _now()).strftime(_TIME_FORMAT), int(municipality), user_name, role, channel, query,
                 json.dumps(parameters, ensure_ascii=False, sort_keys=True, default=str), row_count, outcome,
                 exports),
            )

    def entries(self, since: dt.datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Newest first."""
        sql = "SELECT at, municipality, user_name, role, channel, query, parameters, row_count, outcome, exports" \
              " FROM audit_log"
        args: list[Any] = []
        if since is not None:
            sql += " WHERE at >= ?"
            args.append(since.strftime(_TIME_FORMAT))
        sql += " ORDER BY at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(int(limit))
        with closing(self._connect()) as con:
            rows = con.execute(sql, args).fetchall()
        return [AuditEntry(dt.datetime.strptime(r[0], _TIME_FORMAT), r[1], r[2], r[3], r[4], r[5], json.loads(r[6]),
                           r[7], r[8], r[9]) for r in rows]

    def purge(self, older_than_months: int = RETENTION_MONTHS) -> int:
        """Delete records older than `older_than_months` (never fewer than RETENTION_MONTHS); returns how many."""
        if older_than_months < RETENTION_MONTHS:
            raise ValueError(f"audit records are kept at least {RETENTION_MONTHS} months")
        with closing(self._connect()) as con, con:
            cur = con.execute("DELETE FROM audit_log WHERE at < datetime('now', ?)",
                              (f"-{int(older_than_months)} months",))
            return cur.rowcount
