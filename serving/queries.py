"""Runs a named emergency query for a caller: access check, typed and bound parameters, the audit record.

Order of a run: the role must be allowed the query; parameters are parsed; street names as typed are matched to
registry street codes (`pipelines.normalize.addresses.match_street_names`, the connectors' own matching); the
query runs on a read-only connection, selecting only the columns the role may see; the run is written to the
audit log; only then are the rows handed back. If the audit record cannot be written, nothing is handed out.
Denied, invalid and failed runs are audited too.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import duckdb

from connectors.freshness import source_freshness
from serving import lineage
from serving.audit import AuditLog
from serving.catalogue import Catalogue, Column, Query, load_catalogue
from serving.counts import Counts, counts_from_rows, counts_statement, planner_view
from serving.parameters import ParameterError, parse_parameters
from serving.roles import AccessDenied, Role, planner_suppress_below, role as role_named
from pipelines.settings import serving_db_path

CHANNELS = ("cli", "web", "api", "bench")
# list: the named rows (and their counts); call_sheet: the rows with only the columns a field team needs;
# counts: no rows, only counts (de-identified and suppressed for a role not cleared for the names)
VIEWS = ("list", "call_sheet", "counts")
_SAFE_DB_ERRORS = (duckdb.CatalogException, duckdb.BinderException, duckdb.ParserException)
STREET_CACHE_SIZE = 512
_street_cache: OrderedDict[tuple, tuple[int, str] | None] = OrderedDict()
_street_cache_lock = threading.Lock()


class ResidentFileUnavailable(RuntimeError):
    """The municipality has no published resident file."""


class RateLimited(PermissionError):
    """The caller's role allows fewer rows an hour than this run would hand out."""


class QueryFailed(RuntimeError):
    """The database could not answer (the message carries no data values)."""


@dataclass
class QueryResult:
    query: Query
    role: Role
    municipality: int
    columns: list[Column]
    rows: list[list[Any]]                       # shown values in column order: text ('' when empty) or numbers (None)
    hidden_columns: list[Column]                # what the role is not cleared to see
    warnings: list[str] = field(default_factory=list)
    streets: dict[str, tuple[int, str]] = field(default_factory=dict)   # typed name -> (code, registry name)
    seconds: float = 0.0
    view: str = "list"
    counts: Counts | None = None                # per street / building, by reason (None: the query has none)
    parameters: dict[str, Any] = field(default_factory=dict)            # the typed values the list was run with
    data_as_of: list[str] = field(default_factory=list)   # per source, "data as of" (and a warning when stale)
    notes: list[str] = field(default_factory=list)        # e.g. how many Yachad reports beside how many are shown

    @property
    def preamble(self) -> list[str]:
        """What an export says above its table: the list, its notes and how old each source's data is."""
        return [self.query.title_he, *self.notes, *self.data_as_of]

    @property
    def titles(self) -> list[str]:
        return [c.title_he for c in self.columns]


@contextmanager
def resident_file(municipality: int, home: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the municipality's last published, checked state (never the file a run writes).

    A run publishes by renaming a new file over this one (pipelines/publishing.py), so opening it never waits for
    a run and a connection already open keeps the state it opened until it is closed."""
    path = serving_db_path(municipality, home)
    if not path.exists():
        raise ResidentFileUnavailable(f"municipality {municipality} has no published resident file yet: a run "
                                      "publishes one when its checks pass")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


SHARED_READER_SECONDS = 60.0     # a shared reader is reopened at least this often
_shared: dict[str, tuple[tuple, float, Any, duckdb.DuckDBPyConnection]] = {}
_shared_lock = threading.Lock()


@contextmanager
def shared_resident_file(municipality: int, home: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on one read-only connection per process and file, for servers that answer many small requests
    (the open API): opening a DuckDB file costs ~100 ms, a cursor next to nothing. The connection is opened by
    `resident_file` and reopened when the file is replaced (a run publishes a new one: inode, size or time
    change) or after SHARED_READER_SECONDS; requests already running keep the state they started on."""
    path = serving_db_path(municipality, home)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ResidentFileUnavailable(f"no resident file for municipality {municipality} at {path}") from None
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    with _shared_lock:
        held = _shared.get(str(path))
        if held is None or held[0] != stamp or time.monotonic() - held[1] > SHARED_READER_SECONDS:
            opener = resident_file(municipality, home)
            con = opener.__enter__()
            _shared[str(path)] = (stamp, time.monotonic(), opener, con)
            if held is not None:
                held[2].__exit__(None, None, None)     # cursors still open keep their database until closed
        cursor = _shared[str(path)][3].cursor()
    try:
        yield cursor
    finally:
        cursor.close()


def close_shared_readers() -> None:
    with _shared_lock:
        for _, _, opener, _ in _shared.values():
            opener.__exit__(None, None, None)
        _shared.clear()


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0])


