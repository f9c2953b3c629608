"""The change feed, read through the API: replay reproduces the cleared resident file; merges and consent
withdrawals are events; pages are ordered and their ids stable."""

import duckdb
import pytest

from serving.feed import feed_fields
from tests.api.conftest import client

CONSUMERS = ("statistics", "property_tax", "welfare")


def read_all(url, token, limit=1000):
    events, cursor = [], None
    with client(url, token) as c:
        while True:
            r = c.get("/v1/changes", params={"limit": limit, **({"cursor": cursor} if cursor else {})})
            assert r.status_code == 200, r.text
            body = r.json()
            events += body["events"]
            cursor = body["next_cursor"]
            if not body["has_more"]:
                return events


def replay(events):
    state = {}
    for e in events:
        if e["type"] in ("created", "changed", "moved_out", "deceased"):
            state[e["resident_key"]] = e["data"]
        elif e["type"] in ("merged", "removed"):
            state.pop(e["resident_key"], None)
    return state


def current_file(built, fields):
    con = duckdb.connect(str(built), read_only=True)
    try:
        cur = con.execute(f"SELECT {', '.join(fields)} FROM resident_file")
        rows = cur.fetchall()
    finally:
        con.close()
    iso = lambda v: v.isoformat() if hasattr(v, "isoformat") else v  # noqa: E731
    return {r[0]: {f: iso(v) for f, v in zip(fields, r)} for r in rows}


@pytest.mark.parametrize("consumer", CONSUMERS)
def test_replaying_the_feed_from_the_start_reproduces_the_cleared_resident_file(api, tokens, built, consumer):
    clearance = {"statistics": "public", "property_tax": "personal", "welfare": "sensitive"}[consumer]
    fields = feed_fields(clearance)
    events = read_all(api, tokens[consumer], limit=7)
    assert replay(events) == current_file(built, fields)
    assert all(set(e.get("data", {})) <= set(fields) for e in events)


def test_a_merge_and_a_consent_withdrawal_appear_as_events(api, tokens, people):
    events = read_all(api, tokens["welfare"])
    by_type = {}
    for e in events:
        by_type.setdefault(e["type"], []).append(e)
    assert [(e["resident_key"], e["surviving_key"]) for e in by_type["merged"]] == [(people["retired"], people["moshe"])]
    assert [e["resident_key"] for e in by_type["consent_withdrawn"]] == [people["rivka"]]
    assert [e["resident_key"] for e in by_type["deceased"]] == [people["david"]]
    assert [e["resident_key"] for e in by_type["moved_out"]] == [people["sara"]]
    moves = [e for e in by_type["changed"] if e["resident_key"] == people["moshe"]]
    assert "street_code" in moves[0]["changed_fields"] and moves[0]["data"]["street_code"] == 401
    # the withdrawal removes what consent had brought: Rivka's registry floor is gone in the same run
    rivka = [e for e in by_type["changed"] if e["resident_key"] == people["rivka"]]
    assert "floor" in rivka[-1]["changed_fields"] and rivka[-1]["data"]["floor"] is None


def test_consumers_not_cleared_for_health_data_never_hear_of_consent(api, tokens):
    for consumer in ("statistics", "property_tax"):
        events = read_all(api, tokens[consumer])
        assert "consent_withdrawn" not in {e["type"] for e in events}
        # a change only in fields it may not see is no event for it
        assert all(e["changed_fields"] for e in events if e["type"] == "changed")


def test_pages_are_ordered_and_reading_again_gives_the_same_ids(api, tokens):
    one_page = read_all(api, tokens["welfare"], limit=10_000)
    small_pages = read_all(api, tokens["welfare"], limit=3)
    assert [e["id"] for e in small_pages] == [e["id"] for e in one_page]
    assert len({e["id"] for e in one_page}) == len(one_page)
    assert [e["at"] for e in one_page] == sorted(e["at"] for e in one_page)


def test_a_cursor_not_given_out_by_the_feed_is_a_problem_naming_the_cursor(api, tokens):
    with client(api, tokens["welfare"]) as c:
        r = c.get("/v1/changes", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "cursor" and "bm90LWEtY3Vyc29y" not in r.text
