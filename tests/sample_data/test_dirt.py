"""Each kind of dirt is in the files at roughly its rate, exactly where the truth says, and nowhere else."""

from __future__ import annotations

import collections
import datetime as dt
import math
import re

import pytest
from stdnum.il import idnr

from pipelines.normalize.phones import to_e164

DEFAULT_PHONE = re.compile(r"0\d{1,2}-\d{7}")
PHONE_FORMATS = (DEFAULT_PHONE, re.compile(r"0\d{8,9}"), re.compile(r"\+972\d{8,9}"), re.compile(r"972-\d{1,2}-\d{7}"))


def assert_rate(flags: list[bool], rate: float, what: str) -> None:
    n = len(flags)
    assert n >= 40, f"too few eligible records for {what}"
    share = sum(flags) / n
    assert abs(share - rate) <= 4 * math.sqrt(rate * (1 - rate) / n) + 0.02, f"{what}: {share:.3f} vs {rate}"


def dirt_of(record) -> set[str]:
    return set(record["dirt"])


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def ktiv_variants(word: str) -> set[str]:
    removed = {word[:i] + word[i + 1:] for i, c in enumerate(word) if c in "וי"}
    inserted = {word[:i] + c + word[i:] for i in range(1, len(word)) for c in "וי"}
    return removed | inserted


def name_candidates(first: str, last: str, kinds: set[str]) -> set[tuple[str, str]]:
    """(first, last) pairs the name dirt in `kinds` can turn the true names into."""
    change = deletions if "name_letter_dropped" in kinds else ktiv_variants if "name_ktiv_variant" in kinds else None
    if change is None:
        return {(first, last)}
    return {(f, last) for f in change(first)} | {(first, l) for l in change(last)}


def check_id(value: str, truth: str, typo: bool) -> None:
    """A one-digit typo differs in exactly one place and fails the check digit; otherwise the value is the truth."""
    if typo:
        assert len(value) == len(truth) and sum(a != b for a, b in zip(value, truth)) == 1
        assert not idnr.is_valid(value)
    else:
        assert value == truth


# -- population register ---------------------------------------------------------------------------------------

def test_register_leading_zeros(dirty_data):
    eligible = []
    for record, values, person in dirty_data.pairs("population_register"):
        dropped = "id_leading_zero_dropped" in dirt_of(record)
        if dropped:
            assert values["מספר זהות"] == person["national_id"].lstrip("0") != person["national_id"]
        else:
            assert values["מספר זהות"] == person["national_id"]
        if person["national_id"].startswith("0"):
            eligible.append(dropped)
        assert dirt_of(record) <= {"id_leading_zero_dropped"}
    assert_rate(eligible, dirty_data.dirt.id_leading_zero_dropped, "register leading zeros")


# -- ODS -------------------------------------------------------------------------------------------------------

def test_ods_ids_and_names(dirty_data):
    flags = collections.defaultdict(list)
    for record, values, person in dirty_data.pairs("ods"):
        kinds = dirt_of(record)
        assert kinds <= {"id_typo", "name_letter_dropped", "name_ktiv_variant"}
        check_id(values["id_number"], person["national_id"], "id_typo" in kinds)
        if not {"name_letter_dropped", "name_ktiv_variant"} <= kinds:
            assert (values["first_name"], values["last_name"]) in name_candidates(person["first_name"], person["last_name"], kinds)
        for k in ("id_typo", "name_letter_dropped", "name_ktiv_variant"):
            flags[k].append(k in kinds)
    assert_rate(flags["id_typo"], dirty_data.dirt.id_typo, "ods id typos")
    assert_rate(flags["name_ktiv_variant"], dirty_data.dirt.name_ktiv_variant, "ods ktiv variants")
    # a name too short to lose a letter keeps it: a little below the rate
    assert_rate(flags["name_letter_dropped"], dirty_data.dirt.name_letter_dropped * 0.95, "ods letters dropped")


def test_ods_spelling_is_consistent_per_person_and_ministry(dirty_data):
    seen = {}
    for record, values, _ in dirty_data.pairs("ods"):
        key = (record["person_id"], values["source_ministry"])
        spelling = (values["id_number"], values["first_name"], values["last_name"])
        assert seen.setdefault(key, spelling) == spelling


# -- Yachad ----------------------------------------------------------------------------------------------------

