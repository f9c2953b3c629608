"""The stand-in's HTTP surface: the REST and Bulk 2.0 resources the sync uses, with Salesforce's shapes.

  GET    /services/data/                                 API versions (no auth)
  GET    /services/data/vXX.X/limits                     the org's limits (API requests, Bulk, storage, ...)
  GET    /services/data/vXX.X/sobjects                   describeGlobal
  GET    /services/data/vXX.X/sobjects/{O}               basic information (objectDescribe, recentItems)
  GET    /services/data/vXX.X/sobjects/{O}/describe      fields, childRelationships, recordTypeInfos
  POST   /services/data/vXX.X/sobjects/{O}               create
  GET|PATCH|DELETE  .../sobjects/{O}/{Id}                 read, update, delete
  GET|PATCH         .../sobjects/{O}/{ExtField}/{value}   read, upsert by external ID (201 created / 200)
  POST|PATCH        .../composite/sobjects                sObject Collections create / update (200 max)
  PATCH             .../composite/sobjects/{O}/{ExtField} sObject Collections upsert (200 max)
  GET|POST          .../composite/sobjects/{O}            sObject Collections retrieve (ids + fields, 2,000 max)
  DELETE            .../composite/sobjects?ids=...&allOrNone=
  GET    .../query?q=SOQL, .../queryAll?q=SOQL, .../query|queryAll/{locator}   2,000 records a page
  POST|GET .../jobs/ingest, GET|PATCH|DELETE .../jobs/ingest/{id}, PUT .../jobs/ingest/{id}/batches,
  GET    .../jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords

Errors are JSON arrays of {"message", "errorCode"[, "fields"]}; a missing or wrong session is 401
INVALID_SESSION_ID; past the daily limit every call is 403 REQUEST_LIMIT_EXCEEDED. Every answer carries
`Sforce-Limit-Info: api-usage=used/limit` (the org's usage: every session counts against one quota).
Bodies are read chunked or by Content-Length (http_body.py); over `max_body` (a Bulk upload: `max_upload`)
the answer is 413 EXCEEDED_MAX_SIZE_REQUEST. A session is the org administrator's or an authority's
(`sessions`: token -> None or the authority's Municipal__c code, see store.py).
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from connectors.muniforce.standin.bulk_jobs import RESULT_FILES, BulkJobs
from connectors.muniforce.standin.catalog import global_entry
from connectors.muniforce.standin.faults import Faults
from connectors.muniforce.standin.http_body import BadBody, Body, BodyTooLarge
from connectors.muniforce.standin.soql import SoqlError, parse
from connectors.muniforce.standin.store import SCOPE_FIELD, RecordError, RequestError, Store

MAX_COLLECTION = 200
MAX_RETRIEVE = 2000
QUERY_PAGE = 2000
MAX_BODY = 50 * 1024 * 1024          # a REST request body
MAX_UPLOAD = 100 * 1024 * 1024       # a Bulk 2.0 upload: 150 MB once base64-encoded, as Salesforce counts it
# Limits an admin checks, besides DailyApiRequests (Max as in an Enterprise org)
BULK_BATCHES_MAX = 15_000
BULK_QUERY_JOBS_MAX = 10_000
BULK_QUERY_STORAGE_MB = 976_562
DATA_STORAGE_MB = 10_240
FILE_STORAGE_MB = 10_240
_VERSION = re.compile(r"^/services/data/v(\d+\.\d)(/.*)?$")


class Reply:
    def __init__(self, status: int, body=None, content_type: str = "application/json;charset=UTF-8",
                 file: Path | None = None, headers: dict | None = None):
        self.status, self.body, self.content_type, self.file = status, body, content_type, file
        self.headers = headers or {}


def _error(status: int, code: str, message: str, fields: list[str] | None = None) -> Reply:
    err = {"message": message, "errorCode": code}
    if fields:
        err["fields"] = fields
    return Reply(status, [err])


class App:
    """Routing and the request rules; the HTTP plumbing is in `_Handler`."""

    def __init__(self, store: Store, jobs: BulkJobs, faults: Faults, sessions: dict[str, str | None],
                 daily_limit: int, max_body: int = MAX_BODY, max_upload: int = MAX_UPLOAD):
        self.store, self.jobs, self.faults = store, jobs, faults
        self.sessions = sessions
        self.daily_limit = daily_limit
        self.max_body, self.max_upload = max_body, max_upload
        self.cursors: dict[str, tuple] = {}
        self.cursor_ids = itertools.count(1)
        self.stats: dict[str, int] = {}
        self.stats_lock = threading.Lock()

    def count(self, kind: str, n: int = 1) -> None:
        with self.stats_lock:
            self.stats[kind] = self.stats.get(kind, 0) + n

    # -- entry -------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, headers, read_body, open_upload) -> Reply:
        if self.faults.latency:
            time.sleep(self.faults.latency)
        m = _VERSION.match(path)
        if path.rstrip("/") == "/services/data":
            read_body()
            return Reply(200, [{"label": "Stand-in", "url": "/services/data/v62.0", "version": "62.0"}])
        if not m:
            read_body()
            return _error(404, "NOT_FOUND", "The requested resource does not exist")
        version, rest = m.group(1), (m.group(2) or "/").strip("/")
        auth = headers.get("Authorization") or ""
        token = auth.split(" ", 1)[1] if " " in auth else ""
        if not token or token not in self.sessions:
            read_body()
            return _error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        tenant = self.sessions[token]
        if self.faults.other_tenants:
            self.store.count_api_call(self.faults.other_tenants)
        used = self.store.api_usage()
        if used >= self.daily_limit:
            read_body()
            return _error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        self.store.count_api_call()
        parts = [unquote(p) for p in rest.split("/")] if rest else []
        is_write = method in ("POST", "PATCH", "DELETE") and parts[:1] in (["sobjects"], ["composite"])
        failure = self.faults.request_failure(is_write)
        if failure == "before":
            read_body()
            self.count("fault_5xx")
            return _error(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable, retry later")
        try:
            reply = self._route(method, parts, query, read_body, open_upload, version, tenant)
        except RequestError as exc:
            reply = _error(exc.status, exc.code, exc.message)
        except SoqlError as exc:
            reply = _error(400, exc.code, exc.message)
        except json.JSONDecodeError:
            reply = _error(400, "JSON_PARSER_ERROR", "The request body is not valid JSON")
        if failure == "after":
            self.count("fault_5xx_after_commit")
            return _error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred, retry later")
        return reply

    def limit_info(self) -> str:
        return f"api-usage={self.store.api_usage()}/{self.daily_limit}"

    # -- routes ------------------------------------------------------------------------------
    def _route(self, method, parts, query, read_body, open_upload, version, tenant) -> Reply:
        head = parts[0] if parts else ""
        if head == "limits" and method == "GET":
            read_body()
            return Reply(200, self.limits())
        if head == "sobjects":
            return self._sobjects(method, parts[1:], read_body, version, tenant)
        if head == "composite" and parts[1:2] == ["sobjects"]:
            return self._collections(method, parts[2:], query, read_body, version, tenant)
        if head in ("query", "queryAll") and method == "GET":
            read_body()
            return self._query(head, parts[1:], query, version, tenant)
        if head == "jobs" and parts[1:2] == ["ingest"]:
            return self._jobs(method, parts[2:], read_body, open_upload, version, tenant)
        read_body()
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    def limits(self) -> dict:
        """The limits resource: {Name: {Max, Remaining}}. API requests, Bulk batches and data storage are
        counted; the stand-in has no Bulk query jobs, files or Apex, so those stay at their maximum."""
        def limit(max_: int, used: int) -> dict:
            return {"Max": max_, "Remaining": max(0, max_ - used)}
        return {
            "DailyApiRequests": limit(self.daily_limit, self.store.api_usage()),
            "DailyBulkApiBatches": limit(BULK_BATCHES_MAX, self.store.daily("bulk_batches")),
            "DailyBulkV2QueryJobs": limit(BULK_QUERY_JOBS_MAX, 0),
            "DailyBulkV2QueryFileStorageMB": limit(BULK_QUERY_STORAGE_MB, 0),
            "DataStorageMB": limit(DATA_STORAGE_MB, -(-self.store.data_storage_kb() // 1024)),
            "FileStorageMB": limit(FILE_STORAGE_MB, 0),
            "DailyAsyncApexExecutions": limit(250_000, 0),
        }

    def _json(self, read_body):
        raw = read_body()
        return json.loads(raw.decode("utf-8")) if raw else {}

    def _sobjects(self, method, parts, read_body, version, tenant) -> Reply:
        if not parts:
            read_body()
            return Reply(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": [
                global_entry(d, version) for d in self.store.catalog.values()]})
        obj = self.store.object_name(parts[0])
        if len(parts) == 1 and method == "GET":
            read_body()
            return Reply(200, {"objectDescribe": global_entry(self.store.catalog[obj], version), "recentItems": []})
        if len(parts) == 2 and parts[1] == "describe" and method == "GET":
            read_body()
            self.count("describe")
            described = self.store.catalog[obj]
            return Reply(200, {**described, "urls": global_entry(described, version)["urls"]})
        if len(parts) == 1 and method == "POST":
            self.count("sobject_write")
            body = self._json(read_body)
            self.store.check_columns(obj, body)
            res = self.store.write(obj, "insert", [body], fault=self._lock_fault, tenant=tenant)[0]
            return self._single_result(res, created_status=201)
        if len(parts) == 2:
            rid = parts[1]
            if method == "GET":
                read_body()
                rec = self.store.get(obj, "Id", rid, version, tenant)
                return Reply(200, rec) if rec else _error(404, "NOT_FOUND", "The requested resource does not exist")
            if method == "PATCH":
                self.count("sobject_write")
                body = self._json(read_body)
                self.store.check_columns(obj, body)
                res = self.store.write(obj, "update", [{**body, "Id": rid}], fault=self._lock_fault,
                                       tenant=tenant)[0]
                return Reply(204) if res["success"] else self._single_result(res)
            if method == "DELETE":
                read_body()
                self.count("sobject_write")
                res = self.store.write(obj, "delete", [{"Id": rid}], tenant=tenant)[0]
                if res["success"]:
                    return Reply(204)
                e = res["errors"][0]
                status = 404 if e["statusCode"] in ("ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY") else 400
                return _error(status, e["statusCode"], e["message"])
        if len(parts) == 3:
            field = self.store.external_id_field(obj, parts[1])
            value = parts[2]
            if method == "GET":
                read_body()
                rec = self.store.get(obj, field, value, version, tenant)
                return Reply(200, rec) if rec else _error(404, "NOT_FOUND", "The requested resource does not exist")
            if method in ("PATCH", "POST"):
                self.count("sobject_write")
                body = self._json(read_body)
                self.store.check_columns(obj, body)
                if field in body and str(body[field]) != value:
                    raise RequestError("INVALID_FIELD",
                                       f"The value of {field} in the body doesn't match the value in the URL")
                res = self.store.write(obj, "upsert", [{**body, field: value}], field, fault=self._lock_fault,
                                       tenant=tenant)[0]
                return self._single_result(res, created_status=201)
        read_body()
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    def _single_result(self, res: dict, created_status: int = 200) -> Reply:
        if res["success"]:
            return Reply(created_status if res.get("created") else 200, res)
        e = res["errors"][0]
        return _error(400, e["statusCode"], e["message"], e.get("fields"))

    def _lock_fault(self, key: str):
        if self.faults.lock_error(key):
            self.count("fault_lock")
            return RecordError("UNABLE_TO_LOCK_ROW", f"unable to obtain exclusive access to this record or 1 records: {key}")
        return None

    def _collections(self, method, parts, query, read_body, version, tenant) -> Reply:
        if len(parts) == 1 and method in ("GET", "POST"):
            return self._retrieve(method, parts[0], query, read_body, version, tenant)
        if method == "DELETE" and not parts:
            read_body()
            ids = [i for i in (query.get("ids", [""])[0]).split(",") if i]
            if not ids:
                raise RequestError("MISSING_ARGUMENT", "ids parameter is required")
            if len(ids) > MAX_COLLECTION:
                raise RequestError("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {MAX_COLLECTION} records in a single call")
            self.count("collections_delete")
            self.count("records_deleted", len(ids))
            return Reply(200, self.store.write("", "delete", [{"Id": i} for i in ids], fault=self._lock_fault,
                                               tenant=tenant))
        body = self._json(read_body)
        records = body.get("records")
        if not isinstance(records, list):
            raise RequestError("JSON_PARSER_ERROR", "records is required")
        if len(records) > MAX_COLLECTION:
            raise RequestError("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {MAX_COLLECTION} records in a single call")
        all_or_none = bool(body.get("allOrNone", False))
        if method in ("PATCH", "POST") and len(parts) == 2:
            obj = self.store.object_name(parts[0])
            field = self.store.external_id_field(obj, parts[1])
            for r in records:
                if (r.get("attributes") or {}).get("type", "").lower() != obj.lower():
                    raise RequestError("INVALID_TYPE", "Each record must have attributes with the type given in the URL")
                self.store.check_columns(obj, r)
            self.count("collections_upsert")
            self.count("records_upserted", len(records))
            return Reply(200, self.store.write(obj, "upsert", records, field, all_or_none, self._lock_fault, tenant))
        if method in ("POST", "PATCH") and not parts:
            if not records:
                return Reply(200, [])
            obj = self.store.object_name((records[0].get("attributes") or {}).get("type", ""))
            for r in records:
                if (r.get("attributes") or {}).get("type", "").lower() != obj.lower():
                    raise RequestError("INVALID_TYPE", "The stand-in takes records of one object type per request")
                self.store.check_columns(obj, r)
            if method == "POST":
                self.count("collections_create")
                return Reply(200, self.store.write(obj, "insert", records, None, all_or_none, self._lock_fault,
                                                   tenant))
            # update: each record names its Id ("id" or "Id")
            records = [{**{k: v for k, v in r.items() if k.lower() != "id"},
                        "Id": next((v for k, v in r.items() if k.lower() == "id"), None)} for r in records]
            self.count("collections_update")
            return Reply(200, self.store.write(obj, "update", records, None, all_or_none, self._lock_fault, tenant))
        return _error(404, "NOT_FOUND", "The requested resource does not exist")

    def _retrieve(self, method, obj_name, query, read_body, version, tenant) -> Reply:
        """sObject Collections retrieve: GET ?ids=..&fields=.. or POST {"ids": [...], "fields": [...]}."""
        obj = self.store.object_name(obj_name)
        if method == "GET":
            read_body()
            ids = [i for i in (query.get("ids", [""])[0]).split(",") if i]
            fields = [f for f in (query.get("fields", [""])[0]).split(",") if f]
        else:
            body = self._json(read_body)
            ids, fields = body.get("ids"), body.get("fields")
            if not isinstance(ids, list) or not isinstance(fields, list):
                raise RequestError("JSON_PARSER_ERROR", "ids and fields are required lists")
        if not ids or not fields:
            raise RequestError("MISSING_ARGUMENT", "ids and fields are required")
        if len(ids) > MAX_RETRIEVE:
            raise RequestError("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {MAX_RETRIEVE} "
                                                    "records in a single call")
        self.count("collections_retrieve")
        return Reply(200, self.store.retrieve(obj, [str(i) for i in ids], [str(f) for f in fields], version, tenant))

    def _query(self, resource, parts, query, version, tenant) -> Reply:
        self.count("query")
        if parts:
            cursor = self.cursors.pop(parts[0], None)
            if cursor is None or cursor[2] != tenant:
                return _error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            q, done, _ = cursor
        else:
            scope = {SCOPE_FIELD: tenant} if tenant is not None else None
            q, done = parse((query.get("q") or [""])[0], self.store.catalog, all_rows=resource == "queryAll",
                            scope=scope), 0
        if q.count:
            total, _ = self.store.query(q, version)
            return Reply(200, {"totalSize": total, "done": True, "records": []})
        total, _ = self.store.query(replace(q, count=True, sql=f"SELECT count(*) FROM ({q.sql})"), version)
        total = max(0, (min(total, q.limit) if q.limit is not None else total) - q.offset)
        size = min(QUERY_PAGE, total - done)
        _, records = self.store.query(replace(q, offset=q.offset + done, limit=size), version)
        body = {"totalSize": total, "done": done + size >= total, "records": records}
        if not body["done"]:   # queryAll's locator is under /query/ too, as Salesforce's is
            locator = f"01gDn{next(self.cursor_ids):010d}-{done + size}"
            self.cursors[locator] = (q, done + size, tenant)
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}"
        return Reply(200, body)

    def _jobs(self, method, parts, read_body, open_upload, version, tenant) -> Reply:
        if not parts:
            if method == "POST":
                self.count("bulk_create")
                return Reply(200, self.jobs.create(self._json(read_body), version, tenant))
            if method == "GET":
                read_body()
                return Reply(200, {"done": True, "records": self.jobs.all(tenant), "nextRecordsUrl": None})
        job_id = parts[0]
        if len(parts) == 1:
            if method == "GET":
                read_body()
                self.count("bulk_poll")
                return Reply(200, self.jobs.public(self.jobs.get(job_id, tenant)))
            if method == "PATCH":
                state = self._json(read_body).get("state")
                return Reply(200, self.jobs.set_state(job_id, state, tenant))
            if method == "DELETE":
                read_body()
                self.jobs.delete(job_id, tenant)
                return Reply(204)
        if len(parts) == 2 and parts[1] == "batches" and method == "PUT":
            target = self.jobs.accept_upload(job_id, tenant)
            open_upload(target)
            self.jobs.uploaded(job_id)
            self.count("bulk_upload")
            return Reply(201)
        if len(parts) == 2 and parts[1] in RESULT_FILES and method == "GET":
            read_body()
            self.count("bulk_results")
            return Reply(200, file=self.jobs.results(job_id, parts[1], tenant), content_type="text/csv")
        read_body()
        return _error(404, "NOT_FOUND", "The requested resource does not exist")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app: App

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature; requests carry personal data
        return

    def _serve(self):
        split = urlsplit(self.path)
        query = parse_qs(split.query)
        app = self.app
        try:
            body = Body(self.rfile, self.headers)
        except BadBody as exc:
            return self._send(_error(400, "JSON_PARSER_ERROR", f"malformed request body: {exc}"), close=True)

        def read_body() -> bytes:
            return body.read(app.max_body)

        def open_upload(target: Path) -> None:
            body.save(target, app.max_upload)

        try:
            reply = app.handle(self.command, split.path, query, self.headers, read_body, open_upload)
        except BodyTooLarge as exc:
            reply = _error(413, "EXCEEDED_MAX_SIZE_REQUEST", f"The request body is over the limit of {exc.limit} "
                                                             "bytes")
        except BadBody as exc:
            reply = _error(400, "JSON_PARSER_ERROR", f"malformed request body: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug in the stand-in is a 500, like Salesforce's own
            reply = _error(500, "UNKNOWN_EXCEPTION", f"stand-in error: {type(exc).__name__}")
        try:
            body.drain(app.max_upload)   # a body the route did not read (e.g. a 401): the connection stays usable
        except (BodyTooLarge, BadBody):
            pass                         # left unread: the answer closes the connection
        self._send(reply, close=body.incomplete)

    def _send(self, reply: Reply, close: bool = False) -> None:
        if close:
            self.close_connection = True
            self._linger = True
        self.send_response(reply.status)
        if close:
            self.send_header("Connection", "close")
        self.send_header("Sforce-Limit-Info", self.app.limit_info())
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if reply.file is not None:
            size = reply.file.stat().st_size if reply.file.exists() else 0
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if size:
                with open(reply.file, "rb") as f:
                    while chunk := f.read(1 << 20):
                        self.wfile.write(chunk)
            return
        payload = b"" if reply.body is None else json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
        if payload:
            self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    _linger = False

    def finish(self):
        super().finish()
        if self._linger:
            _lingering_close(self.connection)


# A client that is still sending the body we refused (http.client sends all of it before it reads the answer) must
# not get a reset instead of the 413: like nginx's lingering_close, stop writing, then read and drop what is still
# coming for a short while, bounded in time and bytes.
LINGER_SECONDS, LINGER_BYTES = 5.0, 64 << 20


def _lingering_close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        dropped = 0
        while dropped < LINGER_BYTES and (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            dropped += len(chunk)
    except OSError:
        pass


def make_server(app: App, port: int) -> ThreadingHTTPServer:
    handler = type("StandInHandler", (_Handler,), {"app": app})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server
