"""How old each source's data is, and whether its latest delivery was taken: read from the `deliveries` table.

A source's data is as old as its latest *ingested* delivery: the latest date inside it (the mapping's `as_of_field`,
set by staging), else the file's own date, else when it arrived. A rejected delivery leaves the source on its last
good one. Whether that is stale, and whether a stale or rejected source stops the MuniForce sync, is the mapping's
`policy` (schemas/sources/*.yaml). Names files and problems, never a value from a file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from connectors.delivery import ensure_deliveries
from schemas.sources import SOURCES, load_source


@dataclass(frozen=True)
class SourceFreshness:
    source: str
    label_he: str
    as_of: dt.datetime | None           # the data's own date (None: nothing ever ingested)
    arrived_at: dt.datetime | None      # when the delivery in use arrived
    file: str | None                    # the delivery in use
    stale_after_hours: float
    blocks_sync: bool
    rejected_file: str | None = None    # the newest delivery, when it was rejected after the one in use
    rejected_problem: str | None = None
    now: dt.datetime | None = None

    @property
    def stale(self) -> bool:
        if self.as_of is None:
            return True
        return (self.now or dt.datetime.now()) - self.as_of > dt.timedelta(hours=self.stale_after_hours)

    @property
    def age_hours(self) -> float | None:
        return None if self.as_of is None else ((self.now or dt.datetime.now()) - self.as_of).total_seconds() / 3600

    @property
    def rejected(self) -> bool:
        return self.rejected_file is not None

    def problems(self) -> list[str]:
        """Why this source is not as it should be (file names and problems only)."""
        out = []
        if self.rejected:
            kept = f"the delivery {self.file} is still used" if self.file else "no delivery of it was ever taken"
            out.append(f"{self.source}: file {self.rejected_file} rejected ({self.rejected_problem}); {kept}")
        if self.as_of is None:
            if not self.rejected:
                out.append(f"{self.source}: no delivery yet")
        elif self.stale:
            out.append(f"{self.source}: data as of {self.as_of:%Y-%m-%d %H:%M} is older than "
                       f"{self.stale_after_hours:g} hours")
        return out

    def metadata(self) -> dict:
        return {"source": self.source, "data_as_of": self.as_of.isoformat() if self.as_of else None,
                "arrived_at": self.arrived_at.isoformat() if self.arrived_at else None, "file": self.file,
                "age_hours": round(self.age_hours, 1) if self.age_hours is not None else None,
                "stale_after_hours": self.stale_after_hours, "stale": self.stale, "blocks_sync": self.blocks_sync,
                "rejected_file": self.rejected_file, "rejected_problem": self.rejected_problem}


def record_data_as_of(con: duckdb.DuckDBPyConnection, source: str, delivery_id: int | None) -> None:
    """Date a staged delivery by the latest value of its mapping's `as_of_field` (a date in the future is a typo,
    not freshness: ignored)."""
    field = load_source(source).as_of_field
    if delivery_id is None or field is None:
        return
    ensure_deliveries(con)
    con.execute(f"""UPDATE deliveries SET data_as_of = (
                        SELECT max(CAST("{field}" AS TIMESTAMP)) FILTER (WHERE CAST("{field}" AS TIMESTAMP) <= now())
                        FROM stg_{source})
                    WHERE delivery_id = ?""", [delivery_id])


def source_freshness(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None,
                     sources: tuple[str, ...] = SOURCES) -> list[SourceFreshness]:
    """Per source: the delivery in use, its data's date, and a newer rejected delivery if there is one."""
    now = now or dt.datetime.now()
    have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    rows = {}
    if "deliveries" in have:
        columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_name = 'deliveries'").fetchall()}
        dated = "coalesce(data_as_of, file_modified_at, ingested_at)" if "data_as_of" in columns else "ingested_at"
        for source, as_of, arrived, file, rejected_file, problem in con.execute(f"""
                WITH used AS (SELECT source, arg_max(struct_pack(d := {dated}, a := ingested_at, f := file, i := delivery_id),
                                                     delivery_id) AS u
                              FROM deliveries WHERE status = 'ingested' GROUP BY source),
                     last AS (SELECT source, arg_max(struct_pack(f := file, p := problem, i := delivery_id, s := status),
                                                     delivery_id) AS l
                              FROM deliveries GROUP BY source)
                SELECT last.source, used.u.d, used.u.a, used.u.f,
                       CASE WHEN last.l.s <> 'ingested' THEN last.l.f END, CASE WHEN last.l.s <> 'ingested' THEN last.l.p END
                FROM last LEFT JOIN used USING (source)""").fetchall():
            rows[source] = (as_of, arrived, file, rejected_file, problem)
    out = []
    for source in sources:
        m = load_source(source)
        as_of, arrived, file, rejected_file, problem = rows.get(source, (None, None, None, None, None))
        out.append(SourceFreshness(source, m.label_he, as_of, arrived, file, m.policy.stale_after_hours,
                                   m.policy.blocks_sync, rejected_file, problem, now))
    return out


def sync_blockers(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> list[str]:
    """Why the MuniForce sync must not run: a source whose policy blocks the sync is rejected or stale."""
    return [p for f in source_freshness(con, now) if f.blocks_sync for p in f.problems()]
