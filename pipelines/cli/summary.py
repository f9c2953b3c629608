"""The short run summary printed by `toshav run` and `toshav demo`: counts only, never personal values."""

from rich.console import Console
from rich.table import Table

from schemas.sources import SOURCES

console = Console()


def print_summary(summary) -> None:
    md = summary.asset_metadata
    t = Table(title=f"Toshav run {summary.run_id[:8]} — municipality {summary.municipality}")
    t.add_column("source")
    t.add_column("rows in", justify="right")
    t.add_column("staged", justify="right")
    t.add_column("quarantined", justify="right")
    t.add_column("values blanked", justify="right")
    for s in SOURCES:
        stg = md.get(f"stg_{s}", {})
        if stg:
            t.add_row(s, str(stg.get("rows_in", 0) + stg.get("malformed", 0)), str(stg.get("staged", 0)),
                      str(stg.get("quarantined", 0) + stg.get("malformed", 0)), str(stg.get("fields_blanked", 0)))
    console.print(t)
    for s in SOURCES:
        raw = md.get(f"raw_{s}", {})
        for rejected in raw.get("rejected_files") or []:
            console.print(f"[red]rejected[/red] {s} file {rejected}; {s} not updated, still uses "
                          f"{raw.get('delivery_in_use', 'none')}")
    console.print("quarantined rows and blanked values are kept with their reasons: tables quarantine and field_issues, "
                  "`toshav quality` reports them")
    rf = md.get("resident_file", {})
    if rf:
        console.print(f"residents in the resident file: {rf.get('residents', '?')}")
    ep = md.get("emergency_profile", {})
    if ep:
        console.print(f"emergency profiles: {ep.get('profiles', '?')}")
    if summary.checks:
        passed = sum(1 for ok, _ in summary.checks.values() if ok)
        console.print(f"quality checks: {passed} passed, {len(summary.checks) - passed} failed")
    sync = md.get("muniforce_sync", {})
    if sync:
        console.print("MuniForce sync: " + ", ".join(f"{k} {v}" for k, v in sync.items() if isinstance(v, (int, float))))
    print_problems(summary)


def print_problems(summary) -> None:
    """One plain line per failed step (the file and what is wrong, as the step said it), then what was not updated.
    Never a stack trace: `--debug` shows Dagster's log."""
    for step, reason in summary.failures.items():
        console.print(f"[red]error[/red]: {step}: {reason}", highlight=False, soft_wrap=True)
    if summary.failures and summary.asset_metadata:
        console.print(f"updated: {', '.join(summary.asset_metadata)}", highlight=False, soft_wrap=True)
    if summary.failures and summary.not_updated:
        console.print(f"not updated (they keep their last good state): {', '.join(summary.not_updated)}",
                      highlight=False, soft_wrap=True)
