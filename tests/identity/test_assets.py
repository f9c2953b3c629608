"""The Dagster assets are thin over the functions and report counts only, never personal values."""

import shutil

import dagster as dg
import duckdb

from pipelines.defs import identity as identity_defs
from pipelines.partitions import municipality_partitions
from pipelines.resources import MunicipalityDuckDB
from pipelines.settings import municipality_db_path
from tests.identity.deliveries import MUNI, deliver, register_row, valid_id

MOSHE = valid_id(3933742)


def test_identity_assets_materialize_a_staged_municipality_with_counts_in_metadata(tmp_path, reference_db):
    db = municipality_db_path(MUNI, tmp_path)
    db.parent.mkdir(parents=True)
    shutil.copyfile(reference_db, db)
    con = duckdb.connect(str(db))
    deliver(con, tmp_path / "inbox",
            register=[register_row(MOSHE, "משה", "כהן", "01/02/1980"), register_row(valid_id(2233445), "רבקה", "כהן", "01/03/1982")],
            ods=[{"id_number": MOSHE, "first_name": "משה", "last_name": "כהן", "birth_date": "1980-02-01",
                  "source_ministry": "HEALTH", "indicator": "dialysis"}])
    con.close()

    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(municipality_partitions.name, [str(MUNI)])
    assets = [identity_defs.identity, identity_defs.resident_file, identity_defs.resident_file_history,
              identity_defs.emergency_profile]
    result = dg.materialize(assets, partition_key=str(MUNI), instance=instance,
                            resources={"duckdb": MunicipalityDuckDB(home=str(tmp_path))})
    assert result.success
    metadata = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        metadata[mat.asset_key.to_user_string()] = {k: v.value for k, v in mat.metadata.items()}
    assert metadata["resident_file"]["residents"] == 2
    assert metadata["emergency_profile"]["profiles"] == 1
    assert metadata["identity"]["persons"] == 2
    assert metadata["resident_file_history"]["new_versions"] == 2
    for values in metadata.values():
        for value in values.values():
            assert isinstance(value, (int, float, bool)), "metadata holds counts only"
    deps = {k.to_user_string() for k in identity_defs.identity.asset_deps[dg.AssetKey("identity")]}
    assert deps == {"stg_population_register", "stg_ods", "stg_yachad", "stg_disability_registry"}
