"""Jobs, the nightly schedule and the inbox sensor."""


import hashlib
import json

import dagster as dg

from pipelines.partitions import municipality_partitions
from pipelines.resources import Inbox
from schemas.sources import SOURCES

# Steps of one municipality share its DuckDB file, which one process at a time may open for writing: the jobs
# run their steps in one process (parallelism comes from running municipalities side by side).
# Everything up to the resident file and emergency profile (no Salesforce needed) ...
resident_file_job = dg.define_asset_job(
    "resident_file_job", selection=dg.AssetSelection.all() - dg.AssetSelection.groups("muniforce"),
    executor_def=dg.in_process_executor,
    description="Ingest, stage, resolve identities and build the resident file of one municipality.")

# ... and the same plus the MuniForce sync.
full_sync_job = dg.define_asset_job(
    "full_sync_job", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    description="The whole chain for one municipality, ending with the MuniForce sync.")


@dg.schedule(job=full_sync_job, cron_schedule="0 2 * * *", execution_timezone="Asia/Jerusalem",
             description="Every night at 02:00 Israel time, the whole chain for every onboarded municipality.")
def nightly(context: dg.ScheduleEvaluationContext):
    for key in context.instance.get_dynamic_partitions(municipality_partitions.name):
        yield dg.RunRequest(partition_key=key, run_key=f"nightly:{key}:{context.scheduled_execution_time:%Y-%m-%d}")


def scan_inbox(inbox: Inbox) -> dict[str, dict[str, str]]:
    """{municipality: {relative path: "mtime_ns:size"}} for the files of known sources in the inbox."""
    found: dict[str, dict[str, str]] = {}
    root = inbox.root
    if not root.is_dir():
        return found
    for muni_dir in root.iterdir():
        if not (muni_dir.is_dir() and muni_dir.name.isdigit()):
            continue
        for source in SOURCES:
            src_dir = muni_dir / source
            if not src_dir.is_dir():
                continue
            for f in src_dir.iterdir():
                if f.is_file() and not f.name.startswith((".", "~$")):
                    st = f.stat()
                    found.setdefault(str(int(muni_dir.name)), {})[f"{source}/{f.name}"] = f"{st.st_mtime_ns}:{st.st_size}"
    return found


@dg.sensor(job=full_sync_job, minimum_interval_seconds=60,
           description="Requests a run for a municipality when a new or changed file lands in its inbox folder.")
def inbox_sensor(context: dg.SensorEvaluationContext, inbox: Inbox) -> dg.SensorResult:
    seen = json.loads(context.cursor) if context.cursor else {}
    now = scan_inbox(inbox)
    known = set(context.instance.get_dynamic_partitions(municipality_partitions.name))
    runs, new_munis = [], []
    for muni, files in sorted(now.items()):
        changed = {k: v for k, v in files.items() if seen.get(muni, {}).get(k) != v}
        if not changed:
            continue
        if muni not in known:
            new_munis.append(muni)
        digest = hashlib.sha256(json.dumps(changed, sort_keys=True).encode()).hexdigest()[:16]
        runs.append(dg.RunRequest(partition_key=muni, run_key=f"inbox:{muni}:{digest}",
                                  tags={"toshav/trigger": "inbox", "toshav/changed_files": str(len(changed))}))
    return dg.SensorResult(
        run_requests=runs, cursor=json.dumps(now, sort_keys=True),
        dynamic_partitions_requests=[municipality_partitions.build_add_request(new_munis)] if new_munis else None)
