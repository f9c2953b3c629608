"""End to end: generated deliveries through the real pipeline and the MuniForce sync (`run_municipality(sync=True)`
against the local stand-in), the quality checks on every asset, and `toshav quality` reporting them with the
quarantine. Clean deliveries are synced; a damaged one is stopped before the sync: the population register with
half its ID numbers broken, a few rows without a last name, and a disability registry with consent answers that
are neither yes nor no."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from connectors.muniforce.standin import start_standin
from pipelines.resources import MuniForce
from pipelines.runner import run_municipality
from pipelines.sample_data import generate
from pipelines.settings import municipality_db_path
from schemas.sources import SOURCES

pytestmark = pytest.mark.e2e
MUNI = 6600
RESIDENTS = 400


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
def standin(tmp_path_factory):
    s = start_standin(tmp_path_factory.mktemp("muniforce") / "muniforce.sqlite")
    yield s
    s.stop()


def _run(root: Path, standin, damage: bool):
    generate(MUNI, RESIDENTS, root / "gen", seed=3, as_of=dt.date.today())   # fresh: a stale register stops the sync
    inbox = root / "gen" / "inbox"
    broken = (break_register(inbox), break_consent(inbox))[0] if damage else 0
    muniforce = MuniForce(instance_url=standin.url, session_id=standin.session_id)
    before = len(standin.records("Account"))
    summary = run_municipality(MUNI, inbox=inbox, home=root / "home", sync=True, extra_resources={"muniforce": muniforce})
    return root / "home", summary, broken, len(standin.records("Account")) - before


@pytest.fixture(scope="module")
def damaged(tmp_path_factory, standin):
    return _run(tmp_path_factory.mktemp("damaged"), standin, damage=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory, standin):
    return _run(tmp_path_factory.mktemp("clean"), standin, damage=False)


def test_good_deliveries_pass_and_are_synced(clean):
    _, summary, _, synced = clean
    assets_with_checks = {k.split(":")[0] for k in summary.checks}
    chain = {f"{layer}_{s}" for layer in ("raw", "stg") for s in SOURCES} | {
        "reference", "identity", "resident_file", "resident_file_history", "emergency_profile", "muniforce_sync"}
    assert chain <= assets_with_checks
    errors = [k for k, (passed, severity) in summary.checks.items() if not passed and severity == "ERROR"]
    assert not errors
    assert summary.success and "muniforce_sync" in summary.asset_metadata
    assert synced == summary.asset_metadata["resident_file"]["residents"] > 0


def test_a_register_with_half_its_ids_broken_stops_the_sync(damaged):
    _, summary, _, synced = damaged
    assert summary.checks["resident_file:residents_with_valid_id_share"] == (False, "ERROR")
    assert "resident_file" in summary.asset_metadata
    assert "muniforce_sync" not in summary.asset_metadata and synced == 0      # nothing reached MuniForce
    assert not summary.success and "quality_resident_file" in summary.failure


def test_the_damaged_register_fails_its_staging_checks(damaged):
    home, summary, broken, _ = damaged
    assert summary.checks["stg_population_register:invalid_id_share"] == (False, "ERROR")
    assert summary.checks["stg_population_register:quarantine_share"][0] is True     # 3 rows of ~400 is within 2%
    assert summary.checks["stg_disability_registry:quarantine_share"][0] is False    # 4 rows of ~15 is not within 10%
    with duckdb.connect(str(municipality_db_path(MUNI, home)), read_only=True) as con:
        unexpected, = con.execute("""SELECT unexpected FROM quality_results WHERE suite = 'stg_population_register'
                                     AND check_name = 'invalid_id_share'""").fetchone()
    assert unexpected == broken - 1     # row 6 lost its ID and its last name: it is in quarantine, not staged


def test_toshav_quality_reports_failures_and_quarantine(damaged, tmp_path):
    home = damaged[0]
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
