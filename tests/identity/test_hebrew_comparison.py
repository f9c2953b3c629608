"""Hebrew names are compared on their matching form (final letters folded, punctuation dropped) and ktiv skeleton;
DuckDB 2.0.1's string distances count characters, so the letters are what is compared."""

import duckdb
import pytest

from pipelines.normalize import install_macros


@pytest.fixture
def mem():
    c = duckdb.connect()
    install_macros(c)
    yield c
    c.close()


def jw(con, a, b):
    return con.execute("SELECT jaro_winkler_similarity(heb_match(?), heb_match(?))", [a, b]).fetchall()[0][0]


def test_unrelated_hebrew_names_share_nothing_and_final_letters_are_folded(mem):
    assert jw(mem, "כהן", "לוי") == 0.0          # no letter in common (2.0.0's byte count said 0.56)
    assert jw(mem, "כהן", "כהנ") == 1.0          # final nun = nun


@pytest.mark.parametrize("a, b, close", [
    ("יוסף", "יוסיף", True),           # ktiv male / haser
    ("אברהם", "אברם", True),           # a letter dropped
    ("סוקולוב", "סוקלווב", True),      # two letters swapped
    ("משה", "מרים", False),
    ("דוד", "דינה", False),
], ids=["ktiv", "letter_dropped", "letters_swapped", "different_names", "different_names_same_start"])
def test_similarity_of_hebrew_pairs_follows_the_letters(mem, a, b, close):
    assert (jw(mem, a, b) >= 0.8) is close


def test_ktiv_skeleton_meets_full_and_defective_spelling(mem):
    skeletons = mem.execute("SELECT heb_skeleton('יוסף'), heb_skeleton('יוסיף'), heb_skeleton('יסף'), heb_skeleton('ישי')").fetchall()[0]
    assert skeletons[0] == skeletons[1] == skeletons[2]
    assert skeletons[3] != skeletons[0]


def test_fast_skeleton_of_matching_forms_equals_the_heb_skeleton_macro(mem):
    from pipelines.identity.records import skeleton_of_match

    names = ["יוסף", "יוסיף", "אביגיל", "בן יוסף", "ויויאן", "קיוו", "ביתוי", "שמעון", "אליהו", "ישעיהו הלוי", "מ'", "דוד-ויצמן"]
    rows = mem.execute(f"""SELECT n, heb_skeleton(n), {skeleton_of_match('heb_match(n)')}
                           FROM (SELECT unnest(?::VARCHAR[]) AS n)""", [names]).fetchall()
    for name, macro, fast in rows:
        assert fast == macro, name
