"""One run per municipality: the rule the shipped run queue enforces (deploy/dagster.yaml), in code for callers
that start runs outside the queue (`toshav run` executes in process).

The queue limits in-progress runs per value of Dagster's partition tag to one, so a second run of a municipality
waits in the queue until the first ends. A caller that does not go through the queue asks `ensure_not_busy` first
and gets `MunicipalityBusy` naming the run in the way. Behind both, every run holds the municipality's run lock
(`municipality_lock`, taken by the MunicipalityDuckDB resource when the run starts): a run that slipped past the
queue (two `toshav run` at the same moment, a second Dagster instance) stops before it opens any file.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg

from connectors.errors import ToshavError
from pipelines.settings import municipality_dir

PARTITION_TAG = "dagster/partition"     # set by Dagster on every run of one partition
# Queued or running: what holds (or will hold) the municipality's working file.
BUSY_STATUSES = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
                 dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


class MunicipalityBusy(ToshavError):
    """Another run of the municipality is queued or in progress."""

    def __init__(self, municipality: int | str, run_id: str):
        self.municipality = int(municipality)
        self.run_id = run_id
        super().__init__(f"municipality {self.municipality} is busy: run {run_id}")


def runs_in_the_way(instance: dg.DagsterInstance, municipality: int | str,
                    exclude_run_id: str | None = None) -> list[str]:
    """Ids of the municipality's queued or in-progress runs, oldest first."""
    records = instance.get_run_records(
        dg.RunsFilter(statuses=BUSY_STATUSES, tags={PARTITION_TAG: str(int(municipality))}), ascending=True)
    return [r.dagster_run.run_id for r in records if r.dagster_run.run_id != exclude_run_id]


def ensure_not_busy(instance: dg.DagsterInstance, municipality: int | str, exclude_run_id: str | None = None) -> None:
    """Raise `MunicipalityBusy` if another run of the municipality is queued or in progress."""
    in_the_way = runs_in_the_way(instance, municipality, exclude_run_id)
    if in_the_way:
        raise MunicipalityBusy(municipality, in_the_way[0])


@contextmanager
def municipality_lock(municipality: int | str, run_id: str, home: Path | None = None) -> Iterator[None]:
    """Hold the municipality's run lock (an flock on `municipalities/<code>/run.lock`, released when the process
    ends, however it ends) for the length of a run; `MunicipalityBusy` names the run holding it."""
    path = municipality_dir(municipality, home) / "run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode("ascii", "replace").strip() or "(unknown)"
        os.close(fd)
        raise MunicipalityBusy(municipality, holder) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, run_id.encode("ascii", "replace"), 0)
        yield
    finally:
        os.ftruncate(fd, 0)
        os.close(fd)            # closing the descriptor releases the flock
