"""National reference data (streets, needs codes) loaded into each municipality's database."""

import dagster as dg

from pipelines.normalize.addresses import load_reference_streets
from pipelines.partitions import municipality_of, municipality_partitions
from pipelines.resources import MunicipalityDuckDB
from pipelines.staging.enrich import load_code_tables


@dg.asset(partitions_def=municipality_partitions, group_name="reference", kinds={"duckdb"},
          description="The municipality's streets from the national street registry, and the canonical needs codes.")
def reference(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
    municipality = municipality_of(context)
    with duckdb.connect(municipality) as con:
        streets = load_reference_streets(con, municipality)
        load_code_tables(con)
    if streets == 0:
        context.log.warning(f"the street registry has no streets for municipality {municipality}: addresses will not match")
    return dg.MaterializeResult(metadata={"streets": streets})
