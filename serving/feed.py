"""The change feed: what happened to residents, as events after an opaque cursor, derived in SQL from what the
pipeline keeps. Nothing is written for it; the feed is a reading of three tables of the resident file:

  resident_file_history   a version that follows none   -> created          (data: the version's cleared fields)
                          a version that follows another -> changed, moved_out, deceased
                                                             (by the status; changed_fields: the cleared fields that
                                                              differ; a change only in fields the consumer may not
                                                              see is no event for it)
                          a version closed, none after   -> merged (its key is a retired key of identity_merges:
                                                              surviving_key) or removed (no source knows it)
  consent_withdrawals     a withdrawal the profile build recorded -> consent_withdrawn (sent only to consumers
                                                              cleared for the emergency profile's data: that there
                                                              was consent is itself health-revealing)

Order: (at, branch, resident_key), branch 1 versions, 2 closures, 3 withdrawals. A run stamps everything it writes
with its own time and runs of a municipality never overlap, so later runs only ever add events after the ones
already read. The cursor is the position of the last event a page *looked at* (a page may hold fewer events than
asked, even none, when the consumer may not see some changes; `has_more` says whether to ask again). Event ids are
derived from the event itself (md5 of branch, key and time): a page read twice gives the same ids, so a consumer that
stores them handles the feed's at-least-once delivery by ignoring ids it has seen.

Replaying every event from the start (upsert `data` on created/changed/moved_out/deceased, delete on merged and
removed) reproduces the consumer's cleared fields of the current resident file, except `updated_at` (an event's `at`
says when) and `provenance` (not kept in the history).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.identity.history import history_columns
from schemas.model import table
from serving.catalogue import most_sensitive
from serving.roles import cleared

MAX_PAGE = 10_000
BRANCHES = {1: "version", 2: "closure", 3: "withdrawal"}
EVENT_TYPES = ("created", "changed", "moved_out", "deceased", "merged", "removed", "consent_withdrawn")
_START = ("1970-01-01T00:00:00", 0, "")


class CursorError(ValueError):
    """The cursor is not one this feed gave out (the message never repeats it)."""


@dataclass(frozen=True)
class Page:
    events: list[dict[str, Any]]
    next_cursor: str
    has_more: bool
    scanned: int


def encode_cursor(at: dt.datetime, branch: int, resident_key: str) -> str:
    raw = json.dumps([at.isoformat(), branch, resident_key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[dt.datetime, int, str]:
    if not cursor:
        at, branch, key = _START
        return dt.datetime.fromisoformat(at), branch, key
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, branch, key = json.loads(raw)
        position = dt.datetime.fromisoformat(at), int(branch), str(key)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise CursorError("the cursor is not one this feed gave out; start again without a cursor") from None
    if position[1] not in BRANCHES or len(position[2]) > 64:
        raise CursorError("the cursor is not one this feed gave out; start again without a cursor")
    return position


def feed_fields(clearance: str) -> list[str]:
    """The history's fields a consumer with `clearance` receives in events, in model order."""
    model = table("resident_file")
    return [c for c in history_columns() if cleared(clearance, model[c].sensitivity)]


