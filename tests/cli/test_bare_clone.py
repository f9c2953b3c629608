"""A municipality that downloads Toshav has only the repository: a copy of it with nothing beside it (no
../shared, no TOSHAV_REFERENCE_DIR) runs its demo to a resident file whose streets are real registry streets."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from connectors.reference import streets_of

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
MUNI = 6600


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                         capture_output=True, check=True)
    return [name for name in out.stdout.decode().split("\0") if name]


def test_a_copy_with_nothing_beside_it_runs_its_demo(tmp_path):
    clone = tmp_path / "alone" / "toshav"
    for name in tracked_files():
        if (REPO / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, clone / name)
    assert sorted(p.name for p in clone.parent.iterdir()) == ["toshav"]        # nothing beside it
    env = {k: v for k, v in os.environ.items() if k not in ("TOSHAV_REFERENCE_DIR", "TOSHAV_HOME", "DAGSTER_HOME",
                                                             "TOSHAV_INBOX")}
    env["PYTHONPATH"] = str(clone)   # the copy's code, not the checkout this test runs from
    where = subprocess.run([sys.executable, "-c", "import connectors.reference as r; print(r.reference_dir())"],
                           cwd=clone, env=env, capture_output=True, text=True, check=True)
    assert Path(where.stdout.strip()) == clone / "connectors" / "reference_data"

    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "demo", "--residents", "300"], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "next:" in done.stdout

    database = clone / "toshav-data" / "municipalities" / str(MUNI) / "toshav.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        codes = [c for (c,) in con.execute("SELECT street_code FROM resident_file WHERE street_code IS NOT NULL").fetchall()]
    registry = {s.street_code for s in streets_of(MUNI)}
    assert len(codes) > 250 and set(codes) <= registry
