"""One Bulk API 2.0 ingest job, step by step, through simple-salesforce's Bulk 2.0 client.

simple-salesforce's one-call `sf.bulk2.<Object>.upsert()` loses the job id when a job fails and does not
retry a failed poll, so a job that crashed half-way would leave its processed records unaccounted for.
This drives the same client (`sf.bulk2.<Object>._client`: create, upload, close, get) one step at a time,
each step through `Caller` (retries), and always collects the three result files of the job it created:
successfulResults (sf__Id, sf__Created, ...), failedResults (sf__Id, sf__Error, ...) and unprocessedrecords.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from simple_salesforce import Salesforce
from simple_salesforce.bulk2 import Operation

from connectors.muniforce.calls import Caller, SalesforceCallError

TERMINAL = ("JobComplete", "Failed", "Aborted")
CALLS_PER_JOB = 8   # create, upload, close, ~2 polls, 3 result files: reserved before a job starts


@dataclass
class JobResult:
    job_id: str
    state: str
    processed: int
    failed: int
    error_message: str
    successful: Path
    failures: Path


def run_job(sf: Salesforce, call: Caller, obj: str, operation: str, csv_path: Path, external_id: str | None,
            poll_interval: float, max_poll_interval: float) -> JobResult:
    call.reserve(CALLS_PER_JOB)
    bulk_type = getattr(sf.bulk2, obj)
    client = bulk_type._client  # noqa: SLF001 - the step-by-step API of simple-salesforce 1.12, see module doc
    op = Operation(operation)
    job = call(f"{obj} bulk create", lambda: client.create_job(op, external_id_field=external_id))
    job_id = job["id"]
    try:
        data = csv_path.read_text(encoding="utf-8")
        call(f"{obj} bulk upload", lambda: client.upload_job_data(job_id, data), reserve=False)
        del data
        try:
            call(f"{obj} bulk close", lambda: client.close_job(job_id), reserve=False)
        except SalesforceCallError:
            # A close that timed out may have closed the job: only an Open job means it really failed.
            info = call(f"{obj} bulk status", lambda: client.get_job(job_id, False), reserve=False)
            if info["state"] == "Open":
                raise
        delay = poll_interval
        while True:
            info = call(f"{obj} bulk status", lambda: client.get_job(job_id, False), reserve=False)
            if info["state"] in TERMINAL:
                break
            time.sleep(delay)
            delay = min(max_poll_interval, delay * 1.5)
    except BaseException:
        try:
            client.abort_job(job_id, False)
        except Exception:  # noqa: BLE001 - best effort, the job may be finished or gone
            pass
        raise
    successful = csv_path.with_suffix(".successful.csv")
    failures = csv_path.with_suffix(".failed.csv")
    if info["state"] != "Aborted":
        call(f"{obj} bulk successful results",
             lambda: bulk_type.get_successful_records(job_id, file=str(successful)), reserve=False)
        call(f"{obj} bulk failed results",
             lambda: bulk_type.get_failed_records(job_id, file=str(failures)), reserve=False)
        # unprocessed records need no download: whatever is neither successful nor failed stays on the
        # to-do list and is sent again.
    return JobResult(
        job_id=job_id,
        state=info["state"],
        processed=int(info.get("numberRecordsProcessed") or 0),
        failed=int(info.get("numberRecordsFailed") or 0),
        error_message=str(info.get("errorMessage") or ""),
        successful=successful,
        failures=failures,
    )


def parse_error(sf_error: str) -> tuple[str, str, str]:
    """Bulk's `sf__Error` cell, 'CODE:message:Field1,Field2 --', as (code, message, fields)."""
    text = sf_error.strip()
    if text.endswith("--"):
        text = text[:-2].rstrip()
    code, _, rest = text.partition(":")
    message, fields = rest, ""
    if ":" in rest:
        head, _, tail = rest.rpartition(":")
        if all(part.strip().replace("_", "").replace(".", "").isalnum() for part in tail.split(",") if part.strip()):
            message, fields = head, tail.strip()
    return code.strip(), message.strip(), fields
