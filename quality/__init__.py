"""Data quality: an expectation suite per asset, run as Dagster asset checks (see docs/quality.md).

suites.py        the suites as data: derived from schemas/ plus expectations.yaml
payload.py       the MuniForce sync payload suite (from schemas/muniforce.yaml), judged before the sync
measure.py       SQL measurement in DuckDB (one scan per table), public samples only
gx_validation.py Great Expectations (ephemeral, imported lazily) judges the measurements
runner.py        one suite: measure, judge, keep
results.py       quality_results / quality_row_counts in the municipality's database
checks.py        the check factory: one multi-asset check per asset, one check per expectation
report.py        the report of `toshav quality` and its HTML page
"""