def match_typed_streets(con: duckdb.DuckDBPyConnection, municipality: int,
                        names: list[str]) -> dict[str, tuple[int, str] | None]:
    """Typed street name -> (registry street code, registry name) or None, with the connectors' matching.

    `match_street_names` creates macros and tables, which a read-only connection cannot, so it runs on a scratch
    in-memory database holding a copy of the municipality's `ref_streets` (and `ref_street_keys` when present;
    without them it loads the national reference itself)."""
    from pipelines.normalize.addresses import match_street_names

    scratch = duckdb.connect()
    try:
        for table in ("ref_streets", "ref_street_keys"):
            if _table_exists(con, table):
                scratch.register("_copy", con.sql(f"SELECT * FROM {table}").to_arrow_table())
                scratch.execute(f"CREATE TABLE {table} AS SELECT * FROM _copy")
                scratch.unregister("_copy")
        codes = match_street_names(scratch, municipality, names)
        found = sorted({c for c in codes.values() if c is not None})
        registry = dict(scratch.execute("SELECT street_code, street_name FROM ref_streets "
                                        "WHERE list_contains(?, street_code)", [found]).fetchall()) if found else {}
    finally:
        scratch.close()
    return {n: (c, registry.get(c, "")) if c is not None else None for n, c in codes.items()}


def cached_street_matches(con: duckdb.DuckDBPyConnection, municipality: int, names: list[str],
                          db_path: Path) -> dict[str, tuple[int, str] | None]:
    """`match_typed_streets`, remembered per process while the municipality's file is unchanged.

    Matching costs a few hundred milliseconds (mostly planning the matcher's SQL), and the web page runs a list
    again for each download; a run publishes a new file, which changes its stamp and drops the memory."""
    stat = db_path.stat()
    stamp = (str(db_path), stat.st_mtime_ns, stat.st_size, int(municipality))
    with _street_cache_lock:
        known = {n: _street_cache[stamp + (n,)] for n in names if stamp + (n,) in _street_cache}
    missing = [n for n in dict.fromkeys(names) if n not in known]
    if missing:
        fresh = match_typed_streets(con, municipality, missing)
        with _street_cache_lock:
            for n, m in fresh.items():
                _street_cache[stamp + (n,)] = m
            while len(_street_cache) > STREET_CACHE_SIZE:
                _street_cache.popitem(last=False)
        known.update(fresh)
    return {n: known[n] for n in names}


def clear_street_cache() -> None:
    with _street_cache_lock:
        _street_cache.clear()


def bind_values(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, query: Query, municipality: int,
                values: dict[str, Any], db_path: Path) -> tuple[dict[str, Any], list[str], dict[str, tuple[int, str]]]:
    """The $name -> value map the query's SQL binds, warnings for street names not found, and the found ones."""
    street_params = [p for p in query.parameters if p.type in ("street_names", "street_name") and values[p.name]]
    typed = [n for p in street_params for n in (values[p.name] if p.type == "street_names" else [values[p.name]])]
    matches = cached_street_matches(con, municipality, typed, db_path) if typed else {}
    warnings = [f"הרחוב '{n}' לא נמצא ברחובות הרשות ולא נכלל בחיפוש" for n in typed if matches.get(n) is None]
    bound: dict[str, Any] = {}
    for name in query.bound:
        if name == "municipality":
            bound[name] = int(municipality)
        elif name in catalogue.constants:
            bound[name] = catalogue.constants[name]
        else:
            p, value = query.parameter(name), values[name]
            if p.type == "street_names" and value is not None:
                value = sorted({matches[n][0] for n in value if matches.get(n)})   # [] = matches nothing
            elif p.type == "street_name" and value is not None:
                value = matches[value][0] if matches.get(value) else None
            bound[name] = value
    return bound, warnings, {n: m for n, m in matches.items() if m}


@dataclass(frozen=True)
class Answer:
    rows: list[tuple]
    warnings: list[str]                           # typed streets that matched nothing
    streets: dict[str, tuple[int, str]]           # typed street -> (code, registry name)
    notes: list[str]                              # e.g. "Yachad reports N, the list shows M" (queries with `reported`)
    bound: dict[str, Any]                         # the values bound to the query's parameters (for its counts)


def execute_query(con: duckdb.DuckDBPyConnection, query: Query, columns: list[Column], municipality: int,
                  values: dict[str, Any], db_path: Path) -> Answer:
    """Rows of `query` with only `columns` (shown values; none for counts only), street warnings, the streets found
    and the query's notes: the part of a run after the access check and before the audit record, shared by the
    page, the CLI and the open API."""
    catalogue = load_catalogue()
    for statement in catalogue.macro_statements():
        con.execute(statement)
    bound, warnings, streets = bind_values(con, catalogue, query, municipality, values, db_path)
    rows, notes = [], []
    if columns:
        sql, shown = catalogue.statement_for(query, columns)
        rows = con.execute(sql, {**bound, **shown}).fetchall()
        if query.reported:
            count_sql, note = query.reported
            used = lineage.parameters(lineage.parse_tree(count_sql))
            reported = con.execute(count_sql, {k: v for k, v in bound.items() if k in used}).fetchall()[0][0]
            notes.append(note.format(reported=reported, shown=len(rows)))
    return Answer(rows, warnings, streets, notes, bound)


