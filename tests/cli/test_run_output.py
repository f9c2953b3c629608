"""What a person sees at the terminal: progress while the chain works, a rejected file named with what was not
updated (the run goes on), one plain line per failed step, no stack trace unless --debug, and "busy" when another process holds the
municipality's database. The real `toshav` command in a subprocess, on a small generated municipality."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from pipelines.settings import municipality_db_path

pytestmark = pytest.mark.e2e

MUNI = 6600


def toshav(*args: str, home, timeout: int = 900, **extra_env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOSHAV_HOME": str(home), "COLUMNS": "200", **extra_env}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    done = toshav("generate", "--municipality", str(MUNI), "--residents", "300", "--out", str(root / "sample"),
                  home=root / "home")
    assert done.returncode == 0, done.stderr
    return root


def no_stack_trace(text: str) -> None:
    assert "Traceback" not in text
    assert not re.search(r'^\s+File "', text, re.M)


def test_a_broken_delivery_is_rejected_as_a_file_and_the_run_goes_on(sample):
    # issue 11: a broken file is rejected as a file, not as a run; its source keeps its last good delivery
    inbox = sample / "sample" / "inbox"
    broken = inbox / str(MUNI) / "yachad" / "yachad_zz_broken.csv"
    broken.write_bytes(b"")
    try:
        done = toshav("run", "--municipality", str(MUNI), "--inbox", str(inbox), home=sample / "home")
    finally:
        broken.unlink()
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    no_stack_trace(out)
    rejected = [line for line in out.splitlines() if line.startswith("rejected")]
    assert len(rejected) == 1 and "yachad_zz_broken.csv" in rejected[0] and "empty" in rejected[0]
    assert "yachad not updated" in rejected[0] and "SourceFileError" not in rejected[0]
    # progress: one line per finished step, outside a terminal; the chain went on to the resident file
    steps = re.findall(r"^\[\s*(\d+)/(\d+)\] (\S+) (done|failed)", out, re.M)
    assert {("raw_yachad", "done"), ("resident_file", "done")} <= {(s, o) for _, _, s, o in steps}
    assert [int(n) for n, _, _, _ in steps] == list(range(1, len(steps) + 1))


def test_a_failed_step_is_one_plain_line_and_debug_shows_the_trace(sample):
    # steps that fail: the municipality's working file is not a database (a disk fault, a file copied over it)
    inbox, home = sample / "sample" / "inbox", sample / "home-with-a-broken-file"
    broken = municipality_db_path(MUNI, home)
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"this is not a DuckDB database")
    plain = toshav("run", "--municipality", str(MUNI), "--inbox", str(inbox), home=home)
    out = plain.stdout + plain.stderr
    assert plain.returncode == 1
    no_stack_trace(out)
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert errors and all(re.match(r"error: \w+: IOException \(message withheld", line) for line in errors)
    assert "error: raw_population_register:" in out
    not_updated = next(line for line in out.splitlines() if line.startswith("not updated"))
    assert "resident_file" in not_updated and "published" in not_updated
    debug = toshav("run", "--municipality", str(MUNI), "--inbox", str(inbox), "--debug", home=home)
    assert debug.returncode == 1
    assert re.search(r'^\s+File "', debug.stdout + debug.stderr, re.M)     # the step's stack frames, from Dagster's log


def test_a_municipality_held_by_another_process_is_busy(sample):
    path = municipality_db_path(MUNI, sample / "home")
    path.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(600)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        done = toshav("run", "--municipality", str(MUNI), "--inbox", str(sample / "sample" / "inbox"), home=sample / "home")
    finally:
        holder.kill()
        holder.wait()
    out = done.stdout + done.stderr
    assert done.returncode == 75
    no_stack_trace(out)
    assert "busy" in out and "IOException" not in out


def test_an_error_outside_a_run_is_one_line(tmp_path):
    done = toshav("generate", "--municipality", "99999", "--residents", "100", "--out", str(tmp_path / "x"),
                  home=tmp_path / "home")
    assert done.returncode == 1
    no_stack_trace(done.stdout + done.stderr)
    assert done.stderr.strip().splitlines() == [
        "toshav: error: municipality 99999: the national street registry has no streets for this CBS locality code"]


def test_a_queued_dagster_run_makes_toshav_run_say_busy(sample):
    """`toshav run` asks the instance the queue uses ($TOSHAV_HOME/dagster): a run of the municipality in progress
    there means exit 75 and a line naming that run, before anything is opened."""
    import dagster as dg

    from pipelines.run_queue import PARTITION_TAG
    from pipelines.runner import dagster_instance

    home = sample / "home"
    os.environ["DAGSTER_HOME"] = str(home / "dagster")
    try:
        instance = dagster_instance(home)
        run = dg.DagsterRun(job_name="resident_file_job", status=dg.DagsterRunStatus.STARTED,
                            tags={PARTITION_TAG: str(MUNI)})
        instance.add_run(run)
        done = toshav("run", "--municipality", f"0{MUNI}", "--inbox", str(sample / "sample" / "inbox"), home=home)
        instance.delete_run(run.run_id)
    finally:
        os.environ.pop("DAGSTER_HOME", None)
    out = done.stdout + done.stderr
    assert done.returncode == 75
    no_stack_trace(out)
    assert f"municipality {MUNI} is busy: run {run.run_id}" in out
