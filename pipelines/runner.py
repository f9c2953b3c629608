"""Running the chain for one municipality in-process, as `toshav run` and `toshav demo` do, and summarising it.

Runs go through a persistent Dagster instance under `$TOSHAV_HOME/dagster` (unless DAGSTER_HOME is set), so a
run started from the command line is visible in `dagster dev` with the same DAGSTER_HOME.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.partitions import add_municipalities, municipality_key
from pipelines.run_queue import ensure_not_busy
from pipelines.resources import Inbox, MunicipalityDuckDB
from pipelines.settings import toshav_home
from pipelines.private_files import private_dir, restrict_umask, write_private_text


def dagster_instance(home: Path) -> dg.DagsterInstance:
    """The persistent instance; created on first use with telemetry off (a municipality's runs are its business)."""
    os.environ.setdefault("DAGSTER_HOME", str(home / "dagster"))
    dagster_home = Path(os.environ["DAGSTER_HOME"])
    restrict_umask()        # Dagster writes run storage, logs and compute logs with the process umask
    private_dir(dagster_home)
    config = dagster_home / "dagster.yaml"
    if not config.exists():
        write_private_text(config, "telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.get()


# Database errors may quote the data value they choked on: their messages are not printed.
DATABASE_ERRORS = {name for name in dir(duckdb) if name.endswith(("Exception", "Error"))}
# DuckDB's words when another process holds a municipality's file.
LOCK_HELD = "Could not set lock on file"


def root_cause(error) -> str:
    """The innermost error of a Dagster failure, as one plain line. Toshav's own messages name files, rows and
    fields, never values, and are shown as they are; a database error's message may quote a value, so only its
    kind is shown (a lock held by another process says so)."""
    if error is None:
        return "failed"
    while error.cause is not None:
        error = error.cause
    message = error.message.strip()
    if error.cls_name in DATABASE_ERRORS:
        if LOCK_HELD in message:
            return "busy: another process (a run, or a reader) has the municipality's database open"
        return f"{error.cls_name} (message withheld: it may quote a data value; the step's log in Dagster has it)"
    # Dagster's message reads "module.Class: text": the class is not the news, the text is
    head, sep, rest = message.partition(": ")
    if sep and head.rsplit(".", 1)[-1] == error.cls_name:
        message = rest
    if error.cls_name == "MunicipalityBusy":     # another run holds the municipality's run lock
        return f"busy: {message}"
    return message.splitlines()[0] if message else (error.cls_name or "failed")


@dataclass(frozen=True)
class Progress:
    """Where a run stands: steps finished (succeeded, failed or skipped) of all, the steps running, seconds since
    start."""

    done: int
    total: int
    running: tuple[str, ...]
    elapsed: float
    finished: tuple[tuple[str, str, float | None], ...]   # (step, outcome, seconds) in the order they ended


@dataclass
class RunSummary:
    municipality: int
    success: bool
    run_id: str
    asset_metadata: dict[str, dict] = field(default_factory=dict)
    checks: dict[str, tuple[bool, str]] = field(default_factory=dict)   # "asset:check" -> (passed, severity)
    step_seconds: dict[str, float] = field(default_factory=dict)        # Dagster step -> seconds it took
    failures: dict[str, str] = field(default_factory=dict)               # failed step -> its plain reason
    not_updated: list[str] = field(default_factory=list)                 # assets of the job not materialized

    @property
    def failure(self) -> str | None:
        """The first failure, as `step: reason` (None for a successful run)."""
        return next((f"{step}: {reason}" for step, reason in self.failures.items()), None)


_STEP_EVENTS = {"STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}
_OUTCOME = {"STEP_SUCCESS": "done", "STEP_FAILURE": "failed", "STEP_SKIPPED": "not run"}


def _progress_of(events, total: int, started: float) -> Progress:
    running: dict[str, None] = {}
    finished = []
    for entry in events:
        event = entry.dagster_event
        if event is None or event.event_type_value not in _STEP_EVENTS:
            continue
        step = event.step_key
        if event.event_type_value == "STEP_START":
            running[step] = None
            continue
        running.pop(step, None)
        seconds = (event.event_specific_data.duration_ms / 1000
                   if event.event_type_value == "STEP_SUCCESS" else None)
        finished.append((step, _OUTCOME[event.event_type_value], seconds))
    return Progress(len(finished), total, tuple(running), time.monotonic() - started, tuple(finished))


def run_municipality(municipality: int, inbox: Path | None = None, home: Path | None = None, sync: bool = False,
                     extra_resources: dict | None = None, raise_on_error: bool = False,
                     log_level: str = "CRITICAL",
                     on_progress: Callable[[Progress], None] | None = None,
                     poll_seconds: float = 0.5) -> RunSummary:
    """Run the chain for one municipality in this process. `log_level` is Dagster's console log (CRITICAL: quiet;
    the CLI shows progress and a summary instead); `on_progress` is called while the run works, from this thread."""
    from pipelines.definitions import build_definitions  # loads every asset module: keep the CLI start fast

    home = (home or toshav_home()).resolve()
    resources = {"duckdb": MunicipalityDuckDB(home=str(home))}
    if inbox is not None:
        resources["inbox"] = Inbox(path=str(Path(inbox).resolve()))
    resources.update(extra_resources or {})
    definitions = build_definitions(resources)
    instance = dagster_instance(home)
    key = municipality_key(municipality)        # a CBS code in its one written form (070 -> 70); unknown: refused
    add_municipalities(instance, [key])
    ensure_not_busy(instance, key)             # a queued or running Dagster run of it: MunicipalityBusy
    job = definitions.resolve_job_def("full_sync_job" if sync else "resident_file_job")
    run_id = str(uuid.uuid4())   # known before the run starts, so its events can be followed
    outcome: dict = {}

    def execute() -> None:
        try:
            outcome["result"] = job.execute_in_process(
                partition_key=key, instance=instance, raise_on_error=raise_on_error, run_id=run_id,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}})
        except BaseException as error:  # handed to the calling thread, which raises it
            outcome["error"] = error

    started = time.monotonic()
    worker = threading.Thread(target=execute, name=f"toshav-run-{key}", daemon=True)
    worker.start()
    steps = job.graph.node_names()   # an asset job's step keys are its node names
    while worker.is_alive():
        worker.join(poll_seconds)
        if on_progress is not None:
            on_progress(_progress_of(instance.all_logs(run_id), len(steps), started))
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if on_progress is not None:
        on_progress(_progress_of(instance.all_logs(run_id), len(steps), started))
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
        elif event.event_type_value == "STEP_FAILURE":
            summary.failures[event.step_key] = root_cause(event.event_specific_data.error)
    assets = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
    summary.not_updated = [a for a in assets if a not in summary.asset_metadata]
    return summary
