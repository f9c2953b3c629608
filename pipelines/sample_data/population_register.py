"""The population-register extract: everyone registered in the municipality (the deceased with a death date;
those who moved out are gone), CSV in Windows-1255 with the Hebrew header of `schemas/sources/population_register.yaml`.

This is the reference spelling of names; its dirt is the one system exports really have: IDs whose leading
zeros were lost on the way through a spreadsheet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.sample_data import date_formats, national_ids
from pipelines.sample_data.dirt import Dirt
from pipelines.sample_data.population import Population
from pipelines.sample_data.random_streams import stream
from pipelines.sample_data.text_files import write_csv
from pipelines.sample_data.truth import SourceRecords
from schemas.sources import load_source

SOURCE = "population_register"
# canonical marital status -> (male, female) as the register writes it
MARITAL_HE = np.array([("רווק", "רווקה"), ("נשוי", "נשואה"), ("גרוש", "גרושה"), ("אלמן", "אלמנה")])


def write(pop: Population, dirt: Dirt, seed: int, path: Path) -> SourceRecords:
    rng = stream(seed, SOURCE)
    mapping = load_source(SOURCE)
    people = np.flatnonzero(pop.in_register)
    people = people[np.argsort(pop.id_number[people], kind="stable")]    # extracts come sorted by ID
    n = len(people)
    take = pa.array(people)

    ids = pop.national_id.take(take)
    dropped = pc.starts_with(ids, "0").to_numpy(zero_copy_only=False) & (rng.random(n) < dirt.id_leading_zero_dropped)
    ids = pc.if_else(pa.array(dropped), national_ids.without_leading_zeros(ids), ids)

    as_of = np.datetime64(pop.as_of, "D")
    death = pop.death_date[people]
    updated = date_formats.days_before(rng, as_of, n, 1, 2 * 365)
    dead = ~np.isnat(death)
    updated[dead] = np.minimum(death[dead] + rng.integers(1, 30, int(dead.sum())).astype("timedelta64[D]"), as_of)
    male = pop.male[people]

    values = {
        "national_id": ids,
        "last_name": pop.last_name.take(take),
        "first_name": pop.first_name.take(take),
        "father_name": pop.father_name.take(take),
        "gender": pa.array(np.where(male, "ז", "נ")),
        "birth_date": date_formats.dmy(pop.birth_date[people]),
        "marital_status": pa.array(MARITAL_HE[pop.marital[people], np.where(male, 0, 1)]),
        "locality_code": pa.array(np.full(n, str(pop.municipality))),
        "street_code": pa.array(pop.street_code[people]).cast(pa.string()),
        "street_name": pop.street_name.take(take),
        "house_number": pop.house_number.take(take),
        "entrance": pop.entrance.take(take),
        "apartment": pop.apartment.take(take),
        "zip_code": pop.zip_code.take(take),
        "death_date": date_formats.dmy(death),
        "updated_at": date_formats.dmy(updated),
    }
    write_csv(path, [c.headers[0] for c in mapping.columns], [values[c.field] for c in mapping.columns], "cp1255")
    return SourceRecords(SOURCE, path, row=np.arange(n) + 2, person_index=people, record_key=ids,
                         dirt={"id_leading_zero_dropped": dropped})
