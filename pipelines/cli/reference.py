"""`toshav reference`: refresh the local copy of the national street registry from data.gov.il's CKAN API."""

from pathlib import Path

import typer

from pipelines.cli import app


@app.command()
def reference(
    out: Path = typer.Option(..., help="Folder to write streets.csv into (use it as TOSHAV_REFERENCE_DIR)"),
    ckan_url: str = typer.Option("https://data.gov.il", help="CKAN site serving the street registry"),
    municipality: int = typer.Option(None, "--municipality", "-m", help="Only this CBS locality code"),
) -> None:
    """Download the street registry (resource "רחובות בישראל") and write it in the local copy's layout."""
    from connectors.reference import fetch_streets, save_streets

    streets = fetch_streets(ckan_url, municipality=municipality)
    out.mkdir(parents=True, exist_ok=True)
    save_streets(streets, out / "streets.csv")
    typer.echo(f"{len(streets):,} streets in {len({s.city_code for s in streets}):,} localities -> {out / 'streets.csv'}")
