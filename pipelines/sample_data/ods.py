"""The government data layer (ODS): indicator rows reported by the ministries, long format (1-4 rows a person),
as the JSON-lines export of the CKAN `datastore_search` resource (UTF-8, one record per line, the fields of
SOURCES.md). The ODS stand-in (`connectors.ods_standin`) serves the same records over HTTP.

Ministries keep their own spelling of names (one spelling per person and ministry) and sometimes a mistyped ID.
They still report persons who moved out or died (stale).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines.sample_data import date_formats, national_ids, needs as nd, record_dirt
from pipelines.sample_data.dirt import Dirt
from pipelines.sample_data.population import Population
from pipelines.sample_data.random_streams import stream
from pipelines.sample_data.text_files import write_jsonl
from pipelines.sample_data.truth import SourceRecords

SOURCE = "ods"
FIELDS = ("id_number", "first_name", "last_name", "birth_date", "municipality_code", "source_ministry", "indicator",
          "indicator_value", "valid_from", "updated_at")
MINISTRIES = ("NII", "WELFARE", "HEALTH", "MOD_REHAB")


def write(pop: Population, dirt: Dirt, seed: int, path: Path) -> SourceRecords:
    rng = stream(seed, SOURCE)
    codes = nd.codes()
    holders = np.flatnonzero(pop.in_ods)
    person, indicator = np.nonzero(nd.bits_to_matrix(pop.needs.indicators[holders], len(codes.indicators)))
    person = holders[person]
    ministry = np.array([MINISTRIES.index(nd.INDICATOR_MINISTRY[i]) for i in codes.indicators])[indicator]
    # Delivered grouped by ministry, persons in no particular order inside.
    order = np.lexsort((rng.random(len(person)), ministry))
    person, indicator, ministry = person[order], indicator[order], ministry[order]
    n = len(person)
    take = pa.array(person)
    group = person * len(MINISTRIES) + ministry

    id_number, typo = record_dirt.mistype_ids(rng, pop.id_number[person], pop.israeli[person], dirt.id_typo, group)
    first, last, name_flags = record_dirt.misspell_names(
        rng, pop.first_name.take(take), pop.last_name.take(take), dirt.name_letter_dropped, dirt.name_ktiv_variant, group)

    value = np.full(n, None, dtype=object)
    for i, name in enumerate(codes.indicators):
        options = nd.INDICATOR_VALUES.get(name)
        sel = indicator == i
        if options and sel.any():
            value[sel] = np.array(options, dtype=object)[rng.integers(0, len(options), int(sel.sum()))]
    as_of = np.datetime64(pop.as_of, "D")
    born = pop.birth_date[person]
    valid_from = np.minimum(np.maximum(date_formats.days_before(rng, as_of, n, 90, 12 * 365), born + np.timedelta64(30, "D")), as_of)
    ids = national_ids.as_text(id_number)
    columns = {
        "id_number": ids,
        "first_name": first,
        "last_name": last,
        "birth_date": date_formats.iso_date(born),
        "municipality_code": pa.array(np.full(n, str(pop.municipality))),
        "source_ministry": pa.array(np.array(MINISTRIES)[ministry]),
        "indicator": pa.array(np.array(codes.indicators)[indicator]),
        "indicator_value": pa.array(value, pa.string()),
        "valid_from": date_formats.iso_date(valid_from),
        "updated_at": date_formats.iso_timestamp(date_formats.times_before(rng, as_of, n, 60)),
    }
    write_jsonl(path, {f: columns[f] for f in FIELDS})
    return SourceRecords(SOURCE, path, row=np.arange(n) + 1, person_index=person, record_key=ids,
                         dirt={"id_typo": typo, **name_flags})
