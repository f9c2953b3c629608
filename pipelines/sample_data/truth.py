"""The ground truth beside the generated inbox: `persons.parquet` (one row per true person, canonical values)
and `records.parquet` (one row per source record: which person it is and which dirt was applied)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.sample_data import households as hh, needs as nd
from pipelines.sample_data.phones import e164
from pipelines.sample_data.population import STATUS, Population
from schemas.sources import SOURCES
from pipelines.private_files import private_dir, private_file

RECORDS_SCHEMA = pa.schema([
    ("source", pa.string()),
    ("file", pa.string()),
    ("row", pa.int64()),
    ("person_id", pa.int64()),
    ("source_record_key", pa.string()),
    ("dirt", pa.list_(pa.string())),
])


def lists_from_flags(flags: np.ndarray, labels: list[str] | tuple[str, ...]) -> pa.ListArray:
    """(n, k) booleans -> a list column holding, per row, the labels of its true flags (in label order)."""
    n = flags.shape[0]
    rows, cols = np.nonzero(flags)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(np.asarray(labels, dtype=object)[cols].tolist(), pa.string()))


@dataclass
class SourceRecords:
    """The truth rows of one source file, built alongside it."""

    source: str
    file: Path
    row: np.ndarray
    person_index: np.ndarray                      # 0-based index into the Population
    record_key: pa.Array
    dirt: dict[str, np.ndarray] = field(default_factory=dict)   # kind -> per-record flag

    def __len__(self) -> int:
        return len(self.row)

    def table(self, population: Population) -> pa.Table:
        kinds = list(self.dirt)
        flags = np.column_stack([self.dirt[k] for k in kinds]) if kinds else np.zeros((len(self), 0), dtype=bool)
        n = len(self)
        return pa.table({
            "source": pa.array([self.source] * n, pa.string()) if n else pa.array([], pa.string()),
            "file": pa.array([self.file.name] * n, pa.string()) if n else pa.array([], pa.string()),
            "row": pa.array(self.row, pa.int64()),
            "person_id": pa.array(population.person_id[self.person_index], pa.int64()),
            "source_record_key": self.record_key.cast(pa.string()),
            "dirt": lists_from_flags(flags, kinds),
        }, schema=RECORDS_SCHEMA)


def write_records(path: Path, population: Population, parts: list[SourceRecords]) -> None:
    private_dir(path.parent)
    tables = [p.table(population) for p in parts]
    pq.write_table(pa.concat_tables(tables) if tables else RECORDS_SCHEMA.empty_table(), path)
    private_file(path)


def truth_codes(pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """(disability bits, needs bits) that the person's records reveal together (see `needs`)."""
    codes = nd.codes()
    ods_d, ods_n = nd.indicator_codes(pop.needs.indicators)
    d = np.where(pop.in_ods, ods_d, 0) | np.where(pop.in_registry, pop.needs.disability_types, 0)
    n = (np.where(pop.in_ods, ods_n, 0) | np.where(pop.in_registry, pop.needs.needs & codes.registry_needs_mask, 0)
         | np.where(pop.in_yachad, pop.yachad_needs, 0))
    return d, n


def write_persons(path: Path, pop: Population, consent: np.ndarray) -> None:
    """`consent` is per person: given / withdrawn / none, or None for persons the registry does not hold."""
    codes = nd.codes()
    d_bits, n_bits = truth_codes(pop)
    in_sources = np.column_stack([pop.in_register, pop.in_ods, pop.in_yachad, pop.in_registry])
    table = pa.table({
        "person_id": pa.array(pop.person_id, pa.int64()),
        "national_id": pop.national_id,
        "id_type": pa.array(np.where(pop.israeli, "IsraeliID", "Passport"), pa.string()),
        "first_name": pop.first_name,
        "last_name": pop.last_name,
        "father_name": pop.father_name,
        "gender": pa.array(np.where(pop.male, "male", "female"), pa.string()),
        "birth_date": pa.array(pop.birth_date, pa.date32()),
        "death_date": pa.array(pop.death_date, pa.date32()),
        "marital_status": pa.array(hh.MARITAL[pop.marital], pa.string()),
        "street_code": pa.array(pop.street_code, pa.int64()),
        "street_name": pop.street_name,
        "house_number": pop.house_number,
        "entrance": pop.entrance,
        "apartment": pop.apartment,
        "floor": pa.array(pop.floor, pa.int64()),
        "has_elevator": pa.array(pop.has_elevator, pa.bool_()),
        "zip_code": pop.zip_code,
        "mobile_phone": _e164_or_null(pop.mobile),
        "phone": _e164_or_null(pop.landline),
        "household_id": pa.array(pop.household, pa.int64()),
        "status": pa.array(STATUS[pop.status], pa.string()),
        "twin_of": _person_or_null(pop.person_id, pop.twin_of),
        "disability_types": lists_from_flags(nd.bits_to_matrix(d_bits, len(codes.disability_types)), codes.disability_types),
        "needs_codes": lists_from_flags(nd.bits_to_matrix(n_bits, len(codes.needs)), codes.needs),
        "lives_alone": pa.array(pop.lives_alone, pa.bool_()),
        "has_emergency_support": pa.array(pop.has_emergency_support, pa.bool_()),
        "consent": pa.array(consent, pa.string()),
        "in_sources": lists_from_flags(in_sources, SOURCES),
    })
    private_dir(path.parent)
    pq.write_table(table, path)
    private_file(path)


def _e164_or_null(national: np.ndarray) -> pa.Array:
    return e164(pa.array(np.where(national == 0, None, national), pa.int64()))


def _person_or_null(person_ids: np.ndarray, index: np.ndarray) -> pa.Array:
    """person_id of the person at `index`, null where the index is -1."""
    return pa.array(np.where(index >= 0, person_ids[np.maximum(index, 0)], None), pa.int64())
