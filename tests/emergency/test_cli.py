"""`toshav query` and `toshav query-audit` through the real command line app."""

import csv
import getpass
import io

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import pipelines.cli.emergency  # noqa: F401  (registers the commands)
from pipelines.cli import app
from serving.audit import AuditLog
from tests.emergency.helpers import MUNI

runner = CliRunner(env={"COLUMNS": "250"})   # a wide terminal: rich folds cells to fit



def test_list_shows_only_what_the_role_may_run(home):
    out = runner.invoke(app, ["query", "--list", "--role", "welfare"])
    assert out.exit_code == 0
    assert "alone_without_support" in out.stdout and "household" in out.stdout
    assert "evacuation_assistance" not in out.stdout and "power_dependent" not in out.stdout
    out = runner.invoke(app, ["query", "--list", "--role", "data_engineer"])
    assert "household" in out.stdout and "yachad_not_located" not in out.stdout


def test_query_prints_the_table_and_writes_csv_and_xlsx(fresh_home, tmp_path):
    csv_path, xlsx_path = tmp_path / "list.csv", tmp_path / "list.xlsx"
    out = runner.invoke(app, [
        "query", "evacuation_assistance", "-m", str(MUNI), "--param", "streets=רח' ז'בוטינסקי",
        "--param", "house_to=100", "--role", "emergency_manager", "--user", "dana",
        "--csv", str(csv_path), "--xlsx", str(xlsx_path), "--home", str(fresh_home)])
    assert out.exit_code == 0, out.output
    assert "זקוקים לסיוע בפינוי" in out.stdout and "E05" in out.stdout and "E11" not in out.stdout
    lines = list(csv.reader(io.StringIO(csv_path.read_bytes().decode("utf-8-sig"))))
    # above the table: the list's name and how old each source's data is, then an empty line
    blank = lines.index([])
    preamble, rows = [line[0] for line in lines[:blank]], lines[blank + 1:]
    assert preamble[0] == "זקוקים לסיוע בפינוי"
    assert any(line.startswith("מרשם האוכלוסין: נתונים נכונים ל-01/11/2026 00:00") for line in preamble)
    assert any(line.startswith("יחד: נתונים נכונים ל-01/11/2026 09:30 — לא עדכני") for line in preamble)
    key = rows[0].index("מזהה תושב")
    assert [r[key] for r in rows[1:]] == ["E05", "E01", "E02"]
    ws = load_workbook(xlsx_path).active
    assert [c.value for c in ws[1]][0] == "זקוקים לסיוע בפינוי"
    header = blank + 2
    assert [c.value for c in ws[header]] == rows[0]
    assert ws.max_row == header + 3 and ws.freeze_panes == f"A{header + 1}"
    [entry] = AuditLog.of(MUNI, fresh_home).entries()
    account = getpass.getuser()
    assert (entry.subject, entry.row_count, entry.exports) == (f"{account} as dana", 3, "csv,xlsx")


def test_denied_and_invalid_exit_codes(fresh_home):
    base = ["-m", str(MUNI), "--user", "dana", "--home", str(fresh_home)]
    denied = runner.invoke(app, ["query", "power_dependent", "--role", "data_engineer", *base])
    assert denied.exit_code == 3
    invalid = runner.invoke(app, ["query", "household", "--role", "emergency_manager", "-p", "house_number=12", *base])
    assert invalid.exit_code == 2
    nouser = runner.invoke(app, ["query", "household", "--role", "emergency_manager", "-m", str(MUNI),
                                 "-p", "street_code=416", "-p", "house_number=12", "--home", str(fresh_home)])
    assert nouser.exit_code == 0          # the login account is who ran it; --user only adds a name
    entries = AuditLog.of(MUNI, fresh_home).entries()
    assert [e.outcome for e in entries] == ["ok", "invalid", "denied"]
    assert entries[0].subject == getpass.getuser()


def test_audit_command_shows_runs(fresh_home):
    runner.invoke(app, ["query", "alone_without_support", "-m", str(MUNI), "--role", "welfare", "--user", "yossi",
                        "--home", str(fresh_home)])
    out = runner.invoke(app, ["query-audit", "-m", str(MUNI), "--home", str(fresh_home)])
    assert out.exit_code == 0
    assert "alone_without_support" in out.stdout and "yossi" in out.stdout
    refused = runner.invoke(app, ["query-audit", "-m", str(MUNI), "--purge", "--older-than-months", "6",
                                  "--home", str(fresh_home)])
    assert refused.exit_code == 2
    assert len(AuditLog.of(MUNI, fresh_home).entries()) == 1
