"""`toshav sync`, `toshav sfdx`, `toshav standin`: MuniForce from the command line (docs/muniforce.md)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from pipelines.cli import app

EXIT_FAILED, EXIT_DRIFT, EXIT_QUOTA = 1, 2, 3


@app.command()
def sync(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code, e.g. 6600 (Holon)"),
    home: Path = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be created/updated/deleted; call nothing"),
    deletion_policy: str = typer.Option("deactivate", envvar="MUNIFORCE_DELETION_POLICY",
                                        help="deactivate (default) or delete: what happens to residents who left"),
    quota_share: float = typer.Option(0.5, help="Stop before the org's daily API usage passes this share"),
    bulk_threshold: int = typer.Option(2000, help="Above this many records in a group, use Bulk API 2.0"),
    bulk_chunk_rows: int = typer.Option(100_000, help="Records per Bulk API 2.0 job"),
    instance_url: str = typer.Option("", envvar="MUNIFORCE_INSTANCE_URL", help="MuniForce instance URL"),
) -> None:
    """Send the municipality's new and changed residents and emergency profiles to MuniForce.

    Credentials come from the environment only: MUNIFORCE_SESSION_ID, or MUNIFORCE_USERNAME,
    MUNIFORCE_PASSWORD and MUNIFORCE_SECURITY_TOKEN (MUNIFORCE_DOMAIN: login or test)."""
    from connectors.muniforce.client import connect
    from connectors.muniforce.describe import SchemaDriftError
    from connectors.muniforce.sync import SyncOptions, sync_municipality
    from pipelines.resources import MunicipalityDuckDB

    options = SyncOptions(dry_run=dry_run, deletion_policy=deletion_policy, quota_share=quota_share,
                          bulk_threshold=bulk_threshold, bulk_chunk_rows=bulk_chunk_rows)
    sf = None
    if not dry_run:
        if not instance_url:
            typer.echo("MUNIFORCE_INSTANCE_URL is not set (or pass --instance-url)", err=True)
            raise typer.Exit(EXIT_FAILED)
        env = os.environ.get
        sf = connect(instance_url, session_id=env("MUNIFORCE_SESSION_ID"), username=env("MUNIFORCE_USERNAME"),
                     password=env("MUNIFORCE_PASSWORD"), security_token=env("MUNIFORCE_SECURITY_TOKEN"),
                     domain=env("MUNIFORCE_DOMAIN"))
    db = MunicipalityDuckDB(home=str(home.resolve()) if home else "")
    if not db.path(municipality).exists():
        typer.echo(f"no database for municipality {municipality} at {db.path(municipality)}", err=True)
        raise typer.Exit(EXIT_FAILED)
    try:
        with db.connect(municipality) as con:
            report = sync_municipality(con, municipality, sf, options)
    except SchemaDriftError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_DRIFT) from None
    typer.echo(report.summary())
    if report.stopped:
        raise typer.Exit(EXIT_QUOTA)


@app.command()
def sfdx(out: Path = typer.Option(..., "--out", help="Directory for the SFDX project")) -> None:
    """Generate the SFDX metadata (objects, fields, permission set) of every field the sync writes."""
    from connectors.muniforce.sfdx import generate_sfdx

    files = generate_sfdx(out)
    typer.echo(f"{len(files)} files written under {out}; deploy with:\n"
               f"  sf project deploy start --source-dir {out / 'force-app'}")


@app.command()
def standin(
    db: Path = typer.Option(None, "--db", help="SQLite file holding the stand-in's data, kept across restarts "
                                                "(default $TOSHAV_HOME/muniforce-standin.sqlite)"),
    port: int = typer.Option(0, "--port", help="Port on 127.0.0.1 (0: any free port)"),
    daily_limit: int = typer.Option(100_000, help="Daily API request limit the stand-in enforces"),
) -> None:
    """Run the local MuniForce stand-in in the foreground (Ctrl-C stops it)."""
    from connectors.muniforce.standin import run_foreground
    from pipelines.settings import toshav_home

    run_foreground(db or toshav_home() / "muniforce-standin.sqlite", port, daily_limit,
                   echo=lambda line: typer.echo(line))
