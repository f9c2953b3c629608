"""Running the chain for one municipality in-process, as `toshav run` and `toshav demo` do, and summarising it.

Runs go through a persistent Dagster instance under `$TOSHAV_HOME/dagster` (unless DAGSTER_HOME is set), so a
run started from the command line is visible in `dagster dev` with the same DAGSTER_HOME.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.partitions import municipality_partitions
from pipelines.resources import Inbox, MunicipalityDuckDB
from pipelines.settings import toshav_home


def dagster_instance(home: Path) -> dg.DagsterInstance:
    """The persistent instance; created on first use with telemetry off (a municipality's runs are its business)."""
    os.environ.setdefault("DAGSTER_HOME", str(home / "dagster"))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    return dg.DagsterInstance.get()


# Database errors may quote the data value they choked on: their messages are not printed.
DATABASE_ERRORS = {name for name in dir(duckdb) if name.endswith(("Exception", "Error"))}


def root_cause(error) -> str:
    """The innermost error of a Dagster failure: the one that says what went wrong. Toshav's own messages name
    files, rows and fields, never values; a database error's message may quote a value, so only its kind is shown."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    if error.cls_name in DATABASE_ERRORS:
        return f"{error.cls_name} (message withheld: it may quote a data value; the step's log in Dagster has it)"
    return f"{error.cls_name}: {error.message.strip()}" if error.cls_name else error.message.strip()


@dataclass
class RunSummary:
    municipality: int
    success: bool
    run_id: str
    asset_metadata: dict[str, dict] = field(default_factory=dict)
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)   # "asset:check" -> (passed, severity)
    step_seconds: dict[str, float] = field(default_factory=dict)        # Dagster step -> seconds it took
    failure: str | None = None


def run_municipality(municipality: int, inbox: Path | None = None, home: Path | None = None, sync: bool = False,
                     extra_resources: dict | None = None, raise_on_error: bool = False,
                     log_level: str = "WARNING") -> RunSummary:
    from pipelines.definitions import build_definitions  # loads every asset module: keep the CLI start fast

    home = (home or toshav_home()).resolve()
    resources = {"duckdb": MunicipalityDuckDB(home=str(home))}
    if inbox is not None:
        resources["inbox"] = Inbox(path=str(Path(inbox).resolve()))
    resources.update(extra_resources or {})
    definitions = build_definitions(resources)
    instance = dagster_instance(home)
    key = str(int(municipality))
    if not instance.has_dynamic_partition(municipality_partitions.name, key):
        instance.add_dynamic_partitions(municipality_partitions.name, [key])
    job = definitions.resolve_job_def("full_sync_job" if sync else "resident_file_job")
    result = job.execute_in_process(partition_key=key, instance=instance, raise_on_error=raise_on_error,
                                    run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})
    summary = RunSummary(int(municipality), result.success, result.run_id)
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            mat = event.event_specific_data.materialization
            summary.asset_metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            summary.checks[f"{ev.asset_key.to_user_string()}:{ev.check_name}"] = (ev.passed, ev.severity.value)
        elif event.event_type_value == "STEP_SUCCESS":
            summary.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.event_type_value == "STEP_FAILURE" and summary.failure is None:
            summary.failure = f"{event.step_key}: {root_cause(event.event_specific_data.error)}"
    return summary
