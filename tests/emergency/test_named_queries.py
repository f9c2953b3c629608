"""Each named query returns exactly the expected residents of the crafted file (conftest.RESIDENTS), in the order a
field team walks: street, house number numerically then its letter, entrance, floor."""

import pytest

from serving.parameters import ParameterError
from tests.emergency.conftest import JABOTINSKY
from tests.emergency.helpers import column, keys, run


# --- evacuation_assistance ------------------------------------------------------------------------------------------

def test_evacuation_on_a_street_typed_with_prefix_and_hebrew_geresh(home):
    r = run(home, "evacuation_assistance", streets="רח' ז׳בוטינסקי")
    # 9 (floor unknown), 12, 12א, 120: numeric house order, not text order ("120" < "9")
    assert keys(r) == ["E05", "E01", "E02", "E11"]
    assert r.streets == {"רח' ז׳בוטינסקי": (JABOTINSKY, "ז'בוטינסקי")}
    assert r.warnings == []


def test_evacuation_street_without_geresh_and_house_range(home):
    r = run(home, "evacuation_assistance", streets="זבוטינסקי", house_from=1, house_to=100)
    assert keys(r) == ["E05", "E01", "E02"]


def test_evacuation_by_street_code_equals_by_name(home):
    assert keys(run(home, "evacuation_assistance", street_codes=JABOTINSKY)) == \
        keys(run(home, "evacuation_assistance", streets="ז'בוטינסקי"))


def test_evacuation_whole_municipality_sorted_by_street(home):
    r = run(home, "evacuation_assistance")
    assert keys(r) == ["E05", "E01", "E02", "E11", "E08", "INJ"]
    assert column(r, "street_name") == ["ז'בוטינסקי"] * 4 + ["סוקולוב"] * 2


def test_evacuation_floor_threshold_and_unknown_floor(home):
    r = run(home, "evacuation_assistance", above_floor=3, include_unknown_floor="לא")
    assert keys(r) == ["E01", "E08", "INJ"]


def test_evacuation_including_buildings_with_an_elevator(home):
    r = run(home, "evacuation_assistance", streets="ז'בוטינסקי", without_elevator="false")
    assert keys(r) == ["E03", "E05", "E01", "E02", "E11"]


def test_a_street_that_is_not_found_gives_no_rows_and_a_warning_not_the_whole_city(home):
    r = run(home, "evacuation_assistance", streets="רחוב שאינו קיים בכלל")
    assert keys(r) == []
    assert len(r.warnings) == 1 and "רחוב שאינו קיים בכלל" in r.warnings[0]


def test_one_street_found_one_not(home):
    r = run(home, "evacuation_assistance", streets=["סוקולוב", "רחוב שאינו קיים בכלל"])
    assert keys(r) == ["E08", "INJ"]
    assert len(r.warnings) == 1


def test_call_list_shows_labels_and_local_phone_numbers(home):
    r = run(home, "evacuation_assistance", streets="ז'בוטינסקי")
    assert column(r, "mobility")[:2] == ["מרותק למיטה", "כיסא גלגלים"]
    assert column(r, "needs_codes")[2] == "פינוי בליווי"
    assert column(r, "has_elevator")[:3] == ["לא", "לא", ""]
    assert column(r, "mobile_phone")[0] == "050-123-4504"


# --- power_dependent -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dependency, expected", [
    ("any", ["P01", "P02", "P03", "U01"]),
    ("electricity", ["P01", "P03", "U01"]),
    ("oxygen", ["P02"]),
])
def test_power_dependent_by_typed_boulevard(home, dependency, expected):
    r = run(home, "power_dependent", streets="שדרות ירושלים", dependency=dependency)
    assert keys(r) == expected


def test_power_dependent_whole_municipality_oxygen(home):
    assert keys(run(home, "power_dependent", dependency="oxygen")) == ["E06", "P02"]


# --- alone_without_support -------------------------------------------------------------------------------------------