def test_yachad_ids(dirty_data):
    flags = collections.defaultdict(list)
    for record, values, person in dirty_data.pairs("yachad"):
        kinds = dirt_of(record)
        value = values["ת.ז."]
        flags["id_missing"].append("id_missing" in kinds)
        if "id_missing" in kinds:
            assert value == "" and not kinds & {"id_dash", "id_typo"}
            continue
        if person["id_type"] == "Passport":
            assert value == person["national_id"]
            continue
        assert bool(re.fullmatch(r"\d{8}-\d", value)) == ("id_dash" in kinds)
        assert re.fullmatch(r"\d{9}|\d{8}-\d", value)
        check_id(value.replace("-", ""), person["national_id"], "id_typo" in kinds)
        flags["id_dash"].append("id_dash" in kinds)
        flags["id_typo"].append("id_typo" in kinds)
    for k in ("id_missing", "id_dash", "id_typo"):
        assert_rate(flags[k], getattr(dirty_data.dirt, k), f"yachad {k}")


def test_yachad_full_names(dirty_data):
    flags = collections.defaultdict(list)
    for record, values, person in dirty_data.pairs("yachad"):
        kinds = dirt_of(record)
        first_last = "name_first_last" in kinds
        if not {"name_letter_dropped", "name_ktiv_variant"} <= kinds:
            written = {f"{f} {l}" if first_last else f"{l} {f}"
                       for f, l in name_candidates(person["first_name"], person["last_name"], kinds)}
            assert values["שם מלא"] in written
        for k in ("name_first_last", "name_ktiv_variant", "name_letter_dropped"):
            flags[k].append(k in kinds)
    assert_rate(flags["name_first_last"], dirty_data.dirt.name_first_last, "yachad first-last")
    assert_rate(flags["name_ktiv_variant"], dirty_data.dirt.name_ktiv_variant, "yachad ktiv")
    assert_rate(flags["name_letter_dropped"], dirty_data.dirt.name_letter_dropped * 0.95, "yachad letters dropped")


def _street_core(street: str) -> str:
    """The street name without its type word (שד, סמ, רח), which the variants spell differently."""
    return re.sub(r"^(שד|סמ|רח) ", "", street)


def test_yachad_addresses(dirty_data):
    city = "חולון"
    flags = collections.defaultdict(list)
    for record, values, person in dirty_data.pairs("yachad"):
        kinds = dirt_of(record)
        address = values["כתובת"]
        core = _street_core(person["street_name"])
        assert (core not in address) == ("street_typo" in kinds)
        if not kinds & {"street_typo", "address_variant"}:
            tidy = f"{person['street_name']} {person['house_number']}"
            tidy += f" דירה {person['apartment']}" if person["apartment"] else ""
            assert address == f"{tidy}, {city}"
        flags["street_typo"].append("street_typo" in kinds)
        flags["address_variant"].append("address_variant" in kinds)
    assert_rate(flags["street_typo"], dirty_data.dirt.street_typo, "yachad street typos")
    assert_rate(flags["address_variant"], dirty_data.dirt.address_variant, "yachad address variants")
    styles = collections.Counter()
    for _, values, _ in dirty_data.pairs("yachad"):
        a = values["כתובת"]
        styles["רח'"] += a.startswith("רח' ")
        styles["/"] += bool(re.search(r"\d+/\d+", a))
        styles["דירה"] += " דירה " in a
    assert all(styles.values())


def test_yachad_phones(dirty_data):
    household_phones = collections.defaultdict(set)
    for p in dirty_data.persons:
        household_phones[p["household_id"]] |= {p["mobile_phone"], p["phone"]} - {None}
    flags = []
    formats = collections.Counter()
    for record, values, person in dirty_data.pairs("yachad"):
        phone = values["טלפון"]
        if not phone:
            continue
        other = "phone_format" in dirt_of(record)
        assert bool(DEFAULT_PHONE.fullmatch(phone)) == (not other)
        assert to_e164(phone)[0] in household_phones[person["household_id"]]
        formats[next(i for i, f in enumerate(PHONE_FORMATS) if f.fullmatch(phone))] += 1
        flags.append(other)
    assert_rate(flags, dirty_data.dirt.phone_format, "yachad phone formats")
    assert set(formats) == set(range(len(PHONE_FORMATS)))


