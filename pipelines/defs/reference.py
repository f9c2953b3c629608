"""National reference data (streets, needs codes) loaded into each municipality's database."""

import os

import dagster as dg

from connectors.reference import fetch_streets
from pipelines.normalize.addresses import load_reference_streets
from pipelines.partitions import municipality_of, municipality_partitions
from pipelines.resources import MunicipalityDuckDB
from pipelines.staging.enrich import load_code_tables


@dg.asset(partitions_def=municipality_partitions, group_name="reference", kinds={"duckdb"},
          description="The municipality's streets from the national street registry, and the canonical needs codes.")
def reference(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
    municipality = municipality_of(context)
    ckan_url = os.environ.get("TOSHAV_REFERENCE_CKAN_URL")   # e.g. https://data.gov.il; unset: the local copy
    fetched = fetch_streets(ckan_url, municipality=municipality) if ckan_url else None
    with duckdb.connect(municipality) as con:
        streets = load_reference_streets(con, municipality, fetched)
        load_code_tables(con)
    if streets == 0:
        context.log.warning(f"the street registry has no streets for municipality {municipality}: addresses will not match")
    return dg.MaterializeResult(metadata={"streets": streets, "origin": "data.gov.il CKAN" if ckan_url else "local copy"})
