"""Quality of identity resolution and of the resident file, measured against the generator's ground truth.

Truth (`pipelines.sample_data`): `records.parquet` says which true person each delivered row is
(source, file, row = stg `_file`, `_row`), `persons.parquet` holds every person's true values.

- Pairwise merge precision/recall over source records (the unit identity works on; ODS's many rows of one ID
  are one record): a pair is predicted when two records got one resident key, true when they are one person.
- Field accuracy: for every resident whose records are mostly one true person, the share of resident-file
  values equal to that person's true values (names, birth date, address = street code + house + apartment).
- Merges of different valid IDs: resident keys whose records carry two different valid IDs (must be 0).

Only counts and ratios come out of here, never a personal value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from pipelines.normalize import install_macros

FIELDS = ("first_name", "last_name", "birth_date", "address")


@dataclass
class Evaluation:
    records: int = 0
    records_matched_to_truth: int = 0
    true_pairs: int = 0
    predicted_pairs: int = 0
    correct_pairs: int = 0
    residents_compared: int = 0
    different_valid_ids_merged: int = 0
    field_accuracy: dict | None = None

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    def as_dict(self) -> dict:
        return {**asdict(self), "precision": self.precision, "recall": self.recall}


def truth_files(truth_dir: Path, municipality: int) -> tuple[Path, Path]:
    """`<truth>/<muni>/persons.parquet` and `records.parquet` (or directly under `truth_dir`)."""
    base = Path(truth_dir)
    if (base / str(int(municipality))).is_dir():
        base = base / str(int(municipality))
    persons, records = base / "persons.parquet", base / "records.parquet"
    for p in (persons, records):
        if not p.exists():
            raise FileNotFoundError(f"ground truth file missing: {p}")
    return persons, records


def _sql_path(p: Path) -> str:
    return "'" + str(p).replace("'", "''") + "'"


def evaluate(con: duckdb.DuckDBPyConnection, truth_dir: Path, municipality: int) -> Evaluation:
    """Compare `identity_records`/`identity_record_rows`/`resident_file` in `con` with the truth files."""
    install_macros(con)
    persons, records = truth_files(truth_dir, municipality)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _truth_records AS
        SELECT x.rec_id, x.resident_key, mode(t.person_id) AS person_id
        FROM identity_record_rows x
        JOIN read_parquet({_sql_path(records)}) t ON t.source = x.source AND t.file = x.file AND t.row = x.row
        GROUP BY ALL""")
    ev = Evaluation()
    ev.records = con.execute("SELECT count(*) FROM identity_records").fetchall()[0][0]
    ev.records_matched_to_truth, ev.true_pairs, ev.predicted_pairs, ev.correct_pairs = con.execute("""
        WITH pk AS (SELECT person_id, resident_key, count(*) AS n FROM _truth_records GROUP BY ALL),
             p AS (SELECT person_id, sum(n) AS n FROM pk GROUP BY ALL),
             k AS (SELECT resident_key, sum(n) AS n FROM pk GROUP BY ALL)
        SELECT (SELECT count(*) FROM _truth_records),
               (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM p),
               (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM k),
               (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM pk)""").fetchall()[0]
    ev.different_valid_ids_merged = con.execute("""
        SELECT count(*) FROM (SELECT resident_key FROM identity_records WHERE id_valid
                              GROUP BY resident_key HAVING count(DISTINCT national_id) > 1)""").fetchall()[0][0]
    has_file = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'resident_file'").fetchall()[0][0]
    if has_file:
        ev.residents_compared, *acc = con.execute(f"""
            WITH owner AS (
                SELECT resident_key, mode(person_id) AS person_id FROM _truth_records GROUP BY resident_key),
            cmp AS (
                SELECT heb_clean(r.first_name) IS NOT DISTINCT FROM heb_clean(t.first_name) AS first_name,
                       heb_clean(r.last_name) IS NOT DISTINCT FROM heb_clean(t.last_name) AS last_name,
                       r.birth_date IS NOT DISTINCT FROM t.birth_date AS birth_date,
                       r.street_code IS NOT DISTINCT FROM t.street_code
                         AND nullif(r.house_number, '') IS NOT DISTINCT FROM nullif(t.house_number, '')
                         AND nullif(r.apartment, '') IS NOT DISTINCT FROM nullif(t.apartment, '') AS address
                FROM resident_file r JOIN owner o USING (resident_key)
                JOIN read_parquet({_sql_path(persons)}) t ON t.person_id = o.person_id)
            SELECT count(*), {', '.join(f'avg(CAST({f} AS DOUBLE))' for f in FIELDS)} FROM cmp""").fetchall()[0]
        ev.field_accuracy = dict(zip(FIELDS, acc))
    con.execute("DROP TABLE _truth_records")
    return ev