def test_yachad_duplicates(dirty_data):
    records = dirty_data.records_of("yachad")
    by_person = collections.defaultdict(list)
    for r in records:
        by_person[r["person_id"]].append(r)
    for r in records:
        if "duplicate" in dirt_of(r):
            others = [o for o in by_person[r["person_id"]] if o is not r]
            assert others and all(o["source_record_key"] != r["source_record_key"] for o in others)
            assert any("duplicate" not in dirt_of(o) for o in others)
    assert_rate([len(v) > 1 for v in by_person.values()], dirty_data.dirt.duplicate, "yachad duplicates")
    assert len({r["source_record_key"] for r in records}) == len(records)


# -- disability registry ---------------------------------------------------------------------------------------

def test_registry_ids_names_and_spaces(dirty_data):
    flags = collections.defaultdict(list)
    for record, values, person in dirty_data.pairs("disability_registry"):
        kinds = dirt_of(record)
        cell = values["מספר זהות"]
        numeric = isinstance(cell, int)
        assert numeric == ("id_leading_zero_dropped" in kinds)
        text = f"{cell:09d}" if numeric else cell
        check_id(text, person["national_id"], "id_typo" in kinds)
        if text.startswith("0"):
            flags["id_leading_zero_dropped"].append(numeric)
        spaced = [v for v in (values["שם פרטי"], values["שם משפחה"], values["רחוב"]) if v != v.strip()]
        assert bool(spaced) == ("stray_spaces" in kinds)
        if not {"name_letter_dropped", "name_ktiv_variant"} <= kinds:
            names = (values["שם פרטי"].strip(), values["שם משפחה"].strip())
            assert names in name_candidates(person["first_name"], person["last_name"], kinds)
        for k in ("id_typo", "stray_spaces"):
            flags[k].append(k in kinds)
    for k, values in flags.items():
        assert_rate(values, getattr(dirty_data.dirt, k), f"registry {k}")


def test_registry_birth_dates(dirty_data):
    flags = collections.defaultdict(list)
    for record, values, person in dirty_data.pairs("disability_registry"):
        kinds = dirt_of(record)
        cell = values["תאריך לידה"]
        born = person["birth_date"]
        if "impossible_date" in kinds:
            day, month, year = map(int, cell.split("/"))
            assert year == born.year
            with pytest.raises(ValueError):
                dt.date(year, month, day)
        elif "date_as_text" in kinds:
            assert cell == born.strftime("%d/%m/%Y")
        else:
            assert isinstance(cell, dt.datetime) and cell.date() == born
        flags["impossible_date"].append("impossible_date" in kinds)
        if "impossible_date" not in kinds:
            flags["date_as_text"].append("date_as_text" in kinds)
    for k, values in flags.items():
        assert_rate(values, getattr(dirty_data.dirt, k), f"registry {k}")


def test_registry_phones_and_blank_rows(dirty_data):
    for record, values, _ in dirty_data.pairs("disability_registry"):
        phones = [v for v in (values["טלפון"], values["טלפון נוסף"], values["טלפון איש קשר"]) if v]
        assert any(not DEFAULT_PHONE.fullmatch(p) for p in phones) == ("phone_format" in dirt_of(record))
    rows = sorted(r["row"] for r in dirty_data.records_of("disability_registry"))
    blank = (rows[-1] - 1) - len(rows)            # sheet rows after the header that hold no record
    assert blank > 0
    assert_rate([True] * blank + [False] * (len(rows) - blank), dirty_data.dirt.blank_rows, "registry blank rows")


# -- clean data ------------------------------------------------------------------------------------------------

def test_zero_rates_give_clean_data(clean_data):
    assert all(not r["dirt"] for r in clean_data.records)
    assert {p["status"] for p in clean_data.persons} == {"active"}
    assert all(p["twin_of"] is None for p in clean_data.persons)
    for _, values, person in clean_data.pairs("population_register"):
        assert values["מספר זהות"] == person["national_id"]
    for record, values, person in clean_data.pairs("yachad"):
        assert values["ת.ז."] == person["national_id"]
        assert values["שם מלא"] == f"{person['last_name']} {person['first_name']}"
        assert not values["טלפון"] or DEFAULT_PHONE.fullmatch(values["טלפון"])
    for _, values, person in clean_data.pairs("disability_registry"):
        assert values["מספר זהות"] == person["national_id"]
        assert isinstance(values["תאריך לידה"], dt.datetime)
        assert values["שם פרטי"] == person["first_name"]
    rows = sorted(r["row"] for r in clean_data.records_of("disability_registry"))
    assert rows == list(range(2, len(rows) + 2))   # no blank rows
    assert len({r["person_id"] for r in clean_data.records_of("yachad")}) == len(clean_data.records_of("yachad"))
