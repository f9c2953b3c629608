import pytest

from pipelines.normalize.hebrew import clean, match_form, skeleton

CASES = [
    "  שָׁלוֹם   עֲלֵיכֶם ",         # niqqud, spaces
    "ז׳בוטינסקי", "ז'בוטינסקי", "ז’בוטינסקי",   # three geresh forms
    "צה״ל", 'צה"ל',                   # gershayim
    "בן\u05BEגוריון",                 # maqaf
    "\u200fכהן\u00a0משה\u200e",       # bidi marks and a no-break space
    "אברהם", "יעקב", "שמואל", "שמואל",
    "", "   ", "ABC abc",
]


@pytest.mark.parametrize("text", CASES)
def test_sql_macros_agree_with_python(con, text):
    sql = con.execute("SELECT heb_clean(?), heb_match(?), heb_skeleton(?)", [text] * 3).fetchone()
    expected_skeleton = skeleton(text) if match_form(text) else None
    assert sql == (clean(text), match_form(text), expected_skeleton)


def test_clean_strips_niqqud_and_unifies_geresh():
    assert clean("שָׁלוֹם") == "שלום"
    assert clean("ז׳בוטינסקי") == clean("ז’בוטינסקי") == "ז'בוטינסקי"
    assert clean("צה״ל") == 'צה"ל'
    assert clean("\u200fכהן\u00a0 משה") == "כהן משה"
    assert clean("   ") is None


def test_match_form_folds_final_letters_and_drops_geresh():
    assert match_form("אברהם") == match_form("אברהמ") == "אברהמ"
    assert match_form("ז'בוטינסקי") == match_form("זבוטינסקי")
    assert match_form("בן-גוריון") == "בנ גוריונ"


def test_string_distances_count_hebrew_letters_not_bytes(con):
    """The model compares matching forms as they are: DuckDB's distances must see a Hebrew letter as one letter
    (2.0.0 counted UTF-8 bytes, and every Hebrew pair shared a lead byte). Fails loudly if that ever comes back."""
    row = con.execute("""SELECT jaro_winkler_similarity(heb_match('כהן'), heb_match('לוי')),
                                levenshtein(heb_match('כהן'), 'כהנ'), length(heb_match('שמעון')),
                                damerau_levenshtein('סוקולוב', 'סוקלווב'),
                                jaro_winkler_similarity(heb_match('שמואלוב'), heb_match('שמואלוף'))""").fetchone()
    assert row[:4] == (0.0, 0, 5, 1)
    assert row[4] > 0.9


def test_latin_script_names_do_not_meet_hebrew_ones(con):
    """Compared on their own letters, a Latin-script name shares nothing with a Hebrew one (a letter-for-letter
    ASCII transliteration made `dvd` (דוד) one edit from a passport's `dvid`)."""
    assert con.execute("SELECT jaro_winkler_similarity(heb_match('דוד'), heb_match('DVID'))").fetchone()[0] == 0.0


def test_skeleton_meets_ktiv_male_and_haser():
    assert skeleton("שמואל") == skeleton("שמאל")
    assert skeleton("יוסף") == skeleton("יסף")
    assert skeleton("דויד") == skeleton("דוד")
    assert skeleton("כהן") != skeleton("לוי")
