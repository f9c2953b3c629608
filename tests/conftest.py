"""Shared fixtures. Tests use real DuckDB files, real reference data and real servers on 127.0.0.1."""

import os

import duckdb
import pytest

# The audit MAC key lives outside TOSHAV_HOME; tests use a fixed one rather than creating ~/.config/toshav/audit.key.
os.environ.setdefault("TOSHAV_AUDIT_KEY", "tests-only-audit-key-0123456789abcdef")

from pipelines.normalize import install_macros


@pytest.fixture
def con(tmp_path):
    c = duckdb.connect(str(tmp_path / "test.duckdb"))
    install_macros(c)
    yield c
    c.close()
