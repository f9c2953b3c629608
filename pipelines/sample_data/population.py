"""The true population of a generated municipality: one entry per person, every column a vectorized array.

Households come first (who lives together), then where they live, names, ID numbers, phones, what happened
to them (moved out, deceased), their needs, and which sources know them. Source files are rendered from this
(with dirt) by the per-source modules; `persons.parquet` is written from it as is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.sample_data import addresses, households as hh, national_ids, needs as nd, phones
from pipelines.sample_data.dirt import Dirt
from pipelines.sample_data.names import POPULATIONS, name_table, population_mix
from pipelines.sample_data.random_streams import stream, weighted_sample

ACTIVE, MOVED_OUT, DECEASED = 0, 1, 2
STATUS = np.array(["active", "moved_out", "deceased"])

# Which share of persons each source holds (SOURCES.md); who they are is decided in `_coverage`.
YACHAD_SHARE = 0.08
REGISTRY_SHARE = 0.03
ODS_COVERAGE = 0.94          # of persons with needs: known to the ministries (the rest only to the registry)
FOREIGN_SHARE = 0.08         # of households of young adults alone or couples: foreign residents with a passport
MEDICATION_SHARE = 0.10      # of tracked persons aged 60+: Yachad notes essential medication


@dataclass(frozen=True)
class Population:
    municipality: int
    as_of: dt.date
    city_name: str
    person_id: np.ndarray
    household: np.ndarray
    israeli: np.ndarray            # False: a foreign resident identified by passport
    id_number: np.ndarray          # Israeli ID as int64 (9 digits, leading zeros implied); 0 for passports
    national_id: pa.Array          # 9-digit text or passport number
    first_name: pa.Array
    last_name: pa.Array
    father_name: pa.Array
    male: np.ndarray
    birth_date: np.ndarray         # datetime64[D]
    death_date: np.ndarray         # datetime64[D], NaT if alive
    marital: np.ndarray            # index into households.MARITAL
    street_code: np.ndarray
    street_name: pa.Array
    house_number: pa.Array
    entrance: pa.Array
    apartment: pa.Array
    floor: np.ndarray
    has_elevator: np.ndarray
    zip_code: pa.Array
    mobile: np.ndarray             # national number int64, 0 if none
    landline: np.ndarray           # national number int64, 0 if none
    status: np.ndarray             # ACTIVE / MOVED_OUT / DECEASED
    twin_of: np.ndarray            # person index, -1 if none
    needs: nd.Needs
    yachad_needs: np.ndarray       # needs bits a Yachad operator would note (profile needs, medication)
    lives_alone: np.ndarray
    has_emergency_support: np.ndarray
    household_size: np.ndarray     # living members of the person's household
    in_register: np.ndarray
    in_ods: np.ndarray
    in_yachad: np.ndarray
    in_registry: np.ndarray

    @property
    def size(self) -> int:
        return len(self.person_id)

    @property
    def age_years(self) -> np.ndarray:
        return (np.datetime64(self.as_of, "D") - self.birth_date).astype(np.int64) / 365.25

    def phone(self) -> np.ndarray:
        """The number a person gives: their mobile, else the household landline, else a parent's mobile."""
        first_member = np.searchsorted(self.household, self.household)
        return np.where(self.mobile != 0, self.mobile,
                        np.where(self.landline != 0, self.landline, self.mobile[first_member]))


class _NameVocabulary:
    """All name tables in one string array, so names are drawn as integer codes and rendered with one `take`."""

    def __init__(self, tables: dict[tuple, object]):
        self.offsets: dict[tuple, int] = {}
        chunks, at = [], 0
        for key, table in tables.items():
            self.offsets[key] = at
            chunks.append(table.names)
            at += len(table.names)
        self.tables = tables
        self.words = pa.array(np.concatenate(chunks).tolist(), pa.string())

    def draw(self, rng: np.random.Generator, key: tuple, n: int) -> np.ndarray:
        return self.tables[key].draw(rng, n) + self.offsets[key]

    def render(self, codes: np.ndarray) -> pa.Array:
        return self.words.take(pa.array(codes))


