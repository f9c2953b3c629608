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
