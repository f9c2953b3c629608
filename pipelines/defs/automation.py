"""Jobs, the nightly schedule, the inbox sensor and the run-failure alert.

Both the schedule and the inbox sensor run by default once the code location is deployed with a `dagster-daemon`
(deploy/, docs/operations.md). Each requests one run per municipality; the instance's run queue lets at most one run
of a municipality be in progress (deploy/dagster.yaml), so a sensor run, a nightly run, a backfill and `toshav run`
never write one municipality's file at the same time.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from connectors.files import file_hash  # the content hash deliveries are known by
from pipelines.alerts import alert_sink_from_env, failure_alert
from pipelines.partitions import UnknownMunicipality, add_municipalities, municipality_key, municipality_partitions
from pipelines.resources import Inbox
from schemas.sources import SOURCES

# Steps of one municipality share its DuckDB file, which one process at a time may open for writing: the jobs
# run their steps in one process (parallelism comes from running municipalities side by side).
# Everything up to the published resident file and emergency profile (no Salesforce needed) ...
resident_file_job = dg.define_asset_job(
    "resident_file_job", selection=dg.AssetSelection.all() - dg.AssetSelection.groups("muniforce"),
    executor_def=dg.in_process_executor,
    description="Ingest, stage, resolve identities, build, check and publish the resident file of one municipality.")

# ... and the same plus the MuniForce sync.
full_sync_job = dg.define_asset_job(
    "full_sync_job", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    description="The whole chain for one municipality, ending with the MuniForce sync.")

NIGHTLY_CRON = os.environ.get("TOSHAV_NIGHTLY_CRON", "0 2 * * *")


# The job automation starts: with the MuniForce sync only where the deployment has MuniForce configured (read when
# the code location loads, as the resources are).
automation_job = full_sync_job if os.environ.get("MUNIFORCE_INSTANCE_URL") else resident_file_job


@dg.schedule(job=automation_job, cron_schedule=NIGHTLY_CRON,
             execution_timezone="Asia/Jerusalem", default_status=dg.DefaultScheduleStatus.RUNNING,
             description="Every night (02:00 Israel time; TOSHAV_NIGHTLY_CRON) the whole chain for every onboarded "
                         "municipality, one run each; the run queue decides how many run at once.")
def nightly(context: dg.ScheduleEvaluationContext):
    for key in context.instance.get_dynamic_partitions(municipality_partitions.name):
        yield dg.RunRequest(partition_key=key, tags={"toshav/trigger": "nightly"},
                            run_key=f"nightly:{key}:{context.scheduled_execution_time:%Y-%m-%d}")


def scan_inbox(inbox: Inbox, known: dict | None = None) -> tuple[dict[str, dict[str, list]], list[str]]:
    """({municipality: {"<source>/<file>": [mtime_ns, size, sha256]}}, folders that are not municipality codes).

    A file's content is hashed again only when its time or size changed since `known` (the last scan)."""
    found: dict[str, dict[str, list]] = {}
    skipped: list[str] = []
    known = known or {}
    root = inbox.root
    if not root.is_dir():
        return found, skipped
    for muni_dir in sorted(root.iterdir()):
        if not muni_dir.is_dir():
            continue
        try:
            muni = municipality_key(muni_dir.name)
        except UnknownMunicipality:
            muni = None
        if muni != muni_dir.name:          # `070`, `abc` or not a CBS code: the pipeline would not read it
            skipped.append(muni_dir.name)
            continue
        for source in SOURCES:
            src_dir = muni_dir / source
            if not src_dir.is_dir():
                continue
            for f in src_dir.iterdir():
                if f.is_file() and not f.name.startswith((".", "~$")):
                    st, rel = f.stat(), f"{source}/{f.name}"
                    before = known.get(muni, {}).get(rel)
                    same = before and before[:2] == [st.st_mtime_ns, st.st_size]
                    found.setdefault(muni, {})[rel] = [st.st_mtime_ns, st.st_size, before[2] if same else file_hash(f)]
    return found, skipped


@dg.sensor(job=automation_job, minimum_interval_seconds=int(os.environ.get("TOSHAV_INBOX_SENSOR_SECONDS", "60")),
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Requests a run for a municipality when a file with new content lands in its inbox folder "
                       "(compared by SHA-256, not file time). On its first tick it records the inbox as it is.")
def inbox_sensor(context: dg.SensorEvaluationContext, inbox: Inbox) -> dg.SensorResult:
    cursor = json.loads(context.cursor) if context.cursor else None
    seen = cursor.get("files") if isinstance(cursor, dict) and "files" in cursor else None
    now, skipped = scan_inbox(inbox, seen)
    if skipped:
        context.log.warning(f"{len(skipped)} inbox folder(s) are not CBS locality codes written as digits without "
                            f"leading zeros and are not read: {', '.join(sorted(skipped))}")
    new_munis = add_municipalities(context.instance, now) if now else []
    runs = []
    if seen is not None:
        for muni, files in sorted(now.items()):
            changed = sorted(k for k, v in files.items() if seen.get(muni, {}).get(k, [None] * 3)[2] != v[2])
            if not changed:
                continue
            digest = hashlib.sha256(json.dumps([[k, files[k][2]] for k in changed]).encode()).hexdigest()[:16]
            runs.append(dg.RunRequest(partition_key=muni, run_key=f"inbox:{muni}:{digest}",
                                      tags={"toshav/trigger": "inbox", "toshav/changed_files": str(len(changed))}))
    elif new_munis:
        context.log.info(f"first tick: recorded the inbox as it is; {len(new_munis)} municipalities onboarded")
    return dg.SensorResult(run_requests=runs, cursor=json.dumps({"files": now}, sort_keys=True))


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING, minimum_interval_seconds=30,
                       description="Sends the municipality, the failed step and the plain reason (never a data value) "
                                   "to the alert sink (TOSHAV_ALERT_WEBHOOK_URL or TOSHAV_ALERT_SMTP_*).")
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    sink = alert_sink_from_env()
    if sink is None:
        context.log.info("no alert sink configured (TOSHAV_ALERT_WEBHOOK_URL or TOSHAV_ALERT_SMTP_HOST)")
        return
    sink.send(failure_alert(context.dagster_run, context.get_step_failure_events()))
