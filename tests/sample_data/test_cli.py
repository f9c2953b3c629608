"""`toshav generate` writes the inbox and truth and prints counts, never personal values."""

from __future__ import annotations

import pyarrow.parquet as pq
from typer.testing import CliRunner

from pipelines.cli import _load_commands, app


def test_generate_command(tmp_path):
    _load_commands()
    result = CliRunner().invoke(app, ["generate", "--municipality", "6600", "--residents", "500", "--out",
                                      str(tmp_path), "--seed", "3", "--dirt-scale", "2", "--yachad-encoding", "utf-8-sig"])
    assert result.exit_code == 0, result.output
    inbox = tmp_path / "inbox" / "6600"
    assert {p.name for p in inbox.iterdir()} == {"population_register", "ods", "yachad", "disability_registry"}
    assert next((inbox / "yachad").iterdir()).read_bytes().startswith(b"\xef\xbb\xbf")
    persons = pq.read_table(tmp_path / "truth" / "6600" / "persons.parquet").to_pylist()
    assert len(persons) == 500
    assert "population_register" in result.output and "500 persons" in result.output
    assert not any(p["national_id"] in result.output or p["last_name"] in result.output for p in persons)


def test_generate_rejects_an_unknown_encoding(tmp_path):
    _load_commands()
    result = CliRunner().invoke(app, ["generate", "-m", "6600", "-o", str(tmp_path), "--yachad-encoding", "latin-1"])
    assert result.exit_code != 0
    assert not (tmp_path / "inbox").exists()
