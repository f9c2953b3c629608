"""The open API's FastAPI application: one municipality's resident file for the systems of `consumers.yaml`.

Every call goes through `Call` (a dependency): the bearer token is validated (serving/tokens.py: signature against
the issuer's keys, issuer, audience, expiry, the operation's scope), its client must be a consumer of this
municipality allowed the operation, and within its rate. Then the operation reads, with only the consumer's
cleared fields, and the call is audited (consumer, purpose, operation, the names of what was asked, the count of
what was returned; never values). Refusals are audited too. An ID number never travels in a URL: a path or query
value shaped like one is refused before anything else (and uvicorn's access log is off; the audit is the log).
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipelines.normalize.israeli_id import parse_id
from pipelines.settings import serving_db_path
from serving import feed, guards, residents
from serving.api import models
from serving.api.limits import RateLimiter
from serving.api.problems import MEDIA_TYPE, Problem, on_http_error, on_validation_error, problem_response
from serving.audit import AuditLog
from serving.catalogue import load_catalogue
from serving.consumers import Consumer, Consumers, load_consumers
from serving.parameters import ParameterError, parse_parameters
from serving.queries import ResidentFileUnavailable, execute_query, shared_resident_file
from serving.roles import cleared
from serving.tokens import TokenRefused, bearer

VERSION = "1.0.0"
MAX_BODY = 16_384
ID_DIGITS = 7             # an ID written without its leading zeros still has 7 or more digits; a limit has 5
REQUEST_SECONDS = 30.0
PROBLEM = {"model": models.ProblemDetail, "content": {MEDIA_TYPE: {}}}
ERRORS = {400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 413: PROBLEM, 422: PROBLEM, 429: PROBLEM, 503: PROBLEM}

DESCRIPTION = """\
The resident file of one municipality for the authority's and the government's systems (issue 13).
A system calls with an OAuth2 bearer token (client credentials) from the authority's identity provider; what it
receives is what `schemas/consumers.yaml` clears it for, by the sensitivity classes of the resident model.
Errors are RFC 9457 problem details. An ID number never goes in a URL: look residents up with POST.

