"""SOQL as the SOQL and REST API docs describe it, sent as raw GET query / queryAll requests: deleted records
through queryAll, date literals (ranges of days), child subqueries and GROUP BY aggregates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from tests.muniforce.conftest import person_type


def upsert(rest, records, obj="Account"):
    r = rest.patch(f"composite/sobjects/{obj}/Resident_Key__c", json={"allOrNone": True, "records": records})
    assert r.status_code == 200 and all(x["success"] for x in r.json()), r.text
    return [x["id"] for x in r.json()]


def account(key: str, rt: str, **fields) -> dict:
    return {"attributes": {"type": "Account"}, "Resident_Key__c": key, "LastName": "לוי", "RecordTypeId": rt,
            **fields}


def profile(key: str, parent: str, **fields) -> dict:
    return {"attributes": {"type": "Emergency_Profile__c"}, "Resident_Key__c": key, "Legal_Basis__c": "consent",
            "Account__r": {"Resident_Key__c": parent}, **fields}


def keys(result: dict) -> list[str]:
    return [r["Resident_Key__c"] for r in result["records"]]


def test_query_all_returns_deleted_records_with_is_deleted(rest):
    rt = person_type(rest)
    ids = upsert(rest, [account(f"D{i}", rt) for i in range(3)])
    assert rest.delete(f"sobjects/Account/{ids[1]}").status_code == 204
    soql = "SELECT Resident_Key__c, IsDeleted FROM Account ORDER BY Resident_Key__c"
    assert keys(rest.query(soql)) == ["D0", "D2"]
    everything = rest.query(soql, "queryAll")
    assert [(r["Resident_Key__c"], r["IsDeleted"]) for r in everything["records"]] == \
        [("D0", False), ("D1", True), ("D2", False)]
    assert keys(rest.query("SELECT Resident_Key__c FROM Account WHERE IsDeleted = TRUE", "queryAll")) == ["D1"]
    assert rest.query("SELECT Resident_Key__c FROM Account WHERE IsDeleted = TRUE")["totalSize"] == 0
    assert rest.query("SELECT COUNT() FROM Account", "queryAll")["totalSize"] == 3


def test_query_all_pages_under_query_locators(rest):
    rt = person_type(rest)
    ids = []
    for start in range(0, 2100, 200):
        ids += upsert(rest, [account(f"P{i:05d}", rt) for i in range(start, min(start + 200, 2100))])
    deleted = rest.delete("composite/sobjects", params={"ids": ",".join(ids[:150])}).json()
    assert len(deleted) == 150 and all(r["success"] for r in deleted)
    first = rest.query("SELECT Resident_Key__c, IsDeleted FROM Account ORDER BY Resident_Key__c", "queryAll")
    assert (first["totalSize"], first["done"], len(first["records"])) == (2100, False, 2000)
    # Salesforce's queryAll locator is under /query/; /queryAll/ takes it too
    assert first["nextRecordsUrl"].startswith("/services/data/v62.0/query/01g")
    locator = first["nextRecordsUrl"].rsplit("/", 1)[1]
    rest_of_it = rest.get(f"queryAll/{locator}").json()
    assert rest_of_it["done"] is True and len(rest_of_it["records"]) == 100
    assert sum(r["IsDeleted"] for r in first["records"] + rest_of_it["records"]) == 150
    assert rest.get(f"query/{locator}").json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"   # used once


def test_date_literals_are_ranges_of_days(rest):
    rt = person_type(rest)
    today = datetime.now(timezone.utc).date()
    born = {"T0": today, "T-1": today - timedelta(days=1), "T-5": today - timedelta(days=5),
            "T-6": today - timedelta(days=6), "T+1": today + timedelta(days=1), "T-400": today - timedelta(days=400)}
    upsert(rest, [account(k, rt, PersonBirthdate=d.isoformat()) for k, d in born.items()])

    def born_when(condition: str) -> set[str]:
        return set(keys(rest.query(f"SELECT Resident_Key__c FROM Account WHERE PersonBirthdate {condition}")))

    assert born_when("= TODAY") == {"T0"}
    assert born_when("= YESTERDAY") == {"T-1"}
    assert born_when("= TOMORROW") == {"T+1"}
    # LAST_N_DAYS:n starts n days ago and includes today; N_DAYS_AGO:n is that one day
    assert born_when("= LAST_N_DAYS:5") == {"T0", "T-1", "T-5"}
    assert born_when("= N_DAYS_AGO:6") == {"T-6"}
    assert born_when("= NEXT_N_DAYS:1") == {"T+1"}
    assert born_when("< LAST_N_DAYS:5") == {"T-6", "T-400"}
    assert born_when("> TODAY") == {"T+1"}
    assert born_when("<= YESTERDAY") == {"T-1", "T-5", "T-6", "T-400"}
    assert born_when("!= THIS_YEAR") == {k for k, d in born.items() if d.year != today.year}
    assert born_when("= LAST_YEAR") == {k for k, d in born.items() if d.year == today.year - 1}
    this_month = {k for k, d in born.items() if (d.year, d.month) == (today.year, today.month)}
    assert born_when("= THIS_MONTH") == this_month
    sunday = today - timedelta(days=(today.weekday() + 1) % 7)
    assert born_when("= THIS_WEEK") == {k for k, d in born.items() if sunday <= d < sunday + timedelta(days=7)}
    assert born_when(f"= {born['T-5'].isoformat()}") == {"T-5"}

    # a datetime field: whole days in UTC
    everyone = set(born)
    def created(condition: str) -> set[str]:
        return set(keys(rest.query(f"SELECT Resident_Key__c FROM Account WHERE CreatedDate {condition}")))

    assert created("= TODAY") == created("= LAST_N_DAYS:2") == everyone
    assert created("< TODAY") == created("= YESTERDAY") == set()
    assert created(f"> {(today - timedelta(days=1)).isoformat()}T23:59:59Z") == everyone
    assert created(f"> {today.isoformat()}T00:00:00+02:00") == everyone

    for bad, code in (("Resident_Key__c = TODAY", "INVALID_FIELD"),
                      ("PersonBirthdate = LAST_N_DAYS", "MALFORMED_QUERY"),
                      ("PersonBirthdate = LAST_N_FORTNIGHTS:2", "MALFORMED_QUERY")):
        r = rest.get("query", params={"q": f"SELECT Id FROM Account WHERE {bad}"})
        assert r.status_code == 400 and r.json()[0]["errorCode"] == code, bad


def test_a_child_subquery_nests_each_parents_children(rest):
    rt = person_type(rest)
    upsert(rest, [account("A1", rt), account("A2", rt)])
    upsert(rest, [profile("E1", "A1", Floor__c=3), profile("E2", "A1", Floor__c=0), profile("E3", "A2", Floor__c=7)],
           "Emergency_Profile__c")
    soql = ("SELECT Resident_Key__c, (SELECT Resident_Key__c, Floor__c FROM Emergency_Profiles__r "
            "WHERE Floor__c < 5 ORDER BY Resident_Key__c) FROM Account ORDER BY Resident_Key__c")
    records = rest.query(soql)["records"]
    a1, a2 = records
    assert a1["Resident_Key__c"] == "A1" and a1["Emergency_Profiles__r"]["totalSize"] == 2
    assert a1["Emergency_Profiles__r"]["done"] is True
    assert [(c["Resident_Key__c"], c["Floor__c"]) for c in a1["Emergency_Profiles__r"]["records"]] == \
        [("E1", 3.0), ("E2", 0.0)]
    assert a1["Emergency_Profiles__r"]["records"][0]["attributes"]["type"] == "Emergency_Profile__c"
    assert a2["Emergency_Profiles__r"] is None           # no child matched: null, as Salesforce answers
    limited = rest.query("SELECT Id, (SELECT Id FROM Emergency_Profiles__r ORDER BY Floor__c DESC LIMIT 1) "
                         "FROM Account WHERE Resident_Key__c = 'A1'")["records"][0]
    assert limited["Emergency_Profiles__r"]["totalSize"] == 1
    bad = rest.get("query", params={"q": "SELECT Id, (SELECT Id FROM Nothing__r) FROM Account"})
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_TYPE"


def test_group_by_with_count_and_aggregates(rest):
    rt = person_type(rest)
    upsert(rest, [account(f"M{i}", rt, Municipal__c="6600" if i < 3 else "5000") for i in range(5)])
    upsert(rest, [profile(f"F{i}", f"M{i}", Floor__c=f) for i, f in enumerate([1, 4, 4, 10])], "Emergency_Profile__c")

    r = rest.query("SELECT Municipal__c, COUNT(Id) FROM Account GROUP BY Municipal__c ORDER BY Municipal__c")
    assert r["totalSize"] == 2 and r["records"] == [
        {"attributes": {"type": "AggregateResult"}, "Municipal__c": "5000", "expr0": 2},
        {"attributes": {"type": "AggregateResult"}, "Municipal__c": "6600", "expr0": 3}]
    aliased = rest.query("SELECT Municipal__c m, COUNT(Id) n FROM Account GROUP BY Municipal__c "
                         "HAVING COUNT(Id) > 2")["records"]
    assert aliased == [{"attributes": {"type": "AggregateResult"}, "m": "6600", "n": 3}]
    stats = rest.query("SELECT COUNT(Id), COUNT_DISTINCT(Floor__c), SUM(Floor__c), AVG(Floor__c), MIN(Floor__c), "
                       "MAX(Floor__c) top FROM Emergency_Profile__c")["records"]
    assert stats == [{"attributes": {"type": "AggregateResult"}, "expr0": 4, "expr1": 3, "expr2": 19.0,
                      "expr3": 4.75, "expr4": 1.0, "top": 10.0}]
    by_parent = rest.query("SELECT Account__r.Municipal__c, MAX(Floor__c) FROM Emergency_Profile__c "
                           "GROUP BY Account__r.Municipal__c ORDER BY MAX(Floor__c) DESC")["records"]
    assert [(x["Municipal__c"], x["expr0"]) for x in by_parent] == [("5000", 10.0), ("6600", 4.0)]

    for bad in ("SELECT Municipal__c, FirstName FROM Account GROUP BY Municipal__c",
                "SELECT SUM(LastName) FROM Account", "SELECT Id FROM Account HAVING COUNT(Id) > 1"):
        r = rest.get("query", params={"q": bad})
        assert r.status_code == 400 and r.json()[0]["errorCode"] == "MALFORMED_QUERY", bad


@pytest.mark.parametrize("soql", ["SELECT Id FROM Account WHERE CreatedDate = TODAY AND LastName LIKE 'ל%'",
                                  "SELECT COUNT() FROM Account WHERE PersonBirthdate = LAST_90_DAYS"])
def test_date_literals_combine_with_other_conditions(rest, soql):
    rt = person_type(rest)
    upsert(rest, [account("X1", rt, PersonBirthdate=(date.today() - timedelta(days=10)).isoformat())])
    assert rest.query(soql)["totalSize"] == 1
