"""The read-only Hebrew page of the named emergency queries (`toshav serve`): routes and templates.

Choose a query, fill its parameters, see the list, download it as CSV or XLSX. Queries run through the same
runner as the CLI (access check, bound parameters, audit record), on a bounded pool of worker threads.
Parameters travel in POST bodies, not in URLs, so addresses stay out of browser history and proxy logs. The page
has no JavaScript at all; templates are Jinja2 with autoescape (`templates/`), and every response carries the
strict headers of `guards.SecurityHeaders`.

Who is asking is the identity layer's business (`request.state.caller`, see `identity`): this module only asks
for it and shows what that caller may see.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from serving import exports
from serving.catalogue import load_catalogue
from serving.parameters import ParameterError
from serving.identity import check_csrf
from serving.queries import QueryFailed, RateLimited, ResidentFileUnavailable, run_query
from serving.roles import AccessDenied, runnable_queries

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"))      # .html templates are autoescaped
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
RESERVED_FIELDS = ("q", "format", "csrf_token")

router = APIRouter(include_in_schema=False)


def table_body(result) -> Markup:
    """The result's <tbody> rows, every cell escaped; phone numbers left-to-right. Built in Python, not in a
    template loop: a city-wide list of 20,000 rows x 18 columns renders in a fraction of the template's time."""
    ltr = [c.format == "phone" for c in result.columns]
    opening = ['<td class="ltr">' if is_ltr else "<td>" for is_ltr in ltr]
    return Markup("".join(
        "<tr>" + "".join(f"{o}{escape('' if v is None else v)}</td>" for o, v in zip(opening, row)) + "</tr>"
        for row in result.rows))


TEMPLATES.env.filters["table_body"] = table_body


def _css() -> bytes:
    return (HERE / "templates" / "page.css").read_bytes()


def render(request: Request, status: int, title: str, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    caller = getattr(request.state, "caller", None)
    base = dict(title=title, municipality=settings.municipality,
                who=None if context.get("logged_out") else caller, queries=None, current=None, logged_out=False,
                show_form=False, error=None, result=None, raw={}, labels=load_catalogue().labels,
                csrf_token=getattr(request.state, "csrf_token", None),
                identity_note=request.app.state.identity.note)
    base.update(context)
    return TEMPLATES.TemplateResponse(request, "page.html", base, status_code=status)


@router.get("/style.css")
async def style() -> Response:
    return Response(_css(), media_type="text/css; charset=utf-8")


@router.get("/")
async def home(request: Request) -> Response:
    caller = request.state.caller
    queries = runnable_queries(caller.role)
    wanted = request.query_params.get("q")
    current = next((q for q in queries if q.name == wanted), queries[0] if queries else None)
    await request.app.state.audit_request(request.scope, "ok", query="/")
    return render(request, 200, "רשימות חירום", queries=queries, current=current, show_form=True,
                  error=None if current else "אין רשימות שהתפקיד רשאי להריץ.")


async def _form(request: Request) -> tuple[str, str, dict[str, list[str]], bool]:
    """The query name, export format, parameters, and whether the form carried this session's CSRF token."""
    form = await request.form(max_files=0, max_fields=200)
    raw: dict[str, list[str]] = {}
    for k, v in form.multi_items():
        if isinstance(v, str):
            raw.setdefault(k, []).append(v)
    name = (raw.get("q") or [""])[0]
    fmt = (raw.get("format") or ["csv"])[0]
    csrf_ok = len(raw.get("csrf_token", [])) == 1 and check_csrf(request, raw["csrf_token"][0])
    return name, fmt, {k: v for k, v in raw.items() if k not in RESERVED_FIELDS}, csrf_ok


async def _run(request: Request, name: str, raw: dict[str, list[str]], export: str | None):
    settings = request.app.state.settings
    caller = request.state.caller
    job = partial(run_query, name, settings.municipality, raw, role=caller.role.name, user=caller.subject,
                  channel="web", exports=[export] if export else [], home=settings.home, peer=caller.peer)
    return await anyio.to_thread.run_sync(job, limiter=request.app.state.workers)


async def _answer(request: Request, export: bool) -> Response:
    name, fmt, raw, csrf_ok = await _form(request)
    if not csrf_ok:
        await request.app.state.audit_refusal(request.scope, "denied", "csrf", query=name)
        return render(request, 403, "אין הרשאה", error="הטופס אינו בתוקף (חסר אסימון CSRF); טענו את העמוד מחדש.")
    if export and fmt not in CONTENT_TYPES:
        await request.app.state.audit_refusal(request.scope, "invalid", "export_format", query=name)
        return PlainTextResponse("unknown format", status_code=400)
    caller = request.state.caller
    queries = runnable_queries(caller.role)
    query = next((q for q in queries if q.name == name), None)
    page = dict(queries=queries, current=query, raw=raw)
    try:
        result = await _run(request, name, raw, fmt if export else None)
    except AccessDenied as e:
        return render(request, 403, "אין הרשאה", **page, error=str(e))
    except ParameterError as e:
        return render(request, 400, "פרמטרים שגויים", **page, show_form=True, error=str(e))
    except RateLimited as e:
        return render(request, 429, "הגעת למכסת השורות", **page, error=str(e))
    except ResidentFileUnavailable as e:
        return render(request, 503, "תיק התושב אינו זמין", **page, error=str(e))
    except QueryFailed as e:
        return render(request, 500, "שגיאה", **page, error=str(e))
    if not export:
        return render(request, 200, result.query.title_he, **page, show_form=True, result=result)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    filename = f"{result.query.name}_{request.app.state.settings.municipality}_{stamp}.{fmt}"
    body = (exports.csv_bytes(result.titles, result.rows) if fmt == "csv"
            else exports.xlsx_bytes(result.titles, result.rows, result.query.title_he,
                                          [c.format == "number_text" for c in result.columns]))
    return Response(body, media_type=CONTENT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/run")
async def run(request: Request) -> Response:
    return await _answer(request, export=False)


@router.post("/export")
async def export(request: Request) -> Response:
    return await _answer(request, export=True)
