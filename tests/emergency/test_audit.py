"""Every run is audited (who, when, role, query, parameters, row count; never the rows), kept 24 months."""

import datetime as dt
import sqlite3

import pytest

from serving.audit import RETENTION_MONTHS, AuditLog, audit_path
from serving.parameters import ParameterError
from serving.roles import AccessDenied
from serving.queries import ResidentFileUnavailable, run_query
from tests.emergency.helpers import MUNI, raw, run


def test_every_run_is_recorded_with_its_outcome(fresh_home):
    before = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    ok = run(fresh_home, "evacuation_assistance", user="dana", streets="זבוטינסקי", above_floor=2)
    run_query("alone_without_support", MUNI, {}, role="welfare", user="yossi", channel="web", exports=["xlsx"],
              home=fresh_home)
    with pytest.raises(ParameterError):
        run(fresh_home, "household", user="dana", house_number="12")
    with pytest.raises(AccessDenied):
        run(fresh_home, "power_dependent", role="welfare", user="yossi")

    entries = list(reversed(AuditLog.of(MUNI, fresh_home).entries()))
    assert [(e.subject, e.role, e.channel, e.query, e.row_count, e.outcome, e.exports) for e in entries] == [
        ("dana", "emergency_manager", "cli", "evacuation_assistance", len(ok.rows), "ok", None),
        ("yossi", "welfare", "web", "alone_without_support", 3, "ok", "xlsx"),
        ("dana", "emergency_manager", "cli", "household", None, "invalid", None),
        ("yossi", "welfare", "cli", "power_dependent", None, "denied", None),
    ]
    assert entries[0].parameters == {"streets": ["זבוטינסקי"], "above_floor": ["2"]}
    assert all(before <= e.at <= before + dt.timedelta(minutes=5) for e in entries)
    assert audit_path(MUNI, fresh_home).parent == fresh_home / "municipalities" / str(MUNI)


def test_the_audit_log_holds_no_row_data(fresh_home):
    result = run(fresh_home, "household", street="ז'בוטינסקי", house_number="12")
    assert len(result.rows) == 3
    shown = {v for row in result.rows for v in row if isinstance(v, str) and len(v) >= 3}
    shown -= {"ז'בוטינסקי", "12"}                                   # what the caller typed is a parameter
    assert shown                                                    # names, phones, needs, keys...
    with sqlite3.connect(audit_path(MUNI, fresh_home)) as con:
        stored = " ".join(str(v) for row in con.execute("SELECT * FROM audit_records") for v in row)
    assert not [v for v in shown if v in stored]


def test_a_run_on_a_missing_resident_file_is_audited_as_an_error(tmp_path):
    with pytest.raises(ResidentFileUnavailable):
        run_query("alone_without_support", 5000, raw(), role="emergency_manager", user="dana", home=tmp_path)
    [entry] = AuditLog.of(5000, tmp_path).entries()
    assert (entry.query, entry.outcome, entry.row_count) == ("alone_without_support", "error", None)


def test_no_audit_no_data(fresh_home):
    """If the audit record cannot be written, the rows are not handed out."""
    blocked = AuditLog(fresh_home / "a-directory-not-a-file")
    blocked.path.mkdir()
    with pytest.raises(sqlite3.Error):
        run_query("alone_without_support", MUNI, {}, role="emergency_manager", user="dana", home=fresh_home,
                  audit=blocked)


def test_records_are_kept_for_the_retention_period(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    common = dict(municipality=MUNI, subject="dana", role="emergency_manager", channel="cli",
                  query="household", parameters={}, row_count=1, outcome="ok")
    log.record(at=now - dt.timedelta(days=31 * (RETENTION_MONTHS + 1)), **common)     # older than 24 months
    log.record(at=now - dt.timedelta(days=30 * (RETENTION_MONTHS - 1)), **common)     # 23 months old
    log.record(**common)

    with pytest.raises(ValueError):
        log.purge(older_than_months=12)
    with sqlite3.connect(log.path) as con:
        with pytest.raises(sqlite3.DatabaseError, match="kept 24 months"):
            con.execute("DELETE FROM audit_records")
        with pytest.raises(sqlite3.DatabaseError, match="never changed"):
            con.execute("UPDATE audit_records SET row_count = 0")
    assert len(log.entries()) == 3

    assert log.purge() == 1
    assert [e.outcome for e in log.entries()] == ["purged", "ok", "ok"]      # the purge is itself recorded
    assert log.purge() == 0
    assert log.verify() == []                                               # and the chain starts after it
