"""The quality report of one municipality: the latest result of every suite, and the quarantine of the latest
deliveries (rows per reason per source). Printed by `toshav quality`, and written as a self-contained HTML page
per run (UTF-8, Hebrew-safe: every value cell is `dir="auto"`, so Hebrew reads right to left inside an English page).

Everything shown comes from `quality_results` (counts and public samples only) and the quarantine's reasons
(field names and rules, never values): the report may be mailed around.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from quality.measure import table_columns
from quality.results import latest_results
from pipelines.private_files import private_dir, write_private_text

QUARANTINE_SQL = """
WITH latest AS (SELECT source, max(delivery_id) AS delivery_id FROM deliveries WHERE status = 'ingested' GROUP BY source)
SELECT q.source, q.delivery_id, any_value(q.file) AS file, r.reason, count(*) AS rows
FROM quarantine q JOIN latest USING (source, delivery_id), unnest(q.reasons) AS r(reason)
GROUP BY q.source, q.delivery_id, r.reason
ORDER BY q.source, rows DESC, r.reason"""


@dataclass
class SuiteSummary:
    asset: str
    suite: str
    checks: int
    passed: int
    failed_error: int
    failed_warn: int
    blocking_failed: int
    run_id: str
    evaluated_at: dt.datetime


@dataclass
class QualityReport:
    municipality: int
    results: list[dict]
    quarantine: list[dict]                                          # per source and reason (latest delivery)
    quarantined_rows: dict[str, int] = field(default_factory=dict)  # per source; a row with two reasons counts once
    generated_at: dt.datetime = field(default_factory=dt.datetime.now)

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.results if not r["passed"]]

    @property
    def run_id(self) -> str | None:
        """The most recent run among the results (the page is named after it)."""
        return max(self.results, key=lambda r: r["evaluated_at"])["run_id"] if self.results else None

    @property
    def suites(self) -> list[SuiteSummary]:
        out: dict[str, SuiteSummary] = {}
        for r in self.results:
            s = out.setdefault(r["suite"], SuiteSummary(r["asset"], r["suite"], 0, 0, 0, 0, 0, r["run_id"], r["evaluated_at"]))
            s.checks += 1
            s.passed += r["passed"]
            s.failed_error += (not r["passed"]) and r["severity"] == "ERROR"
            s.failed_warn += (not r["passed"]) and r["severity"] == "WARN"
            s.blocking_failed += (not r["passed"]) and r["blocking"] and r["severity"] == "ERROR"
            s.evaluated_at = max(s.evaluated_at, r["evaluated_at"])
        return list(out.values())


def build_report(con: duckdb.DuckDBPyConnection, municipality: int) -> QualityReport:
    results = latest_results(con) if table_columns(con, "quality_results") else []
    quarantine, per_source = [], {}
    if table_columns(con, "quarantine") and table_columns(con, "deliveries"):
        cur = con.execute(QUARANTINE_SQL)
        names = [d[0] for d in cur.description]
        quarantine = [dict(zip(names, r)) for r in cur.fetchall()]
        per_source = dict(con.execute("""
            WITH latest AS (SELECT source, max(delivery_id) AS delivery_id FROM deliveries
                            WHERE status = 'ingested' GROUP BY source)
            SELECT source, count(*) FROM quarantine JOIN latest USING (source, delivery_id) GROUP BY source""").fetchall())
    return QualityReport(int(municipality), results, quarantine, per_source)


def share(r: dict) -> str:
    if r.get("elements") and r.get("unexpected") is not None and r.get("observed") is not None:
        return f"{r['unexpected']:,} of {r['elements']:,}"
    return ""


# --- HTML -----------------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,"Segoe UI",Arial,"Noto Sans Hebrew",sans-serif;margin:2rem;color:#222}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem} th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:start;vertical-align:top}
th{background:#f3f3f3} .num{text-align:end;font-variant-numeric:tabular-nums}
.ERROR{color:#a40000;font-weight:600} .WARN{color:#8a5a00;font-weight:600} .ok{color:#196619}
.samples{font-family:ui-monospace,monospace;font-size:.85rem}
"""


