"""Toshav pipelines: Dagster definitions (`pipelines.definitions`), the transformations behind them as plain
functions and SQL, the sample-data generator and the `toshav` command line."""
