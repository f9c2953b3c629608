"""A local stand-in for the government data layer (ODS): a CKAN-style `datastore_search` over HTTP.

It answers like CKAN 2.9+ does (same envelope, `_id` on every record, `fields`, `total`, `_links`, CKAN's error
objects and status codes), so the ODS connector can be tested against a real HTTP server, including its
failure handling: `fail_times` answers 500 to the first requests, `delay_seconds` holds every answer back.

    with OdsStandin(Path("ods.jsonl"), api_key="k", resource_id="r") as url:
        requests.get(f"{url}/api/3/action/datastore_search", params={"resource_id": "r"},
                     headers={"Authorization": "k"})

Binds 127.0.0.1 on a free port. Runs in a background thread of the calling process; `stop()` (or leaving the
`with` block) shuts it down.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

ACTION = "datastore_search"
ROWS_MAX = 32000          # CKAN's default ckan.datastore.search.rows_max: larger limits are cut to it
DEFAULT_LIMIT = 100


def _load(records: list[dict] | Path | str) -> list[dict]:
    if isinstance(records, (str, Path)):
        with open(records, encoding="utf-8-sig") as f:
            return [json.loads(line) for line in f if line.strip()]
    return list(records)


def _field_type(values: list) -> str:
    """CKAN's type names for a column, judged from its values (the datastore would know them from its schema)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int"
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "numeric"
    return "text"


class _CkanError(Exception):
    def __init__(self, status: int, error: dict):
        super().__init__(error.get("__type", ""))
        self.status = status
        self.error = error


class OdsStandin:
    """CKAN `datastore_search` over one resource, for tests and local runs."""

    def __init__(self, records: list[dict] | Path | str, api_key: str, resource_id: str, fail_times: int = 0,
                 delay_seconds: float = 0.0):
        rows = _load(records)
        self.records = [{"_id": i + 1, **r} for i, r in enumerate(rows)]
        names = ["_id"] + [k for k in dict.fromkeys(k for r in rows for k in r)]
        self.fields = [{"id": k, "type": _field_type([r.get(k) for r in self.records])} for k in names]
        self.api_key = api_key
        self.resource_id = resource_id
        self.fail_times = fail_times
        self.delay_seconds = delay_seconds
        self._lock = threading.Lock()
        self._requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    @property
    def requests(self) -> int:
        """Requests received so far (failed and rejected ones included)."""
        with self._lock:
            return self._requests

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def start(self) -> str:
        if self._server is not None:
            return self.url
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                standin._handle(self, body=None)

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                standin._handle(self, body=self.rfile.read(length) if length else b"")

            def log_message(self, *args):   # requests carry filters and keys: no access log
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="ods-standin", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- requests ----------------------------------------------------------------------------------------------
    def _help(self) -> str:
        return f"{self.url}/api/3/action/help_show?name={ACTION}"

    def _handle(self, handler: BaseHTTPRequestHandler, body: bytes | None) -> None:
        with self._lock:
            self._requests += 1
            failing = self._requests <= self.fail_times
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if failing:
            self._send(handler, 500, b"<html><body><h1>Internal Server Error</h1></body></html>", "text/html")
            return
        try:
            path = urlsplit(handler.path).path.rstrip("/")
            if path != f"/api/3/action/{ACTION}":
                action = path.rsplit("/", 1)[-1]
                raise _CkanError(400, {"__type": "Bad Request", "message": f"Bad request - Action name not known: {action}"})
            params = self._params(handler, body)
            result = self._search(params, authorized=(handler.headers.get("Authorization") or "") == self.api_key)
            payload = {"help": self._help(), "success": True, "result": result}
            self._send(handler, 200, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json;charset=utf-8")
        except _CkanError as e:
            payload = {"help": self._help(), "success": False, "error": e.error}
            self._send(handler, e.status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json;charset=utf-8")

    @staticmethod
    def _params(handler: BaseHTTPRequestHandler, body: bytes | None) -> dict:
        """Query-string parameters (GET) or a JSON body (POST), as CKAN takes either."""
        if body:
            try:
                params = json.loads(body)
            except ValueError:
                raise _CkanError(400, {"__type": "Bad Request", "message": "Bad request - JSON Error: Invalid request body"})
            if not isinstance(params, dict):
                raise _CkanError(400, {"__type": "Bad Request", "message": "Bad request - JSON Error: Request data JSON decoded to a non-object"})
            return params
        return {k: v[-1] for k, v in parse_qs(urlsplit(handler.path).query, keep_blank_values=True).items()}

    def _search(self, params: dict, authorized: bool) -> dict:
        """CKAN's order: the resource must exist (404), then the caller may read it (403), then parameters (409)."""
        resource_id = params.get("resource_id") or params.get("id")
        if not resource_id:
            raise _CkanError(409, {"__type": "Validation Error", "resource_id": ["Missing value"]})
        if resource_id != self.resource_id:
            raise _CkanError(404, {"__type": "Not Found Error", "message": f'Not found: Resource "{resource_id}" was not found.'})
        if not authorized:
            raise _CkanError(403, {"__type": "Authorization Error",
                                   "message": f"Access denied: User not authorized to read resource {resource_id}"})
        errors = {}
        limit = _integer(params.get("limit", DEFAULT_LIMIT), "limit", errors)
        offset = _integer(params.get("offset", 0), "offset", errors)
        filters = params.get("filters") or {}
        if isinstance(filters, str):
            try:
                filters = json.loads(filters)
            except ValueError:
                errors["filters"] = ["Cannot parse JSON"]
                filters = {}
        if not isinstance(filters, dict):
            errors["filters"] = ["Not a json object"]
            filters = {}
        known = {f["id"] for f in self.fields}
        unknown = [k for k in filters if k not in known]
        if unknown:
            errors["filters"] = [f'field "{k}" not in datastore' for k in unknown]
        if errors:
            raise _CkanError(409, {"__type": "Validation Error", **errors})

        wanted = {k: {str(x) for x in (v if isinstance(v, list) else [v])} for k, v in filters.items()}
        matches = [r for r in self.records if all(str(r.get(k)) in vals for k, vals in wanted.items())]
        limit = min(limit, ROWS_MAX)
        page = matches[offset: offset + limit]
        link = {"resource_id": resource_id, "limit": limit}
        if filters:
            link["filters"] = json.dumps(filters, ensure_ascii=False)
        return {
            "include_total": True,
            "limit": limit,
            "offset": offset,
            "records_format": "objects",
            "resource_id": resource_id,
            "total_estimation_threshold": None,
            "records": page,
            "fields": self.fields,
            "filters": filters,
            "_links": {
                "start": f"/api/3/action/{ACTION}?" + urlencode(link),
                "next": f"/api/3/action/{ACTION}?" + urlencode({**link, "offset": offset + limit}),
            },
            "total": len(matches),
            "total_was_estimated": False,
        }

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):   # the client gave up (e.g. its timeout): nothing to do
            pass


def _integer(value, name: str, errors: dict) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = ["Invalid integer"]
        return 0
    if number < 0:
        errors[name] = ["Must be a natural number"]
        return 0
    return number
