"""The audit proves itself: an edited, a deleted and a reordered record are each named by `verify`."""

import json
import sqlite3
import stat

import pytest

from serving.audit import MAX_PARAMETERS_JSON, AuditLog, FileSink

KEY = b"k" * 32


def filled_log(tmp_path, n=6) -> AuditLog:
    log = AuditLog(tmp_path / "audit.sqlite", key=KEY, sink=FileSink(tmp_path / "audit.jsonl"))
    for i in range(n):
        log.record(municipality=6600, subject=f"user{i}", role="emergency_manager", channel="web",
                   query="household", parameters={"street": ["הרצל"]}, row_count=i, outcome="ok", peer="127.0.0.1")
    return log


def tamper(log: AuditLog, *statements):
    """What the file's owner can do: drop the triggers and rewrite the table."""
    with sqlite3.connect(log.path) as con:
        con.execute("DROP TRIGGER audit_records_no_update")
        con.execute("DROP TRIGGER audit_records_retention")
        for sql in statements:
            con.execute(sql)


def test_an_intact_log_verifies(tmp_path):
    assert filled_log(tmp_path).verify() == []


def test_an_edited_record_is_named(tmp_path):
    log = filled_log(tmp_path)
    tamper(log, "UPDATE audit_records SET subject = 'someone-else' WHERE seq = 3")
    assert [(p.kind, p.seq) for p in log.verify()] == [("edited", 3)]


def test_a_deleted_record_is_named(tmp_path):
    log = filled_log(tmp_path)
    tamper(log, "DELETE FROM audit_records WHERE seq = 4")
    [problem] = log.verify()
    assert (problem.kind, problem.seq) == ("deleted", 4) and "record 4 deleted" in problem.message


def test_reordered_records_are_named(tmp_path):
    log = filled_log(tmp_path)
    tamper(log, "CREATE TABLE keep AS SELECT * FROM audit_records WHERE seq IN (2, 3)",
           "DELETE FROM audit_records WHERE seq IN (2, 3)",
           "INSERT INTO audit_records SELECT * FROM keep ORDER BY seq DESC")
    assert [(p.kind, p.seq) for p in log.verify()] == [("reordered", 2), ("reordered", 3)]


def test_records_cut_from_the_end_are_found_in_the_sink(tmp_path):
    log = filled_log(tmp_path)
    tamper(log, "DELETE FROM audit_records WHERE seq >= 5")
    [problem] = log.verify()
    assert (problem.kind, problem.seq) == ("deleted", 5) and "records 5 to 6" in problem.message


def test_a_rewritten_chain_without_the_key_does_not_verify(tmp_path):
    log = filled_log(tmp_path)
    forger = AuditLog(log.path, key=b"f" * 32, sink=FileSink(tmp_path / "other.jsonl"))
    forger.record(municipality=6600, subject="intruder", role="emergency_manager", channel="web", query="household",
                  outcome="ok")
    assert [(p.kind, p.seq) for p in log.verify()] == [("edited", 7)]


def test_each_record_is_a_json_line_in_the_sink_and_files_are_owner_only(tmp_path):
    log = filled_log(tmp_path, n=2)
    lines = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["seq"], r["subject"], r["peer"], r["outcome"]) for r in lines] == [
        (1, "user0", "127.0.0.1", "ok"), (2, "user1", "127.0.0.1", "ok")]
    assert lines[1]["prev_mac"] == lines[0]["mac"]
    for p in (log.path, tmp_path / "audit.jsonl"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_what_a_caller_sends_is_clipped_before_it_is_written(tmp_path):
    log = AuditLog(tmp_path / "audit.sqlite", key=KEY, sink=FileSink(tmp_path / "audit.jsonl"))
    entry = log.record(municipality=6600, subject="x" * 5000, role="r\n" * 100, channel="web", query="q" * 999,
                       parameters={f"p{i}": ["v" * 1_000_000] for i in range(100)}, outcome="too_large")
    assert len(entry.subject) == 200 and len(entry.query) == 64 and "\n" not in entry.role
    assert len(json.dumps(entry.parameters, ensure_ascii=False)) <= MAX_PARAMETERS_JSON
    assert entry.parameters["_clipped"] > 0
    with pytest.raises(ValueError):
        log.record(municipality=6600, subject="", role="", channel="web", query="", outcome="fine")


def test_toshav_audit_verify_names_the_record_and_fails(tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli import _load_commands, app
    from serving.audit import audit_path

    _load_commands()
    path = audit_path(6600, tmp_path)
    path.parent.mkdir(parents=True)
    log = AuditLog(path)            # the key from TOSHAV_AUDIT_KEY, as the command reads it
    for i in range(3):
        log.record(municipality=6600, subject="dana", role="welfare", channel="cli", query="household", outcome="ok")
    runner = CliRunner()
    intact = runner.invoke(app, ["audit", "verify", "-m", "6600", "--home", str(tmp_path)])
    tamper(log, "DELETE FROM audit_records WHERE seq = 2")
    broken = runner.invoke(app, ["audit", "verify", "-m", "6600", "--home", str(tmp_path)])
    assert intact.exit_code == 0 and "3 records, chain intact" in intact.output
    assert broken.exit_code == 4 and "record 2 deleted" in broken.output