תיק התושב של רשות אחת, למערכות הרשות והממשלה. מערכת פונה עם אסימון OAuth2 (client credentials) מספק הזהות
של הרשות, ומקבלת רק את השדות שהיא מורשית להם לפי רמת הרגישות במודל. מספר זהות לעולם אינו נשלח בכתובת URL.
"""


class Call:
    """The authenticated consumer of one request, and its audit record. A FastAPI dependency per operation."""

    def __init__(self, api: "ResidentApi", request: Request, operation: str):
        self.api, self.request, self.operation = api, request, operation
        self.consumer: Consumer | None = None
        self.subject = ""
        self.asked: list[str] = []
        self.query = operation

    @property
    def peer(self) -> str:
        return self.request.client.host if self.request.client else ""

    def audit(self, outcome: str, row_count: int | None = None, reason: str = "") -> None:
        c = self.consumer
        parameters: dict[str, Any] = {"asked": self.asked}
        if c is not None:
            parameters["purpose"] = c.purpose
        self.api.audit.record(municipality=self.api.municipality, subject=self.subject,
                              role=c.name if c else "", channel="api", query=self.query, parameters=parameters,
                              row_count=row_count, outcome=outcome, reason=reason, peer=self.peer)

    def authenticate(self) -> Consumer:
        api = self.api
        scope = api.consumers.scopes[self.operation]
        try:
            principal = api.validator.validate(bearer(self.request.headers.get("authorization")), scopes=[scope])
        except TokenRefused as e:
            status, error = (403, "insufficient_scope") if e.reason == "scope" else (401, "invalid_token")
            challenge = f'Bearer realm="toshav", error="{error}"' + (f', scope="{scope}"' if status == 403 else "")
            raise Problem(status, "token-refused", str(e), headers={"WWW-Authenticate": challenge},
                          audit_outcome="unauthenticated" if status == 401 else "denied", audit_reason=e.reason)
        self.subject = principal.client_id
        consumer = api.consumers.of_client(principal.client_id)
        if consumer is None:
            raise Problem(403, "unknown-consumer", "this client is not a consumer of the resident file "
                          "(schemas/consumers.yaml)", audit_outcome="denied", audit_reason="consumer")
        self.consumer = consumer
        if api.municipality not in consumer.municipalities:
            raise Problem(403, "other-municipality", "this consumer does not serve this municipality",
                          audit_outcome="denied", audit_reason="municipality")
        if not consumer.may(self.operation):
            raise Problem(403, "operation-not-granted", f"this consumer is not granted the {self.operation} operation",
                          audit_outcome="denied", audit_reason="operation")
        wait = api.limiter.take(consumer.name, consumer.requests_per_minute)
        if wait:
            raise Problem(429, "rate-limited", f"more than {consumer.requests_per_minute} requests a minute",
                          headers={"Retry-After": str(wait)}, audit_outcome="rate_limited", audit_reason="rate")
        return consumer


def _looks_like_id(value: str) -> bool:
    """A value shaped like an Israeli ID number or a passport (the kind of value that must not be in a URL)."""
    compact, kind, _ = parse_id(value)
    digits = sum(ch.isdigit() for ch in value)
    return kind == "Passport" or (kind == "IsraeliID" and digits >= ID_DIGITS)


class ResidentApi:
    def __init__(self, municipality: int, *, validator, home: Path | None = None,
                 consumers: Consumers | None = None, audit: AuditLog | None = None,
                 limiter: RateLimiter | None = None):
        self.municipality = int(municipality)
        self.home = home
        self.validator = validator
        self.consumers = consumers or load_consumers()
        self.audit = audit or AuditLog.of(municipality, home)
        self.limiter = limiter or RateLimiter()

    def call(self, operation: str) -> Callable[[Request], Iterator[Call]]:
        def dependency(request: Request) -> Iterator[Call]:
            call = Call(self, request, operation)
            request.state.call = call
            call.authenticate()
            yield call
        return dependency

    @property
    def db_path(self) -> Path:
        return serving_db_path(self.municipality, self.home)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def create_app(municipality: int, *, validator, home: Path | None = None, consumers: Consumers | None = None,
               audit: AuditLog | None = None, limiter: RateLimiter | None = None) -> FastAPI:
    api = ResidentApi(municipality, validator=validator, home=home, consumers=consumers, audit=audit,
                      limiter=limiter)
    app = FastAPI(title="Toshav resident file API — ממשק תיק התושב", version=VERSION, description=DESCRIPTION,
                  openapi_url="/openapi.json", docs_url=None, redoc_url=None,
                  servers=[{"url": "/", "description": "this server"}])
    app.state.api = api
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)

    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        request.state.problem = problem
        return problem_response(problem)

    async def audit_refusal(scope, outcome: str, reason: str) -> None:
        client = scope.get("client") or ("", 0)
        api.audit.record(municipality=api.municipality, subject="", role="", channel="api", query="refused",
                         parameters={}, outcome=outcome, reason=reason, peer=client[0])

    # a body streamed past the limit without a Content-Length (the guard below answers declared ones)
    app.add_middleware(guards.BodyLimit, max_bytes=MAX_BODY, on_refusal=audit_refusal)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        """Refuse IDs in URLs and oversized bodies before routing; audit every refused or failed call."""
        problem = None
        if any(_looks_like_id(part) for part in request.url.path.split("/") if part) or \
                any(_looks_like_id(v) for _, v in request.query_params.multi_items()):
            problem = Problem(400, "id-in-url", "an ID or passport number never goes in a URL (it would be "
                              "logged); send it in the body of POST /v1/residents/lookup", audit_reason="id_in_url")
        elif (request.headers.get("content-length") or "0").isdigit() and \
                int(request.headers.get("content-length") or 0) > MAX_BODY:
            problem = Problem(413, "too-large", f"the body is larger than {MAX_BODY} bytes",
                              audit_outcome="too_large", audit_reason="body")
        if problem is not None:
            await audit_refusal(request.scope, problem.audit_outcome, problem.audit_reason)
            return problem_response(problem)
        try:
            response = await call_next(request)
        except Exception:
            call = getattr(request.state, "call", None)
            if call is not None:
                call.audit("error", reason="server")
            return problem_response(Problem(500, "internal", "the server could not answer; the call is audited"))
        call = getattr(request.state, "call", None)
        problem = getattr(request.state, "problem", None)
        if call is not None and problem is not None:
            call.audit(problem.audit_outcome, reason=problem.audit_reason)
        elif problem is not None:           # refused before any operation knew the caller (unknown path, method)
            await audit_refusal(request.scope, problem.audit_outcome, problem.audit_reason)
        return response

    def done(call: Call, body: Any, count: int, *, etag_request: Request | None = None) -> Response:
        call.audit("ok", row_count=count)
        raw = _json_bytes(body)
        if etag_request is None:
            return Response(raw, media_type="application/json")
        tag = _etag(raw)
        headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
        if _matches(etag_request.headers.get("if-none-match"), tag):
            return Response(status_code=304, headers=headers)
        return Response(raw, media_type="application/json", headers=headers)

    @contextmanager
    def connection() -> Iterator[Any]:
        try:
            with shared_resident_file(api.municipality, api.home) as con:
                yield con
        except ResidentFileUnavailable:
            raise Problem(503, "unavailable", "the resident file is not available now; try again",
                          headers={"Retry-After": "30"}, audit_outcome="error", audit_reason="unavailable") from None

    tags = ["residents — תושבים"]

    @app.get("/v1/residents/{resident_key}", tags=tags, operation_id="getResident",
             summary="A resident by resident key — תושב לפי מזהה תושב",
             description="The resident's cleared fields. A key retired by a merge answers 308 with the surviving "
                         "key's address. Supports If-None-Match. — שדות התושב המותרים; מפתח שמוזג מפנה למפתח "
                         "השורד.",
             responses={200: {"model": models.Resident, "headers": {"ETag": {"schema": {"type": "string"}}}},
                        304: {"description": "Not modified — לא השתנה"},
                        308: {"description": "Merged into another key — מוזג למפתח אחר",
                              "headers": {"Location": {"schema": {"type": "string"}}}},
                        404: PROBLEM, **ERRORS})
    def get_resident(request: Request, resident_key: str, call: Call = Depends(api.call("resident"))):
        call.asked = ["resident_key"]
        if len(resident_key) > 64:
            raise Problem(404, "not-found", "no resident has this key")
        with connection() as con:
            row = residents.by_key(con, resident_key, call.consumer.resident_fields())
            survivor = residents.surviving_key(con, resident_key) if row is None else None
        if row is None and survivor is not None:
            call.audit("ok", row_count=0, reason="merged")
            return Response(status_code=308, headers={"Location": f"/v1/residents/{survivor}"})
        if row is None:
            raise Problem(404, "not-found", "no resident has this key")
        return done(call, row, 1, etag_request=request)

    @app.post("/v1/residents/lookup", tags=tags, operation_id="lookupResident",
              summary="Residents by national ID or passport — תושבים לפי מספר זהות או דרכון",
              description="The number goes in the body, never in the URL. Needs clearance for the ID field. — "
                          "המספר נשלח בגוף הבקשה בלבד.",
              responses={200: {"model": models.Residents}, **ERRORS})
    def lookup(body: models.LookupRequest, call: Call = Depends(api.call("lookup"))):
        given = [n for n in ("national_id", "passport") if getattr(body, n) is not None]
        call.asked = given
        if len(given) != 1:
            raise Problem(422, "invalid-request", "give exactly one of national_id, passport",
                          fields=[{"field": n, "detail": f"{n}: give exactly one"} for n in ("national_id", "passport")])
        _need(call, "national_id")
        with connection() as con:
            try:
                rows = residents.by_document(con, body.national_id, body.passport, call.consumer.resident_fields())
            except residents.InvalidInput as e:
                raise Problem(422, "invalid-request", str(e), fields=[{"field": e.field, "detail": str(e)}])
        return done(call, {"residents": rows}, len(rows))

    @app.post("/v1/residents/search", tags=tags, operation_id="searchResidents",
              summary="Residents by name and birth date — תושבים לפי שם ותאריך לידה",
              description=f"Names match as Toshav matches names (final letters, geresh, niqqud). At most "
                          f"{residents.MAX_SEARCH_RESULTS} residents. — התאמת שמות כמו בשאר המערכת.",
              responses={200: {"model": models.Residents}, **ERRORS})
    def search(body: models.SearchRequest, call: Call = Depends(api.call("search"))):
        call.asked = [n for n in ("last_name", "first_name", "birth_date") if getattr(body, n) is not None]
        _need(call, "last_name", "first_name", "birth_date")
        with connection() as con:
            try:
                rows = residents.by_name_and_birth_date(con, body.last_name, body.first_name, body.birth_date,
                                                        call.consumer.resident_fields())
            except residents.InvalidInput as e:
                raise Problem(422, "invalid-request", str(e), fields=[{"field": e.field, "detail": str(e)}])
        return done(call, {"residents": rows}, len(rows))

    @app.post("/v1/households/search", tags=["households — משקי בית"], operation_id="householdAtAddress",
              summary="Residents at an address — תושבים בכתובת",
              description="The street as typed, matched to the registry like the emergency lists match it; the "
                          "active residents at the house (and entrance / apartment when given). — רחוב כפי "
                          "שמוקלד, מותאם למרשם הרחובות.",
              responses={200: {"model": models.Household}, **ERRORS})
    def household(body: models.HouseholdRequest, call: Call = Depends(api.call("household"))):
        given = body.model_dump(exclude_none=True)
        call.asked = sorted(given)
        if body.street is None and body.street_code is None:
            raise Problem(422, "invalid-request", "give one of street, street_code",
                          fields=[{"field": n, "detail": f"{n}: give one"} for n in ("street", "street_code")])
        query = load_catalogue().queries["household"]
        if not cleared(call.consumer.clearance, query.clearance):
            raise Problem(403, "not-cleared", "this consumer is not cleared for addresses", audit_outcome="denied",
                          audit_reason="clearance")
        try:
            values = parse_parameters(query, {k: [str(v)] for k, v in given.items()})
        except ParameterError as e:
            raise Problem(422, "invalid-request", str(e))
        key_column = [c for c in query.columns if c.name == "resident_key"]
        with connection() as con:
            answer = execute_query(con, query, key_column, api.municipality, values, api.db_path)
            rows, warnings, streets = answer.rows, answer.warnings, answer.streets
            found = residents.by_keys(con, [r[0] for r in rows], call.consumer.resident_fields())
        street = None
        if body.street is not None and body.street in streets:
            code, name = streets[body.street]
            street = {"code": code, "name": name}
        elif body.street is not None:
            raise Problem(422, "street-not-found", "the street is not one of the municipality's streets",
                          fields=[{"field": "street", "detail": "street: no registry street matches"}])
        order = {r[0]: i for i, r in enumerate(rows)}
        found.sort(key=lambda r: order.get(r.get("resident_key"), 0))
        return done(call, {"street": street, "residents": found}, len(found))

    list_tags = ["emergency lists — רשימות חירום"]

    @app.get("/v1/emergency-lists", tags=list_tags, operation_id="listEmergencyLists",
             summary="The named emergency lists this consumer may run — רשימות החירום המותרות",
             responses={200: {"model": models.ListCatalogue}, **ERRORS})
    def emergency_lists(call: Call = Depends(api.call("emergency_lists"))):
        role = call.consumer.role
        out = [{"name": q.name, "title_he": q.title_he, "description": q.description,
                "description_he": q.description_he,
                "parameters": [{"name": p.name, "type": p.type, "title_he": p.title_he, "required": p.required,
                                "choices": list(p.choices)} for p in q.parameters],
                "columns": [{"name": c.name, "title_he": c.title_he, "sensitivity": c.sensitivity}
                            for c in role.visible_columns(q)]}
               for q in load_catalogue().ordered() if role.may_run(q)]
        return done(call, {"lists": out}, len(out))

    @app.post("/v1/emergency-lists/{name}", tags=list_tags, operation_id="runEmergencyList",
              summary="Run a named emergency list — הפקת רשימת חירום",
              description="The same catalogue, parameters and clearance rules as the emergency page; values as "
                          "shown to field teams. — אותן רשימות, פרמטרים וכללי הרשאה כמו בדף החירום.",
              responses={200: {"model": models.ListResult}, 404: PROBLEM, **ERRORS})
    def run_list(name: str, body: models.ListRequest, call: Call = Depends(api.call("emergency_lists"))):
        call.query = f"list:{name[:40]}"
        call.asked = sorted(body.parameters)
        role = call.consumer.role
        query = load_catalogue().queries.get(name)
        if query is None or not role.may_run(query):
            raise Problem(404, "not-found", "no such list for this consumer", audit_outcome="denied",
                          audit_reason="query")
        raw = {k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in body.parameters.items()}
        try:
            values = parse_parameters(query, raw)
        except ParameterError as e:
            raise Problem(422, "invalid-request", str(e))
        columns = role.visible_columns(query)
        with connection() as con:
            answer = execute_query(con, query, columns, api.municipality, values, api.db_path)
            rows, warnings = answer.rows, answer.warnings
        body_out = {"name": name, "warnings": warnings,
                    "columns": [{"name": c.name, "title_he": c.title_he, "sensitivity": c.sensitivity}
                                for c in columns],
                    "rows": [dict(zip((c.name for c in columns), r)) for r in rows]}
        return done(call, body_out, len(rows))

    @app.get("/v1/changes", tags=["change feed — עדכונים"], operation_id="readChanges",
             summary="Events since a cursor — אירועים מאז הסמן",
             description="created, changed, moved_out, deceased, merged, removed, consent_withdrawn, in order. "
                         "Start without a cursor; give back next_cursor; stop when has_more is false. Delivery is "
                         "at least once: ignore event ids already seen. consent_withdrawn: delete the resident's "
                         "emergency data. — אירועים לפי הסדר, מזהים קבועים; ביטול הסכמה: יש למחוק את נתוני החירום.",
             responses={200: {"model": models.Changes}, **ERRORS})
    def changes(cursor: str | None = Query(None, max_length=300, description="next_cursor of the previous page"),
                limit: int = Query(1000, ge=1, le=models.PAGE_LIMIT, description="events at most"),
                call: Call = Depends(api.call("feed"))):
        call.asked = ["cursor"] if cursor else []
        with connection() as con:
            try:
                page = feed.read_page(con, call.consumer.clearance, cursor, limit)
            except feed.CursorError as e:
                raise Problem(400, "bad-cursor", str(e), fields=[{"field": "cursor", "detail": str(e)}])
        return done(call, {"events": page.events, "next_cursor": page.next_cursor, "has_more": page.has_more},
                    len(page.events))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(title=app.title, version=app.version, description=app.description,
                              routes=app.routes, servers=app.servers)
            doc.setdefault("components", {})["securitySchemes"] = {"bearer": {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "An OAuth2 access token (client credentials) of the authority's identity provider, "
                               "for this API's audience, with the operation's scope (schemas/consumers.yaml). — "
                               "אסימון גישה מספק הזהות של הרשות."}}
            doc["security"] = [{"bearer": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(guards.Deadline, seconds=REQUEST_SECONDS, on_refusal=audit_refusal)
    app.add_middleware(guards.SecurityHeaders)
    return app


def _need(call: Call, *fields: str) -> None:
    """A consumer may not find residents by fields it may not see."""
    if not cleared(call.consumer.clearance, residents.needed_clearance(*fields)):
        raise Problem(403, "not-cleared", "this consumer is not cleared for the fields this operation searches by",
                      audit_outcome="denied", audit_reason="clearance")
