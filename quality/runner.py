"""Running one suite: measure in SQL, judge with Great Expectations, keep the results. No Dagster here."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from quality import results
from quality.gx_validation import validate
from quality.measure import Measurement, measure_suite
from quality.suites import Expectation, Suite


@dataclass
class Outcome:
    expectation: Expectation
    measurement: Measurement
    passed: bool

    def metadata(self) -> dict:
        """Counts, the threshold and public samples: safe for Dagster metadata and logs."""
        e, m = self.expectation, self.measurement
        md: dict = {"severity": e.severity, "blocking": e.blocking, "threshold": e.threshold, "origin": e.origin}
        if m.elements is not None:
            md["rows_judged" if e.kind not in ("columns", "schema") else "columns_judged"] = m.elements
        if m.unexpected is not None:
            md["unexpected"] = m.unexpected
        if m.observed is not None and e.kind not in ("columns", "schema", "min_rows"):
            md["observed_ratio" if e.kind == "row_count_drift" else "unexpected_share"] = round(m.observed, 6)
        if m.samples:
            md["samples"] = [str(s) for s in m.samples]
            md["samples_are"] = m.samples_of
        if m.note:
            md["note"] = m.note
        if m.error:
            md["error"] = m.error
        return md


def run_suite(con: duckdb.DuckDBPyConnection, suite: Suite, municipality: int, run_id: str) -> list[Outcome]:
    """Evaluate every expectation of `suite` for one municipality; results and row counts are stored in its DB."""
    results.ensure_tables(con)
    measurements = measure_suite(con, suite, municipality, run_id)
    verdicts = validate(suite, measurements)
    outcomes = [Outcome(e, measurements[e.name], verdicts[e.name]) for e in suite.expectations]
    for o in outcomes:
        if o.expectation.kind == "row_count_drift" and o.measurement.elements is not None:
            results.record_count(con, suite.name, run_id, o.measurement.elements, accepted=o.passed)
    results.write_results(con, municipality, run_id, suite, outcomes)
    return outcomes
