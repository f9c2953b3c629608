"""Great Expectations judges the measurements: one GX expectation per Toshav expectation.

GX 1.x runs in an ephemeral context (nothing written to disk), imported here lazily: `import great_expectations`
costs ~4 s, which neither `dagster dev`, the CLI nor a test that never validates should pay.

Why GX validates measurements and not the tables themselves: its SQL datasource returns empty results on
DuckDB 2.0, and pandas validation of the tables costs far more than the 30 s budget at 1M residents (see
docs/quality.md and bench/bench_quality.py for the figures). So SQL measures (quality/measure.py) and GX
validates a one-row frame of observations - one column per expectation (a share of violating rows, a count, a
ratio to the last run) - with `ExpectColumnValuesToBeBetween` and the expectation's bounds.
"""

from __future__ import annotations

import math
from functools import lru_cache

from quality.measure import Measurement
from quality.suites import Expectation, Suite


def bounds(e: Expectation) -> tuple[float | None, float | None]:
    """(min, max) the observation of `e` must lie within."""
    if e.kind == "min_rows":
        return float(e.min_rows or 0), None
    if e.kind == "row_count_drift":
        return 1.0 - float(e.max_drop or 0.0), None
    if e.kind in ("columns", "schema"):
        return 0.0, 0.0
    return 0.0, float(e.max_share)


@lru_cache(maxsize=1)
def _batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.enable_analytics(False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("toshav_quality").add_dataframe_asset("observations")
    return asset.add_batch_definition_whole_dataframe("one_run")


def validate(suite: Suite, measurements: dict[str, Measurement]) -> dict[str, bool]:
    """{expectation name: success} for every measured expectation of the suite (unmeasurable ones fail)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import pandas as pd

    batch_definition = _batch_definition()      # also makes the ephemeral context the current GX project
    gx_suite = gx.ExpectationSuite(name=f"toshav_{suite.asset}")
    observations: dict[str, float] = {}
    verdicts: dict[str, bool] = {}
    for e in suite.expectations:
        m = measurements[e.name]
        if m.error is not None or m.observed is None or math.isnan(m.observed):
            verdicts[e.name] = False          # what could not be measured is not judged to pass
            continue
        observations[e.name] = float(m.observed)
        lo, hi = bounds(e)
        gx_suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(
            column=e.name, min_value=lo, max_value=hi, meta={"toshav_check": e.name}))
    if not observations:
        return verdicts
    frame = pd.DataFrame([observations])
    result = batch_definition.get_batch(batch_parameters={"dataframe": frame}).validate(gx_suite, result_format="BOOLEAN_ONLY")
    for r in result.results:
        verdicts[r.expectation_config.meta["toshav_check"]] = bool(r.success)
    missing = set(observations) - set(verdicts)
    if missing:
        raise RuntimeError(f"Great Expectations returned no result for {sorted(missing)} of suite {suite.asset}")
    return verdicts
