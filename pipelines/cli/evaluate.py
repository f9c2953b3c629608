"""`toshav evaluate`: identity and resident-file quality of a municipality against generated ground truth."""

from pathlib import Path

import typer

from pipelines.cli import app

# The "done when" targets of identity resolution (issue 4).
TARGETS = {"precision": 0.999, "recall": 0.99, "first_name": 0.99, "last_name": 0.99, "birth_date": 0.99,
           "address": 0.99}


def evaluation_rows(ev) -> list[tuple[str, str, str, bool]]:
    """(measure, value, target, met) rows of an Evaluation: counts and ratios only."""
    rows = [
        ("source records", f"{ev.records:,}", "", True),
        ("records found in the truth", f"{ev.records_matched_to_truth:,}", "", True),
        ("true pairs", f"{ev.true_pairs:,}", "", True),
        ("predicted pairs", f"{ev.predicted_pairs:,}", "", True),
        ("correct pairs", f"{ev.correct_pairs:,}", "", True),
        ("merge precision", f"{ev.precision:.5f}", f">= {TARGETS['precision']}", ev.precision >= TARGETS["precision"]),
        ("merge recall", f"{ev.recall:.5f}", f">= {TARGETS['recall']}", ev.recall >= TARGETS["recall"]),
        ("different valid IDs merged", f"{ev.different_valid_ids_merged}", "0", ev.different_valid_ids_merged == 0),
    ]
    if ev.field_accuracy is not None:
        rows.append(("residents compared", f"{ev.residents_compared:,}", "", True))
        for field, value in ev.field_accuracy.items():
            rows.append((f"accuracy: {field}", f"{value:.4%}", f">= {TARGETS[field]:.0%}", value >= TARGETS[field]))
    return rows


@app.command()
def evaluate(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code, e.g. 6600 (Holon)"),
    truth: Path = typer.Option(..., help="Ground-truth directory of the sample-data generator (<out>/truth)"),
    home: Path = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
    strict: bool = typer.Option(False, help="Exit with code 1 when a target is missed"),
) -> None:
    """Pairwise merge precision/recall and field accuracy of the resident file against the truth."""
    import duckdb
    from rich.console import Console
    from rich.table import Table

    from pipelines.identity.evaluation import evaluate as run_evaluation
    from pipelines.settings import municipality_db_path, toshav_home

    path = municipality_db_path(municipality, (home or toshav_home()).resolve())
    if not path.exists():
        raise typer.BadParameter(f"no database for municipality {municipality} at {path}")
    con = duckdb.connect(str(path))
    try:
        ev = run_evaluation(con, truth, municipality)
    finally:
        con.close()
    t = Table(title=f"Identity and resident-file quality — municipality {municipality}")
    for col, justify in (("measure", "left"), ("value", "right"), ("target", "right"), ("", "left")):
        t.add_column(col, justify=justify)
    missed = 0
    for name, value, target, met in evaluation_rows(ev):
        t.add_row(name, value, target, ("[green]ok[/green]" if met else "[red]missed[/red]") if target else "")
        missed += 0 if met else 1
    Console().print(t)
    if strict and missed:
        raise typer.Exit(code=1)