def test_alone_without_support(home):
    assert keys(run(home, "alone_without_support")) == ["A01", "A02", "A04"]


# --- yachad_not_located ----------------------------------------------------------------------------------------------

def test_yachad_not_located_or_hospitalised_street_with_typo(home):
    r = run(home, "yachad_not_located", streets="סוקולב")
    # Y05 has no consent and no statutory source: Yachad's own legal basis puts them on the list
    assert keys(r) == ["Y01", "Y02", "Y05"]
    assert column(r, "yachad_status") == ["לא אותר", "מאושפז", "לא אותר"]
    assert all(p.startswith("03-555-") for p in column(r, "yachad_phone"))


def test_a_resident_matched_to_no_register_record_is_on_the_list_and_marked(home):
    r = run(home, "power_dependent", streets="שדרות ירושלים")
    marks = dict(zip(keys(r), column(r, "not_in_register")))
    assert marks == {"P01": "לא", "P02": "לא", "P03": "לא", "U01": "כן"}


def test_yachad_hospitalised_only(home):
    assert keys(run(home, "yachad_not_located", yachad_statuses="hospitalized")) == ["Y02"]


# --- household -------------------------------------------------------------------------------------------------------

def test_household_by_street_name(home):
    # Jabotinsky 12: H01, H02, E01 by floor; E10 is deceased, E02 lives at 12א
    assert keys(run(home, "household", street="ז'בוטינסקי", house_number="12")) == ["H01", "H02", "E01"]


def test_household_by_street_code_and_house_letter(home):
    assert keys(run(home, "household", street_code=JABOTINSKY, house_number="12 א")) == ["E02"]


def test_household_apartment(home):
    r = run(home, "household", street="ז'בוטינסקי", house_number="12", apartment="27")
    assert keys(r) == ["H01"]


def test_household_needs_a_street(home):
    with pytest.raises(ParameterError):
        run(home, "household", house_number="12")


# --- parameters are bound, never formatted into SQL -------------------------------------------------------------------

def test_sql_in_a_parameter_is_just_a_value(home):
    r = run(home, "household", street_code=JABOTINSKY, house_number="12' OR '1'='1")
    assert keys(r) == []
    r = run(home, "household", street_code=JABOTINSKY, house_number="12", apartment="1' OR apartment IS NOT NULL --")
    assert keys(r) == []


@pytest.mark.parametrize("params", [
    dict(above_floor="2; DROP TABLE resident_file"),
    dict(street_codes="416 OR 1=1"),
    dict(include_unknown_floor="maybe"),
    dict(no_such_parameter="1"),
])
def test_malformed_parameters_are_refused(home, params):
    with pytest.raises(ParameterError):
        run(home, "evacuation_assistance", **params)


# --- typed street names are matched once per process while the file is unchanged -----------------------------------

def test_street_matches_are_remembered_until_the_file_changes(fresh_home, monkeypatch):
    import os

    from serving import queries as runner  # the module that runs a named query
    from pipelines.settings import serving_db_path

    runner.clear_street_cache()
    calls, real = [], runner.match_typed_streets
    monkeypatch.setattr(runner, "match_typed_streets",
                        lambda con, muni, names: calls.append(list(names)) or real(con, muni, names))
    assert keys(run(fresh_home, "evacuation_assistance", streets="סוקולוב")) == ["E08", "INJ"]
    assert keys(run(fresh_home, "evacuation_assistance", streets=["סוקולוב", "זבוטינסקי"])) == \
        ["E05", "E01", "E02", "E11", "E08", "INJ"]
    assert calls == [["סוקולוב"], ["זבוטינסקי"]]

    path = serving_db_path(6600, fresh_home)               # a run publishes a new file
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert keys(run(fresh_home, "evacuation_assistance", streets="סוקולוב")) == ["E08", "INJ"]
    assert calls[-1] == ["סוקולוב"]
