"""muniforce_sync: the resident file and emergency profiles of one municipality, sent to MuniForce.

Thin over `connectors.muniforce.sync.sync_municipality`: only new or changed records are sent, every answer
is recorded in the municipality's `muniforce_sync_state`, and the metadata is counts only. A deployment without
MuniForce (no MUNIFORCE_INSTANCE_URL) runs the step as a no-op that says so: the run succeeds and nothing is
recorded as synced.
"""

import dagster as dg

from connectors.freshness import sync_blockers
from connectors.muniforce.sync import sync_municipality
from pipelines.partitions import municipality_of, municipality_partitions
from pipelines.resources import MuniForce, MunicipalityDuckDB


@dg.asset(
    partitions_def=municipality_partitions,
    deps=[dg.AssetKey("resident_file"), dg.AssetKey("emergency_profile")],
    group_name="muniforce",
    output_required=False,
    kinds={"salesforce", "duckdb"},
    description="Upserts new or changed residents (Person Accounts) and emergency profiles to MuniForce; "
                "deactivates or deletes records that left the resident file (docs/muniforce.md).",
)
def muniforce_sync(context: dg.AssetExecutionContext, duckdb: MunicipalityDuckDB,
                   muniforce: MuniForce):
    municipality = municipality_of(context)
    if not muniforce.configured:
        context.log.info("MuniForce is not configured (MUNIFORCE_INSTANCE_URL unset): nothing sent")
        return
    with duckdb.connect(municipality) as con:
        # a source whose policy says so (schemas/sources/*.yaml: policy.blocks_sync) must be current to sync
        blockers = sync_blockers(con)
    if blockers:
        raise dg.Failure(description="MuniForce not synced: " + "; ".join(blockers),
                         metadata={"blocked_by": blockers})
    sf = muniforce.client()
    with duckdb.connect(municipality) as con:
        report = sync_municipality(con, municipality, sf, muniforce.options())
    if report.stopped:
        context.log.warning(f"MuniForce sync stopped early: {report.stopped}")
    if report.rejects:
        context.log.warning(f"{report.totals.rejected} records rejected by MuniForce (codes in metadata; "
                            "details in muniforce_sync_state)")
    yield dg.MaterializeResult(metadata=report.metadata())
