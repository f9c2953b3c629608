"""Identity tests start from a municipality database that already holds the reference data (streets of Holon,
needs codes), built once per session and copied per test: loading the street registry is the slow part."""

import shutil

import duckdb
import pytest

from pipelines.normalize import install_macros
from pipelines.normalize.addresses import load_reference_streets
from pipelines.staging.enrich import load_code_tables
from tests.identity.deliveries import MUNI


@pytest.fixture(scope="session")
def reference_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("reference") / "reference.duckdb"
    c = duckdb.connect(str(path))
    load_reference_streets(c, MUNI)
    load_code_tables(c)
    c.close()
    return path


@pytest.fixture
def con(tmp_path, reference_db):
    path = tmp_path / "municipality.duckdb"
    shutil.copyfile(reference_db, path)
    c = duckdb.connect(str(path))
    c.execute("SET enable_progress_bar = false")
    install_macros(c)
    yield c
    c.close()
