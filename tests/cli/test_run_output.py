"""What a person sees at the terminal: progress while the chain works, one plain line per problem (the file and what
is wrong, what was and was not updated), no stack trace unless --debug, and "busy" when another process holds the
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


def toshav(*args: str, home, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "TOSHAV_HOME": str(home), "COLUMNS": "200"}
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


def test_a_broken_delivery_ends_in_one_plain_line_naming_the_file(sample):
    inbox = sample / "sample" / "inbox"
    (inbox / str(MUNI) / "yachad" / "yachad_zz_broken.csv").write_bytes(b"")
    done = toshav("run", "--municipality", str(MUNI), "--inbox", str(inbox), home=sample / "home")
    out = done.stdout + done.stderr
    assert done.returncode == 1
    no_stack_trace(out)
    assert "Not executing" not in out
    errors = [line for line in out.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "yachad_zz_broken.csv" in errors[0] and "empty" in errors[0]
    assert "SourceFileError" not in errors[0]
    updated = next(line for line in out.splitlines() if line.startswith("updated:"))
    assert "stg_population_register" in updated
    not_updated = next(line for line in out.splitlines() if line.startswith("not updated"))
    assert "resident_file" in not_updated and "stg_yachad" in not_updated
    # progress: one line per finished step, outside a terminal
    steps = re.findall(r"^\[\s*(\d+)/(\d+)\] (\S+) (done|failed)", out, re.M)
    assert ("raw_yachad", "failed") in {(s, o) for _, _, s, o in steps}
    assert [int(n) for n, _, _, _ in steps] == list(range(1, len(steps) + 1))
    (inbox / str(MUNI) / "yachad" / "yachad_zz_broken.csv").unlink()


def test_debug_shows_the_trace(sample):
    inbox = sample / "sample" / "inbox"
    broken = inbox / str(MUNI) / "yachad" / "yachad_zz_broken2.csv"
    broken.write_bytes(b"")
    try:
        done = toshav("run", "--municipality", str(MUNI), "--inbox", str(inbox), "--debug", home=sample / "home")
    finally:
        broken.unlink()
    assert done.returncode == 1
    assert re.search(r'^\s+File "', done.stdout + done.stderr, re.M)     # the step's stack frames, from Dagster's log


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
