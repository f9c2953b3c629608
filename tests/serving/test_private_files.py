"""Everything Toshav writes is owner-only whatever the umask; `toshav` warns when the data is readable by others."""

import os
import stat

import pytest
from typer.testing import CliRunner

from pipelines.private_files import exposed, private_dir, privatize_tree, write_private_bytes


@pytest.fixture
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_folders_and_files_are_owner_only_under_a_loose_umask(tmp_path, loose_umask):
    folder = private_dir(tmp_path / "home" / "municipalities" / "6600")
    written = write_private_bytes(folder / "list.csv", b"x")
    assert mode(tmp_path / "home") == mode(tmp_path / "home" / "municipalities") == mode(folder) == 0o700
    assert mode(written) == 0o600
    assert exposed(tmp_path / "home") == []


def test_exposed_finds_what_others_can_read_and_privatize_fixes_it(tmp_path, loose_umask):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "toshav.duckdb").write_bytes(b"x")          # 0644 under this umask
    assert exposed(tmp_path / "d") == [tmp_path / "d", tmp_path / "d" / "toshav.duckdb"]
    assert privatize_tree(tmp_path / "d") == 2
    assert exposed(tmp_path / "d") == []


def test_toshav_warns_when_the_data_is_readable_by_others(tmp_path, monkeypatch, loose_umask):
    from pipelines.cli import _load_commands, app

    _load_commands()
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    os.chmod(home, 0o755)
    monkeypatch.setenv("TOSHAV_HOME", str(home))
    result = CliRunner().invoke(app, ["audit", "verify", "-m", "6600"])
    assert "can be read by other users" in result.output and "chmod -R go-rwx" in result.output
    assert os.umask(0o022) == 0o077                                 # the command narrowed the umask
