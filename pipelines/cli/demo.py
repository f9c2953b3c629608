"""`toshav demo`: a sample municipality end to end — generate, run the whole chain, sync to the local stand-in."""

import datetime as dt
import os
from pathlib import Path

import typer

from pipelines.cli import app, debug_enabled
from pipelines.cli.run import exit_code
from pipelines.cli.summary import console, print_summary


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
    from pipelines.cli.progress import run_with_progress
    from pipelines.resources import MuniForce
    from pipelines.sample_data import generate
    from pipelines.settings import toshav_home

    home = (home or toshav_home()).resolve()
    sample = home / "demo"
    with console.status(f"generating {residents:,} residents of municipality {municipality}"):
        # exported today: the sources' freshness policies judge the demo as they would real deliveries
        generated = generate(municipality, residents, sample, seed=seed, as_of=dt.date.today())
    console.print(f"generated {residents:,} residents: " + ", ".join(f"{s} {n:,}" for s, n in generated.records.items()))
    standin = start_standin(home / "muniforce-standin.sqlite3")
    try:
        console.print(f"MuniForce stand-in listening on {standin.url}")
        muniforce = MuniForce(instance_url=standin.url, session_id=standin.session_id)
        summary = run_with_progress(console, municipality, inbox=sample / "inbox", home=home, sync=True,
                                    extra_resources={"muniforce": muniforce},
                                    log_level="ERROR" if debug_enabled() else "CRITICAL")
    finally:
        standin.stop()
    print_summary(summary)
    console.print(f"resident file: {home / 'municipalities' / str(municipality) / 'toshav.duckdb'}")
    if summary.success:
        print_next_steps(municipality, home)
    code = exit_code(summary)
    if code:
        raise typer.Exit(code=code)


def print_next_steps(municipality: int, home: Path) -> None:
    """What to open after the demo, with the settings that find this run's data."""
    env = "" if os.environ.get("TOSHAV_HOME") else f"TOSHAV_HOME={home} "
    dagster_home = os.environ.get("DAGSTER_HOME") or str(home / "dagster")
    console.print("\nnext:", highlight=False)
    for what, command in (
        ("the emergency page (local login link)", f"{env}toshav serve --municipality {municipality} --role emergency_manager"),
        ("an emergency list in the terminal", f"{env}toshav query --list --municipality {municipality} --role emergency_manager --user $USER"),
        ("quality results and quarantine", f"{env}toshav quality --municipality {municipality}"),
        ("this run in Dagster's UI", f"DAGSTER_HOME={dagster_home} dagster dev -m pipelines.definitions"),
    ):
        console.print(f"  {what + ':':<40} {command}", highlight=False, soft_wrap=True)
