"""What `toshav run` and `toshav demo` show while the chain works: on a terminal a live line (the steps running,
steps done of all, elapsed); elsewhere (CI, a log file) one plain line per finished step."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pipelines.runner import Progress as RunProgress
from pipelines.runner import RunSummary, run_municipality


def run_with_progress(console: Console, municipality: int, **options) -> RunSummary:
    """`run_municipality` with its progress shown on `console`."""
    if console.is_terminal:
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task(f"municipality {municipality}: starting", total=None)

            def show(p: RunProgress) -> None:
                running = ", ".join(p.running) or "between steps"
                bar.update(task, completed=p.done, total=p.total, description=f"municipality {municipality}: {running}")

            return run_municipality(municipality, on_progress=show, **options)

    printed = 0

    def lines(p: RunProgress) -> None:
        nonlocal printed
        for step, outcome, seconds in p.finished[printed:]:
            took = f" {seconds:.1f} s" if seconds is not None else ""
            console.print(f"[{printed + 1:>2}/{p.total}] {step} {outcome}{took} (elapsed {p.elapsed:.0f} s)",
                          highlight=False)
            printed += 1

    return run_municipality(municipality, on_progress=lines, **options)
