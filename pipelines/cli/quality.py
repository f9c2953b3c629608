"""`toshav quality`: the latest quality results of one municipality, its quarantine, and an HTML page per run."""

from pathlib import Path

import typer

from pipelines.cli import app


@app.command()
def quality(
    municipality: int = typer.Option(..., "--municipality", "-m", help="CBS locality code, e.g. 6600 (Holon)"),
    home: Path = typer.Option(None, help="Data directory (default $TOSHAV_HOME or ./toshav-data)"),
    out: Path = typer.Option(None, help="Folder for the HTML page (default <home>/municipalities/<code>/quality)"),
    accept_row_counts: bool = typer.Option(
        False, "--accept-row-counts",
        help="Accept the latest row counts as the new baseline of the drift checks (after checking a drop is real)"),
) -> None:
    """Print the suites and failing checks of the latest run and the quarantine per reason; write the HTML page.

    Exits 1 when an ERROR check failed in the latest results (2 when the municipality has no database)."""
    import duckdb
    from rich.console import Console
    from rich.table import Table

    from pipelines.settings import municipality_db_path
    from quality.report import build_report, share, write_html
    from quality.results import accept_latest_counts

    console = Console()
    path = municipality_db_path(municipality, home.resolve() if home else None)
    if not path.exists():
        console.print(f"[red]no database for municipality {municipality}[/red] at {path} (run `toshav run` first)")
        raise typer.Exit(code=2)
    con = duckdb.connect(str(path), read_only=not accept_row_counts)
    try:
        if accept_row_counts:
            for suite, rows, was in accept_latest_counts(con):
                if not was:
                    console.print(f"accepted {rows:,} rows as the baseline of {suite}")
        report = build_report(con, municipality)
        from connectors.freshness import source_freshness
        freshness = source_freshness(con)
    finally:
        con.close()

    sources = Table(title="Sources — the delivery in use, how old its data is, the newest file if it was rejected")
    for col in ("source", "data as of", "file in use", "stale", "blocks sync", "rejected file (problem)"):
        sources.add_column(col, overflow="fold")
    for f in freshness:
        sources.add_row(f.source, f"{f.as_of:%Y-%m-%d %H:%M}" if f.as_of else "-", f.file or "-",
                        f"[yellow]yes (> {f.stale_after_hours:g} h)[/yellow]" if f.stale else "no",
                        "yes" if f.blocks_sync else "no",
                        f"[red]{f.rejected_file}[/red] ({f.rejected_problem})" if f.rejected else "")
    console.print(sources)

    if not report.results:
        console.print(f"no quality results yet for municipality {municipality}: run the pipeline first")
    suites = Table(title=f"Quality — municipality {municipality}, latest run {(report.run_id or '-')[:8]}")
    suites.add_column("suite (asset)", overflow="fold")
    for col in ("checks", "passed", "ERROR", "WARN", "blocking"):
        suites.add_column(col, justify="right", min_width=len(col), no_wrap=True)
    for s in report.suites:
        name = s.suite if s.suite == s.asset else f"{s.suite} ({s.asset})"
        if s.run_id != report.run_id:      # not evaluated in the latest run (e.g. stopped by a blocking check)
            name += f" [dim](run {s.run_id[:8]})[/dim]"
        suites.add_row(name, str(s.checks), str(s.passed),
                       f"[red]{s.failed_error}[/red]" if s.failed_error else "0",
                       f"[yellow]{s.failed_warn}[/yellow]" if s.failed_warn else "0",
                       f"[bold red]{s.blocking_failed}[/bold red]" if s.blocking_failed else "0")
    if report.results:
        console.print(suites)
        console.print("ERROR / WARN: failed checks of that severity; blocking: failed ERROR checks that stop the sync; "
                      "(run ...): not evaluated in the latest run, its last results shown")

    if report.failures:
        console.print("[bold]Failing checks[/bold]")
        for r in report.failures:
            colour = "red" if r["severity"] == "ERROR" else "yellow"
            tag = f"[{colour}]{r['severity']}{' blocking' if r['blocking'] else ''}[/{colour}]"
            count = share(r)
            if count and r["observed"] is not None and r["check_name"] != "row_count_drift":
                count += f" ({r['observed']:.1%})"
            console.print(f"{tag} {r['asset']} · [bold]{r['check_name']}[/bold]: {count or r['note'] or ''}"
                          f"  [dim](threshold {r['threshold']})[/dim]", highlight=False)
            if r["samples"]:
                console.print(f"    samples, {r['samples_of']}: " + ", ".join(map(str, r["samples"][:5])), highlight=False)
    elif report.results:
        console.print("[green]every check passed[/green]")

    if report.quarantine:
        q = Table(title="Quarantine — latest delivery of each source (rows per reason)")
        for col, just in (("source", "left"), ("reason", "left"), ("rows", "right")):
            q.add_column(col, justify=just)
        for row in report.quarantine:
            q.add_row(row["source"], row["reason"], f"{row['rows']:,}")
        console.print(q)
    else:
        console.print("quarantine: nothing quarantined in the latest deliveries")

    page = write_html(report, out or path.parent / "quality")
    console.print(f"HTML report: {page}")
    if any(r["severity"] == "ERROR" for r in report.failures):
        raise typer.Exit(code=1)
