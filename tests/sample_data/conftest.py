"""Generated data sets shared by the sample-data tests (small, generated once per session), and plain readers
of the four file formats that do not go through the project's connectors."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from pipelines.sample_data import Dirt, generate

MUNI = 6600
SEED = 7


def read_rows(path: Path, source: str) -> dict[int, object]:
    """{row number as a person sees it: values} of every non-blank record of a generated file."""
    if source in ("population_register", "yachad"):
        data = path.read_bytes()
        text = data[3:].decode("utf-8") if data.startswith(b"\xef\xbb\xbf") else data.decode("cp1255")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        return {i + 2: dict(zip(rows[0], r)) for i, r in enumerate(rows[1:])}
    if source == "ods":
        with open(path, encoding="utf-8") as f:
            return {i + 1: json.loads(line) for i, line in enumerate(f)}
    wb = openpyxl.load_workbook(path)
    ws = wb["מאגר"]
    header = [c.value for c in ws[1]]
    out = {}
    for row in ws.iter_rows(min_row=2):
        values = [c.value for c in row]
        if any(v not in (None, "") for v in values):
            out[row[0].row] = dict(zip(header, values))
    return out


class Generated:
    """A generated data set: its summary, truth tables and files read back."""

    def __init__(self, out: Path, residents: int, seed: int, dirt: Dirt):
        self.dirt = dirt
        self.summary = generate(MUNI, residents, out, seed=seed, dirt=dirt)
        self.persons = pq.read_table(self.summary.truth_persons).to_pylist()
        self.records = pq.read_table(self.summary.truth_records).to_pylist()
        self.by_id = {p["person_id"]: p for p in self.persons}
        self._rows: dict[str, dict] = {}

    def rows(self, source: str) -> dict[int, object]:
        if source not in self._rows:
            self._rows[source] = read_rows(self.summary.files[source], source)
        return self._rows[source]

    def records_of(self, source: str) -> list[dict]:
        return [r for r in self.records if r["source"] == source]

    def pairs(self, source: str):
        """(truth record, file values, true person) of every record of a source."""
        rows = self.rows(source)
        for r in self.records_of(source):
            yield r, rows[r["row"]], self.by_id[r["person_id"]]


@pytest.fixture(scope="session")
def default_data(tmp_path_factory) -> Generated:
    """2,000 residents with the default dirt."""
    return Generated(tmp_path_factory.mktemp("default"), 2000, SEED, Dirt())


@pytest.fixture(scope="session")
def dirty_data(tmp_path_factory) -> Generated:
    """8,000 residents with every record-dirt rate at 0.2 (so rates can be measured on a few hundred records)."""
    dirt = Dirt.clean()
    dirt = replace(dirt, **{n: 0.2 for n in Dirt.rate_names() if n not in ("moved_out", "deceased", "twins")},
                   moved_out=0.05, deceased=0.02, twins=0.1)
    return Generated(tmp_path_factory.mktemp("dirty"), 8000, SEED, dirt)


@pytest.fixture(scope="session")
def clean_data(tmp_path_factory) -> Generated:
    return Generated(tmp_path_factory.mktemp("clean"), 2000, SEED, Dirt.clean())
