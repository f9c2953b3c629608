"""`generate()`: a municipality's inbox of realistic, dirty source files plus the ground truth behind them."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from pipelines.sample_data import disability_registry, ods, population_register, yachad
from pipelines.sample_data.dirt import Dirt
from pipelines.sample_data.population import STATUS, build_population
from pipelines.sample_data.random_streams import as_of_date
from pipelines.sample_data.truth import SourceRecords, write_persons, write_records

# source -> (module, file extension)
WRITERS = {
    "population_register": (population_register, "csv"),
    "ods": (ods, "jsonl"),
    "yachad": (yachad, "csv"),
    "disability_registry": (disability_registry, "xlsx"),
}
STEPS = ("population", *WRITERS, "truth")


@dataclass(frozen=True)
class SourceSummary:
    path: Path
    records: int          # records in the file (blank rows not counted)
    persons: int          # distinct true persons behind them
    seconds: float


@dataclass(frozen=True)
class GenerationSummary:
    """What was written and how much; counts only, never personal values."""

    municipality: int
    residents: int
    seed: int
    as_of: dt.date
    inbox: Path
    truth_persons: Path
    truth_records: Path
    sources: dict[str, SourceSummary]
    statuses: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def files(self) -> dict[str, Path]:
        return {s: v.path for s, v in self.sources.items()}

    @property
    def records(self) -> dict[str, int]:
        return {s: v.records for s, v in self.sources.items()}


def source_file(out: Path, municipality: int, source: str, as_of: dt.date) -> Path:
    return Path(out) / "inbox" / str(int(municipality)) / source / f"{source}_{as_of.isoformat()}.{WRITERS[source][1]}"


def generate(
    municipality: int,
    residents: int,
    out: Path,
    seed: int = 0,
    dirt: Dirt | None = None,
    *,
    on_step: Callable[[str], None] | None = None,
    as_of: dt.date | None = None,
) -> GenerationSummary:
    """Write the four source files of one municipality under `out/inbox/<muni>/` and the truth under
    `out/truth/<muni>/`. Same arguments, same bytes. `on_step(name)` is called as each of `STEPS` begins.
    `as_of` is the day the files were exported (default: a day of 2026 drawn from the seed); the demo exports
    "today", so its data is fresh by the sources' freshness policies."""
    dirt = dirt or Dirt()
    out = Path(out)
    as_of = as_of or as_of_date(seed)
    seconds: dict[str, float] = {}

    def step(name: str) -> float:
        if on_step:
            on_step(name)
        return time.perf_counter()

    t = step("population")
    pop = build_population(municipality, residents, seed, dirt, as_of)
    seconds["population"] = time.perf_counter() - t

    parts: list[SourceRecords] = []
    sources: dict[str, SourceSummary] = {}
    consent = np.full(pop.size, None, dtype=object)
    for source, (module, _) in WRITERS.items():
        t = step(source)
        path = source_file(out, municipality, source, as_of)
        result = module.write(pop, dirt, seed, path)
        if source == "disability_registry":
            result, consent = result
        parts.append(result)
        seconds[source] = time.perf_counter() - t
        sources[source] = SourceSummary(path, len(result), int(len(np.unique(result.person_index))), seconds[source])

    t = step("truth")
    truth_dir = out / "truth" / str(int(municipality))
    write_persons(truth_dir / "persons.parquet", pop, consent)
    write_records(truth_dir / "records.parquet", pop, parts)
    seconds["truth"] = time.perf_counter() - t

    return GenerationSummary(
        municipality=int(municipality), residents=pop.size, seed=seed, as_of=as_of,
        inbox=out / "inbox" / str(int(municipality)),
        truth_persons=truth_dir / "persons.parquet", truth_records=truth_dir / "records.parquet",
        sources=sources,
        statuses={str(s): int(c) for s, c in zip(STATUS, np.bincount(pop.status, minlength=len(STATUS)))},
        seconds=seconds,
    )
