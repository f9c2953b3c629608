"""The MuniForce sync of one municipality: `sync_municipality(con, municipality, sf, options)`.

1. Plan in DuckDB (`plan.py`): desired payloads from the mapping, hashed, diffed against the sync state.
   Nothing to send -> no API call at all.
2. Before writing: `describe` every mapped object and stop on schema drift; resolve the person-account
   record type.
3. Send the groups in order (`send.py`), recording each answer as it arrives.
4. Return a `SyncReport` (counts, rejects with Salesforce's code, API calls, why it stopped early) and log
   the run in `muniforce_sync_runs`.

See docs/muniforce.md for the deletion policy and how to operate it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import duckdb
from simple_salesforce import Salesforce

from connectors.muniforce.calls import Caller, QuotaStop, RetryPolicy, SalesforceCallError
from connectors.muniforce.client import api_meter
from connectors.muniforce.describe import SchemaDriftError, drift
from connectors.muniforce.mapping import Mapping, load_mapping
from connectors.muniforce.plan import build_plan
from connectors.muniforce.report import SyncReport
from connectors.muniforce.send import Sender
from connectors.muniforce.state import RUNS_TABLE, ensure_state

log = logging.getLogger(__name__)


@dataclass
class SyncOptions:
    dry_run: bool = False
    deletion_policy: str = "deactivate"     # deactivate | delete (see docs/muniforce.md)
    bulk_threshold: int = 2000               # more records than this in a group -> Bulk API 2.0
    bulk_chunk_rows: int = 100_000           # rows per Bulk job (one CSV upload each)
    collection_size: int = 200               # records per sObject Collections call (Salesforce max 200)
    quota_share: float = 0.5                 # stop before org-wide daily API usage passes this share
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_rounds: int = 3                      # in-run resends of records that failed transiently
    poll_interval: float = 1.0               # first Bulk job poll delay (grows x1.5)
    max_poll_interval: float = 10.0
    check_schema: bool = True
    work_dir: str | None = None              # where Bulk CSV chunks are written (a private temp dir inside)
    municipality_name: str | None = None     # PersonMailingCity; default: the CBS locality name


def check_schema(sf: Salesforce, call: Caller, mapping: Mapping) -> None:
    """Describes every mapped object; raises SchemaDriftError listing every difference."""
    problems = []
    for obj in mapping.objects:
        try:
            described = call(f"{obj.name} describe", lambda: getattr(sf, obj.name).describe())
        except SalesforceCallError as exc:
            if exc.status != 404:
                raise
            described = None
        problems += drift(described, obj)
    if problems:
        raise SchemaDriftError(problems)


def record_type_id(sf: Salesforce, call: Caller, mapping: Mapping) -> str | None:
    """Id of the person-account record type the mapping names (Account.record_type)."""
    for obj in mapping.objects:
        if obj.record_type:
            soql = (f"SELECT Id FROM RecordType WHERE SobjectType = '{obj.name}' "
                    f"AND DeveloperName = '{obj.record_type}' AND IsActive = true")
            records = call("RecordType query", lambda: sf.query(soql))["records"]
            if not records:
                raise SchemaDriftError([f"{obj.name}: record type {obj.record_type} missing or inactive in the org"])
            return records[0]["Id"]
    return None


def sync_municipality(con: duckdb.DuckDBPyConnection, municipality: int, sf: Salesforce | None,
                      options: SyncOptions | None = None) -> SyncReport:
    """Syncs one municipality's resident file and emergency profiles to MuniForce. `sf` may be None for a
    dry run. Raises SchemaDriftError before writing if the org differs from the mapping."""
    options = options or SyncOptions()
    mapping = load_mapping()
    report = SyncReport(municipality=int(municipality), dry_run=options.dry_run)
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    ensure_state(con)
    name = options.municipality_name
    if name is None:
        from connectors.reference import locality_name
        name = locality_name(int(municipality))
    plan = build_plan(con, int(municipality), mapping, options.deletion_policy, name)
    for obj in mapping.objects:
        report.counts(obj.name).unchanged = plan.unchanged[obj.name]

    if options.dry_run or plan.empty:
        report.nothing_to_send = plan.empty
        if options.dry_run:
            for g in plan.groups:
                c = report.counts(g.obj.name)
                if g.op == "upsert":
                    c.created += g.creates
                    c.updated += g.size - g.creates
                elif g.op == "deactivate":
                    c.deactivated += g.size
                else:
                    c.deleted += g.size
        _log_run(con, report, started)
        return report
    if sf is None:
        raise ValueError("a Salesforce client is needed unless dry_run is set")

    meter = api_meter(sf)
    call = Caller(meter, options.retry, options.quota_share)
    done: set[int] = set()
    try:
        if options.check_schema:
            check_schema(sf, call, mapping)
        rt = record_type_id(sf, call, mapping)
        sender = Sender(con, sf, call, mapping, report, options, rt)
        for i, group in enumerate(plan.groups):
            sender.send(group)
            done.add(i)
    except QuotaStop as stop:
        report.stopped = str(stop)
        for i, group in enumerate(plan.groups):
            if i not in done:
                report.counts(group.obj.name).pending += con.execute(
                    f"SELECT count(*) FROM {group.todo}").fetchone()[0]
        log.warning("MuniForce sync of %s stopped early: %s", municipality, stop)
    except Exception as exc:
        report.stopped = f"failed: {type(exc).__name__}"
        raise
    finally:
        report.api_calls = call.calls
        if meter.used is not None:
            report.api_usage = f"{meter.used}/{meter.limit}"
        _log_run(con, report, started)
    log.info("MuniForce sync of %s: %s", municipality, report.metadata())
    return report


def _log_run(con: duckdb.DuckDBPyConnection, report: SyncReport, started: datetime) -> None:
    con.execute(
        f"INSERT INTO {RUNS_TABLE} VALUES (?, now(), ?, ?, ?, ?, ?)",
        [started, report.municipality, report.dry_run,
         json.dumps({t: asdict(c) for t, c in report.targets.items()}), report.api_calls, report.stopped],
    )
