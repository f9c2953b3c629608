"""Hebrew names are compared through a one-byte-per-letter transliteration: DuckDB's string distances count
UTF-8 bytes, and raw Hebrew letters all share one lead byte."""

import duckdb
import pytest

from pipelines.normalize import install_macros


@pytest.fixture
def mem():
    c = duckdb.connect()
    install_macros(c)
    yield c
    c.close()


def jw(con, a, b, translit=True):
    expr = "jaro_winkler_similarity(heb_translit(?), heb_translit(?))" if translit else "jaro_winkler_similarity(?, ?)"
    return con.execute(f"SELECT {expr}", [a, b]).fetchall()[0][0]


def test_raw_utf8_makes_unrelated_hebrew_names_look_alike_and_transliteration_does_not(mem):
    # כהן / לוי share no letter. On raw UTF-8 bytes every letter starts with the same 0xD7 byte.
    assert jw(mem, "כהן", "לוי", translit=False) > 0.5
    assert jw(mem, "כהן", "לוי") == 0.0


def test_transliteration_is_one_ascii_letter_per_hebrew_letter_with_finals_folded(mem):
    out = mem.execute("SELECT heb_translit('כהן'), heb_translit('כהנ'), heb_translit('שמעון'), length(heb_translit('שמעון'))").fetchall()[0]
    assert out[0] == out[1]                       # final nun = nun
    assert out[2].isascii() and out[3] == 5


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
