"""What each operation answers: ETags, merged keys, Hebrew names and typed streets matched as everywhere in Toshav,
the named lists, and problems that name the field without repeating the value."""

from tests.api import scenario
from tests.api.conftest import client

PROBLEM = "application/problem+json"


def test_a_resident_carries_an_etag_and_an_unchanged_one_answers_304(api, tokens, people):
    with client(api, tokens["property_tax"]) as http:
        first = http.get(f"/v1/residents/{people['moshe']}")
        again = http.get(f"/v1/residents/{people['moshe']}", headers={"If-None-Match": first.headers["etag"]})
        other = http.get(f"/v1/residents/{people['moshe']}", headers={"If-None-Match": '"something-else"'})
    assert first.status_code == 200 and first.json()["street_code"] == 401
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    assert other.status_code == 200


def test_the_same_resident_has_another_etag_for_a_consumer_cleared_for_less(api, tokens, people):
    with client(api, tokens["property_tax"]) as a, client(api, tokens["statistics"]) as b:
        assert a.get(f"/v1/residents/{people['moshe']}").headers["etag"] != \
            b.get(f"/v1/residents/{people['moshe']}").headers["etag"]


def test_a_key_retired_by_a_merge_points_to_the_surviving_key(api, tokens, people):
    with client(api, tokens["property_tax"]) as http:
        r = http.get(f"/v1/residents/{people['retired']}", follow_redirects=False)
        unknown = http.get("/v1/residents/RNOSUCHKEY0000000000")
    assert r.status_code == 308 and r.headers["location"] == f"/v1/residents/{people['moshe']}"
    assert unknown.status_code == 404 and unknown.headers["content-type"] == PROBLEM


def test_search_matches_names_as_toshav_does_final_letters_and_geresh(api, tokens, people):
    with client(api, tokens["property_tax"]) as http:
        typed = http.post("/v1/residents/search", json={"last_name": " כהנ ", "birth_date": "1980-02-01"})
        wrong_date = http.post("/v1/residents/search", json={"last_name": "כהן", "birth_date": "1980-02-02"})
    assert [r["resident_key"] for r in typed.json()["residents"]] == [people["moshe"]]
    assert wrong_date.json()["residents"] == []


def test_lookup_by_id_and_an_invalid_id_is_a_problem_naming_the_field_not_the_value(api, tokens, people):
    bad = scenario.MOSHE[:8] + str((int(scenario.MOSHE[8]) + 1) % 10)
    with client(api, tokens["call_centre_106"]) as http:
        found = http.post("/v1/residents/lookup", json={"national_id": scenario.MOSHE.lstrip("0")})
        refused = http.post("/v1/residents/lookup", json={"national_id": bad})
        both = http.post("/v1/residents/lookup", json={"national_id": scenario.MOSHE, "passport": "AB123456"})
    assert [r["resident_key"] for r in found.json()["residents"]] == [people["moshe"]]
    assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
    assert refused.json()["errors"][0]["field"] == "national_id" and bad not in refused.text
    assert both.status_code == 422 and scenario.MOSHE not in both.text


def test_household_at_a_typed_address(api, tokens, people):
    with client(api, tokens["call_centre_106"]) as http:
        found = http.post("/v1/households/search", json={"street": "רח' סוקולוב", "house_number": "5"})
        nowhere = http.post("/v1/households/search", json={"street": "רחוב שאיננו", "house_number": "5"})
    assert found.status_code == 200, found.text
    assert found.json()["street"]["code"] == 401
    assert [r["resident_key"] for r in found.json()["residents"]] == [people["moshe"]]
    assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["field"] == "street"
    assert "שאיננו" not in nowhere.text


def test_named_lists_follow_the_catalogue_and_the_consumers_grant(api, tokens, people):
    with client(api, tokens["welfare"]) as welfare, client(api, tokens["national_emergency"]) as national:
        given = [q["name"] for q in welfare.get("/v1/emergency-lists").json()["lists"]]
        closed = welfare.post("/v1/emergency-lists/power_dependent", json={"parameters": {}})
        everything = [q["name"] for q in national.get("/v1/emergency-lists").json()["lists"]]
        household = national.post("/v1/emergency-lists/household",
                                  json={"parameters": {"street": "ז'בוטינסקי", "house_number": "20"}})
        missing = national.post("/v1/emergency-lists/household", json={"parameters": {"house_number": "20"}})
    assert sorted(given) == ["alone_without_support", "household", "yachad_not_located"]
    assert closed.status_code == 404 and closed.headers["content-type"] == PROBLEM
    assert "power_dependent" in everything and "evacuation_assistance" in everything
    rows = household.json()["rows"]
    assert [r["resident_key"] for r in rows] == [people["rivka"]]
    assert rows[0]["floor"] is None          # consent withdrawn: the registry's floor is gone
    assert missing.status_code == 422