def receives_withdrawals(clearance: str) -> bool:
    """Consent governs the emergency profile; only consumers cleared for its data hear that consent is withdrawn."""
    profile = table("emergency_profile")
    return cleared(clearance, most_sensitive([*(f.sensitivity for f in profile.fields),
                                              profile.membership_sensitivity or "public"]))


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def _page_sql(fields: list[str], withdrawals: bool, merges: bool) -> str:
    data = ", ".join(f'h."{c}" AS "d_{c}"' for c in fields)
    changed = ", ".join(f"""CASE WHEN h."{c}" IS DISTINCT FROM p."{c}" THEN '{c}' END""" for c in fields
                        if c != "resident_key")
    after = "(event_at > $at OR (event_at = $at AND (branch > $branch OR (branch = $branch AND resident_key > $key))))"
    withdrawal_rows = ("UNION ALL SELECT recorded_at AS event_at, 3 AS branch, resident_key FROM consent_withdrawals "
                       "WHERE recorded_at >= $at" if withdrawals else "")
    survivor = ("(SELECT any_value(m.surviving_key) FROM identity_merges m WHERE m.retired_key = page.resident_key)"
                if merges else "NULL::VARCHAR")
    return f"""
        WITH closed AS (SELECT resident_key, valid_to FROM resident_file_history WHERE valid_to >= $at),
        candidates AS (
            SELECT valid_from AS event_at, 1 AS branch, resident_key FROM resident_file_history WHERE valid_from >= $at
            UNION ALL
            SELECT c.valid_to AS event_at, 2 AS branch, c.resident_key FROM closed c
            ANTI JOIN (SELECT resident_key, valid_from FROM resident_file_history   -- versions starting at a closure
                       WHERE valid_from IN (SELECT DISTINCT valid_to FROM closed)) n    -- time: few runs, few rows
                   ON n.resident_key = c.resident_key AND n.valid_from = c.valid_to
            {withdrawal_rows}),
        page AS (SELECT * FROM candidates WHERE {after} ORDER BY event_at, branch, resident_key LIMIT $limit)
        SELECT page.event_at, page.branch, page.resident_key,
               md5(page.branch || '|' || page.resident_key || '|' || strftime(page.event_at, '%Y-%m-%dT%H:%M:%S.%f')) AS id,
               CASE WHEN page.branch = 3 THEN 'consent_withdrawn'
                    WHEN page.branch = 2 THEN CASE WHEN {survivor} IS NOT NULL THEN 'merged' ELSE 'removed' END
                    WHEN p.resident_key IS NULL THEN 'created'
                    WHEN h.status IS DISTINCT FROM p.status AND h.status IN ('moved_out', 'deceased') THEN h.status
                    ELSE 'changed' END AS type,
               CASE WHEN page.branch = 1 AND p.resident_key IS NOT NULL
                    THEN list_filter([{changed or 'NULL'}], lambda x: x IS NOT NULL) END AS changed_fields,
               CASE WHEN page.branch = 2 THEN {survivor} END AS surviving_key,
               {data}
        FROM page
        LEFT JOIN resident_file_history h
               ON page.branch = 1 AND h.resident_key = page.resident_key AND h.valid_from = page.event_at
        LEFT JOIN resident_file_history p
               ON page.branch = 1 AND p.resident_key = page.resident_key AND p.valid_to = page.event_at
              AND p.valid_from < page.event_at
        ORDER BY page.event_at, page.branch, page.resident_key"""


def timestamp(v: dt.datetime) -> str:
    """RFC 3339 with an offset: the pipeline stamps naive local times (`datetime.now()`), read here as such."""
    return (v if v.tzinfo else v.astimezone()).isoformat()


def _json_value(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return timestamp(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def read_page(con: duckdb.DuckDBPyConnection, clearance: str, cursor: str | None = None,
              limit: int = 1000) -> Page:
    """Events after `cursor` (None = from the start) that a consumer with `clearance` may see, at most `limit`."""
    at, branch, key = decode_cursor(cursor)
    limit = max(1, min(int(limit), MAX_PAGE))
    present = _tables(con)
    if "resident_file_history" not in present:
        return Page(events=[], next_cursor=cursor or encode_cursor(at, branch, key), has_more=False, scanned=0)
    fields = feed_fields(clearance)
    sql = _page_sql(fields, withdrawals=receives_withdrawals(clearance) and "consent_withdrawals" in present,
                    merges="identity_merges" in present)
    cur = con.execute(sql, {"at": at, "branch": branch, "key": key, "limit": limit + 1})
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    has_more = len(rows) > limit
    rows = rows[:limit]
    events = []
    for row in rows:
        r = dict(zip(names, row))
        if r["type"] == "changed" and not r["changed_fields"]:
            continue                    # a change only in fields this consumer may not see
        event: dict[str, Any] = {"id": r["id"], "type": r["type"], "at": timestamp(r["event_at"]),
                                 "resident_key": r["resident_key"]}
        if r["branch"] == 1:
            event["data"] = {c: _json_value(r["d_" + c]) for c in fields}
            if r["changed_fields"] is not None:
                event["changed_fields"] = r["changed_fields"]
        if r["type"] == "merged":
            event["surviving_key"] = r["surviving_key"]
        events.append(event)
    if rows:
        last = rows[-1]
        next_cursor = encode_cursor(last[0], last[1], last[2])
    else:
        next_cursor = cursor or encode_cursor(at, branch, key)
    return Page(events=events, next_cursor=next_cursor, has_more=has_more, scanned=len(rows))
