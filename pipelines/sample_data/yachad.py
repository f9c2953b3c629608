"""The Yachad export: residents the emergency-management system tracks (about 8% of the population, more of
the old and those with needs), CSV in Windows-1255 or UTF-8 with BOM.

Typed by operators under pressure, so: IDs with a dash before the check digit or none at all, full names mostly
`last first`, free-text addresses, phones in any format, needs as free text, and some persons entered twice
under different record ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.sample_data import addresses, date_formats, national_ids, needs as nd, record_dirt, typos
from pipelines.sample_data.dirt import Dirt
from pipelines.sample_data.population import ACTIVE, DECEASED, MOVED_OUT, Population
from pipelines.sample_data.random_streams import stream
from pipelines.sample_data.text_files import write_csv
from pipelines.sample_data.truth import SourceRecords
from schemas.loader import load_yaml
from schemas.sources import load_source

SOURCE = "yachad"
HOTELS = (
    "מלון דן פנורמה, אילת", "מלון הרודס, אילת", "מלון לאונרדו קלאב, ים המלח", "מלון ישרוטל גנים, ים המלח",
    "מלון רמדה, ירושלים", "מלון לאונרדו, טבריה", "מלון נוף גינוסר", "מלון קיבוץ שפיים", "אצל קרובים",
    "אצל משפחה בחיפה", "אצל משפחה בירושלים",
)
HOSPITALS = ("המרכז הרפואי וולפסון", "שיבא תל השומר", "איכילוב", "בילינסון", "אסף הרופא", "הדסה עין כרם", 'רמב"ם')
# Statuses as Yachad writes them, in the order of the shares below (Hebrew from needs_codes.yaml, which staging
# maps back): at home, evacuated, not located, hospitalized, deceased.
_HEBREW_STATUS = {canonical: hebrew for hebrew, canonical in load_yaml("needs_codes.yaml")["yachad_status"].items()}
STATUS_HE = tuple(_HEBREW_STATUS[c] for c in ("at_home", "evacuated", "not_located", "hospitalized", "deceased"))
STATUS_SHARES = {
    ACTIVE: (0.58, 0.25, 0.08, 0.09, 0.0),
    MOVED_OUT: (0.30, 0.0, 0.70, 0.0, 0.0),
    DECEASED: (0.0, 0.0, 0.20, 0.0, 0.80),
}
NEEDS_SEPARATORS = ("; ", ";", ", ", " ו")


def _status(rng: np.random.Generator, status: np.ndarray, has_needs: np.ndarray) -> np.ndarray:
    """Index into STATUS_HE; persons with needs are hospitalised more often."""
    n = len(status)
    shares = np.array([STATUS_SHARES[s] for s in (ACTIVE, MOVED_OUT, DECEASED)])[status]
    shares[has_needs & (status == ACTIVE)] = (0.55, 0.22, 0.08, 0.15, 0.0)
    return (rng.random(n)[:, None] > np.cumsum(shares, axis=1)).sum(axis=1).clip(0, len(STATUS_HE) - 1)


def needs_text(bits: int, picks: np.ndarray) -> str:
    """Needs as an operator types them: labels or their common aliases, `;`-separated or as free text.

    `picks` holds one draw per needs code (label or alias?) and three more: which alias, which separator, and
    whether the text opens with `זקוק ל`."""
    codes, labels = nd.codes(), nd.labels("needs")
    alias_pick, separator_pick, prefix_pick = picks[-3:]
    words = []
    for j, code in enumerate(codes.needs):
        if bits >> j & 1:
            entry = labels[code]
            aliases = list(entry.get("aliases", []))
            use_alias = aliases and picks[j] >= 0.7
            words.append(aliases[int(alias_pick * len(aliases))] if use_alias else entry["label_he"])
    if not words:
        return ""
    text = NEEDS_SEPARATORS[int(separator_pick * len(NEEDS_SEPARATORS))].join(words)
    return ("זקוק ל" + text) if prefix_pick < 0.15 and not text.startswith(("זקוק", "צריך")) else text


def write(pop: Population, dirt: Dirt, seed: int, path: Path) -> SourceRecords:
    rng = stream(seed, SOURCE)
    tracked = np.flatnonzero(pop.in_yachad)
    twice = tracked[rng.random(len(tracked)) < dirt.duplicate]
    person = np.concatenate([tracked, twice])
    duplicate = np.concatenate([np.zeros(len(tracked), bool), np.ones(len(twice), bool)])
    n = len(person)
    # Record ids are the system's own: distinct numbers; the export is sorted by them, so a duplicate lands
    # anywhere in the file.
    record_id = 100000 + rng.choice(max(900000, 20 * n), n, replace=False)
    order = np.argsort(record_id, kind="stable")
    person, duplicate, record_id = person[order], duplicate[order], record_id[order]
    take = pa.array(person)
    israeli = pop.israeli[person]

    # ID: mistyped, then written with a dash, or left out.
    id_number, typo = record_dirt.mistype_ids(rng, pop.id_number[person], israeli, dirt.id_typo)
    ids = pc.if_else(pa.array(israeli), national_ids.as_text(id_number), pop.national_id.take(take))
    missing = rng.random(n) < dirt.id_missing
    dash = israeli & ~missing & (rng.random(n) < dirt.id_dash)
    ids = pc.if_else(pa.array(dash), national_ids.with_dash(ids), ids)
    ids = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), ids)
    typo &= ~missing

    first, last, name_flags = record_dirt.misspell_names(
        rng, pop.first_name.take(take), pop.last_name.take(take), dirt.name_letter_dropped, dirt.name_ktiv_variant)
    first_last = rng.random(n) < dirt.name_first_last
    full_name = pc.if_else(pa.array(first_last), pc.binary_join_element_wise(first, last, " "),
                           pc.binary_join_element_wise(last, first, " "))

    phone, phone_format = record_dirt.write_phones(rng, pop.phone()[person], dirt.phone_format)

    street_picks = rng.random(n)
    street, street_typo = record_dirt.rewrite(
        pop.street_name.take(take), rng.random(n) < dirt.street_typo, street_picks,
        lambda s, p: typos.with_letter_dropped(s, p * 2) if p < 0.5 else typos.with_letters_swapped(s, p * 2 - 1))
    variant = rng.random(n) < dirt.address_variant
    style = np.where(variant, rng.integers(1, 5, n), 0)
    address = addresses.address_texts(street, pop.house_number.take(take), pop.apartment.take(take), pop.city_name, style)
    # A variant that happens to read like the tidy form (no apartment, no abbreviation) is not dirt.
    tidy = addresses.address_texts(street, pop.house_number.take(take), pop.apartment.take(take), pop.city_name,
                                   np.zeros(n, dtype=np.int64))
    variant &= pc.not_equal(address, tidy).to_numpy(zero_copy_only=False)

    status = _status(rng, pop.status[person], pop.needs.any[person])
    location = np.full(n, "", dtype=object)
    evacuated, hospital = status == 1, status == 3
    location[evacuated] = np.array(HOTELS, dtype=object)[rng.integers(0, len(HOTELS), int(evacuated.sum()))]
    location[hospital] = np.array(HOSPITALS, dtype=object)[rng.integers(0, len(HOSPITALS), int(hospital.sum()))]

    bits = pop.yachad_needs[person]
    picks = rng.random((n, len(nd.codes().needs) + 3))
    texts = np.full(n, "", dtype=object)
    for i in np.flatnonzero(bits):
        texts[i] = needs_text(int(bits[i]), picks[i])

    updated = date_formats.times_before(rng, np.datetime64(pop.as_of, "D"), n, 45)
    values = {
        "source_record_id": pa.array(record_id).cast(pa.string()),
        "national_id": ids,
        "full_name": full_name,
        "phone": phone,
        "address_text": address,
        "status": pa.array(np.array(STATUS_HE)[status]),
        "current_location": pa.array(location, pa.string()),
        "needs_text": pa.array(texts, pa.string()),
        "household_size": pa.array(pop.household_size[person]).cast(pa.string()),
        "updated_at": date_formats.dmy_hm(updated),
    }
    mapping = load_source(SOURCE)
    write_csv(path, [c.headers[0] for c in mapping.columns], [values[c.field] for c in mapping.columns],
              dirt.yachad_encoding)
    return SourceRecords(SOURCE, path, row=np.arange(n) + 2, person_index=person, record_key=values["source_record_id"],
                         dirt={"id_typo": typo, "id_dash": dash, "id_missing": missing, **name_flags,
                               "name_first_last": first_last, "street_typo": street_typo, "address_variant": variant,
                               "phone_format": phone_format, "duplicate": duplicate})

