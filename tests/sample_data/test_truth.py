"""The ground truth matches the files record for record, and the true population is consistent and realistic."""

from __future__ import annotations

import collections
import datetime as dt
import re

import pytest
from stdnum.il import idnr

from connectors.reference import streets_of
from pipelines.sample_data.national_ids import check_digits
from schemas.loader import load_yaml
from tests.sample_data.conftest import MUNI

SOURCES = ("population_register", "ods", "yachad", "disability_registry")


@pytest.mark.parametrize("source", SOURCES)
def test_every_record_has_exactly_one_truth_row_and_back(default_data, source):
    rows = default_data.rows(source)
    records = default_data.records_of(source)
    truth_rows = [r["row"] for r in records]
    assert len(truth_rows) == len(set(truth_rows))
    assert sorted(truth_rows) == sorted(rows)          # same row numbers, nothing missing on either side
    assert {r["file"] for r in records} == {default_data.summary.files[source].name}
    assert len(records) == default_data.summary.records[source]
    assert all(r["person_id"] in default_data.by_id for r in records)


def test_record_keys_are_the_values_in_the_files(default_data):
    key_header = {"population_register": "מספר זהות", "ods": "id_number", "yachad": "מזהה רשומה",
                  "disability_registry": "מספר זהות"}
    for source, header in key_header.items():
        for record, values, _ in default_data.pairs(source):
            assert record["source_record_key"] == str(values[header])


def test_in_sources_lists_the_sources_holding_each_person(default_data):
    holding = collections.defaultdict(set)
    for r in default_data.records:
        holding[r["person_id"]].add(r["source"])
    for p in default_data.persons:
        assert set(p["in_sources"]) == holding.get(p["person_id"], set())


def test_register_holds_the_registered_only(default_data):
    in_register = {r["person_id"] for r in default_data.records_of("population_register")}
    for p in default_data.persons:
        registered = p["id_type"] == "IsraeliID" and p["status"] != "moved_out"
        assert (p["person_id"] in in_register) == registered
    for record, values, person in default_data.pairs("population_register"):
        if person["status"] == "deceased":
            assert values["תאריך פטירה"] == person["death_date"].strftime("%d/%m/%Y")
        else:
            assert values["תאריך פטירה"] == "" and person["death_date"] is None
        assert values["תאריך לידה"] == person["birth_date"].strftime("%d/%m/%Y")
        assert (values["שם פרטי"], values["שם משפחה"]) == (person["first_name"], person["last_name"])
        assert values["שם רחוב"] == person["street_name"] and values["סמל רחוב"] == str(person["street_code"])


def test_moved_out_persons_stay_in_other_sources(dirty_data):
    moved = {p["person_id"] for p in dirty_data.persons if p["status"] == "moved_out"}
    assert moved
    elsewhere = {r["person_id"] for r in dirty_data.records if r["source"] != "population_register"}
    assert moved & elsewhere
    assert not moved & {r["person_id"] for r in dirty_data.records_of("population_register")}


def test_ids_are_valid_and_unique(default_data):
    ids = [p["national_id"] for p in default_data.persons]
    assert len(ids) == len(set(ids))
    kinds = collections.Counter(p["id_type"] for p in default_data.persons)
    assert kinds["IsraeliID"] > 0.97 * len(ids) and kinds["Passport"] > 0
    for p in default_data.persons:
        if p["id_type"] == "IsraeliID":
            assert re.fullmatch(r"\d{9}", p["national_id"]) and idnr.is_valid(p["national_id"])
        else:
            assert re.fullmatch(r"[A-Z]{1,2}\d{7,8}", p["national_id"])
    assert sum(p["national_id"].startswith("0") for p in default_data.persons) > 0.3 * len(ids)


def test_vectorized_check_digits_agree_with_stdnum():
    import numpy as np

    bodies = np.random.default_rng(1).integers(0, 10**8, 2000)
    for body, check in zip(bodies, check_digits(bodies)):
        assert idnr.is_valid(f"{body:08d}{check}")
        assert not idnr.is_valid(f"{body:08d}{(check + 1) % 10}")


