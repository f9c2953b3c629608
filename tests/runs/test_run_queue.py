"""`toshav run` asks the question the run queue answers: is a run of this municipality queued or in progress?"""

import dagster as dg
import pytest

from pipelines.run_queue import PARTITION_TAG, MunicipalityBusy, ensure_not_busy, runs_in_the_way


def add_run(instance, municipality: str, status: dg.DagsterRunStatus) -> str:
    run = dg.DagsterRun(job_name="resident_file_job", status=status, tags={PARTITION_TAG: municipality})
    instance.add_run(run)
    return run.run_id


def test_a_queued_or_running_run_makes_the_municipality_busy_and_names_the_run():
    instance = dg.DagsterInstance.ephemeral()
    add_run(instance, "70", dg.DagsterRunStatus.SUCCESS)
    add_run(instance, "70", dg.DagsterRunStatus.FAILURE)
    ensure_not_busy(instance, 70)                                  # finished runs are not in the way
    # a queued run needs a code location's origin: the deployment test covers QUEUED with the real daemon
    queued = add_run(instance, "70", dg.DagsterRunStatus.NOT_STARTED)
    started = add_run(instance, "70", dg.DagsterRunStatus.STARTED)
    with pytest.raises(MunicipalityBusy, match=f"^municipality 70 is busy: run {queued}$") as busy:
        ensure_not_busy(instance, "070")
    assert (busy.value.municipality, busy.value.run_id) == (70, queued)
    assert runs_in_the_way(instance, 70) == [queued, started]
    assert runs_in_the_way(instance, 70, exclude_run_id=queued) == [started]   # a run does not wait for itself
    ensure_not_busy(instance, 6600)                                # other municipalities are not affected


def test_a_run_of_a_municipality_whose_run_lock_is_held_stops_before_opening_any_file(tmp_path):
    from pipelines.defs.publishing import published
    from pipelines.resources import MunicipalityDuckDB
    from pipelines.run_queue import municipality_lock
    from pipelines.settings import municipality_db_path

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("municipality", ["70"])
    resources = {"duckdb": MunicipalityDuckDB(home=str(tmp_path))}
    with municipality_lock(70, "run-holding-it", tmp_path):       # another run of 70, e.g. `toshav run`
        result = dg.materialize([published], partition_key="70", instance=instance, raise_on_error=False,
                                resources=resources)
    assert not result.success
    assert "municipality 70 is busy: run run-holding-it" in error_messages(result)
    assert not municipality_db_path(70, tmp_path).exists()
    # released: the next run gets past the lock (and fails later, on the empty file, for its own reason)
    again = dg.materialize([published], partition_key="70", instance=instance, raise_on_error=False,
                           resources=resources)
    assert "is busy" not in error_messages(again)


def error_messages(result) -> str:
    """Every error message of a run's events, causes included."""
    found = []
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None)
        while error is not None:
            found.append(error.message)
            error = error.cause
    return "\n".join(found)