def _names(rng: np.random.Generator, h: hh.Households, population: np.ndarray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """First, last and father's names: a household shares the head's last name (some spouses keep their own);
    a child's father's name is the father's first name when he lives with them."""
    tables = {}
    for p in POPULATIONS:
        for g in ("male", "female"):
            tables[("first", p, g)] = name_table("first", p, g)
        tables[("last", p)] = name_table("last", p)
    vocab = _NameVocabulary(tables)
    n = h.persons
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    father = np.zeros(n, dtype=np.int64)
    household_last = np.zeros(len(h.kind), dtype=np.int64)
    pop_of_person = population[h.household]
    for i, p in enumerate(POPULATIONS):
        hh_sel = population == i
        household_last[hh_sel] = vocab.draw(rng, ("last", p), int(hh_sel.sum()))
        sel = pop_of_person == i
        for g, male in (("male", True), ("female", False)):
            s = sel & (h.male == male)
            first[s] = vocab.draw(rng, ("first", p, g), int(s.sum()))
        father[sel] = vocab.draw(rng, ("first", p, "male"), int(sel.sum()))
        own = sel & (h.role == hh.SPOUSE) & (rng.random(n) < 0.12)
        last[own] = vocab.draw(rng, ("last", p), int(own.sum()))
        last[sel & ~own] = household_last[h.household[sel & ~own]]
    has_father = h.father >= 0
    father[has_father] = first[h.father[has_father]]
    return vocab.render(first), vocab.render(last), vocab.render(father)


def _statuses(rng: np.random.Generator, h: hh.Households, age_years: np.ndarray, dirt: Dirt) -> np.ndarray:
    """Whole households move out; deaths fall mostly on the old."""
    status = np.full(h.persons, ACTIVE, dtype=np.int64)
    moved = rng.random(len(h.kind)) < dirt.moved_out
    status[moved[h.household]] = MOVED_OUT
    weights = np.where(status == ACTIVE, np.exp((age_years - 85.0) / 7.0), 0.0)
    status[weighted_sample(rng, weights, round(dirt.deceased * h.persons))] = DECEASED
    return status


def _coverage(rng, pop_age, israeli, status, needs, lives_alone) -> tuple[np.ndarray, ...]:
    """Which persons each source holds."""
    n = len(pop_age)
    in_register = israeli & (status != MOVED_OUT)
    registry_candidates = israeli & (needs.disability_types != 0)
    in_registry = np.zeros(n, dtype=bool)
    in_registry[weighted_sample(rng, np.where(registry_candidates, 1.0 + pop_age / 20.0, 0.0),
                                round(REGISTRY_SHARE * n))] = True
    in_ods = israeli & needs.any & ((rng.random(n) < ODS_COVERAGE) | ~in_registry)
    yachad_weight = 1.0 + 3.0 * needs.any + 2.0 * (pop_age >= 70) + 1.0 * lives_alone + 1.0 * ~israeli
    in_yachad = np.zeros(n, dtype=bool)
    in_yachad[weighted_sample(rng, yachad_weight, round(YACHAD_SHARE * n))] = True
    return in_register, in_ods, in_yachad, in_registry


def build_population(municipality: int, residents: int, seed: int, dirt: Dirt, as_of: dt.date) -> Population:
    if residents < 1:
        raise ValueError("residents must be at least 1")
    h = hh.build_households(stream(seed, "households"), residents, dirt.twins)
    n = h.persons
    rng = stream(seed, "persons")

    # Population groups per household; some young adults alone and couples are foreign residents.
    mix = population_mix(municipality)
    groups = np.array([mix.get(p, 0.0) for p in POPULATIONS])
    population = rng.choice(len(POPULATIONS), len(h.kind), p=groups / groups.sum())
    foreign_hh = np.isin(h.kind, [hh.YOUNG_ALONE, hh.COUPLE]) & (rng.random(len(h.kind)) < FOREIGN_SHARE)
    population[foreign_hh] = np.where(rng.random(int(foreign_hh.sum())) < 0.6,
                                      POPULATIONS.index("other"), POPULATIONS.index("christian"))
    israeli = ~foreign_hh[h.household]
    first, last, father = _names(stream(seed, "names"), h, population)

    as_of_day = np.datetime64(as_of, "D")
    birth = as_of_day - h.age_days.astype("timedelta64[D]")
    age_years = h.age_days / 365.25
    birth_year = birth.astype("datetime64[Y]").astype(np.int64) + 1970

    id_number = np.zeros(n, dtype=np.int64)
    id_rng = stream(seed, "national_ids")
    id_number[israeli] = national_ids.draw_ids(id_rng, birth_year[israeli])
    national_id = pc.if_else(pa.array(israeli), national_ids.as_text(id_number),
                             national_ids.draw_passports(id_rng, n))

    streets = addresses.load_streets(municipality)
    homes = addresses.build_homes(stream(seed, "homes"), streets, len(h.kind))
    street_of = homes.street[h.household]
    take = pa.array(h.household)

    prng = stream(seed, "phones")
    has_mobile = (age_years >= 12) & (prng.random(n) < np.where(age_years >= 80, 0.75, 0.93))
    mobile = np.where(has_mobile, phones.draw_mobiles(prng, n), 0)
    oldest = np.zeros(len(h.kind))
    np.maximum.at(oldest, h.household, age_years)
    has_landline = prng.random(len(h.kind)) < np.where(oldest >= 65, 0.65, 0.3)
    landline = np.where(has_landline, phones.draw_landlines(prng, len(h.kind), phones.area_code(municipality)), 0)

    status = _statuses(stream(seed, "statuses"), h, age_years, dirt)
    death = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    dead = status == DECEASED
    srng = stream(seed, "deaths")
    days_before = srng.integers(1, 3 * 365, n)
    death[dead] = np.maximum(as_of_day - days_before[dead].astype("timedelta64[D]"), birth[dead] + 1)
    marital = h.marital.copy()
    # A surviving spouse is widowed.
    second = np.minimum(h.start[h.household] + 1, n - 1)
    head_has_spouse = (h.role == hh.HEAD) & (h.role[second] == hh.SPOUSE) & (h.household[second] == h.household)
    spouse_of = np.where(head_has_spouse, second, np.where(h.role == hh.SPOUSE, h.start[h.household], -1))
    married = (marital == hh.MARRIED) & (spouse_of >= 0)
    widowed = married & (status[np.maximum(spouse_of, 0)] == DECEASED) & (status != DECEASED)
    marital[widowed] = hh.WIDOWED

    living = status != DECEASED        # a household that moved out is still a household, elsewhere
    household_size = np.bincount(h.household, weights=living, minlength=len(h.kind)).astype(np.int64)[h.household]
    lives_alone = living & (household_size == 1)
    needs = nd.assign_needs(stream(seed, "needs"), age_years, lives_alone)
    crng = stream(seed, "coverage")
    in_register, in_ods, in_yachad, in_registry = _coverage(crng, age_years, israeli, status, needs, lives_alone)
    medication = in_yachad & (age_years >= 60) & (crng.random(n) < MEDICATION_SHARE)
    yachad_needs = needs.needs | np.where(medication, nd.codes().bit("needs", "MEDICATION"), 0)
    support = crng.random(n) < np.where(lives_alone, 0.45, 0.9)

    return Population(
        municipality=int(municipality), as_of=as_of, city_name=streets.city_name,
        person_id=np.arange(1, n + 1, dtype=np.int64), household=h.household + 1, israeli=israeli,
        id_number=id_number, national_id=national_id, first_name=first, last_name=last, father_name=father,
        male=h.male, birth_date=birth, death_date=death, marital=marital,
        street_code=streets.codes[street_of], street_name=streets.names.take(pa.array(street_of)),
        house_number=homes.house_number.take(take), entrance=homes.entrance.take(take),
        apartment=homes.apartment.take(take), floor=homes.floor[h.household],
        has_elevator=homes.has_elevator[h.household], zip_code=streets.zip_codes.take(pa.array(street_of)),
        mobile=mobile, landline=landline[h.household], status=status, twin_of=h.twin_of, needs=needs,
        yachad_needs=yachad_needs, lives_alone=lives_alone, has_emergency_support=support,
        household_size=np.maximum(household_size, 1),
        in_register=in_register, in_ods=in_ods, in_yachad=in_yachad, in_registry=in_registry,
    )
