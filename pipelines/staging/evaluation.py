"""How well staging matched free-text and hand-typed street names, measured against the generator's truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

# sources whose street names are typed by people (the register delivers registry street codes itself)
TYPED_STREETS = {"yachad": "street_text", "disability_registry": "street_name"}


@dataclass
class AddressMatching:
    source: str
    addresses: int          # records with a street name
    matched: int            # ... matched to a registry street code
    correct: int            # ... to the true person's street code

    @property
    def matched_share(self) -> float:
        return self.matched / self.addresses if self.addresses else 1.0

    @property
    def correct_share(self) -> float:
        return self.correct / self.matched if self.matched else 1.0


def address_matching(con: duckdb.DuckDBPyConnection, truth_dir: Path, municipality: int) -> list[AddressMatching]:
    truth = Path(truth_dir) / str(int(municipality))
    records, persons = (str(truth / "records.parquet").replace("'", "''"), str(truth / "persons.parquet").replace("'", "''"))
    out = []
    for source, column in TYPED_STREETS.items():
        addresses, matched, correct = con.execute(f"""
            SELECT count(*), count(s.street_code), count(*) FILTER (WHERE s.street_code = p.street_code)
            FROM stg_{source} s
            JOIN read_parquet('{records}') r ON r.source = '{source}' AND r.file = s._file AND r.row = s._row
            JOIN read_parquet('{persons}') p USING (person_id)
            WHERE s.{column} IS NOT NULL""").fetchone()
        out.append(AddressMatching(source, addresses, matched, correct))
    return out