def test_twins(dirty_data):
    twins = [p for p in dirty_data.persons if p["twin_of"] is not None]
    assert len(twins) >= 10 and len(twins) % 2 == 0
    for p in twins:
        t = dirty_data.by_id[p["twin_of"]]
        assert t["twin_of"] == p["person_id"]
        assert t["birth_date"] == p["birth_date"] and t["last_name"] == p["last_name"]
        assert (t["street_code"], t["house_number"], t["apartment"], t["household_id"]) == \
               (p["street_code"], p["house_number"], p["apartment"], p["household_id"])
        assert t["national_id"] != p["national_id"]
        assert idnr.is_valid(t["national_id"]) and idnr.is_valid(p["national_id"])


def test_households_share_an_address_and_streets_are_real(default_data):
    by_household = collections.defaultdict(list)
    for p in default_data.persons:
        by_household[p["household_id"]].append(p)
    for members in by_household.values():
        assert len({(m["street_code"], m["house_number"], m["entrance"], m["apartment"]) for m in members}) == 1
    sizes = collections.Counter(len(m) for m in by_household.values())
    assert sizes[1] > 0 and sizes[2] > 0 and max(sizes) >= 5
    real = {(s.street_code, s.street_name) for s in streets_of(MUNI)}
    assert {(p["street_code"], p["street_name"]) for p in default_data.persons} <= real
    zips = collections.defaultdict(set)
    for p in default_data.persons:
        zips[p["street_code"]].add(p["zip_code"])
        assert re.fullmatch(r"\d{7}", p["zip_code"])
    assert all(len(z) == 1 for z in zips.values())
    assert any(re.fullmatch(r"\d+[א-ה]", p["house_number"]) for p in default_data.persons)


def test_buildings_floors_and_elevators(dirty_data):
    floors = [p["floor"] for p in dirty_data.persons]
    assert min(floors) == 0 and max(floors) <= 12 and max(floors) >= 9
    def elevator_share(low, high):
        sel = [p["has_elevator"] for p in dirty_data.persons if low <= p["floor"] <= high]
        return sum(sel) / len(sel)
    assert elevator_share(0, 2) < elevator_share(3, 5) < elevator_share(6, 12)
    assert elevator_share(8, 12) > 0.9 and elevator_share(0, 2) < 0.5


def test_phones_are_e164(default_data):
    for p in default_data.persons:
        assert p["mobile_phone"] is None or re.fullmatch(r"\+9725[0-9]{8}", p["mobile_phone"])
        assert p["phone"] is None or re.fullmatch(r"\+972[2-489][0-9]{7}", p["phone"])


def test_names_follow_real_frequencies(dirty_data):
    heads = {}
    for p in dirty_data.persons:
        heads.setdefault(p["household_id"], p["last_name"])
    top = [name for name, _ in collections.Counter(heads.values()).most_common(3)]
    assert "כהן" in top                               # the commonest surname in Israel
    assert all(re.fullmatch(r"[א-ת][א-ת' \-]*", p["first_name"]) for p in dirty_data.persons)


def test_canonical_values(default_data):
    needs = load_yaml("needs_codes.yaml")
    for p in default_data.persons:
        assert p["gender"] in ("male", "female")
        assert p["marital_status"] in ("single", "married", "divorced", "widowed")
        assert p["status"] in ("active", "moved_out", "deceased")
        assert p["consent"] in ("given", "withdrawn", "none", None)
        assert set(p["disability_types"]) <= set(needs["disability_types"])
        assert set(p["needs_codes"]) <= set(needs["needs"])
        assert isinstance(p["birth_date"], dt.date) and p["birth_date"] <= default_data.summary.as_of
        assert p["status"] == "deceased" or p["death_date"] is None


def test_coverage_shares_and_the_disabled_are_older(dirty_data):
    n = len(dirty_data.persons)
    share = {s: sum(s in p["in_sources"] for p in dirty_data.persons) / n for s in SOURCES}
    assert 0.12 < share["ods"] < 0.19
    assert 0.07 < share["yachad"] < 0.09
    assert 0.025 < share["disability_registry"] < 0.035
    per_person = collections.Counter(r["person_id"] for r in dirty_data.records_of("ods"))
    assert set(per_person.values()) <= {1, 2, 3, 4} and len(set(per_person.values())) >= 3
    age = lambda p: (dirty_data.summary.as_of - p["birth_date"]).days / 365.25  # noqa: E731
    registry = [age(p) for p in dirty_data.persons if "disability_registry" in p["in_sources"]]
    everyone = [age(p) for p in dirty_data.persons]
    assert sum(registry) / len(registry) > sum(everyone) / len(everyone) + 10


