"""Shared fixtures. Tests use real DuckDB files, real reference data and real servers on 127.0.0.1."""

import duckdb
import pytest

from pipelines.normalize import install_macros


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "test.duckdb"))
    install_macros(c)
    yield c
    c.close()
