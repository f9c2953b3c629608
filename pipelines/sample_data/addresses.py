"""Where generated households live: real streets of the municipality, buildings with floors and elevators,
apartments, 7-digit zip codes, and the free-text ways people write an address.

Streets come from the national street registry (`connectors.reference.streets_of`), which ships with the package.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.errors import ToshavError
from connectors.reference import locality_name, streets_of

# Building kinds: share, lowest and highest top floor, apartments per floor (low, high), elevator probability
# by top floor is below. Floors are 0 (ground) to 12.
_BUILDING_KINDS = (
    # share, top floor range, apartments a floor, share with pillars (no ground-floor flats)
    (0.14, (0, 1), (1, 1), 0.0),     # private house / duplex
    (0.54, (2, 4), (2, 4), 0.40),    # walk-up (the classic 3-4 storey shikun)
    (0.19, (5, 8), (3, 4), 0.60),    # mid-rise
    (0.13, (9, 12), (4, 4), 0.80),   # tower
)
_HEBREW_SUFFIXES = np.array(["", "א", "ב", "ג", "ד"])
_PREFIXED = ("שד ", "סמ ", "דרך ", "ככר ", "רח ", "שכ ", "שדרות ", "סמטת ", "כיכר ")


@dataclass(frozen=True)
class Streets:
    codes: np.ndarray        # int
    names: pa.Array          # string
    zip_codes: pa.Array      # string, 7 digits
    city_name: str


@dataclass(frozen=True)
class Homes:
    """One row per household."""

    street: np.ndarray       # index into Streets
    house_number: pa.Array   # may carry a letter: 12א
    entrance: pa.Array       # '' or a letter
    apartment: pa.Array      # '' for a private house
    floor: np.ndarray
    has_elevator: np.ndarray


def zip_code_of(municipality: int, street_code: np.ndarray) -> pa.Array:
    """A 7-digit zip code, the same for every house of a street (and across seeds): a 2-digit locality prefix
    and a 5-digit street part."""
    prefix = 10 + (int(municipality) * 37) % 89
    street_part = 10000 + (street_code.astype(np.int64) * 7919 + int(municipality)) % 90000
    return pa.array(prefix * 100000 + street_part).cast(pa.string())


def load_streets(municipality: int) -> Streets:
    """The municipality's streets from the registry; a code the registry has no streets for is an error."""
    rows = streets_of(municipality)
    if not rows:
        raise ToshavError(f"municipality {int(municipality)}: the national street registry has no streets for this "
                         "CBS locality code")
    codes = np.array([s.street_code for s in rows], dtype=np.int64)
    names = [s.street_name for s in rows]
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    return Streets(
        codes=codes,
        names=pa.array([names[i] for i in order], pa.string()),
        zip_codes=zip_code_of(municipality, codes),
        city_name=locality_name(municipality),
    )


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """For a sorted key array: the index where each element's group begins."""
    is_start = np.ones(len(sorted_keys), dtype=bool)
    is_start[1:] = sorted_keys[1:] != sorted_keys[:-1]
    return np.maximum.accumulate(np.where(is_start, np.arange(len(sorted_keys)), 0))


