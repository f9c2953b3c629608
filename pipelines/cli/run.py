"""`toshav run`: the whole chain for one municipality on the files in an inbox.

Exit codes: 0 the run succeeded; 1 a step failed (a file or data problem: one line each says which and why, and
what was not updated); 75 the municipality is busy (a Dagster run of it is queued or running, or another process
holds its database: try again later).
"""

from pathlib import Path

import typer

from pipelines.cli import app, debug_enabled
from pipelines.cli.summary import console, print_summary

EXIT_FAILED = 1
EXIT_BUSY = 75   # sysexits' EX_TEMPFAIL: nothing is wrong with the data, try again later


def exit_code(summary) -> int:
    if summary.success:
        return 0
    if any(reason.startswith("busy:") for reason in summary.failures.values()):
        return EXIT_BUSY
    return EXIT_FAILED


@app.command()
def run(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code, e.g. 6600 (Holon)"),
    inbox: Path = typer.Option(None, help="Inbox root holding <municipality>/<source>/<file> (default $TOSHAV_INBOX)"),
    home: Path = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
    sync: bool = typer.Option(False, help="Also sync to MuniForce (needs MUNIFORCE_* settings)"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Dagster's step-by-step log"),
) -> None:
    """Ingest, stage, resolve and build the resident file of one municipality (and optionally sync it)."""
    from pipelines.cli.progress import run_with_progress

    from pipelines.run_queue import MunicipalityBusy

    log_level = "DEBUG" if verbose else ("ERROR" if debug_enabled() else "CRITICAL")
    try:
        summary = run_with_progress(console, municipality, inbox=inbox, home=home, sync=sync, log_level=log_level)
    except MunicipalityBusy as busy:        # a Dagster run of it is queued or running
        console.print(f"[red]error[/red]: {busy}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=EXIT_BUSY) from None
    print_summary(summary)
    code = exit_code(summary)
    if code:
        raise typer.Exit(code=code)
