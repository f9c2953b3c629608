"""The production shape, for real: PostgreSQL (Debian's), the real `dagster-daemon` with the shipped dagster.yaml and
workspace.yaml, the nightly tick over 12 municipalities of mixed sizes with real CBS codes, and the inbox sensor
adding a second run of one municipality while its nightly run is queued or running.

All runs succeed, at most one run per municipality is ever in progress (the run records' start and end times), the
global limit holds, identical bytes start no run, and each municipality's readers get a published file."""

from __future__ import annotations

import shutil
import time

import dagster as dg
import pytest

from pipelines.partitions import add_municipalities
from pipelines.publishing import published_run, served_rows
from pipelines.run_queue import MunicipalityBusy, PARTITION_TAG, ensure_not_busy
from pipelines.sample_data import generate
from tests.runs.services import daemon, deployment, nightly_cron_in, postgres, wait_for

# Real CBS locality codes (Ashdod, Holon, Jerusalem, Tel Aviv-Yafo, Haifa, Petah Tikva, Rishon LeZion, Bnei Brak,
# Be'er Sheva, Karmiel, Rosh HaAyin, Herzliya) with small, mixed sizes: what this shared machine affords.
SIZES = {70: 260, 6600: 120, 3000: 200, 5000: 90, 4000: 160, 7900: 70, 8300: 220, 6100: 80, 9000: 140, 1139: 60,
         2640: 100, 6400: 180}
MAX_RUNS = 2
CHANGED, TOUCHED = 6600, 5000        # one gets new bytes while its nightly run waits; one gets the same bytes again
FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


def overlaps(intervals: list[tuple[float, float]]) -> bool:
    intervals = sorted(intervals)
    return any(later[0] < earlier[1] for earlier, later in zip(intervals, intervals[1:]))


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


@pytest.fixture(scope="module")
def pg_url():
    with postgres() as url:
        yield url


@pytest.mark.e2e
@pytest.mark.timeout(3600)
def test_nightly_tick_over_12_municipalities_with_the_real_daemon_and_postgres(tmp_path, pg_url):
    sample = tmp_path / "sample"
    for code, residents in SIZES.items():
        generate(code, residents, sample, seed=code)
    inbox = sample / "inbox"
    dep = deployment(tmp_path, pg_url, tmp_path / "toshav_home", inbox, MAX_RUNS,
                     TOSHAV_NIGHTLY_CRON=nightly_cron_in(3), TOSHAV_INBOX_SENSOR_SECONDS="5")
    instance = dep.instance()
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert add_municipalities(instance, SIZES) == sorted(map(str, SIZES), key=int)

    queued_at_most = 0

    def runs():
        return instance.get_run_records()

    def watch():
        nonlocal queued_at_most
        queued_at_most = max(queued_at_most, sum(r.dagster_run.status == dg.DagsterRunStatus.QUEUED for r in runs()))

    with daemon(dep, tmp_path / "daemon.log"):
        # the sensor (every 5 s) has recorded the inbox as it is by the time the first minute's nightly tick asked
        # for its runs; then a file of CHANGED gets new bytes and a file of TOUCHED is copied again, same bytes
        wait_for(lambda: [r for r in runs() if r.dagster_run.tags.get("toshav/trigger") == "nightly"], 600,
                 on_poll=watch)
        time.sleep(10)
        changed = next((inbox / str(CHANGED) / "yachad").iterdir())
        changed.write_bytes(changed.read_bytes().replace(b"\n", b"\r\n", 1))  # same rows, new bytes
        touched = next((inbox / str(TOUCHED) / "yachad").iterdir())
        shutil.copyfile(touched, touched.with_suffix(".tmp"))
        touched.with_suffix(".tmp").replace(touched)
        inbox_run = wait_for(lambda: [r for r in runs() if r.dagster_run.tags.get("toshav/trigger") == "inbox"]
                             or None, 600, on_poll=watch)
        # `toshav run` asks the same question the queue answers
        with pytest.raises(MunicipalityBusy, match=f"municipality {CHANGED} is busy: run "):
            ensure_not_busy(instance, CHANGED)
        wait_for(lambda: len(runs()) >= len(SIZES) + 1 and all(r.dagster_run.status in FINISHED for r in runs()),
                 3000, every=5, on_poll=watch)
        time.sleep(15)                 # one more sensor interval: identical bytes must not have started a run

    records = runs()
    statuses = {r.dagster_run.run_id: r.dagster_run.status for r in records}
    assert all(s == dg.DagsterRunStatus.SUCCESS for s in statuses.values()), _failures(instance, records)
    assert sorted(int(r.dagster_run.tags[PARTITION_TAG]) for r in records if
                  r.dagster_run.tags.get("toshav/trigger") == "nightly") == sorted(SIZES)
    assert [int(r.dagster_run.tags[PARTITION_TAG]) for r in inbox_run] == [CHANGED]   # not TOUCHED: same bytes
    assert len(records) == len(SIZES) + 1
    by_municipality: dict[str, list] = {}
    for r in records:
        by_municipality.setdefault(r.dagster_run.tags[PARTITION_TAG], []).append((r.start_time, r.end_time))
    assert len(by_municipality[str(CHANGED)]) == 2
    assert not [m for m, spans in by_municipality.items() if overlaps(spans)]
    assert most_at_once([(r.start_time, r.end_time) for r in records]) <= MAX_RUNS
    home = tmp_path / "toshav_home"
    for code in SIZES:
        assert served_rows(code, home)["resident_file"] > 0
    last_changed = max((r for r in records if r.dagster_run.tags[PARTITION_TAG] == str(CHANGED)),
                       key=lambda r: r.end_time)
    assert published_run(CHANGED, home)[0] == last_changed.dagster_run.run_id
    print(f"runs: {len(records)}, queued at most: {queued_at_most}")
    instance.dispose()


def _failures(instance, records) -> str:
    lines = []
    for r in records:
        if r.dagster_run.status != dg.DagsterRunStatus.SUCCESS:
            failures = [e for e in instance.all_logs(r.dagster_run.run_id)
                        if e.dagster_event and e.dagster_event.event_type_value in ("STEP_FAILURE", "RUN_FAILURE")]
            lines.append(f"{r.dagster_run.tags.get(PARTITION_TAG)} {r.dagster_run.status}: "
                         + "; ".join(str(e.dagster_event.message)[:300] for e in failures))
    return "\n".join(lines)
