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
from quality.suites import Suite, suites, suites_of

SEVERITY = {"ERROR": dg.AssetCheckSeverity.ERROR, "WARN": dg.AssetCheckSeverity.WARN}


def check_specs(asset_suites: list[Suite]) -> list[dg.AssetCheckSpec]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=dg.PreviewWarning)  # partitioned check specs are "preview" in 1.13
        return [dg.AssetCheckSpec(e.name, asset=s.asset, blocking=e.blocking, partitions_def=municipality_partitions,
                                  description=f"[{e.severity}{', blocking' if e.blocking else ''}] {e.description}",
                                  metadata={"severity": e.severity, "suite": s.name, "origin": e.origin,
                                            "threshold": e.threshold})
                for s in asset_suites for e in s.expectations]


def asset_checks(asset: str, asset_suites: list[Suite]) -> dg.AssetChecksDefinition:
    """The checks of one asset (all its suites), evaluated together in one step after the asset materializes."""
    count = sum(len(s.expectations) for s in asset_suites)

    @dg.multi_asset_check(specs=check_specs(asset_suites), name=f"quality_{asset}", compute_kind="great_expectations",
                          description=f"Great Expectations suites of {asset}: "
                                      f"{', '.join(s.name for s in asset_suites)} ({count} expectations)")
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: MunicipalityDuckDB):
        municipality = municipality_of(context)
        outcomes = []
        with duckdb.connect(municipality) as con:
            for s in asset_suites:
                outcomes += run_suite(con, s, municipality, context.run.run_id)
        failed = [o.expectation.name for o in outcomes if not o.passed]
        if failed:
            context.log.warning(f"{asset}: {len(failed)} of {len(outcomes)} checks failed: {', '.join(failed)}")
        for o in outcomes:
            yield dg.AssetCheckResult(asset_key=asset, check_name=o.expectation.name, passed=o.passed,
                                      severity=SEVERITY[o.expectation.severity], metadata=o.metadata(),
                                      description=o.expectation.description)

    return _checks


def all_asset_checks() -> list[dg.AssetChecksDefinition]:
    return [asset_checks(asset, group) for asset, group in suites_of(suites()).items()]
