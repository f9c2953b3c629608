"""raw_<source> and stg_<source> assets for every source system, made by one factory from the mappings.

raw:  new deliveries in the inbox (or, for ODS, a pull from the API when configured) -> raw_<source>
stg:  the latest delivery parsed by its mapping -> stg_<source>, quarantine, field_issues
checks on stg_<source> (after staging has dated the data): `delivery_accepted` (the newest file was not rejected)
and `data_fresh` (the data in use is younger than the mapping's `policy.stale_after_hours`); ERROR for a source
whose policy blocks the MuniForce sync, else WARN. Neither stops the run: a rejected file leaves its source on its
last good delivery.
"""

import datetime as dt
import warnings

import dagster as dg

from connectors.delivery import delivery_files, ensure_tables, ingest_files, store_delivery
from connectors.freshness import source_freshness
from connectors.ods import OdsClient, api_delivery
from pipelines.partitions import municipality_of, municipality_partitions
from pipelines.resources import Inbox, MunicipalityDuckDB, OdsApi
from pipelines.staging import stage_source
from schemas.sources import SOURCES, load_source


def _raw_asset(source: str) -> dg.AssetsDefinition:
    mapping = load_source(source)

    @dg.asset(name=f"raw_{source}", partitions_def=municipality_partitions, group_name="raw", kinds={"duckdb"},
              description=f"{mapping.description}: every delivery as delivered, with file hash and row number.")
    def raw(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB, inbox: Inbox, ods_api: OdsApi) -> dg.MaterializeResult:
        municipality = municipality_of(context)
        with duckdb.connect(municipality) as con:
            ensure_tables(con, mapping)
            report = ingest_files(con, source, delivery_files(inbox.source_dir(municipality, source)))
            if source == "ods" and ods_api.configured:
                client = OdsClient(ods_api.base_url, ods_api.api_key, ods_api.resource_id)
                name, digest, read = api_delivery(client.fetch(municipality), ods_api.resource_id)
                known = con.execute("SELECT count(*) FROM deliveries WHERE file_hash = ?", [digest]).fetchone()[0]
                if not known:
                    store_delivery(con, mapping, name, digest, read)
                    report.files_ingested += 1
                    report.rows += read.table.num_rows
            total = con.execute(f"SELECT count(*) FROM raw_{source}").fetchone()[0]
            (in_use,) = source_freshness(con, sources=(source,))
        for name, problem in report.rejected:
            context.log.warning(f"{source}: file {name} rejected: {problem}; the source keeps its last good delivery")
        if report.extra_headers:
            # counted, not named: a shifted header row would put a data row's values where header names belong
            context.log.warning(f"{source}: {len(report.extra_headers)} unknown extra column(s) kept in _extra "
                                "(their headers are in the deliveries table)")
        metadata = {**report.metadata(), "raw_rows_total": total, "extra_headers": len(report.extra_headers),
                    # what staging will use: after a rejection, the source's last good delivery (not updated)
                    "delivery_in_use": in_use.file or "none", "updated": report.files_ingested > 0}
        return dg.MaterializeResult(metadata=metadata)

    return raw


def _stg_asset(source: str) -> dg.AssetsDefinition:
    # beyond raw -> stg: the sources its enrichment reads (the mapping's `staged_after`)
    deps = ["reference", f"raw_{source}", *(f"stg_{s}" for s in load_source(source).staged_after)]

    @dg.asset(name=f"stg_{source}", partitions_def=municipality_partitions, group_name="staging", kinds={"duckdb"},
              deps=deps, description=f"The latest {source} delivery typed and normalized; bad rows quarantined with reasons.")
    def stg(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
        with duckdb.connect(municipality_of(context)) as con:
            report = stage_source(con, source)
        if report.quarantined or report.malformed:
            context.log.info(f"{source}: {report.quarantined + report.malformed} rows quarantined (see table quarantine)")
        return dg.MaterializeResult(metadata=report.metadata())

    return stg


def _delivery_check_specs(source: str, severity: dg.AssetCheckSeverity) -> list[dg.AssetCheckSpec]:
    policy = load_source(source).policy
    verb = "stops" if policy.blocks_sync else "does not stop"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)  # partitioned check specs are "preview" in 1.13
        return [dg.AssetCheckSpec("delivery_accepted", asset=f"stg_{source}", partitions_def=municipality_partitions,
                                  description=f"[{severity.value}] the newest {source} file was read, not rejected "
                                              f"(a rejection {verb} the MuniForce sync)"),
                dg.AssetCheckSpec("data_fresh", asset=f"stg_{source}", partitions_def=municipality_partitions,
                                  description=f"[{severity.value}] the {source} data in use is at most "
                                              f"{policy.stale_after_hours:g} hours old (stale data {verb} the sync)")]


def _delivery_checks(source: str) -> dg.AssetChecksDefinition:
    severity = dg.AssetCheckSeverity.ERROR if load_source(source).policy.blocks_sync else dg.AssetCheckSeverity.WARN

    @dg.multi_asset_check(specs=_delivery_check_specs(source, severity), name=f"delivery_{source}",
                          description=f"Whether {source}'s newest delivery was taken and how old its data is.")
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: MunicipalityDuckDB):
        with duckdb.connect(municipality_of(context)) as con:
            (f,) = source_freshness(con, dt.datetime.now(), sources=(source,))
        md = {k: v for k, v in f.metadata().items() if v is not None}
        yield dg.AssetCheckResult(asset_key=f"stg_{source}", check_name="delivery_accepted", passed=not f.rejected,
                                  severity=severity, metadata=md,
                                  description="; ".join(f.problems()) if f.rejected else "the newest file was read")
        yield dg.AssetCheckResult(asset_key=f"stg_{source}", check_name="data_fresh", passed=not f.stale,
                                  severity=severity, metadata=md,
                                  description=f"data as of {f.as_of:%Y-%m-%d %H:%M}" if f.as_of else "no data yet")

    return _checks


raw_assets = [_raw_asset(s) for s in SOURCES]
stg_assets = [_stg_asset(s) for s in SOURCES]
delivery_checks = [_delivery_checks(s) for s in SOURCES]
