"""A broken delivery in a real run (`run_municipality`, the path of `toshav run`): rejected as a file, its checks
fail visibly, the run still builds the resident file; the register's rejection stops the MuniForce sync (its
policy in schemas/sources/population_register.yaml), Yachad's does not."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from typer.testing import CliRunner

from connectors.muniforce.standin import start_standin
from pipelines.resources import MuniForce
from pipelines.runner import run_municipality
from pipelines.sample_data import generate
from pipelines.settings import municipality_db_path

pytestmark = pytest.mark.e2e
MUNI = 6600


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad_delivery")
    # exported three days ago: the register (45 days) is fresh, Yachad (6 hours) is stale
    generate(MUNI, 400, root / "gen", seed=5, as_of=dt.date.today() - dt.timedelta(days=3))
    inbox = root / "gen" / "inbox" / str(MUNI)
    registry = next((inbox / "disability_registry").iterdir())
    registry.write_bytes(registry.read_bytes()[:2000])                       # a truncated workbook
    with start_standin(root / "muniforce.sqlite") as standin:
        muniforce = {"muniforce": MuniForce(instance_url=standin.url, session_id=standin.session_id)}
        first = run_municipality(MUNI, inbox=root / "gen" / "inbox", home=root / "home", sync=True,
                                 extra_resources=muniforce)
        # then a register file that is not a CSV at all arrives after the good one
        (inbox / "population_register" / "zz_register.csv").write_bytes("\x00\x01".encode() * 10 + b"\xff\xfe")
        second = run_municipality(MUNI, inbox=root / "gen" / "inbox", home=root / "home", sync=True,
                                  extra_resources=muniforce)
    return root / "home", first, second


def test_a_rejected_registry_file_and_stale_yachad_warn_and_the_run_goes_on_to_sync(runs):
    _, first, _ = runs
    assert first.checks["stg_disability_registry:delivery_accepted"] == (False, "WARN")
    assert first.checks["stg_yachad:data_fresh"] == (False, "WARN")
    assert first.checks["stg_population_register:delivery_accepted"] == (True, "ERROR")
    assert first.checks["stg_population_register:data_fresh"] == (True, "ERROR")
    assert first.asset_metadata["resident_file"]["residents"] > 300
    assert first.success and "muniforce_sync" in first.asset_metadata
    rejected = first.asset_metadata["raw_disability_registry"]["rejected_files"]
    assert len(rejected) == 1 and "not a readable XLSX workbook" in rejected[0]


def test_a_rejected_register_keeps_the_last_good_one_and_stops_the_sync(runs):
    home, first, second = runs
    assert second.checks["stg_population_register:delivery_accepted"] == (False, "ERROR")
    assert "resident_file" in second.asset_metadata
    assert second.asset_metadata["resident_file"]["residents"] == first.asset_metadata["resident_file"]["residents"]
    assert "muniforce_sync" not in second.asset_metadata and not second.success
    assert "zz_register.csv" in second.failure and "not synced" in second.failure
    with duckdb.connect(str(municipality_db_path(MUNI, home)), read_only=True) as con:
        statuses = con.execute("SELECT file, status FROM deliveries WHERE source = 'population_register' "
                               "ORDER BY delivery_id").fetchall()
    assert [s for _, s in statuses] == ["ingested", "rejected"]


def test_the_summary_and_toshav_quality_name_the_rejected_file(runs, tmp_path):
    home, _, second = runs
    from pipelines.cli import _load_commands, app
    from pipelines.cli.summary import console, print_summary

    with console.capture() as captured:
        print_summary(second)
    text = captured.get()
    assert "rejected population_register file zz_register.csv" in " ".join(text.split())
    _load_commands()
    result = CliRunner().invoke(app, ["quality", "--municipality", str(MUNI), "--home", str(home), "--out",
                                      str(tmp_path)], env={"COLUMNS": "250"})
    assert "zz_register.csv" in result.output and "disability_registry" in result.output
