"""The stored-ID predicate of quality/formats.py gives the normalizer macros' answers, value for value."""

from stdnum.il import idnr

from quality.formats import e164, israeli_id

EDGE = ["039337423", "39337423", "000000000", "000000018", "123456782", "123456789", "1234567890", "03933742-3",
        "AB123456", "ab123456", "A1234567", "12345678Z", "X", "", "ט12345678", "0393374230", " 039337423"]


def test_israeli_id_predicate_agrees_with_the_macro(con):
    con.execute("""CREATE TABLE ids AS
                   SELECT lpad(CAST(CAST(random() * 1e9 AS BIGINT) AS VARCHAR), 9, '0') AS v FROM range(50000)""")
    con.executemany("INSERT INTO ids VALUES (?)", [(v,) for v in EDGE])
    fast = israeli_id("v")
    rows = con.execute(f"""SELECT v, coalesce({fast}, false), coalesce(il_id_valid(v) AND v = il_id_normalize(v), false)
                           FROM ids""").fetchall()
    disagree = [v for v, a, b in rows if a != b]
    assert not disagree, disagree[:5]
    valid = {v for v, ok, _ in rows if ok}
    assert {"039337423", "000000018", "123456782", "AB123456", "A1234567", "12345678Z"} <= valid
    assert not valid & {"39337423", "000000000", "123456789", "03933742-3", "ab123456", " 039337423"}
    nine_digit = [(v, ok) for v, ok, _ in rows if len(v) == 9 and v.isdigit()]
    assert sum(ok for _, ok in nine_digit) > 4000       # ~1 in 10 random numbers has a valid check digit
    assert all(ok == (idnr.is_valid(v) and v != "000000000") for v, ok in nine_digit)


def test_e164(con):
    got = con.execute(f"""SELECT v, {e164('v')} FROM (VALUES ('+972501234567'), ('+97231234567'), ('0501234567'),
                          ('+0501234567'), ('972501234567'), ('+972-50-1234567')) t(v)""").fetchall()
    assert [v for v, ok in got if ok] == ["+972501234567", "+97231234567"]
