"""`toshav serve`: a small read-only Hebrew page for the named emergency queries (standard library HTTP server).

Choose a query, fill its parameters, see the list, download it as CSV or XLSX. Queries run through the same
runner as the CLI (access check, bound parameters, audit record). Parameters travel in POST bodies, not in URLs,
so addresses stay out of browser history and proxy logs; pages are sent with `Cache-Control: no-store` and a
strict Content-Security-Policy (no scripts at all). The server only reads the resident file; the one thing it
writes is the audit log.

Who is asking: there is no authentication yet. The role and user are either fixed when the server starts
(`--role`, `--user`: everyone reaching the port acts as that role) or read from request headers that an
authenticating reverse proxy sets (`--role-header`, `--user-header`; only safe if nothing else can reach the port).
"""

from __future__ import annotations

import datetime as dt
import html
import sys
from dataclasses import dataclass
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from serving import exports
from serving.catalogue import Parameter, Query, load_catalogue
from serving.parameters import ParameterError
from serving.roles import AccessDenied, Role, load_roles, role as role_named, runnable_queries
from serving.queries import QueryFailed, QueryResult, ResidentFileUnavailable, run_query

HERE = Path(__file__).parent
MAX_BODY = 64 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class CallerSource:
    """Where the caller's role and user name come from: fixed at startup, or request headers set by a proxy."""

    role: str | None = None
    user: str | None = None
    role_header: str | None = None
    user_header: str | None = None

    def __post_init__(self):
        if bool(self.role) == bool(self.role_header):
            raise ValueError("give exactly one of --role or --role-header")
        if bool(self.user) == bool(self.user_header):
            raise ValueError("give exactly one of --user or --user-header")
        if self.role and self.role not in load_roles():
            raise ValueError(f"unknown role {self.role!r}; known roles: {', '.join(sorted(load_roles()))}")

    def caller(self, headers: Mapping[str, str]) -> tuple[Role, str]:
        role_name = self.role or (headers.get(self.role_header) or "").strip()
        user = self.user or (headers.get(self.user_header) or "").strip()
        if not role_name or not user:
            raise AccessDenied("the request does not say who is asking")
        return role_named(role_name), user

    def describe(self) -> str:
        who = f"role {self.role}" if self.role else f"role from header {self.role_header}"
        return who + (f", user {self.user}" if self.user else f", user from header {self.user_header}")

    def identity_note(self) -> str:
        if self.role:
            return "התפקיד והמשתמש נקבעו בהפעלת השרת, וכל מי שמגיע לכתובת זו פועל בשמם."
        return "התפקיד והמשתמש נלקחים מכותרות שמוסיף שרת הביניים (proxy) שלפני העמוד."


