"""`toshav audit verify`: does the audit log prove itself? Names every edited, deleted or reordered record."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from pipelines.cli import app

audit_app = typer.Typer(help="The audit log of who read the resident file (hash-chained, kept 24 months).",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")

EXIT_TAMPERED = 4


@audit_app.command("verify")
def verify(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code"),
    home: Optional[Path] = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
) -> None:
    """Check the hash chain of the municipality's audit log; exit 4 and name each record when it was tampered with."""
    from serving.audit import AuditKeyMissing, AuditLog

    out, err = Console(), Console(stderr=True)
    log = AuditLog.of(municipality, home)
    if not log.path.exists():
        err.print(f"no audit log at {log.path}")
        raise typer.Exit(1)
    try:
        problems = log.verify()
    except AuditKeyMissing as e:
        err.print(f"[red]{e}[/red]")
        raise typer.Exit(1)
    count = len(log.entries())
    if not problems:
        out.print(f"audit log of municipality {municipality}: {count} records, chain intact")
        return
    for p in problems:
        out.print(f"[red]{p.kind}[/red]: {p.message}")
    out.print(f"audit log of municipality {municipality}: {count} records, {len(problems)} problems")
    raise typer.Exit(EXIT_TAMPERED)
