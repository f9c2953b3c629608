"""raw_<source> and stg_<source> assets for every source system, made by one factory from the mappings.

raw:  new deliveries in the inbox (or, for ODS, a pull from the API when configured) -> raw_<source>
stg:  the latest delivery parsed by its mapping -> stg_<source>, quarantine, field_issues
"""


import dagster as dg

from connectors.delivery import delivery_files, ensure_tables, ingest_files, store_delivery
from connectors.ods import OdsClient, api_delivery
from pipelines.partitions import municipality_of, municipality_partitions
from pipelines.resources import Inbox, MunicipalityDuckDB, OdsApi
from pipelines.staging import stage_source
from schemas.sources import SOURCES, load_source

# staging order dependencies beyond raw -> stg: Yachad's name order is inferred from the register's names
EXTRA_STAGING_DEPS = {"yachad": ["stg_population_register"]}


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
        if report.extra_headers:
            # counted, not named: a shifted header row would put a data row's values where header names belong
            context.log.warning(f"{source}: {len(report.extra_headers)} unknown extra column(s) kept in _extra "
                                "(their headers are in the deliveries table)")
        metadata = {**report.metadata(), "raw_rows_total": total, "extra_headers": len(report.extra_headers)}
        return dg.MaterializeResult(metadata=metadata)

    return raw


def _stg_asset(source: str) -> dg.AssetsDefinition:
    deps = ["reference", f"raw_{source}", *EXTRA_STAGING_DEPS.get(source, [])]

    @dg.asset(name=f"stg_{source}", partitions_def=municipality_partitions, group_name="staging", kinds={"duckdb"},
              deps=deps, description=f"The latest {source} delivery typed and normalized; bad rows quarantined with reasons.")
    def stg(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
        with duckdb.connect(municipality_of(context)) as con:
            report = stage_source(con, source)
        if report.quarantined or report.malformed:
            context.log.info(f"{source}: {report.quarantined + report.malformed} rows quarantined (see table quarantine)")
        return dg.MaterializeResult(metadata=report.metadata())

    return stg


raw_assets = [_raw_asset(s) for s in SOURCES]
stg_assets = [_stg_asset(s) for s in SOURCES]