@lru_cache(maxsize=1)
def _template() -> Template:
    return Template((HERE / "page.html").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _css() -> bytes:
    return (HERE / "page.css").read_bytes()


# --- page parts ---------------------------------------------------------------------------------------------------

def _query_picker(queries: list[Query], current: Query | None) -> str:
    options = "".join(
        f'<option value="{esc(q.name)}"{" selected" if current and q.name == current.name else ""}>{esc(q.title_he)}</option>'
        for q in queries)
    return (f'<section><form method="get" action="/" class="picker"><label for="q">רשימה: </label>'
            f'<select id="q" name="q">{options}</select> <button type="submit" class="secondary">בחירה</button>'
            f'</form></section>')


def _field(p: Parameter, given: list[str], labels: dict[str, dict[str, str]]) -> str:
    fid = f"p-{p.name}"
    label = esc(p.title_he) + (" *" if p.required else "")
    help_ = f'<span class="help">{esc(p.help_he)}</span>' if p.help_he else ""
    value = ", ".join(given)
    if p.type == "bool":
        current = (given[0].strip().lower() in ("true", "כן", "1", "yes", "on")) if given else bool(p.default)
        options = "".join(f'<option value="{v}"{" selected" if (v == "true") == current else ""}>{t}</option>'
                          for v, t in (("true", "כן"), ("false", "לא")))
        control = f'<select id="{fid}" name="{esc(p.name)}">{options}</select>'
    elif p.type == "choice":
        current = given[0] if given else p.default
        names = labels.get(p.labels or "", {})
        options = "".join(f'<option value="{esc(c)}"{" selected" if c == current else ""}>{esc(names.get(c, c))}</option>'
                          for c in p.choices)
        control = f'<select id="{fid}" name="{esc(p.name)}">{options}</select>'
    elif p.type == "choice_list":
        chosen = set(given) if given else set(p.default or [])
        names = labels.get(p.labels or "", {})
        boxes = "".join(
            f'<label><input type="checkbox" name="{esc(p.name)}" value="{esc(c)}"{" checked" if c in chosen else ""}> '
            f'{esc(names.get(c, c))}</label> ' for c in p.choices)
        return f'<fieldset class="field"><legend>{label}</legend>{boxes}{help_}</fieldset>'
    else:
        kind = 'type="number" inputmode="numeric"' if p.type == "int" else 'type="text"'
        placeholder = f' placeholder="{esc(p.default)}"' if p.default is not None else ""
        required = " required" if p.required else ""
        control = f'<input id="{fid}" name="{esc(p.name)}" {kind} value="{esc(value)}"{placeholder}{required}>'
    return f'<div class="field"><label for="{fid}">{label}</label>{control}{help_}</div>'


def _query_form(query: Query, raw: Mapping[str, list[str]]) -> str:
    labels = load_catalogue().labels
    fields = "".join(_field(p, raw.get(p.name, []), labels) for p in query.parameters)
    return (f'<section><h2>{esc(query.title_he)}</h2><p class="description">{esc(query.description_he)}</p>'
            f'<form method="post" action="/run" class="params"><input type="hidden" name="q" value="{esc(query.name)}">'
            f'{fields}<div class="actions"><button type="submit">הצג רשימה</button></div></form></section>')


def _hidden_inputs(raw: Mapping[str, list[str]]) -> str:
    return "".join(f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">' for k, vs in raw.items() for v in vs)


def _result_section(result: QueryResult, raw: Mapping[str, list[str]]) -> str:
    parts = [f'<section class="result"><h2>{esc(result.query.title_he)}: '
             f'<span id="row-count">{len(result.rows)}</span> תושבים</h2>']
    for typed, (code, name) in result.streets.items():
        parts.append(f'<p class="note street-match">"{esc(typed)}" זוהה כרחוב {esc(name)} (סמל {code})</p>')
    parts += [f'<p class="warning">{esc(w)}</p>' for w in result.warnings]
    parts += [f'<p class="note">{esc(n)}</p>' for n in result.notes]
    parts.append('<ul class="data-as-of" aria-label="עדכניות הנתונים">'
                 + "".join(f"<li>{esc(line)}</li>" for line in result.data_as_of) + "</ul>")
    if result.hidden_columns:
        parts.append(f'<p class="note">{len(result.hidden_columns)} עמודות רגישות אינן מוצגות לתפקיד '
                     f'{esc(result.role.title_he)}.</p>')
    parts.append(f'<form method="post" action="/export" class="exports">'
                 f'<input type="hidden" name="q" value="{esc(result.query.name)}">{_hidden_inputs(raw)}'
                 f'<button type="submit" name="format" value="csv" class="secondary">הורדה כ-CSV</button>'
                 f'<button type="submit" name="format" value="xlsx" class="secondary">הורדה כ-Excel</button></form>')
    head = "".join(f'<th scope="col">{esc(c.title_he)}</th>' for c in result.columns)
    ltr = [c.format == "phone" for c in result.columns]
    body = "".join(
        "<tr>" + "".join(f'<td class="ltr">{esc(v)}</td>' if is_ltr else f"<td>{esc(v)}</td>"
                         for v, is_ltr in zip(row, ltr)) + "</tr>"
        for row in result.rows)
    parts.append(f'<div class="table-wrap"><table id="result"><thead><tr>{head}</tr></thead>'
                 f'<tbody>{body}</tbody></table></div></section>')
    return "".join(parts)


def _error_section(message: str) -> str:
    return f'<section class="error" role="alert"><h2>לא ניתן להציג את הרשימה</h2><p>{esc(message)}</p></section>'


# --- the server -----------------------------------------------------------------------------------------------------

class EmergencyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, municipality: int, callers: CallerSource, home: Path | None, quiet: bool):
        self.municipality = int(municipality)
        self.callers = callers
        self.home = home
        self.quiet = quiet
        super().__init__(address, EmergencyHandler)


class EmergencyHandler(BaseHTTPRequestHandler):
    server: EmergencyServer
    server_version = "toshav"
    sys_version = ""

    def log_request(self, code="-", size="-"):
        # the path only (no query string, no body): parameters can be addresses
        if not self.server.quiet:
            sys.stderr.write(f"{self.command} {urlsplit(self.path).path} {int(code) if str(code).isdigit() else code}\n")

    def log_error(self, format, *args):
        if not self.server.quiet:
            sys.stderr.write(f"{self.command} {urlsplit(self.path).path}: {format % args}\n")

    # --- plumbing
    def _send(self, status: int, body: bytes, content_type: str, extra: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _page(self, status: int, title: str, body: str, caller: tuple[Role, str] | None) -> None:
        who = (f"{esc(caller[1])} · {esc(caller[0].title_he)} · רשות {self.server.municipality}" if caller
               else f"רשות {self.server.municipality}")
        page = _template().substitute(title=esc(title), who=who, body=body,
                                      identity=esc(self.server.callers.identity_note()))
        self._send(status, page.encode("utf-8"), "text/html; charset=utf-8")

    def _caller(self) -> tuple[Role, str] | None:
        try:
            return self.server.callers.caller(self.headers)
        except AccessDenied as e:
            self._page(HTTPStatus.FORBIDDEN, "אין הרשאה", _error_section(str(e)), None)
            return None

    def _form(self) -> dict[str, list[str]] | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"request too large", "text/plain; charset=utf-8")
            return None
        return parse_qs(self.rfile.read(length).decode("utf-8", errors="replace"), keep_blank_values=True)

    # --- routes
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/style.css":
            self._send(HTTPStatus.OK, _css(), "text/css; charset=utf-8")
            return
        if url.path != "/":
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")
            return
        caller = self._caller()
        if caller is None:
            return
        queries = runnable_queries(caller[0])
        wanted = parse_qs(url.query).get("q", [None])[0]
        current = next((q for q in queries if q.name == wanted), queries[0] if queries else None)
        body = _query_picker(queries, current) + (_query_form(current, {}) if current else
                                                   _error_section("אין רשימות שהתפקיד רשאי להריץ."))
        self._page(HTTPStatus.OK, "רשימות חירום", body, caller)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path not in ("/run", "/export"):
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")
            return
        caller = self._caller()
        if caller is None:
            return
        form = self._form()
        if form is None:
            return
        name = (form.pop("q", [""]) or [""])[0]
        fmt = (form.pop("format", ["csv"]) or ["csv"])[0]
        if path == "/export" and fmt not in CONTENT_TYPES:
            self._send(HTTPStatus.BAD_REQUEST, b"unknown format", "text/plain; charset=utf-8")
            return
        raw = {k: v for k, v in form.items()}
        queries = runnable_queries(caller[0])
        query = next((q for q in queries if q.name == name), None)
        picker = _query_picker(queries, query)
        form_html = _query_form(query, raw) if query else ""
        try:
            result = run_query(name, self.server.municipality, raw, role=caller[0].name, user=caller[1],
                               channel="web", exports=[fmt] if path == "/export" else [], home=self.server.home)
        except AccessDenied as e:
            self._page(HTTPStatus.FORBIDDEN, "אין הרשאה", picker + _error_section(str(e)), caller)
            return
        except ParameterError as e:
            self._page(HTTPStatus.BAD_REQUEST, "פרמטרים שגויים", picker + form_html + _error_section(str(e)), caller)
            return
        except ResidentFileUnavailable as e:
            self._page(HTTPStatus.SERVICE_UNAVAILABLE, "תיק התושב אינו זמין", picker + _error_section(str(e)), caller)
            return
        except QueryFailed as e:
            self._page(HTTPStatus.INTERNAL_SERVER_ERROR, "שגיאה", picker + _error_section(str(e)), caller)
            return
        if path == "/run":
            self._page(HTTPStatus.OK, result.query.title_he, picker + form_html + _result_section(result, raw), caller)
            return
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        filename = f"{result.query.name}_{self.server.municipality}_{stamp}.{fmt}"
        body = (exports.csv_bytes(result.titles, result.rows, result.preamble) if fmt == "csv"
                else exports.xlsx_bytes(result.titles, result.rows, result.query.title_he, result.preamble))
        self._send(HTTPStatus.OK, body, CONTENT_TYPES[fmt],
                   {"Content-Disposition": f'attachment; filename="{filename}"'})


def make_server(municipality: int, *, callers: CallerSource, host: str = "127.0.0.1", port: int = 8050,
                home: Path | None = None, quiet: bool = False) -> EmergencyServer:
    """A server bound to (host, port); port 0 picks a free port (see `server.server_address`)."""
    return EmergencyServer((host, port), municipality, callers, home, quiet)
