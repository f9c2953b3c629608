"""Identity resolution of one municipality: staged records -> persons -> stable resident keys.

1. records.py        every staged source record in one shape (`identity_records`)
2. deterministic     a valid Israeli ID decides: same ID = same person, different valid IDs = different persons
3. probabilistic.py  the records without a valid ID are linked with Splink to those persons or to each other
4. registry.py       each person gets the resident key its records and ID had before, or a new one
5. review.py         doubtful cases go to `identity_review`

Afterwards `identity_records.resident_key` says whom each source record belongs to, and the view
`identity_record_rows` ties every staged row (source, file, row) to its record and key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

import duckdb

from pipelines.identity import probabilistic, registry, review
from pipelines.identity.records import build_identity_records, persist_identity_records


@dataclass
class IdentityReport:
    """Counts only: safe for logs and Dagster metadata."""

    records: int = 0
    persons: int = 0
    records_with_valid_id: int = 0
    unresolved: int = 0
    linked_to_anchor: int = 0
    linked_via_unresolved: int = 0
    new_persons_without_id: int = 0
    scored_pairs: int = 0
    model_trained: bool = False
    new_keys: int = 0
    kept_keys: int = 0
    merges: int = 0
    splits: int = 0
    for_review: int = 0

    def metadata(self) -> dict:
        return asdict(self)


def resolve_identities(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> IdentityReport:
    now = now or dt.datetime.now()
    report = IdentityReport(records=build_identity_records(con))
    report.records_with_valid_id = con.execute("SELECT count(*) FROM _records WHERE id_valid").fetchall()[0][0]
    link = probabilistic.LinkReport()
    if report.records > report.records_with_valid_id:
        probabilistic.score_pairs(con, link)
    else:
        con.execute("""CREATE OR REPLACE TEMP TABLE _scored_pairs (b BIGINT, other BIGINT, other_unresolved BOOLEAN,
                                                                  match_weight DOUBLE, match_probability DOUBLE)""")
    probabilistic.assign_clusters(con, link)
    review.deterministic_findings(con)
    keys = registry.issue_keys(con, now)
    con.execute("""CREATE OR REPLACE TEMP TABLE _record_keys AS
                   SELECT c.rec_id, k.resident_key FROM _record_clusters c JOIN _cluster_keys k USING (cluster_id)""")
    persist_identity_records(con, "_record_keys")
    report.for_review = review.write_review(con, now)
    report.persons = con.execute("SELECT count(DISTINCT resident_key) FROM identity_records").fetchall()[0][0]
    report.unresolved, report.linked_to_anchor = link.unresolved, link.linked_to_anchor
    report.linked_via_unresolved, report.new_persons_without_id = link.linked_via_unresolved, link.new_persons
    report.scored_pairs, report.model_trained = link.scored_pairs, link.trained
    report.new_keys, report.kept_keys, report.merges, report.splits = (
        keys["new_keys"], keys["kept_keys"], keys["merges"], keys["splits"])
    for t in ("_scored_pairs", "_anchor_candidates", "_best_anchor", "_unresolved_clusters", "_claims", "_won",
              "_retired", "_id_review", "_link_review", "_record_clusters", "_cluster_keys", "_record_keys", "_records"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return report