def _e(v) -> str:
    return html.escape("" if v is None else str(v))


def _cell(v, cls: str = "", auto: bool = False) -> str:
    attrs = (f' class="{cls}"' if cls else "") + (' dir="auto"' if auto else "")
    return f"<td{attrs}>{_e(v)}</td>"


def render_html(report: QualityReport) -> str:
    rows_suites = "".join(
        "<tr>" + _cell(s.asset) + _cell(s.suite) + _cell(s.checks, "num") + _cell(s.passed, "num ok")
        + _cell(s.failed_error, "num ERROR" if s.failed_error else "num") + _cell(s.failed_warn, "num WARN" if s.failed_warn else "num")
        + _cell(s.blocking_failed, "num ERROR" if s.blocking_failed else "num")
        + _cell(f"{s.evaluated_at:%Y-%m-%d %H:%M}")
        + _cell(s.run_id[:8] + ("" if s.run_id == report.run_id else " (earlier run)"), "" if s.run_id == report.run_id else "WARN")
        + "</tr>"
        for s in report.suites)
    rows_fail = "".join(
        "<tr>" + _cell(r["asset"]) + _cell(r["check_name"]) + _cell(r["severity"] + (" (blocking)" if r["blocking"] else ""), r["severity"])
        + _cell(share(r), "num") + _cell(r["threshold"]) + _cell(r["description"])
        + f'<td class="samples" dir="auto">{_e(", ".join(map(str, r["samples"])))}'
        + (f"<br><small>{_e(r['samples_of'])}</small>" if r["samples_of"] else "") + "</td>"
        + _cell(r["note"], auto=True) + "</tr>"
        for r in report.failures)
    rows_q = "".join(
        "<tr>" + _cell(q["source"]) + _cell(q["file"], auto=True) + _cell(q["reason"], auto=True) + _cell(q["rows"], "num") + "</tr>"
        for q in report.quarantine)
    totals = ", ".join(f"{s}: {n:,} rows" for s, n in sorted(report.quarantined_rows.items())) or "none"
    failures = (f"<table><tr><th>asset</th><th>check</th><th>severity</th><th>violating</th><th>threshold</th>"
                f"<th>expectation</th><th>samples (public values only)</th><th>note</th></tr>{rows_fail}</table>"
                if rows_fail else '<p class="ok">No failing check.</p>')
    quarantine = (f"<p>Quarantined rows: {_e(totals)}. A row with two reasons counts under both.</p>"
                  f"<table><tr><th>source</th><th>file</th><th>reason</th><th>rows</th></tr>{rows_q}</table>"
                  if rows_q else "<p>Nothing quarantined in the latest deliveries.</p>")
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Toshav quality — municipality {report.municipality}</title><style>{_CSS}</style></head>
<body>
<h1>Data quality — municipality {report.municipality}</h1>
<p>Latest run {_e((report.run_id or "none")[:8])}; report written {report.generated_at:%Y-%m-%d %H:%M}.
ERROR checks marked blocking stop the MuniForce sync; WARN checks are reported only.
A suite marked "earlier run" was not evaluated in the latest run (its asset did not run, e.g. stopped by a
blocking check): its last results are shown.</p>
<h2>Suites</h2>
<table><tr><th>asset</th><th>suite</th><th>checks</th><th>passed</th><th>failed ERROR</th><th>failed WARN</th>
<th>blocking failed</th><th>evaluated</th><th>run</th></tr>{rows_suites}</table>
<h2>Failing checks</h2>
{failures}
<h2>Quarantine (latest delivery of each source)</h2>
{quarantine}
</body></html>
"""


def write_html(report: QualityReport, directory: Path) -> Path:
    """`<directory>/quality-<run>.html`: one page per pipeline run (re-writing it for the same run replaces it)."""
    private_dir(directory)
    path = directory / f"quality-{(report.run_id or 'no-run')[:8]}.html"
    write_private_text(path, render_html(report))
    return path
