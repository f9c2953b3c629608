"""Dagster definitions, one module per part of the flow; `pipelines.definitions` loads them all.

reference.py   national registries into the municipality's database
sources.py     raw_<source> and stg_<source> for every source system (one factory, four sources)
identity.py    identity resolution, resident_file, emergency_profile, resident_file_history
muniforce.py   the MuniForce sync
quality.py     Great Expectations suites as asset checks
automation.py  jobs, the nightly schedule and the inbox sensor
"""
