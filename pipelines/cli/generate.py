"""`toshav generate`: realistic, dirty sample data for one municipality, with its ground truth."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipelines.cli import app


class YachadEncoding(str, Enum):
    cp1255 = "cp1255"
    utf8_bom = "utf-8-sig"


STEP_LABELS = {
    "population": "building the population",
    "population_register": "writing the population register",
    "ods": "writing the ODS export",
    "yachad": "writing the Yachad export",
    "disability_registry": "writing the disability registry",
    "truth": "writing the ground truth",
}


@app.command("generate")
def generate_command(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code, e.g. 6600 (Holon)"),
    residents: int = typer.Option(20_000, "--residents", "-n", min=1, help="Number of true persons"),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder: gets inbox/<muni>/... and truth/<muni>/..."),
    seed: int = typer.Option(0, "--seed", help="Same seed, same bytes"),
    dirt_scale: float = typer.Option(1.0, "--dirt-scale", min=0.0, help="Multiply every dirt rate (0 = clean data)"),
    yachad_encoding: YachadEncoding = typer.Option(YachadEncoding.cp1255, "--yachad-encoding", help="Encoding of the Yachad CSV"),
) -> None:
    """Generate a municipality's inbox (population register, ODS, Yachad, disability registry) and its truth."""
    from pipelines.sample_data import STEPS, Dirt, generate

    dirt = Dirt(yachad_encoding=yachad_encoding.value).scaled(dirt_scale)
    console = Console()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("starting", total=len(STEPS))
        started = []

        def on_step(name: str) -> None:
            if started:
                progress.advance(task)
            started.append(name)
            progress.update(task, description=STEP_LABELS.get(name, name))

        summary = generate(municipality, residents, out, seed=seed, dirt=dirt, on_step=on_step)
        progress.advance(task)

    table = Table(title=f"Municipality {summary.municipality}, as of {summary.as_of.isoformat()}, seed {summary.seed}")
    table.add_column("source")
    table.add_column("file")
    table.add_column("records", justify="right")
    table.add_column("persons", justify="right")
    table.add_column("seconds", justify="right")
    for source, s in summary.sources.items():
        table.add_row(source, s.path.name, f"{s.records:,}", f"{s.persons:,}", f"{s.seconds:.2f}")
    console.print(table)
    statuses = ", ".join(f"{k} {v:,}" for k, v in summary.statuses.items())
    console.print(f"{summary.residents:,} persons ({statuses}); inbox {summary.inbox}; truth {summary.truth_persons.parent}")