def test_truth_needs_are_what_the_records_reveal(default_data):
    """Registry lists and ODS indicators of a person map to codes inside the person's truth lists."""
    needs = load_yaml("needs_codes.yaml")
    label_to_code = {v["label_he"]: k for kind in ("disability_types", "needs") for k, v in needs[kind].items()}
    for _, values, person in default_data.pairs("disability_registry"):
        for header, truth in (("סוג מוגבלות", "disability_types"), ("צרכי סיוע בחירום", "needs_codes")):
            listed = {label_to_code[x.strip()] for x in (values[header] or "").split(",") if x.strip()}
            assert listed <= set(person[truth])
    for _, values, person in default_data.pairs("ods"):
        mapped = needs["ods_indicators"][values["indicator"]]
        assert set(mapped.get("disability_types", [])) <= set(person["disability_types"])
        assert set(mapped.get("needs", [])) <= set(person["needs_codes"])
    with_needs = [p for p in default_data.persons if p["needs_codes"] or p["disability_types"]]
    assert all(p["in_sources"] for p in with_needs)


def test_yachad_statuses_and_consent(default_data):
    statuses = set(load_yaml("needs_codes.yaml")["yachad_status"])
    seen = collections.Counter(values["סטטוס"] for _, values, _ in default_data.pairs("yachad"))
    assert set(seen) <= statuses and len(seen) >= 3
    for _, values, person in default_data.pairs("yachad"):
        if values["סטטוס"] == "נפטר":
            assert person["status"] == "deceased"
    consent = collections.Counter(values["הסכמה למאגר"] for _, values, _ in default_data.pairs("disability_registry"))
    assert set(consent) == {"כן", "לא"} and consent["כן"] > 0.8 * sum(consent.values())
    for _, values, person in default_data.pairs("disability_registry"):
        assert (values["הסכמה למאגר"] == "כן") == (person["consent"] == "given")


def test_generated_streets_are_registry_streets(default_data):
    """The generator takes its streets from the national registry shipped with the package, never made-up ones."""
    registry = {(s.street_code, s.street_name) for s in streets_of(MUNI)}
    seen = {(p["street_code"], p["street_name"]) for p in default_data.persons}
    assert seen and seen <= registry


def test_a_code_without_registry_streets_is_refused(tmp_path):
    from pipelines.sample_data import generate

    from connectors.errors import ToshavError

    with pytest.raises(ToshavError, match="no streets for this CBS locality code"):
        generate(99999, 100, tmp_path, seed=1)


def test_yachad_household_size_and_registry_living_alone(default_data):
    living = collections.Counter(p["household_id"] for p in default_data.persons if p["status"] != "deceased")
    for _, values, person in default_data.pairs("yachad"):
        assert int(values["נפשות במשק הבית"]) == max(living[person["household_id"]], 1)
    for _, values, person in default_data.pairs("disability_registry"):
        assert (values["מתגורר לבד"] == "כן") == person["lives_alone"]
        assert (values["מעלית בבניין"] == "כן") == person["has_elevator"]
        assert values["קומה"] == person["floor"]


def test_moved_out_and_deceased_rates(dirty_data):
    households = collections.defaultdict(set)
    for p in dirty_data.persons:
        households[p["household_id"]].add(p["status"])
    moved = [statuses == {"moved_out"} for statuses in households.values()]
    assert all("moved_out" not in s or s == {"moved_out"} for s in households.values())   # whole households move
    share = sum(moved) / len(moved)
    assert abs(share - dirty_data.dirt.moved_out) < 4 * (dirty_data.dirt.moved_out / len(moved)) ** 0.5 + 0.01
    deceased = [p for p in dirty_data.persons if p["status"] == "deceased"]
    assert len(deceased) == round(dirty_data.dirt.deceased * len(dirty_data.persons))
    assert all(p["birth_date"] < p["death_date"] <= dirty_data.summary.as_of for p in deceased)
    age = lambda p: (dirty_data.summary.as_of - p["birth_date"]).days / 365.25  # noqa: E731
    assert sum(map(age, deceased)) / len(deceased) > 70
