"""The check factory: a suite becomes one `@multi_asset_check` with one `AssetCheckSpec` per expectation.

ERROR expectations on the gated assets (expectations.yaml `gate`) are `blocking`: when one fails, Dagster does not
run what is downstream of the asset in the same run - the MuniForce sync included. WARN never blocks.
Great Expectations is imported only when a check runs (quality/gx_validation.py), never when this module loads.
"""


import warnings

import dagster as dg

from pipelines.partitions import municipality_of, municipality_partitions
from pipelines.resources import MunicipalityDuckDB
from quality.runner import run_suite
from quality.suites import Suite

SEVERITY = {"ERROR": dg.AssetCheckSeverity.ERROR, "WARN": dg.AssetCheckSeverity.WARN}


def check_specs(suite: Suite) -> list[dg.AssetCheckSpec]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)  # partitioned check specs are "preview" in 1.13
        return [dg.AssetCheckSpec(e.name, asset=suite.asset, blocking=e.blocking, partitions_def=municipality_partitions,
                                  description=f"[{e.severity}{', blocking' if e.blocking else ''}] {e.description}",
                                  metadata={"severity": e.severity, "origin": e.origin, "threshold": e.threshold})
                for e in suite.expectations]


def suite_checks(suite: Suite) -> dg.AssetChecksDefinition:
    """The asset checks of one suite, evaluated together in one step after the asset materializes."""

    @dg.multi_asset_check(specs=check_specs(suite), name=f"quality_{suite.asset}", compute_kind="great_expectations",
                          description=f"Great Expectations suite of {suite.asset} ({len(suite.expectations)} expectations)")
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: MunicipalityDuckDB):
        municipality = municipality_of(context)
        with duckdb.connect(municipality) as con:
            outcomes = run_suite(con, suite, municipality, context.run.run_id)
        failed = [o.expectation.name for o in outcomes if not o.passed]
        if failed:
            context.log.warning(f"{suite.asset}: {len(failed)} of {len(outcomes)} checks failed: {', '.join(failed)}")
        for o in outcomes:
            yield dg.AssetCheckResult(asset_key=suite.asset, check_name=o.expectation.name, passed=o.passed,
                                      severity=SEVERITY[o.expectation.severity], metadata=o.metadata(),
                                      description=o.expectation.description)

    return _checks
