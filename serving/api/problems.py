"""RFC 9457 problem details (`application/problem+json`): what went wrong and which field, never the value sent."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "tag:toshav,2026:problem:"
TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    406: "Not acceptable", 413: "Request too large", 415: "Unsupported media type", 422: "Invalid request",
    429: "Too many requests", 500: "Internal error", 503: "Resident file unavailable",
}


class Problem(Exception):
    """Raised anywhere in a request; turned into a problem+json response by `problem_response`."""

    def __init__(self, status: int, kind: str, detail: str, *, fields: list[dict[str, str]] | None = None,
                 headers: dict[str, str] | None = None, audit_outcome: str = "invalid", audit_reason: str = "",
                 **extensions: Any):
        super().__init__(detail)
        self.status, self.kind, self.detail = status, kind, detail
        self.fields = fields or []
        self.headers = headers or {}
        self.audit_outcome = audit_outcome
        self.audit_reason = audit_reason or kind
        self.extensions = extensions

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": TYPE_BASE + self.kind, "title": TITLES.get(self.status, "Error"),
                                "status": self.status, "detail": self.detail}
        if self.fields:
            body["errors"] = self.fields
        body.update(self.extensions)
        return body


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body(), status_code=problem.status, headers=problem.headers, media_type=MEDIA_TYPE)


def field_name(loc: tuple | list) -> str:
    """`("body", "national_id")` -> `national_id`; `("query", "limit")` -> `limit`."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def validation_problem(error: RequestValidationError) -> Problem:
    """FastAPI's validation errors carry the input; only the field and what kind of value it takes are kept."""
    fields = []
    for e in error.errors():
        name = field_name(e.get("loc", ()))
        kind = e.get("type", "invalid")
        message = {"missing": "is required", "extra_forbidden": "is not a field of this request",
                   "json_invalid": "the body is not valid JSON"}.get(kind, f"is not valid ({kind})")
        fields.append({"field": name, "detail": f"{name} {message}"})
    names = ", ".join(dict.fromkeys(f["field"] for f in fields))
    return Problem(422, "invalid-request", f"invalid fields: {names}", fields=fields, audit_reason="validation")


async def on_validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problem = validation_problem(error)
    request.state.problem = problem
    return problem_response(problem)


async def on_http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    kind = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
    problem = Problem(error.status_code, kind, TITLES.get(error.status_code, "error").lower(),
                      headers=dict(error.headers or {}))
    request.state.problem = problem
    return problem_response(problem)
