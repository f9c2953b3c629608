"""Automation without noise: the inbox sensor decides by content, starts from the inbox as it is and refuses
folders that are not CBS codes; the nightly tick asks one run per municipality; a failed run sends an alert that
names the municipality, the step and the reason, never a data value."""

import datetime
import json
import threading
import zoneinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from pipelines.defs.automation import inbox_sensor, nightly, run_failure_alert
from pipelines.partitions import municipality_partitions
from pipelines.resources import Inbox


def tick(instance, inbox, cursor=None):
    return inbox_sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources={"inbox": inbox}))


@pytest.fixture
def inbox(tmp_path):
    folder = tmp_path / "inbox" / "6600" / "yachad"
    folder.mkdir(parents=True)
    (folder / "yachad_2026-11-01.csv").write_text("x", encoding="utf-8")
    return Inbox(path=str(tmp_path / "inbox"))


def test_first_tick_records_the_inbox_and_onboards_without_a_run(inbox):
    instance = dg.DagsterInstance.ephemeral()
    first = tick(instance, inbox)
    assert first.run_requests == []
    assert instance.get_dynamic_partitions(municipality_partitions.name) == ["6600"]
    assert tick(instance, inbox, first.cursor).run_requests == []


def test_identical_bytes_start_no_run_and_new_bytes_start_one(inbox, tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    cursor = tick(instance, inbox).cursor
    file = tmp_path / "inbox" / "6600" / "yachad" / "yachad_2026-11-01.csv"
    file.write_text("x", encoding="utf-8")                           # copied again: same bytes, new time
    file.touch()
    same = tick(instance, inbox, cursor)
    assert same.run_requests == []
    (file.parent / "yachad_2026-11-02.csv").write_text("x", encoding="utf-8")   # same bytes under a new name
    renamed = tick(instance, inbox, same.cursor)
    assert [r.partition_key for r in renamed.run_requests] == ["6600"]
    file.write_text("y", encoding="utf-8")
    changed = tick(instance, inbox, renamed.cursor)
    [request] = changed.run_requests
    assert request.partition_key == "6600" and request.tags["toshav/changed_files"] == "1"
    assert request.run_key != renamed.run_requests[0].run_key
    assert tick(instance, inbox, changed.cursor).run_requests == []


def test_folders_that_are_not_cbs_codes_in_one_form_are_not_read(inbox, tmp_path):
    for name in ("070", "abc", "99999"):
        (tmp_path / "inbox" / name / "yachad").mkdir(parents=True)
        (tmp_path / "inbox" / name / "yachad" / "f.csv").write_text("z", encoding="utf-8")
    instance = dg.DagsterInstance.ephemeral()
    cursor = tick(instance, inbox).cursor
    assert instance.get_dynamic_partitions(municipality_partitions.name) == ["6600"]
    assert list(json.loads(cursor)["files"]) == ["6600"]


def test_nightly_schedule_runs_every_onboarded_municipality_once_a_day():
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("municipality", ["6600", "3000"])
        when = datetime.datetime(2026, 11, 21, 2, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Jerusalem"))
        requests = list(nightly(dg.build_schedule_context(instance=instance, scheduled_execution_time=when)))
    assert sorted(r.partition_key for r in requests) == ["3000", "6600"]
    assert all(r.run_key.endswith("2026-11-21") for r in requests)


class Sink(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        Sink.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    Sink.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", Sink.received
    server.shutdown()


SECRET_VALUE = "329345813"      # stands for a data value a step could choke on


@dg.asset(partitions_def=municipality_partitions)
def failing_step() -> None:
    raise ValueError("file yachad_2026-11-01.csv row 7 field phone: not a phone number")


@dg.asset(partitions_def=municipality_partitions)
def database_step() -> None:
    import duckdb

    duckdb.sql(f"SELECT CAST('{SECRET_VALUE}x' AS INTEGER)").fetchall()


@pytest.mark.parametrize("asset, reason", [
    (failing_step, "file yachad_2026-11-01.csv row 7 field phone: not a phone number"),
    (database_step, "ConversionException (message withheld"),
])
def test_a_failed_run_sends_municipality_step_and_reason_to_the_webhook(webhook, monkeypatch, asset, reason):
    url, received = webhook
    monkeypatch.setenv("TOSHAV_ALERT_WEBHOOK_URL", url)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("municipality", ["70"])
        result = dg.materialize([asset], partition_key="70", instance=instance, raise_on_error=False)
        assert not result.success
        failure = result.get_run_failure_event()
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert", dagster_event=failure, dagster_instance=instance,
            dagster_run=result.dagster_run).for_run_failure()
        run_failure_alert(context)
    [alert] = received
    assert alert["municipality"] == "70" and alert["municipality_name"] == "אשדוד"
    assert alert["step"] == asset.key.to_user_string() and alert["run_id"] == result.run_id
    assert reason in alert["reason"]
    assert SECRET_VALUE not in json.dumps(alert, ensure_ascii=False)
    assert "70 (אשדוד)" in alert["text"]
