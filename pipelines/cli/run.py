"""`toshav run`: the whole chain for one municipality on the files in an inbox."""

from pathlib import Path

import typer

from pipelines.cli import app
from pipelines.cli.summary import print_summary


@app.command()
def run(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code, e.g. 6600 (Holon)"),
    inbox: Path = typer.Option(None, help="Inbox root holding <municipality>/<source>/<file> (default $TOSHAV_INBOX)"),
    home: Path = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
    sync: bool = typer.Option(False, help="Also sync to MuniForce (needs MUNIFORCE_* settings)"),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show Dagster's step-by-step log"),
) -> None:
    """Ingest, stage, resolve and build the resident file of one municipality (and optionally sync it)."""
    from pipelines.runner import run_municipality

    summary = run_municipality(municipality, inbox=inbox, home=home, sync=sync, log_level="DEBUG" if verbose else "WARNING")
    print_summary(summary)
    if not summary.success:
        raise typer.Exit(code=1)
