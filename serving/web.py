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

from connectors.reference import locality_name
from serving import callsheet, exports, views
from serving.catalogue import load_catalogue
from serving.parameters import ParameterError
from serving.identity import check_csrf
from serving.queries import QueryFailed, RateLimited, ResidentFileUnavailable, run_query
from serving.roles import AccessDenied, viewable_queries

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(env=views.environment())      # autoescaped, with the page's filters
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX, "call_sheet": XLSX}
RESERVED_FIELDS = ("q", "format", "csrf_token")

router = APIRouter(include_in_schema=False)


def _css(name: str) -> bytes:
    return (HERE / "templates" / name).read_bytes()


def city_name(municipality: int) -> str:
    """The municipality's Hebrew name from the CBS localities list; its code when the list does not have it."""
    try:
        return locality_name(municipality)
    except FileNotFoundError:
        return f"רשות {municipality}"


def render(request: Request, status: int, title: str, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    caller = getattr(request.state, "caller", None)
    base = dict(title=title, municipality=settings.municipality, city=city_name(settings.municipality),
                who=None if context.get("logged_out") else caller, queries=None, current=None, view=None,
                logged_out=False, show_form=False, error=None, result=None, raw={}, labels=load_catalogue().labels,
                csrf_token=getattr(request.state, "csrf_token", None),
                identity_note=request.app.state.identity.note, cards=[], counts=None)
    base.update(context)
    result = base["result"]
    if result is not None:
        base.update(views.counts_context(result.counts), cards=views.cards(result) if result.rows else [])
    return TEMPLATES.TemplateResponse(request, "page.html", base, status_code=status)


@router.get("/style.css")
async def style() -> Response:
    return Response(_css("page.css"), media_type="text/css; charset=utf-8")


@router.get("/call-sheet.css")
async def call_sheet_style() -> Response:
    return Response(_css("call-sheet.css"), media_type="text/css; charset=utf-8")


def _lists(request: Request, wanted: str | None):
    """The lists the caller sees ((query, "list" | "counts") pairs), the chosen one and how the caller sees it."""
    queries = viewable_queries(request.state.caller.role)
    current, view = next(((q, v) for q, v in queries if q.name == wanted), (None, None))
    return queries, current, view


@router.get("/")
async def home(request: Request) -> Response:
    queries, current, view = _lists(request, request.query_params.get("q"))
    if current is None and queries:
        current, view = queries[0]
    await request.app.state.audit_request(request.scope, "ok", query="/")
    return render(request, 200, current.title_he if current else "רשימות חירום", queries=queries, current=current,
                  view=view, show_form=True, error=None if current else "אין רשימות שהתפקיד רשאי להריץ.")


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


async def _run(request: Request, name: str, raw: dict[str, list[str]], export: str | None, view: str):
    settings = request.app.state.settings
    caller = request.state.caller
    job = partial(run_query, name, settings.municipality, raw, role=caller.role.name, user=caller.subject,
                  channel="web", exports=[export] if export else [], home=settings.home, peer=caller.peer, view=view)
    return await anyio.to_thread.run_sync(job, limiter=request.app.state.workers)


async def _answer(request: Request, export: bool, sheet: bool = False) -> Response:
    """/run shows a list (or its counts), /export downloads it, /sheet is the printable call sheet."""
    name, fmt, raw, csrf_ok = await _form(request)
    if not csrf_ok:
        await request.app.state.audit_refusal(request.scope, "denied", "csrf", query=name)
        return render(request, 403, "אין הרשאה", error="הטופס אינו בתוקף (חסר אסימון CSRF); טענו את העמוד מחדש.")
    if export and fmt not in CONTENT_TYPES:
        await request.app.state.audit_refusal(request.scope, "invalid", "export_format", query=name)
        return PlainTextResponse("unknown format", status_code=400)
    queries, query, shown_as = _lists(request, name)
    view = "call_sheet" if sheet or (export and fmt == "call_sheet") else ("counts" if shown_as == "counts" else "list")
    page = dict(queries=queries, current=query, view=shown_as, raw=raw)
    try:
        result = await _run(request, name, raw, ("call_sheet_print" if sheet else fmt) if export or sheet else None,
                            view)
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
    municipality = request.app.state.settings.municipality
    if sheet:
        layout = callsheet.layout(result, city_name(municipality))
        return TEMPLATES.TemplateResponse(request, "call_sheet.html", {"sheet": layout})
    if not export:
        return render(request, 200, result.query.title_he, **page, show_form=True, result=result)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    if fmt == "call_sheet":
        filename = f"{result.query.name}_call_sheet_{municipality}_{stamp}.xlsx"
        body = callsheet.xlsx_bytes(callsheet.layout(result, city_name(municipality)))
    elif fmt == "csv":
        filename = f"{result.query.name}_{municipality}_{stamp}.csv"
        body = exports.csv_bytes(result.titles, result.rows, result.preamble)
    else:
        filename = f"{result.query.name}_{municipality}_{stamp}.xlsx"
        body = exports.xlsx_bytes(result.titles, result.rows, result.query.title_he, preamble=result.preamble,
                                  number_text=[c.format == "number_text" for c in result.columns])
    return Response(body, media_type=CONTENT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/run")
async def run(request: Request) -> Response:
    return await _answer(request, export=False)


@router.post("/export")
async def export(request: Request) -> Response:
    return await _answer(request, export=True)


@router.post("/sheet")
async def sheet(request: Request) -> Response:
    return await _answer(request, export=False, sheet=True)