def _columns_for(view: str, caller: Role, query: Query, catalogue: Catalogue) -> list[Column]:
    visible = caller.visible_columns(query)
    if view == "counts":
        return []
    if view == "call_sheet":
        wanted = set(catalogue.call_sheet.group_by) | {c.name for c in query.call_sheet}
        return [c for c in visible if c.name in wanted]
    return visible


def _given(raw: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {k: [v for v in vs if v is not None and str(v).strip()] for k, vs in raw.items()
            if any(v is not None and str(v).strip() for v in vs)}


def run_query(name: str, municipality: int, raw_params: Mapping[str, Sequence[str]], *, role: str, user: str,
              channel: str = "cli", exports: Iterable[str] = (), home: Path | None = None,
              audit: AuditLog | None = None, peer: str = "", view: str = "list") -> QueryResult:
    """Run a named query as `user` (the authenticated subject) in `role`; every outcome is audited (never the
    rows), with the caller's `peer` address when it came over the network.

    `view` "counts" hands out counts only (audited with exports "counts" and no row count); a role that may not
    run the query by name gets them as its planner view (de-identified, small cells suppressed)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    audit = audit or AuditLog.of(municipality, home)
    given = _given(raw_params)
    exports = tuple(exports) + (("counts",) if view == "counts" else ())

    def log(outcome: str, row_count: int | None = None, reason: str = "") -> None:
        audit.record(municipality=municipality, subject=(user or "").strip(), role=role, channel=channel,
                     query=name, parameters=given, row_count=row_count, outcome=outcome, reason=reason,
                     exports=exports, peer=peer)

    if not user or not user.strip():
        log("unauthenticated", reason="no_user")
        raise AccessDenied("say who is asking (user name): every run is audited")

    catalogue = load_catalogue()
    try:
        caller = role_named(role)
        query = catalogue.queries.get(name)
        allowed = caller.view_of(query) if query is not None else None
        if allowed is None or (allowed == "counts" and view != "counts") \
                or (view == "counts" and not query.counts) or (view == "call_sheet" and not query.call_sheet):
            raise AccessDenied(f"role {role} may not run query {name!r} as {view} "
                               f"(see `toshav query --list --role {role}`)")
    except AccessDenied:
        log("denied", reason="role")
        raise
    try:
        values = parse_parameters(query, raw_params)
    except ParameterError:
        log("invalid")
        raise

    columns = _columns_for(view, caller, query, catalogue)
    started = time.perf_counter()
    counts = None
    try:
        with resident_file(municipality, home) as con:
            answer = execute_query(con, query, columns, municipality, values, serving_db_path(municipality, home))
            rows, warnings, streets, notes = answer.rows, answer.warnings, answer.streets, answer.notes
            if query.counts:
                sql, binds = counts_statement(catalogue, query)
                counts = counts_from_rows(query, con.execute(sql, {**answer.bound, **binds}).fetchall())
                if allowed == "counts":
                    counts = planner_view(counts, planner_suppress_below())
            as_of = data_as_of_lines(con)
    except ResidentFileUnavailable:
        log("error")
        raise
    except duckdb.Error as e:
        log("error")
        detail = str(e) if isinstance(e, _SAFE_DB_ERRORS) else type(e).__name__
        raise QueryFailed(f"query {name} failed in the database: {detail}") from None
    except Exception:
        log("error")
        raise
    if caller.rows_per_hour is not None and columns:        # counts hand out no identified rows
        used = audit.rows_handed_out(user.strip(), dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
                                     - dt.timedelta(hours=1))
        if used + len(rows) > caller.rows_per_hour:
            log("rate_limited", len(rows), reason="rows_per_hour")
            raise RateLimited(f"role {caller.name} may be handed {caller.rows_per_hour} rows an hour; "
                              f"{used} were handed out in the last hour and this list has {len(rows)}")
    log("ok", len(rows) if columns else None)
    return QueryResult(
        query=query, role=caller, municipality=int(municipality), columns=columns,
        rows=[list(r) for r in rows],
        hidden_columns=[c for c in query.columns if c not in caller.visible_columns(query)],
        warnings=warnings, streets=streets, seconds=time.perf_counter() - started,
        view=view, counts=counts, data_as_of=as_of, notes=notes, parameters=values,
    )


def data_as_of_lines(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> list[str]:
    """One Hebrew line per source: how old its data is, and a warning when it is older than its policy allows
    (schemas/sources/*.yaml: policy.stale_after_hours) or its newest file was rejected."""
    lines = []
    for f in source_freshness(con, now):
        if f.as_of is None:
            line = f"{f.label_he}: אין נתונים"
        else:
            line = f"{f.label_he}: נתונים נכונים ל-{f.as_of:%d/%m/%Y %H:%M}"
            if f.stale:
                line += f" — לא עדכני (מעל {f.stale_after_hours:g} שעות)"
        if f.rejected:
            line += f" — הקובץ האחרון ({f.rejected_file}) נדחה"
        lines.append(line)
    return lines
