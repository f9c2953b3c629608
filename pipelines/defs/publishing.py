"""published: the checked state of one municipality handed to readers (pipelines/publishing.py).

It depends on the last assets of the build, whose blocking checks gate it: when a step fails or a blocking check
fails, Dagster skips this step and readers keep the previous state.
"""

import warnings

import dagster as dg

from pipelines.partitions import municipality_of, municipality_partitions
from pipelines.publishing import SERVED_TABLES, publish, published_run, served_rows
from pipelines.resources import MunicipalityDuckDB


@dg.asset(partitions_def=municipality_partitions, group_name="serving", kinds={"duckdb"},
          deps=[dg.AssetKey("resident_file"), dg.AssetKey("emergency_profile"), dg.AssetKey("resident_file_history")],
          description="The serving file readers open (emergency page, `toshav query`, API): the resident file and "
                      "emergency profiles of this run, published by atomic rename once the checks passed.")
def published(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB) -> dg.MaterializeResult:
    municipality = municipality_of(context)
    with duckdb.connect(municipality) as con:
        publication = publish(con, municipality, duckdb.home_path, context.run.run_id)
    return dg.MaterializeResult(metadata=publication.metadata())


def _published_state_is_this_runs(context: dg.AssetCheckExecutionContext,
                                 duckdb: MunicipalityDuckDB) -> dg.AssetCheckResult:
    municipality = int(context.partition_key)
    with duckdb.connect(municipality, read_only=True) as working:
        expected = {t: working.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in SERVED_TABLES}
    published_by, _ = published_run(municipality, duckdb.home_path) or (None, None)
    ours = published_by == context.op_execution_context.run_id
    found = served_rows(municipality, duckdb.home_path)
    return dg.AssetCheckResult(passed=ours and found == expected,
                               metadata={"published_by_this_run": ours,
                                         **{f"rows_{t}": n for t, n in found.items()}})


with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=dg.PreviewWarning)  # partitioned checks are "preview" in 1.13
    published_state_is_this_runs = dg.asset_check(
        asset=published, name="published_state_is_this_runs", partitions_def=municipality_partitions,
        description="The serving file readers open is the one this run published, with every row of the working "
                    "file's served tables.")(_published_state_is_this_runs)
