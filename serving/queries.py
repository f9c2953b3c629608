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
    data_as_of: dict[str, dt.datetime] = field(default_factory=dict)     # source -> its latest delivery
    parameters: dict[str, Any] = field(default_factory=dict)            # the typed values the list was run with

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


def data_as_of(con: duckdb.DuckDBPyConnection) -> dict[str, dt.datetime]:
    """When each source last delivered (the `deliveries` table), for "data as of" on a call sheet."""
    if not _table_exists(con, "deliveries"):
        return {}
    return dict(con.execute("SELECT source, max(ingested_at) FROM deliveries WHERE status = 'ingested' "
                            "GROUP BY source ORDER BY source").fetchall())


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
            for statement in catalogue.macro_statements():
                con.execute(statement)
            bound, warnings, streets = bind_values(con, catalogue, query, municipality, values,
                                                   serving_db_path(municipality, home))
            rows = []
            if columns:
                sql, shown = catalogue.statement_for(query, columns)
                rows = con.execute(sql, {**bound, **shown}).fetchall()
            if query.counts:
                sql, binds = counts_statement(catalogue, query)
                counts = counts_from_rows(query, con.execute(sql, {**bound, **binds}).fetchall())
                if allowed == "counts":
                    counts = planner_view(counts, planner_suppress_below())
            as_of = data_as_of(con) if view == "call_sheet" else {}
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
        view=view, counts=counts, data_as_of=as_of, parameters=values,
    )
