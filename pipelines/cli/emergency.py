"""`toshav query`, `toshav serve`, `toshav query-audit`: the emergency managers' named queries (docs/emergency.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from pipelines.cli import app

EXIT_INVALID, EXIT_DENIED = 2, 3

console = Console()
errors = Console(stderr=True)


MAX_COLUMN_WIDTH = 30


def _show_result(result, rtl: bool) -> None:
    """The result as a table; with `rtl`, the first column is printed rightmost so the table reads right to left.

    Columns keep their natural width (up to MAX_COLUMN_WIDTH): a list wider than the terminal is printed wide
    (pipe it to `less -S`) rather than squeezed to one letter a column."""
    columns = list(reversed(result.columns)) if rtl else result.columns
    index = [result.columns.index(c) for c in columns]
    cells = [["" if row[i] is None else str(row[i]) for i in index] for row in result.rows]
    widths = [min(MAX_COLUMN_WIDTH, max([len(c.title_he)] + [len(r[k]) for r in cells[:500]])) for k, c in enumerate(columns)]
    table = Table(title=f"{result.query.title_he} · {len(result.rows)} שורות", title_justify="right" if rtl else "center")
    for c, width in zip(columns, widths):
        table.add_column(c.title_he, justify="right" if rtl else "left", overflow="fold", min_width=width)
    for row in cells:
        table.add_row(*row)
    needed = sum(widths) + 3 * len(widths) + 1
    out = console if needed <= console.width else Console(width=needed)
    out.print(table, justify="right" if rtl else "left")


def _show_notes(result) -> None:
    for typed, (code, name) in result.streets.items():
        errors.print(f"street: {typed} -> {name} ({code})")
    for w in result.warnings:
        errors.print(f"[yellow]{w}[/yellow]")
    for line in result.notes + result.data_as_of:
        errors.print(line)
    if result.hidden_columns:
        errors.print(f"{len(result.hidden_columns)} columns hidden for role {result.role.name}: "
                     + ", ".join(c.name for c in result.hidden_columns))


def cli_subject(name: str = "") -> str:
    """Who runs a command: the operating-system account (what the machine vouches for), and the name they give."""
    import getpass

    account = getpass.getuser()
    name = name.strip()
    return f"{account} as {name}" if name and name != account else account


def _list_queries(role_name: str) -> None:
    from serving.roles import role, runnable_queries

    r = role(role_name)
    table = Table(title=f"queries for role {r.name} ({r.title_he})")
    table.add_column("name", no_wrap=True)
    table.add_column("title", justify="right", no_wrap=True)
    table.add_column("parameters")
    table.add_column("description", overflow="fold")
    for q in runnable_queries(r):
        params = ", ".join(f"{p.name}{'*' if p.required else ''}:{p.type}" for p in q.parameters)
        table.add_row(q.name, q.title_he, params, q.description)
    console.print(table)


@app.command()
def query(
    name: Optional[str] = typer.Argument(None, help="Named query (see --list)"),
    municipality: Optional[int] = typer.Option(None, "--municipality", "-m", help="CBS locality code, e.g. 6600"),
    param: list[str] = typer.Option([], "--param", "-p", help="name=value; lists comma-separated or repeated"),
    role: str = typer.Option(..., "--role", "-r", help="Your role (schemas/roles.yaml)"),
    user: str = typer.Option("", "--user", "-u", help="Your name, recorded beside your login account"),
    csv: Optional[Path] = typer.Option(None, "--csv", help="Also write the list as CSV (UTF-8 with BOM)"),
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="Also write the list as XLSX"),
    list_queries: bool = typer.Option(False, "--list", help="List the queries your role may run"),
    rtl: bool = typer.Option(True, "--rtl/--ltr", help="Print the first column rightmost (default) or leftmost"),
    home: Optional[Path] = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
) -> None:
    """Run a named emergency query: who needs help, where. Every run is audited (never the rows)."""
    from pipelines.private_files import write_private_bytes
    from serving import exports
    from serving.parameters import ParameterError, raw_from_pairs
    from serving.roles import AccessDenied
    from serving.queries import QueryFailed, ResidentFileUnavailable, run_query

    try:
        if list_queries:
            _list_queries(role)
            return
        if not name or municipality is None:
            errors.print("give a query name and --municipality (or --list)")
            raise typer.Exit(EXIT_INVALID)
        formats = [f for f, path in (("csv", csv), ("xlsx", xlsx)) if path]
        result = run_query(name, municipality, raw_from_pairs(param), role=role, user=cli_subject(user), channel="cli",
                           exports=formats, home=home)
    except AccessDenied as e:
        errors.print(f"[red]denied[/red]: {e}")
        raise typer.Exit(EXIT_DENIED)
    except ParameterError as e:
        errors.print(f"[red]parameters[/red]: {e}")
        raise typer.Exit(EXIT_INVALID)
    except (QueryFailed, ResidentFileUnavailable) as e:
        errors.print(f"[red]failed[/red]: {e}")
        raise typer.Exit(1)

    _show_result(result, rtl)
    _show_notes(result)
    if csv:
        write_private_bytes(csv, exports.csv_bytes(result.titles, result.rows, result.preamble))
        errors.print(f"wrote {csv}")
    if xlsx:
        write_private_bytes(xlsx, exports.xlsx_bytes(
            result.titles, result.rows, result.query.title_he, preamble=result.preamble,
            number_text=[c.format == "number_text" for c in result.columns]))
        errors.print(f"wrote {xlsx}")


@app.command()
def serve(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code, e.g. 6600"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on; beyond loopback needs --auth oidc or proxy"),
    port: int = typer.Option(8050, help="Port"),
    auth: Optional[str] = typer.Option(None, help="local | oidc | proxy (default: oidc when TOSHAV_OIDC_ISSUER "
                                                  "is set, else local)"),
    role: Optional[str] = typer.Option(None, "--role", "-r", help="Local mode: the role of the one person"),
    allowed_host: list[str] = typer.Option([], help="Host name people use to reach the page (repeatable)"),
    public_url: Optional[str] = typer.Option(None, help="The page's public URL (https://...): login callback, "
                                                        "Secure cookies"),
    trusted_proxy: list[str] = typer.Option([], help="Proxy mode: address or network of the proxy (repeatable)"),
    proxy_user_header: str = typer.Option("X-Forwarded-User", help="Proxy mode: header naming the user"),
    proxy_groups_header: str = typer.Option("X-Forwarded-Groups", help="Proxy mode: header with the groups"),
    home: Optional[Path] = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
) -> None:
    """Serve the read-only Hebrew page of the emergency queries, to people who log in (docs/security.md)."""
    import os
    from urllib.parse import urlsplit

    from serving.app import ServeSettings, UnsafeToServe, create_app
    from serving.identity import LocalIdentity, OidcIdentity, OidcSettings, ProxyIdentity
    from serving.server import serve as serve_app

    try:
        oidc = OidcSettings.from_env(os.environ)
        mode = auth or ("oidc" if oidc else "local")
        if mode == "local":
            if not role:
                raise ValueError("local mode needs --role (the role of the one person using this page)")
            identity = LocalIdentity(role)
        elif mode == "oidc":
            if oidc is None:
                raise ValueError("--auth oidc needs TOSHAV_OIDC_ISSUER, TOSHAV_OIDC_CLIENT_ID and "
                                 "TOSHAV_OIDC_CLIENT_SECRET in the environment")
            identity = OidcIdentity(oidc, public_url=public_url)
        elif mode == "proxy":
            identity = ProxyIdentity(trusted_proxy, user_header=proxy_user_header,
                                     groups_header=proxy_groups_header, public_url=public_url)
        else:
            raise ValueError(f"--auth is local, oidc or proxy, not {mode!r}")
        hosts = tuple(allowed_host) + ((urlsplit(public_url).netloc,) if public_url else ())
        settings = ServeSettings(municipality, identity=identity, home=home, host=host, allowed_hosts=hosts,
                                 **({"session_secret": os.environ["TOSHAV_SESSION_SECRET"]}
                                    if os.environ.get("TOSHAV_SESSION_SECRET") else {}))
        app_ = create_app(settings)
    except (ValueError, UnsafeToServe) as e:
        errors.print(f"[red]{e}[/red]")
        raise typer.Exit(EXIT_INVALID)
    base = f"http://{host}:{port}"
    errors.print(f"serving municipality {municipality} on {base}/ ({identity.describe()}); Ctrl-C stops")
    if isinstance(identity, LocalIdentity):
        errors.print(f"open this link (it holds the access token; do not share it):\n    {identity.login_url(base)}")
    serve_app(app_, host, port)


@app.command("query-audit")
def query_audit(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code"),
    days: int = typer.Option(7, help="Show the runs of the last N days"),
    purge: bool = typer.Option(False, "--purge", help="Delete records older than the retention (24 months)"),
    older_than_months: Optional[int] = typer.Option(None, help="With --purge: a longer retention than 24 months"),
    home: Optional[Path] = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
) -> None:
    """Show the audit log of emergency query runs, or purge records past the retention."""
    from serving.audit import RETENTION_MONTHS, AuditLog

    log = AuditLog.of(municipality, home)
    if purge:
        try:
            removed = log.purge(older_than_months or RETENTION_MONTHS)
        except ValueError as e:
            errors.print(f"[red]{e}[/red]")
            raise typer.Exit(EXIT_INVALID)
        console.print(f"purged {removed} audit records older than {older_than_months or RETENTION_MONTHS} months")
        return
    since = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=days)
    table = Table(title=f"audit log, municipality {municipality}, last {days} days (UTC)")
    for col in ("at", "user", "role", "channel", "query", "parameters", "rows", "outcome", "exports"):
        table.add_column(col, overflow="fold", no_wrap=col in ("at", "query"))
    for e in log.entries(since=since):
        table.add_row(e.at.isoformat(sep=" "), e.subject, e.role, e.channel, e.query,
                      ", ".join(f"{k}={'|'.join(v) if isinstance(v, list) else v}" for k, v in e.parameters.items()),
                      "" if e.row_count is None else str(e.row_count), e.outcome, e.exports or "")
    console.print(table)
