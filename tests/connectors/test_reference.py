"""Reference registries: the real local copies, and the same data pulled from a CKAN datastore over HTTP."""

import csv

import pytest

from connectors.ods_standin import OdsStandin
from connectors.reference import (CKAN_STREET_COLUMNS, STREETS_RESOURCE_ID, fetch_streets, load_localities,
                                  load_streets, reference_dir, save_streets, streets_of, SHIPPED_DIR,
                                  ReferenceDataMissing)


def test_local_copies_with_their_quirks():
    localities = load_localities()
    assert localities[6600]["name"] == "חולון"
    assert localities[967]["name"] == "אבו ג'ווייעד (שבט)"          # mirrored parentheses put back
    assert all(name == name.strip() for name in (loc["name"] for loc in localities.values()))
    holon = streets_of(6600)
    assert len(holon) == 644 and all(s.street_code != 9000 for s in holon)
    assert any(s.is_neighbourhood for s in holon)


def test_streets_from_ckan_match_the_local_copy(tmp_path):
    """The street resource as data.gov.il serves it (Hebrew column names, paged) reads back to the same streets."""
    local = [s for s in load_streets() if s.city_code in (6600, 3000)]
    c = CKAN_STREET_COLUMNS
    records = [{c["city_code"]: s.city_code, c["city_name"]: s.city_name + " ", c["street_code"]: s.street_code,
                c["street_name"]: s.street_name} for s in local]
    with OdsStandin(records, api_key="", resource_id=STREETS_RESOURCE_ID) as url:
        fetched = fetch_streets(url, municipality=6600, page_size=200, backoff_seconds=0)
    assert sorted(fetched, key=lambda s: s.street_code) == sorted([s for s in local if s.city_code == 6600],
                                                                  key=lambda s: s.street_code)
    out = tmp_path / "streets.csv"
    save_streets(fetched, out)
    with open(out, encoding="utf-8") as f:
        assert next(csv.reader(f)) == ["city_code", "city_name", "street_code", "street_name"]


def test_reference_command_writes_a_local_copy(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import _load_commands, app

    _load_commands()
    c = CKAN_STREET_COLUMNS
    records = [{c["city_code"]: s.city_code, c["city_name"]: s.city_name, c["street_code"]: s.street_code,
                c["street_name"]: s.street_name} for s in load_streets() if s.city_code == 6600]
    with OdsStandin(records, api_key="", resource_id=STREETS_RESOURCE_ID) as url:
        result = CliRunner().invoke(app, ["reference", "--out", str(tmp_path), "--ckan-url", url, "-m", "6600"])
    assert result.exit_code == 0, result.output
    written = load_streets(tmp_path / "streets.csv")
    assert len(written) == len(records) and {s.city_code for s in written} == {6600}


def test_the_package_ships_the_registries(monkeypatch):
    """A clone with nothing beside it reads the registries shipped in connectors/reference_data (all of them)."""
    monkeypatch.delenv("TOSHAV_REFERENCE_DIR", raising=False)
    assert reference_dir() == SHIPPED_DIR
    assert len(load_streets()) == 63_438 and len({s.city_code for s in load_streets()}) == 1_298
    assert len(load_localities()) == 1_271
    readme = (SHIPPED_DIR / "README.md").read_text(encoding="utf-8")
    assert STREETS_RESOURCE_ID in readme


def test_a_configured_folder_overrides_per_file_and_a_missing_one_is_named(tmp_path, monkeypatch):
    mine = [s for s in load_streets() if s.city_code == 6600][:10]
    save_streets(mine, tmp_path / "streets.csv")
    monkeypatch.setenv("TOSHAV_REFERENCE_DIR", str(tmp_path))
    assert len(streets_of(6600)) == len([s for s in mine if s.street_code != 9000])
    assert load_localities()[6600]["name"] == "חולון"          # not refreshed by `toshav reference`: shipped copy
    monkeypatch.setenv("TOSHAV_REFERENCE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ReferenceDataMissing, match="nowhere"):
        streets_of(6600)
