"""The Dagster asset muniforce_sync: one partition per municipality, counts-only metadata, secrets by EnvVar."""

from __future__ import annotations

import dagster as dg
import pytest

from connectors.delivery import ensure_deliveries
from pipelines.defs.muniforce import muniforce_sync
from pipelines.resources import MuniForce, MunicipalityDuckDB, muniforce_from_env
from tests.muniforce.conftest import MUNI, add_profiles, add_residents, deliver_register_today, live, make_db


def test_asset_syncs_one_partition_and_reports_counts_only(tmp_path, standin, monkeypatch):
    home = tmp_path / "home"
    con = make_db(MunicipalityDuckDB(home=str(home)).path(MUNI))
    add_residents(con, 25)
    add_profiles(con, "hash(resident_key) % 2 = 0")
    deliver_register_today(con)
    con.close()
    monkeypatch.setenv("MUNIFORCE_INSTANCE_URL", standin.url)
    monkeypatch.setenv("MUNIFORCE_SESSION_ID", standin.session_id)
    monkeypatch.delenv("MUNIFORCE_USERNAME", raising=False)
    resource = muniforce_from_env()
    assert isinstance(resource.session_id, dg.EnvVar)   # the secret is referenced, never copied into config

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("municipality", [str(MUNI)])
    result = dg.materialize([muniforce_sync], partition_key=str(MUNI), instance=instance,
                            resources={"duckdb": MunicipalityDuckDB(home=str(home)), "muniforce": resource})
    assert result.success
    md = result.asset_materializations_for_node("muniforce_sync")[0].metadata
    values = {k: v.value for k, v in md.items()}
    assert values["created"] == 25 + len(live(standin, "Emergency_Profile__c")) and values["rejected"] == 0
    assert values["api_calls"] > 0 and values["stopped"] == ""
    names = {r["FirstName"] for r in standin.records("Account")} | {r["LastName"] for r in standin.records("Account")}
    flat = " ".join(str(v) for v in values.values())
    assert not any(n in flat for n in names)   # counts only: no personal value in the metadata
    assert len(live(standin, "Account")) == 25


def test_a_stale_register_stops_the_sync_and_says_why(tmp_path, standin):
    home = tmp_path / "home"
    con = make_db(MunicipalityDuckDB(home=str(home)).path(MUNI))
    add_residents(con, 5)
    ensure_deliveries(con)
    con.execute("""INSERT INTO deliveries (delivery_id, source, file, file_hash, status, rows, malformed, ingested_at,
                                           data_as_of) VALUES (1, 'population_register', 'register_old.csv', 'h',
                                           'ingested', 5, 0, now(), now() - INTERVAL 90 DAY)""")
    con.close()
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("municipality", [str(MUNI)])
    result = dg.materialize([muniforce_sync], partition_key=str(MUNI), instance=instance, raise_on_error=False,
                            resources={"duckdb": MunicipalityDuckDB(home=str(home)),
                                       "muniforce": MuniForce(instance_url=standin.url, session_id=standin.session_id)})
    assert not result.success and not live(standin, "Account")
    failure = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"][0]
    assert "population_register" in failure.message or "population_register" in str(failure.event_specific_data.error)


def test_unconfigured_muniforce_is_a_step_that_sends_nothing_and_does_not_fail(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("municipality", [str(MUNI)])
    result = dg.materialize([muniforce_sync], partition_key=str(MUNI), instance=instance,
                            resources={"duckdb": MunicipalityDuckDB(home=str(tmp_path)), "muniforce": MuniForce()})
    assert result.success
    assert result.asset_materializations_for_node("muniforce_sync") == []   # nothing recorded as synced
    assert not MunicipalityDuckDB(home=str(tmp_path)).path(MUNI).exists()  # the file was not even opened


def test_unconfigured_client_says_which_settings_are_missing():
    with pytest.raises(RuntimeError, match="MUNIFORCE_INSTANCE_URL"):
        MuniForce().client()
