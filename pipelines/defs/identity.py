"""Identity resolution, the resident file, its history and the emergency profile, one asset each.

Thin over `pipelines.identity`: open the municipality's database, call one function, report counts (never a
personal value).
"""

import dagster as dg

from pipelines.identity import build_emergency_profile, build_resident_file, resolve_identities, update_history
from pipelines.identity.emergency_reports import build_emergency_system_reports
from pipelines.partitions import municipality_of, municipality_partitions
from pipelines.resources import MunicipalityDuckDB
from schemas.sources import SOURCES


@dg.asset(partitions_def=municipality_partitions, group_name="identity", kinds={"duckdb", "splink"},
          deps=[dg.AssetKey(f"stg_{s}") for s in SOURCES],
          description="Every staged source record tied to a person and a stable resident key: same valid ID = same "
                      "person, the rest linked with Splink; merges recorded in identity_merges, doubts in identity_review.")
def identity(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
    with duckdb.connect(municipality_of(context)) as con:
        report = resolve_identities(con)
    if report.for_review:
        context.log.info(f"{report.for_review} identity findings for review (see table identity_review)")
    return dg.MaterializeResult(metadata=report.metadata())


@dg.asset(partitions_def=municipality_partitions, group_name="identity", kinds={"duckdb"}, deps=[identity],
          description="One golden record per resident with per-field provenance, household and status.")
def resident_file(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
    municipality = municipality_of(context)
    with duckdb.connect(municipality) as con:
        counts = build_resident_file(con, municipality)
    return dg.MaterializeResult(metadata=counts)


@dg.asset(partitions_def=municipality_partitions, group_name="identity", kinds={"duckdb"}, deps=[resident_file],
          description="Every version of every resident's values, valid_from/valid_to.")
def resident_file_history(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
    with duckdb.connect(municipality_of(context)) as con:
        counts = update_history(con)
    return dg.MaterializeResult(metadata=counts)


@dg.asset(partitions_def=municipality_partitions, group_name="identity", kinds={"duckdb"}, deps=[resident_file],
          description="Emergency-assistance data per resident, only with consent or a statutory source; and, on "
                      "their own legal basis, what government emergency systems (Yachad) report about every resident "
                      "they track (table emergency_system_reports).")
def emergency_profile(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
    municipality = municipality_of(context)
    with duckdb.connect(municipality) as con:
        counts = build_emergency_profile(con, municipality)
        counts |= build_emergency_system_reports(con, municipality)
    return dg.MaterializeResult(metadata=counts)
