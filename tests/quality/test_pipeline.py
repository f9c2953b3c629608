"""End to end: generated deliveries through the real pipeline (`run_municipality`), the quality checks on every
asset it builds, and `toshav quality` reporting them with the quarantine. One delivery is damaged on purpose:
the population register with half its ID numbers broken, a few rows without a last name, and a disability
registry with consent answers that are neither yes nor no."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from pipelines.runner import run_municipality
from pipelines.sample_data import generate
from pipelines.settings import municipality_db_path

pytestmark = pytest.mark.e2e
MUNI = 6600
RESIDENTS = 600


def _read_text(path: Path) -> tuple[str, str]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1255"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("undecodable register")


def break_register(inbox: Path) -> int:
    """Every other ID number gets a wrong check digit; rows 5-7 lose their last name. Returns IDs broken."""
    path = next((inbox / str(MUNI) / "population_register").iterdir())
    text, encoding = _read_text(path)
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    id_col, last_col = header.index("מספר זהות"), header.index("שם משפחה")
    broken = 0
    for i, row in enumerate(body):
        if i % 2 == 0:
            row[id_col] = row[id_col][:-1] + str((int(row[id_col][-1]) + 1) % 10)
            broken += 1
        if i in (5, 6, 7):
            row[last_col] = ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *body])
    path.write_bytes(out.getvalue().encode(encoding))
    return broken


def break_consent(inbox: Path, rows: int = 4) -> None:
    path = next((inbox / str(MUNI) / "disability_registry").iterdir())
    wb = openpyxl.load_workbook(path)
    ws = wb["מאגר"]
    col = [c.value for c in ws[1]].index("הסכמה למאגר") + 1
    for r in range(2, 2 + rows):
        ws.cell(row=r, column=col, value="אולי")
    wb.save(path)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    root = tmp_path_factory.mktemp("damaged")
    generate(MUNI, RESIDENTS, root / "gen", seed=3)
    inbox = root / "gen" / "inbox"
    broken = break_register(inbox)
    break_consent(inbox)
    summary = run_municipality(MUNI, inbox=inbox, home=root / "home")
    return root / "home", summary, broken


def test_checks_run_on_every_built_asset(damaged):
    home, summary, _ = damaged
    assets_with_checks = {k.split(":")[0] for k in summary.checks}
    assert {f"{layer}_{s}" for layer in ("raw", "stg")
            for s in ("population_register", "ods", "yachad", "disability_registry")} | {"reference"} <= assets_with_checks


def test_the_damaged_register_fails_its_checks(damaged):
    _, summary, broken = damaged
    passed, severity = summary.checks["stg_population_register:invalid_id_share"]
    assert (passed, severity) == (False, "ERROR")
    assert summary.checks["stg_population_register:quarantine_share"][0] is True     # 3 of ~590 rows is within 2%
    assert summary.checks["stg_disability_registry:quarantine_share"][0] is False    # 4 of ~20 rows is not within 10%
    with duckdb.connect(str(municipality_db_path(MUNI, damaged[0])), read_only=True) as con:
        unexpected, = con.execute("""SELECT unexpected FROM quality_results WHERE suite = 'stg_population_register'
                                     AND check_name = 'invalid_id_share'""").fetchone()
    assert unexpected == broken - 1     # row 6 lost its ID and its last name: it is in quarantine, not staged


def test_toshav_quality_reports_failures_and_quarantine(damaged, tmp_path):
    home, _, _ = damaged
    from pipelines.cli import _load_commands, app

    _load_commands()
    result = CliRunner().invoke(app, ["quality", "--municipality", str(MUNI), "--home", str(home), "--out", str(tmp_path)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output          # an ERROR check failed
    assert "stg_population_register" in result.output and "invalid_id_share" in result.output
    assert "last_name: required value missing" in result.output
    assert "consent: not yes/no (כן/לא)" in result.output
    pages = list(tmp_path.glob("quality-*.html"))
    assert len(pages) == 1
    page = pages[0].read_text(encoding="utf-8")
    assert '<meta charset="utf-8">' in page and "invalid_id_share" in page
    assert "consent: not yes/no (כן/לא)" in page                          # Hebrew kept as Hebrew
    assert '<td dir="auto">last_name: required value missing</td><td class="num">3</td>' in page
