"""Writers never block readers: a run publishes a checked serving file by atomic rename; readers open only that;
a failed run (or a failing blocking check) publishes nothing."""

import stat
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from pipelines.defs.publishing import published, published_state_is_this_runs
from pipelines.partitions import municipality_partitions
from pipelines.publishing import NothingToPublish, publish, published_run, served_rows
from pipelines.resources import MunicipalityDuckDB
from pipelines.settings import municipality_db_path, serving_db_path
from quality.checks import asset_checks
from quality.suites import suites, suites_of
from serving.queries import run_query
from schemas.model import ddl
from tests.quality.conftest import MUNI, add_profiles, add_residents


def working_file(home, residents: int) -> duckdb.DuckDBPyConnection:
    path = municipality_db_path(MUNI, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE IF EXISTS emergency_profile; DROP TABLE IF EXISTS resident_file")
    add_residents(con, residents)
    add_profiles(con, "floor > 6")
    no_emergency_system_reports(con)
    return con


def no_emergency_system_reports(con: duckdb.DuckDBPyConnection) -> None:
    """The table a run builds beside the profile: here empty (no Yachad delivery)."""
    con.execute("DROP TABLE IF EXISTS emergency_system_reports")
    con.execute(ddl("emergency_system_reports"))


def test_publish_copies_the_served_tables_into_an_owner_only_file_and_leaves_no_staging_file(tmp_path):
    con = working_file(tmp_path, 30)
    con.execute("CREATE TABLE identity_registry AS SELECT 1 AS x")        # not served
    publication = publish(con, MUNI, tmp_path, run_id="run-1")
    con.close()
    assert publication.rows == {"resident_file": 30, "emergency_profile": 6, "emergency_system_reports": 0}
    assert published_run(MUNI, tmp_path)[0] == "run-1"
    path = serving_db_path(MUNI, tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["serving.duckdb", "toshav.duckdb"]
    with duckdb.connect(str(path), read_only=True) as served:
        tables = {r[0] for r in served.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert tables == {"resident_file", "emergency_profile", "emergency_system_reports", "publication"}


def test_publish_refuses_a_working_file_without_the_resident_file(tmp_path):
    path = municipality_db_path(MUNI, tmp_path)
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con, pytest.raises(NothingToPublish, match="resident_file"):
        publish(con, MUNI, tmp_path, run_id="run-1")
    assert not serving_db_path(MUNI, tmp_path).exists()
    assert sorted(p.name for p in path.parent.iterdir()) == ["toshav.duckdb"]


def test_an_open_reader_keeps_its_state_and_the_next_reader_sees_the_new_one(tmp_path):
    con = working_file(tmp_path, 10)
    publish(con, MUNI, tmp_path, run_id="run-1")
    reader = duckdb.connect(str(serving_db_path(MUNI, tmp_path)), read_only=True)
    add_residents(con, 5, start=10)
    publish(con, MUNI, tmp_path, run_id="run-2")
    con.close()
    assert reader.execute("SELECT count(*) FROM resident_file").fetchall() == [(10,)]
    reader.close()
    assert served_rows(MUNI, tmp_path)["resident_file"] == 15


HOLD_FOR_WRITING = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("DELETE FROM emergency_profile")      # the run rebuilds what readers read
con.execute("BEGIN TRANSACTION")
con.execute("UPDATE resident_file SET last_name = last_name")
print("holding", flush=True)
sys.stdin.read()
"""


def test_a_query_while_a_run_holds_the_working_file_gets_the_published_state_without_error(tmp_path):
    con = working_file(tmp_path, 40)
    publish(con, MUNI, tmp_path, run_id="run-1")
    con.close()
    # a run in another process holds DuckDB's write lock on the working file (as every pipeline step does)
    writer = subprocess.Popen([sys.executable, "-c", HOLD_FOR_WRITING, str(municipality_db_path(MUNI, tmp_path))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):          # what readers used to hit
            duckdb.connect(str(municipality_db_path(MUNI, tmp_path)), read_only=True)
        result = run_query("alone_without_support", MUNI, {}, role="emergency_manager", user="dana", home=tmp_path)
        assert len(result.rows) == 8                     # the 8 profiled residents (floor 7 or 8) published before
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)


# --- the Dagster step: gated by the blocking checks of the assets it reads ---------------------------------------

class Crafted(dg.Config):
    residents: int = 200
    without_valid_id: int = 0      # residents whose ID was unusable: fails a blocking check on resident_file


@dg.asset(name="resident_file", partitions_def=municipality_partitions)
def crafted_resident_file(config: Crafted, duckdb: MunicipalityDuckDB) -> None:
    with duckdb.connect(MUNI) as con:
        con.execute("DROP TABLE IF EXISTS emergency_profile; DROP TABLE IF EXISTS resident_file")
        add_residents(con, config.residents)
        con.execute("UPDATE resident_file SET national_id = NULL, id_type = 'Unknown' WHERE resident_key IN "
                    f"(SELECT resident_key FROM resident_file ORDER BY resident_key LIMIT {config.without_valid_id})")


@dg.asset(name="emergency_profile", partitions_def=municipality_partitions, deps=["resident_file"])
def crafted_emergency_profile(duckdb: MunicipalityDuckDB) -> None:
    with duckdb.connect(MUNI) as con:
        add_profiles(con, "floor > 6")
        no_emergency_system_reports(con)


@dg.asset(name="resident_file_history", partitions_def=municipality_partitions, deps=["resident_file"])
def crafted_history() -> None:
    pass


def run_and_publish(home, **crafted) -> tuple[dg.ExecuteInProcessResult, set[str]]:
    groups = suites_of(suites())
    defs = dg.Definitions(
        assets=[crafted_resident_file, crafted_emergency_profile, crafted_history, published],
        asset_checks=[*(asset_checks(a, groups[a]) for a in ("resident_file", "emergency_profile")),
                      published_state_is_this_runs],
        jobs=[dg.define_asset_job("build", selection=dg.AssetSelection.all())],
        resources={"duckdb": MunicipalityDuckDB(home=str(home))})
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(municipality_partitions.name, [str(MUNI)])
    result = defs.resolve_job_def("build").execute_in_process(
        partition_key=str(MUNI), instance=instance, raise_on_error=False,
        run_config={"ops": {"resident_file": {"config": crafted}}})
    return result, {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def test_a_checked_run_publishes_and_a_run_failing_a_blocking_check_publishes_nothing(tmp_path):
    good, materialized = run_and_publish(tmp_path)
    assert good.success and "published" in materialized
    [own] = [c for c in good.get_asset_check_evaluations() if c.check_name == "published_state_is_this_runs"]
    assert own.passed
    assert published_run(MUNI, tmp_path)[0] == good.run_id
    assert served_rows(MUNI, tmp_path)["resident_file"] == 200

    bad, materialized = run_and_publish(tmp_path, residents=300, without_valid_id=150)
    assert not bad.success and "published" not in materialized
    assert published_run(MUNI, tmp_path)[0] == good.run_id            # readers keep the last checked state
    assert served_rows(MUNI, tmp_path)["resident_file"] == 200
    with duckdb.connect(str(municipality_db_path(MUNI, tmp_path)), read_only=True) as working:
        assert working.execute("SELECT count(*) FROM resident_file").fetchall() == [(300,)]
