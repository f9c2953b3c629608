"""Faults, quota and a killed process: every record still ends up in MuniForce exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectors.muniforce.calls import RetryPolicy
from connectors.muniforce.client import connect
from connectors.muniforce.standin import start_standin
from connectors.muniforce.sync import sync_municipality
from tests.muniforce.conftest import MUNI, Sleeps, add_profiles, add_residents, live, make_db, options

pytestmark = pytest.mark.e2e   # whole syncs against a faulty stand-in, killed and run again

PROJECT = Path(__file__).resolve().parents[2]


def all_synced(con) -> bool:
    return con.execute("SELECT bool_and(last_status IN ('created', 'updated')) FROM muniforce_sync_state").fetchone()[0]


@pytest.mark.parametrize("bulk_threshold", [10_000, 100], ids=["collections", "bulk"])
def test_with_5xx_lost_answers_and_locks_every_record_is_synced_exactly_once(tmp_path, con, bulk_threshold):
    add_residents(con, 700)
    add_profiles(con, "hash(resident_key) % 3 = 0")
    profiles = con.execute("SELECT count(*) FROM emergency_profile").fetchone()[0]
    sleeps = Sleeps()
    opts = options(bulk_threshold=bulk_threshold, bulk_chunk_rows=250,
                   retry=RetryPolicy(attempts=6, base_delay=0.5, factor=2, sleep=sleeps))
    with start_standin(tmp_path / "faulty.sqlite", fail_every=4, lock_every=9) as org:
        report = sync_municipality(con, MUNI, connect(org.url, session_id=org.session_id), opts)
        stats = org.stats
        accounts, profs = live(org, "Account"), live(org, "Emergency_Profile__c")   # live() fails on duplicates
    assert stats["fault_5xx"] > 0
    if bulk_threshold > 700:
        assert stats["fault_5xx_after_commit"] > 0   # answers lost after the write: retried without duplicates
    assert len(accounts) == 700 and len(profs) == profiles
    assert report.totals.rejected == report.totals.pending == 0 and all_synced(con)
    assert set(sleeps.delays) <= {0.5, 1.0, 2.0, 4.0, 8.0}   # bounded exponential back-off
    locked = [r for r in accounts.values() if r["_writes"] > 1]
    assert all(r["_writes"] <= 3 for r in accounts.values()) and (locked or bulk_threshold < 700)


def test_a_bulk_job_that_crashes_half_way_is_finished_in_the_same_run(tmp_path, con):
    add_residents(con, 600)
    with start_standin(tmp_path / "crash.sqlite", crash_bulk_after=130, crash_bulk_jobs=2) as org:
        sf = connect(org.url, session_id=org.session_id)
        report = sync_municipality(con, MUNI, sf, options(bulk_threshold=100, bulk_chunk_rows=300))
        jobs = sf.restful("jobs/ingest")["records"]
        accounts = live(org, "Account")
    assert [j["state"] for j in jobs].count("Failed") == 2
    failed = [j for j in jobs if j["state"] == "Failed"][0]
    assert failed["numberRecordsProcessed"] == 130 and "InternalServerError" in failed["errorMessage"]
    assert len(accounts) == 600 and report.counts("Account").created == 600 and all_synced(con)
    assert max(r["_writes"] for r in accounts.values()) == 1   # processed records were not sent again


def test_quota_share_stops_cleanly_and_the_next_run_resumes(tmp_path, con):
    add_residents(con, 1500)
    with start_standin(tmp_path / "quota.sqlite", daily_limit=20) as org:
        sf = connect(org.url, session_id=org.session_id)
        first = sync_municipality(con, MUNI, sf, options(quota_share=0.5))
        assert first.stopped and "quota share" in first.stopped
        assert org.api_usage() <= 10   # 50 % of 20, never more
        done = first.counts("Account").created
        assert 0 < done < 1500 and first.counts("Account").pending == 1500 - done
        assert len(live(org, "Account")) == done
        pending = con.execute("SELECT count(*) FROM muniforce_sync_state WHERE last_status = 'pending'").fetchone()[0]
        assert pending == 1500 - done

        org.reset_api_usage()   # the next day
        org.daily_limit = 1000
        second = sync_municipality(con, MUNI, sf, options(quota_share=0.5))
        assert second.stopped is None and second.counts("Account").created == 1500 - done
        assert len(live(org, "Account")) == 1500 and all_synced(con)


def test_request_limit_exceeded_stops_cleanly_and_the_next_run_resumes(tmp_path, con):
    add_residents(con, 1500)
    sleeps = Sleeps()
    with start_standin(tmp_path / "limit.sqlite", daily_limit=30, other_tenants=3) as org:
        sf = connect(org.url, session_id=org.session_id)
        report = sync_municipality(con, MUNI, sf, options(quota_share=1.0,
                                                          retry=RetryPolicy(attempts=3, base_delay=1, sleep=sleeps)))
        assert report.stopped and "REQUEST_LIMIT_EXCEEDED" in report.stopped
        assert sleeps.delays == []   # the daily limit is reached: no point hammering, stop at once
        done = report.counts("Account").created
        assert 0 < done < 1500 and len(live(org, "Account")) == done
        org.reset_api_usage()
        org.set_faults(other_tenants=0)
        again = sync_municipality(con, MUNI, sf, options(quota_share=1.0))
        assert again.stopped is None and len(live(org, "Account")) == 1500 and all_synced(con)


SYNC_IN_CHILD = """
import sys
from pipelines.cli import app
import pipelines.cli.muniforce  # noqa: F401  (only this command module: the test does not depend on others)
sys.argv = ["toshav", "sync", "-m", "6600", "--bulk-threshold", sys.argv[1], "--bulk-chunk-rows", "300"]
app()
"""


@pytest.mark.parametrize("bulk_threshold", ["100000", "50"], ids=["collections", "bulk"])
def test_a_sync_killed_mid_run_converges_when_run_again(tmp_path, bulk_threshold):
    home = tmp_path / "home"
    db_path = home / "municipalities" / str(MUNI) / "toshav.duckdb"
    con = make_db(db_path)
    add_residents(con, 1200)
    add_profiles(con, "hash(resident_key) % 5 = 0")
    con.close()
    with start_standin(tmp_path / "kill.sqlite", latency=0.15) as org:
        env = {**os.environ, "TOSHAV_HOME": str(home), "MUNIFORCE_INSTANCE_URL": org.url,
               "MUNIFORCE_SESSION_ID": org.session_id, "PYTHONPATH": str(PROJECT)}
        child = subprocess.Popen([sys.executable, "-c", SYNC_IN_CHILD, bulk_threshold], cwd=PROJECT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        writes = ("collections_upsert", "bulk_results") if bulk_threshold == "100000" else ("bulk_results",)
        deadline = time.monotonic() + 60
        while sum(org.stats.get(w, 0) for w in writes) < 3 and time.monotonic() < deadline:
            assert child.poll() is None, child.stderr.read().decode()
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
        child.wait()
        partial = len(live(org, "Account"))
        assert 0 < partial < 1200   # killed mid-run

        org.set_faults(latency=0.0)
        con = make_db(db_path)
        report = sync_municipality(con, MUNI, connect(org.url, session_id=org.session_id),
                                   options(bulk_threshold=int(bulk_threshold), bulk_chunk_rows=300))
        accounts, profiles = live(org, "Account"), live(org, "Emergency_Profile__c")
        assert len(accounts) == 1200 and report.totals.pending == report.totals.rejected == 0
        assert len(profiles) == con.execute("SELECT count(*) FROM emergency_profile").fetchone()[0]
        assert all_synced(con)
        state = dict(con.execute("SELECT key, sf_id FROM muniforce_sync_state WHERE target = 'Account'").fetchall())
        assert state == {k: r["Id"] for k, r in accounts.items()}
        assert sync_municipality(con, MUNI, connect(org.url, session_id=org.session_id), options()).api_calls == 0
        con.close()
