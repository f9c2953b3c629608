"""Staging: raw deliveries -> typed, normalized `stg_<source>` tables. Bad rows go to `quarantine` with their
reasons; a bad optional value is blanked and logged in `field_issues`. Rows in = rows staged + rows quarantined."""

from pipelines.staging.stage import StageReport, stage_source  # noqa: F401
