"""The whole chain, in process, on a small generated municipality: Dagster job → DuckDB file → local MuniForce."""

import datetime
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from connectors.muniforce.standin import start_standin
from pipelines.definitions import build_definitions, defs
from pipelines.resources import Inbox, MuniForce, MunicipalityDuckDB
from pipelines.sample_data import generate
from pipelines.private_files import exposed
from pipelines.settings import municipality_db_path
from schemas.sources import SOURCES

pytestmark = pytest.mark.e2e   # the whole chain in Dagster

MUNI = 6600
CHAIN = ["reference", *[f"raw_{s}" for s in SOURCES], *[f"stg_{s}" for s in SOURCES],
         "identity", "resident_file", "emergency_profile", "resident_file_history", "muniforce_sync"]


def test_definitions_have_the_chain_jobs_schedule_and_sensor():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert set(CHAIN) <= keys
    for key in CHAIN:
        assert graph.get(dg.AssetKey(key)).partitions_def.name == "municipality"
    assert {j.name for j in defs.jobs} >= {"resident_file_job", "full_sync_job"}
    schedule = defs.resolve_schedule_def("nightly")
    assert schedule.execution_timezone == "Asia/Jerusalem" and schedule.cron_schedule == "0 2 * * *"
    assert defs.resolve_sensor_def("inbox_sensor").job_name in {"resident_file_job", "full_sync_job"}


def test_dagster_cli_loads_the_code_location():
    out = subprocess.run([sys.executable, "-m", "dagster", "definitions", "validate", "-m", "pipelines.definitions"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    generate(MUNI, 1500, out, seed=11, as_of=datetime.date.today())   # fresh: the register's staleness blocks the sync
    return out


def _instance_with_partition():
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("municipality", [str(MUNI)])
    return instance


def test_full_chain_materializes_and_syncs(generated, tmp_path):
    home = tmp_path / "home"
    with start_standin(tmp_path / "standin.sqlite3") as standin:
        resources = {"duckdb": MunicipalityDuckDB(home=str(home)), "inbox": Inbox(path=str(generated / "inbox")),
                     "muniforce": MuniForce(instance_url=standin.url, session_id=standin.session_id)}
        job = build_definitions(resources).resolve_job_def("full_sync_job")
        instance = _instance_with_partition()
        first = job.execute_in_process(partition_key=str(MUNI), instance=instance)
        assert first.success
        materialized = {e.asset_key.to_user_string() for e in first.get_asset_materialization_events()}
        assert set(CHAIN) <= materialized
        checks = first.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks if c.severity == dg.AssetCheckSeverity.ERROR)

        _assert_no_personal_values(first, generated)
        # everything written is owner-only, whatever the test process's umask: the data folder, the stand-in's,
        # and the generated inbox and ground truth
        assert exposed(home) == [] and exposed(generated) == []
        assert exposed(tmp_path / "standin.sqlite3") == []

        con = duckdb.connect(str(municipality_db_path(MUNI, home)), read_only=True)
        # nothing lost: every delivered row is staged or quarantined
        for source in SOURCES:
            delivered, staged, quarantined = con.execute(f"""
                SELECT (SELECT rows + malformed FROM deliveries WHERE source = '{source}' AND status = 'ingested'),
                       (SELECT count(*) FROM stg_{source}),
                       (SELECT count(*) FROM quarantine WHERE source = '{source}')""").fetchone()
            assert delivered == staged + quarantined, source
        residents = con.execute("SELECT count(*) FROM resident_file").fetchone()[0]
        synced = con.execute("SELECT count(*) FROM muniforce_sync_state WHERE target = 'Account' AND last_status <> 'rejected'").fetchone()[0]
        con.close()
        assert 1400 <= residents <= 1700
        assert synced >= residents * 0.99

        # the same inbox again: nothing new ingested, nothing re-sent
        second = job.execute_in_process(partition_key=str(MUNI), instance=instance)
        assert second.success
        meta = {e.asset_key.to_user_string(): e.materialization.metadata for e in second.get_asset_materialization_events()}
        assert all(meta[f"raw_{s}"]["files_ingested"].value == 0 for s in SOURCES)
        sync = meta["muniforce_sync"]
        assert sync["created"].value == 0 and sync["updated"].value == 0


def _assert_no_personal_values(result, generated):
    """No ID number, phone or full name of any true person in the run's log messages or metadata."""
    texts = []
    for event in result.all_events:
        texts.append(event.message or "")
        data = event.event_specific_data
        for holder in (getattr(data, "materialization", None), data):
            metadata = getattr(holder, "metadata", None)
            if isinstance(metadata, dict):
                texts += [f"{k}={v.value}" for k, v in metadata.items()]
    blob = "\n".join(texts)
    persons = duckdb.sql(f"SELECT national_id, mobile_phone, first_name || ' ' || last_name, last_name || ' ' || first_name "
                         f"FROM read_parquet('{generated / 'truth' / str(MUNI) / 'persons.parquet'}')").fetchall()
    leaked = [v for row in persons for v in row if v and len(v) >= 5 and v in blob]
    assert len(blob) > 10_000 and not leaked, f"{len(leaked)} personal values in logs/metadata"
