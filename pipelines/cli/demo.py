"""`toshav demo`: a sample municipality end to end — generate, run the whole chain, sync to the local stand-in."""

from pathlib import Path

import typer
from rich.console import Console

from pipelines.cli import app
from pipelines.cli.summary import print_summary


@app.command()
def demo(
    municipality: int = typer.Option(6600, "--municipality", "-m", help="CBS locality code (default Holon)"),
    residents: int = typer.Option(20_000, "--residents", "-n", min=100, help="Number of residents to generate"),
    home: Path = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
    seed: int = typer.Option(0, help="Seed of the generated data"),
) -> None:
    """Generate a sample municipality, run ingest → staging → identity → resident file → quality → MuniForce sync
    against the local MuniForce stand-in (started in this process), and print a summary."""
    from connectors.muniforce.standin import start_standin
    from pipelines.resources import MuniForce
    from pipelines.runner import run_municipality
    from pipelines.sample_data import generate
    from pipelines.settings import toshav_home

    console = Console()
    home = (home or toshav_home()).resolve()
    sample = home / "demo"
    with console.status(f"generating {residents:,} residents of municipality {municipality}"):
        generated = generate(municipality, residents, sample, seed=seed)
    console.print(f"generated {residents:,} residents: " + ", ".join(f"{s} {n:,}" for s, n in generated.records.items()))
    standin = start_standin(home / "muniforce-standin.sqlite3")
    try:
        console.print(f"MuniForce stand-in listening on {standin.url}")
        muniforce = MuniForce(instance_url=standin.url, session_id=standin.session_id)
        with console.status("running the chain"):
            summary = run_municipality(municipality, inbox=sample / "inbox", home=home, sync=True,
                                       extra_resources={"muniforce": muniforce})
    finally:
        standin.stop()
    print_summary(summary)
    console.print(f"resident file: {home / 'municipalities' / str(municipality) / 'toshav.duckdb'}")
    if not summary.success:
        raise typer.Exit(code=1)