def build_homes(rng: np.random.Generator, streets: Streets, households: int) -> Homes:
    """Buildings along the streets, apartments in them, and one apartment for each household (about 10% stay
    empty). Tall buildings mostly have elevators, walk-ups rarely."""
    n_streets = len(streets.codes)
    names = streets.names.to_pylist()
    weight = rng.lognormal(0.0, 1.0, n_streets)
    weight *= np.array([0.2 if n.startswith(("ככר ", "שכ ")) else 1.0 for n in names])

    mean_apartments = sum(share * (lo + hi + 2) / 2 * (alo + ahi) / 2 for share, (lo, hi), (alo, ahi), _ in _BUILDING_KINDS)
    n_buildings = int(households * 1.12 / mean_apartments * 1.3) + 20
    kind = rng.choice(len(_BUILDING_KINDS), n_buildings, p=[k[0] for k in _BUILDING_KINDS])
    top = np.empty(n_buildings, dtype=np.int64)
    per_floor = np.empty(n_buildings, dtype=np.int64)
    lowest = np.zeros(n_buildings, dtype=np.int64)
    for k, (_, (lo, hi), (alo, ahi), pillars) in enumerate(_BUILDING_KINDS):
        sel = kind == k
        m = int(sel.sum())
        top[sel] = rng.integers(lo, hi + 1, m)
        per_floor[sel] = rng.integers(alo, ahi + 1, m)
        lowest[sel] = (rng.random(m) < pillars).astype(np.int64)
    apartments = (top - lowest + 1) * per_floor
    # Keep just enough buildings for the households plus ~10% vacancy.
    keep = int(np.searchsorted(np.cumsum(apartments), households * 1.1)) + 1
    kind, top, per_floor, lowest, apartments = kind[:keep], top[:keep], per_floor[:keep], lowest[:keep], apartments[:keep]
    n_buildings = keep

    elevator_p = np.select([top >= 8, top >= 5, top >= 3], [0.97, 0.8, 0.12], 0.02)
    elevator = rng.random(n_buildings) < elevator_p
    multi_entrance = (apartments >= 12) & (rng.random(n_buildings) < 0.15)

    # Streets and house numbers: each street has a length (its highest number); its buildings get distinct
    # numbers spread along it, and about 5% share the previous building's number with a letter (12, 12א, 12ב);
    street = np.sort(rng.choice(n_streets, n_buildings, p=weight / weight.sum()))
    start = _group_starts(street)
    rank = np.arange(n_buildings) - start
    per_street = np.bincount(street, minlength=n_streets)
    length = np.maximum(rng.lognormal(np.log(24), 0.7, n_streets), per_street * 1.2)
    spot = np.ceil(np.sort(rng.random(n_buildings) + street) % 1 * length[street]).astype(np.int64)
    spot = np.maximum(spot, 1)
    # the smallest strictly increasing numbers >= spot, per street (cummax of spot - rank, reset per street)
    offset = street.astype(np.int64) * 10_000_000
    number = rank + np.maximum.accumulate(spot - rank + offset) - offset
    lettered = (rng.random(n_buildings) < 0.05) & (rank > 0)
    number = np.where(lettered, 0, number)
    number = np.maximum.accumulate(np.where(lettered, 0, number + offset)) - offset   # lettered: previous number
    number_start = _group_starts(number + offset)
    # and some buildings carry a letter of their own (a lone 7א)
    lone_letter = (rng.random(n_buildings) < 0.03) & (rank == 0)
    suffix = np.arange(n_buildings) - number_start + lone_letter[number_start]
    suffix = np.minimum(suffix, len(_HEBREW_SUFFIXES) - 1)
    house_number = pc.binary_join_element_wise(
        pa.array(number).cast(pa.string()), pa.array(_HEBREW_SUFFIXES[suffix]), ""
    )

    # Apartments, numbered from the lowest floor up; each household gets one at random.
    building_of_apt = np.repeat(np.arange(n_buildings), apartments)
    apt_no = np.arange(len(building_of_apt)) - np.repeat(np.cumsum(apartments) - apartments, apartments) + 1
    chosen = np.sort(rng.choice(len(building_of_apt), households, replace=False))
    chosen = rng.permutation(chosen)
    b = building_of_apt[chosen]
    a = apt_no[chosen]
    floor = lowest[b] + (a - 1) // per_floor[b]
    private = kind[b] == 0
    entrance = np.where(multi_entrance[b], np.where(a * 2 <= apartments[b], "א", "ב"), "")
    apartment = pc.if_else(pa.array(private), "", pa.array(a).cast(pa.string()))
    return Homes(
        street=street[b],
        house_number=house_number.take(pa.array(b)),
        entrance=pa.array(entrance, pa.string()),
        apartment=apartment,
        floor=floor,
        has_elevator=elevator[b],
    )


def _street_forms(street: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(registry form with the type word spelt out, the same with the abbreviations people type).

    `שד ירושלים` -> (`שדרות ירושלים`, `שד' ירושלים`); `סמ הגפן` -> (`סמטת הגפן`, `סמ' הגפן`).
    """
    long_form = street
    short_form = street
    for short, spelt, typed in (("שד ", "שדרות ", "שד' "), ("סמ ", "סמטת ", "סמ' "), ("רח ", "רחוב ", "רח' ")):
        pattern = "^" + short
        long_form = pc.replace_substring_regex(long_form, pattern, spelt)
        short_form = pc.replace_substring_regex(short_form, pattern, typed)
    return long_form, short_form


def address_texts(
    street: pa.Array, house_number: pa.Array, apartment: pa.Array, city: str, style: np.ndarray
) -> pa.Array:
    """Addresses as typed into a free-text field.

    style 0 is the tidy form `הרצל 12 דירה 4, חולון`; 1-4 are the variants people write:
    `רח' הרצל 12/4`, `הרצל 12/4 חולון`, `שד' ירושלים 5 דירה 3`, `שדרות ירושלים 5 ד' 3, חולון`.
    """
    long_form, short_form = _street_forms(street)
    plain = pc.invert(pc.match_substring_regex(street, "^(" + "|".join(_PREFIXED) + ")"))
    with_rach = pc.if_else(plain, pc.binary_join_element_wise("רח'", street, " "), short_form)
    has_apt = pc.not_equal(apartment, "")

    def fmt(street_col, apt_sep, city_sep):
        base = pc.binary_join_element_wise(street_col, house_number, " ")
        with_apt = pc.if_else(has_apt, pc.binary_join_element_wise(base, apartment, apt_sep), base)
        return with_apt if city_sep is None else pc.binary_join_element_wise(with_apt, city, city_sep)

    variants = [
        fmt(street, " דירה ", ", "),
        fmt(with_rach, "/", None),
        fmt(street, "/", " "),
        fmt(short_form, " דירה ", None),
        fmt(long_form, " ד' ", ", "),
    ]
    return pc.choose(pa.array(style.astype(np.int8)), *variants)
