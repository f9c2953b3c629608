"""The suites as Dagster asset checks: every asset has checks, Great Expectations stays out of load time, and a
failing blocking check stops the MuniForce sync in the same run (the real sync asset against the local stand-in)."""

import subprocess
import sys

import dagster as dg
import pytest

from connectors.muniforce.standin import start_standin
from pipelines.defs.muniforce import muniforce_sync
from pipelines.partitions import municipality_partitions
from pipelines.resources import MuniForce, MunicipalityDuckDB
from quality.checks import asset_checks
from quality.suites import suites, suites_of
from tests.quality.conftest import MUNI, add_profiles, add_residents
from tests.muniforce.conftest import deliver_register_today


def test_every_asset_of_the_pipeline_has_checks():
    from pipelines.definitions import build_definitions

    graph = build_definitions().get_repository_def().asset_graph
    checked = {k.asset_key for k in graph.asset_check_keys}
    assets = set(graph.get_all_asset_keys())
    assert assets, "no assets loaded"
    assert not assets - checked, f"assets without checks: {sorted(a.to_user_string() for a in assets - checked)}"
    for expected in ("reference", "raw_population_register", "stg_population_register", "resident_file",
                     "emergency_profile", "muniforce_sync"):
        assert dg.AssetKey(expected) in checked
    # one check per expectation
    n_checks = sum(1 for k in graph.asset_check_keys if k.asset_key == dg.AssetKey("resident_file"))
    assert n_checks == sum(len(s.expectations) for s in suites_of(suites())["resident_file"])


def test_loading_the_code_location_does_not_import_great_expectations():
    code = "import sys, pipelines.definitions; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class Crafted(dg.Config):
    residents: int = 200
    without_valid_id: int = 0      # residents whose ID was unusable (as from a register with broken IDs)
    bad_emails: int = 0


@dg.asset(name="resident_file", partitions_def=municipality_partitions)
def crafted_resident_file(config: Crafted, duckdb: MunicipalityDuckDB) -> None:
    with duckdb.connect(MUNI) as con:
        con.execute("DROP TABLE IF EXISTS emergency_profile; DROP TABLE IF EXISTS resident_file")
        add_residents(con, config.residents)
        deliver_register_today(con)
        con.execute("UPDATE resident_file SET national_id = NULL, id_type = 'Unknown' WHERE resident_key IN "
                    f"(SELECT resident_key FROM resident_file ORDER BY resident_key LIMIT {config.without_valid_id})")
        con.execute("UPDATE resident_file SET email = 'no-at-sign' WHERE resident_key IN "
                    f"(SELECT resident_key FROM resident_file ORDER BY resident_key DESC LIMIT {config.bad_emails})")


@dg.asset(name="emergency_profile", partitions_def=municipality_partitions, deps=["resident_file"])
def crafted_emergency_profile(duckdb: MunicipalityDuckDB) -> None:
    with duckdb.connect(MUNI) as con:
        add_profiles(con, "floor > 6")


@pytest.fixture
def standin(tmp_path):
    s = start_standin(tmp_path / "muniforce.sqlite")
    yield s
    s.stop()


def run_sync(tmp_path, standin, **crafted):
    """The crafted upstream, the real quality checks and the real muniforce_sync, in one partitioned run."""
    groups = suites_of(suites())
    defs = dg.Definitions(
        assets=[crafted_resident_file, crafted_emergency_profile, muniforce_sync],
        asset_checks=[asset_checks(a, groups[a]) for a in ("resident_file", "emergency_profile", "muniforce_sync")],
        jobs=[dg.define_asset_job("sync", selection=dg.AssetSelection.all())],
        resources={"duckdb": MunicipalityDuckDB(home=str(tmp_path / "home")),
                   "muniforce": MuniForce(instance_url=standin.url, session_id=standin.session_id)})
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(municipality_partitions.name, [str(MUNI)])
    result = defs.resolve_job_def("sync").execute_in_process(
        partition_key=str(MUNI), instance=instance, raise_on_error=False,
        run_config={"ops": {"resident_file": {"config": crafted}}})
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()
                    for e in [e.event_specific_data.materialization]}
    checks = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    return result, materialized, checks


@pytest.mark.e2e   # a Dagster run: crafted resident file, the real checks and the real sync
def test_good_data_is_synced(tmp_path, standin):
    result, materialized, checks = run_sync(tmp_path, standin)
    assert result.success
    assert "muniforce_sync" in materialized
    assert all(c.passed for c in checks.values()), [k for k, c in checks.items() if not c.passed]
    assert len(standin.records("Account")) == 200
    assert checks[("muniforce_sync", "rejected_share")].passed      # the post-sync suite ran too


@pytest.mark.e2e   # a Dagster run: crafted resident file, the real checks and the real sync
def test_a_failing_blocking_check_stops_the_sync(tmp_path, standin):
    # half the residents without a usable ID: what a register delivery with half the IDs broken leaves
    result, materialized, checks = run_sync(tmp_path, standin, without_valid_id=100)
    failing = checks[("resident_file", "residents_with_valid_id_share")]
    assert not failing.passed and failing.severity == dg.AssetCheckSeverity.ERROR
    assert failing.metadata["unexpected"].value == 100
    assert "resident_file" in materialized
    assert "muniforce_sync" not in materialized and "emergency_profile" not in materialized
    assert standin.records("Account") == []                      # nothing reached MuniForce
    assert not result.success


@pytest.mark.e2e   # a Dagster run: crafted resident file, the real checks and the real sync
def test_a_failing_warn_check_does_not_block(tmp_path, standin):
    result, materialized, checks = run_sync(tmp_path, standin, bad_emails=10)
    warn = checks[("resident_file", "payload_account_personemail_email")]
    assert not warn.passed and warn.severity == dg.AssetCheckSeverity.WARN
    assert warn.metadata["unexpected"].value == 10
    assert "muniforce_sync" in materialized
    assert len(standin.records("Account")) >= 190
