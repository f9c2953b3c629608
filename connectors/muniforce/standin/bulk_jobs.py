"""Bulk API 2.0 ingest jobs: Open -> UploadComplete -> InProgress -> JobComplete | Failed (or Aborted).

Uploaded CSV and the three result files live in `<db>.jobs/<job id>/`; job info in the store, so jobs
survive a restart (a job caught UploadComplete/InProgress is processed again from the start, which is safe
for upserts). One worker thread processes jobs in order, 10,000 records per internal batch as Salesforce
does (each counts towards DailyBulkApiBatches), streaming the CSV: a million rows never sit in memory at once.
A job belongs to the session that created it: an authority's session sees and drives only its own jobs, and
its records are written with its tenant scope (store.py).
"""

from __future__ import annotations

import csv
import queue
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from connectors.muniforce.standin.faults import Faults
from connectors.muniforce.standin.ids import make_id
from connectors.muniforce.standin.store import RecordError, RequestError, Store
from pipelines.private_files import private_dir

BATCH = 10_000
OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
RESULT_FILES = {"successfulResults": "successful.csv", "failedResults": "failed.csv",
                "unprocessedrecords": "unprocessed.csv"}
_PRIVATE = ("uploaded", "tenant")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


class BulkJobs:
    def __init__(self, store: Store, directory: Path, faults: Faults):
        self.store, self.dir, self.faults = store, Path(directory), faults
        private_dir(self.dir)          # uploaded and result CSVs hold residents' records
        self.queue: queue.Queue[str | None] = queue.Queue()
        self.lock = threading.Lock()
        self.jobs = {j["id"]: j for j in store.jobs()}
        self.counter = int(store.meta("job_counter", "0"))
        for job in sorted(self.jobs.values(), key=lambda j: j["createdDate"]):
            if job["state"] in ("UploadComplete", "InProgress"):
                self.queue.put(job["id"])
        self.worker = threading.Thread(target=self._work, name="standin-bulk", daemon=True)
        self.worker.start()

    def stop(self) -> None:
        self.queue.put(None)
        self.worker.join(timeout=30)

    # -- API --------------------------------------------------------------------------------
    def create(self, body: dict, api_version: str, tenant: str | None = None) -> dict:
        obj = self.store.object_name(body.get("object") or "")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise RequestError("INVALIDJOB", f"InvalidJob : Invalid operation: {operation}")
        ext = body.get("externalIdFieldName")
        if operation == "upsert":
            if not ext:
                raise RequestError("INVALIDJOB", "InvalidJob : External ID was blank for upsert operation")
            ext = self.store.external_id_field(obj, ext)
        if (body.get("contentType") or "CSV") != "CSV":
            raise RequestError("INVALIDJOB", "InvalidJob : Unsupported content type")
        with self.lock:
            self.counter += 1
            self.store.set_meta("job_counter", str(self.counter))
            job_id = make_id("750", self.counter)
        private_dir(self.dir / job_id)
        now = _now()
        job = {
            "id": job_id, "operation": operation, "object": obj, "createdById": "005Dn000000Toshav",
            "createdDate": now, "systemModstamp": now, "state": "Open", "externalIdFieldName": ext,
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(api_version),
            "jobType": "V2Ingest", "contentUrl": f"services/data/v{api_version}/jobs/ingest/{job_id}/batches",
            "lineEnding": body.get("lineEnding") or "LF", "columnDelimiter": body.get("columnDelimiter") or "COMMA",
            "numberRecordsProcessed": 0, "numberRecordsFailed": 0, "retries": 0, "totalProcessingTime": 0,
            "apiActiveProcessingTime": 0, "apexProcessingTime": 0, "uploaded": False, "tenant": tenant,
        }
        self._save(job)
        return self.public(job)

    def get(self, job_id: str, tenant: str | None = None) -> dict:
        job = self.jobs.get(job_id)
        if job is None or tenant is not None and job.get("tenant") != tenant:
            raise RequestError("NOT_FOUND", "The requested resource does not exist", 404)
        return job

    def public(self, job: dict) -> dict:
        return {k: v for k, v in job.items() if k not in _PRIVATE and not (k == "errorMessage" and not v)}

    def data_path(self, job_id: str) -> Path:
        return self.dir / job_id / "data.csv"

    def accept_upload(self, job_id: str, tenant: str | None = None) -> Path:
        job = self.get(job_id, tenant)
        if job["state"] != "Open" or job["uploaded"]:
            raise RequestError("INVALIDJOBSTATE", f"Job {job_id} is not open for data upload")
        return self.data_path(job_id)

    def uploaded(self, job_id: str) -> None:
        job = self.get(job_id)
        job["uploaded"] = True
        self._save(job)

    def set_state(self, job_id: str, state: str, tenant: str | None = None) -> dict:
        job = self.get(job_id, tenant)
        if state == "UploadComplete" and job["state"] == "Open":
            job["state"] = "UploadComplete"
            self._save(job)
            self.queue.put(job_id)
        elif state == "Aborted" and job["state"] in ("Open", "UploadComplete", "InProgress"):
            job["state"] = "Aborted"
            self._save(job)
        else:
            raise RequestError("INVALIDJOBSTATE", f"Job state {job['state']} cannot change to {state}")
        return self.public(job)

    def delete(self, job_id: str, tenant: str | None = None) -> None:
        job = self.get(job_id, tenant)
        if job["state"] not in ("JobComplete", "Failed", "Aborted"):
            raise RequestError("INVALIDJOBSTATE", "Job must be completed, failed or aborted to be deleted")
        with self.lock:
            self.jobs.pop(job_id)
        self.store.db.execute("DELETE FROM _meta WHERE key = ?", (f"job:{job_id}",))
        shutil.rmtree(self.dir / job_id, ignore_errors=True)

    def results(self, job_id: str, kind: str, tenant: str | None = None) -> Path:
        job = self.get(job_id, tenant)
        if job["state"] not in ("JobComplete", "Failed"):
            raise RequestError("INVALIDJOBSTATE", f"Results are not available for a job in state {job['state']}")
        return self.dir / job_id / RESULT_FILES[kind]

    def all(self, tenant: str | None = None) -> list[dict]:
        return [self.public(j) for j in sorted(self.jobs.values(), key=lambda j: j["createdDate"])
                if tenant is None or j.get("tenant") == tenant]

    def _save(self, job: dict) -> None:
        job["systemModstamp"] = _now()
        with self.lock:
            self.jobs[job["id"]] = job
        self.store.save_job(job)

    # -- processing ---------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job_id = self.queue.get()
            if job_id is None:
                return
            job = self.jobs.get(job_id)
            if job is None or job["state"] not in ("UploadComplete", "InProgress"):
                continue
            try:
                self._process(job)
            except Exception as exc:  # noqa: BLE001 - a job must end in a state, whatever happens
                self._fail(job, f"InternalServerError : {type(exc).__name__}")

    def _fail(self, job: dict, message: str) -> None:
        job["state"] = "Failed"
        job["errorMessage"] = message
        self._save(job)

    def _process(self, job: dict) -> None:
        started = time.monotonic()
        job.update(state="InProgress", numberRecordsProcessed=0, numberRecordsFailed=0)
        self._save(job)
        folder = self.dir / job["id"]
        data = self.data_path(job["id"])
        if not job["uploaded"] or not data.exists():
            self._fail(job, "InvalidBatch : No data uploaded for the job")
            return
        delimiter = DELIMITERS.get(job["columnDelimiter"], ",")
        obj, op, ext = job["object"], job["operation"], job.get("externalIdFieldName")
        crash_after = self.faults.take_bulk_crash()
        with open(data, encoding="utf-8", newline="") as src, \
                open(folder / "successful.csv", "w", encoding="utf-8", newline="") as ok_file, \
                open(folder / "failed.csv", "w", encoding="utf-8", newline="") as bad_file, \
                open(folder / "unprocessed.csv", "w", encoding="utf-8", newline="") as rest_file:
            reader = csv.reader(src, delimiter=delimiter)
            header = next(reader, None)
            if not header:
                self._fail(job, "InvalidBatch : No data uploaded for the job")
                return
            problem = self._header_problem(obj, op, ext, header)
            if problem:
                self._fail(job, problem)
                return
            ok = csv.writer(ok_file, quoting=csv.QUOTE_ALL, lineterminator="\n")
            bad = csv.writer(bad_file, quoting=csv.QUOTE_ALL, lineterminator="\n")
            rest = csv.writer(rest_file, quoting=csv.QUOTE_ALL, lineterminator="\n")
            ok.writerow(["sf__Id", "sf__Created", *header])
            bad.writerow(["sf__Id", "sf__Error", *header])
            rest.writerow(header)
            batch: list[list[str]] = []
            for line in reader:
                batch.append(line)
                if len(batch) == BATCH:
                    if not self._batch(job, header, batch, ok, bad, rest, reader, crash_after):
                        return
                    batch = []
            if batch and not self._batch(job, header, batch, ok, bad, rest, reader, crash_after):
                return
        job["state"] = "JobComplete"
        job["totalProcessingTime"] = job["apiActiveProcessingTime"] = int((time.monotonic() - started) * 1000)
        self._save(job)

    def _header_problem(self, obj: str, op: str, ext: str | None, header: list[str]) -> str | None:
        for column in header:
            try:
                self.store.check_columns(obj, [column])
            except RequestError:
                return f"InvalidBatch : Field name not found : {column}"
        if op in ("delete", "hardDelete") and header != ["Id"]:
            return "InvalidBatch : The 'delete' batch must contain only 'Id'"
        if op == "upsert" and ext not in header:
            return f"InvalidBatch : Field name provided, {ext} does not match an External ID, Salesforce Id, or indexed field"
        if op == "update" and "Id" not in header:
            return "InvalidBatch : Field name provided, Id is missing"
        return None

    def _batch(self, job, header, lines, ok, bad, rest, reader, crash_after) -> bool:
        """Processes one internal batch; False if the job crashed (fault injection) and is over."""
        if crash_after is not None and job["numberRecordsProcessed"] + len(lines) > crash_after:
            allowed = max(0, crash_after - job["numberRecordsProcessed"])
            if allowed:
                self._apply(job, header, lines[:allowed], ok, bad)
            rest.writerows(lines[allowed:])
            rest.writerows(reader)
            self._fail(job, "InternalServerError : The job failed because of an internal error, retry it")
            return False
        self._apply(job, header, lines, ok, bad)
        if self.jobs.get(job["id"], {}).get("state") == "Aborted":
            rest.writerows(reader)
            return False
        return True

    def _apply(self, job, header, lines, ok, bad) -> None:
        records = []
        for line in lines:
            # Bulk: an empty cell leaves the field as it is, #N/A clears it.
            records.append({h: (None if v == "#N/A" else v) for h, v in zip(header, line) if v != ""})
        fault = None
        if self.faults.lock_every:
            def fault(key: str):
                if self.faults.lock_error(key):
                    return RecordError("UNABLE_TO_LOCK_ROW",
                                       f"unable to obtain exclusive access to this record or 1 records: {key}")
                return None
        op = "delete" if job["operation"] == "hardDelete" else job["operation"]
        results = self.store.write(job["object"], op, records, job.get("externalIdFieldName"), fault=fault,
                                   tenant=job.get("tenant"))
        self.store.count_daily("bulk_batches")
        failed = 0
        # Salesforce does not promise results in upload order; reversing each batch makes a client that
        # matches results by position fail here, as it eventually would against a real org.
        for line, res in reversed(list(zip(lines, results))):
            if res["success"]:
                ok.writerow([res.get("id", ""), "true" if res.get("created") else "false", *line])
            else:
                failed += 1
                e = res["errors"][0]
                bad.writerow([res.get("id") or "", f"{e['statusCode']}:{e['message']}:{','.join(e['fields'])} --",
                              *line])
        job["numberRecordsProcessed"] += len(lines)
        job["numberRecordsFailed"] += failed
        self._save(job)
