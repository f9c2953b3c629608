"""Street names as people write them, matched to the real national street registry (Holon, 6600)."""

import duckdb
import pytest

from pipelines.normalize import install_macros
from pipelines.normalize.addresses import install_address_parser, load_reference_streets, match_street_names

HOLON = 6600


@pytest.fixture(scope="module")
def holon(tmp_path_factory):
    """Holon's registry streets, loaded once for the module (matching only reads them)."""
    c = duckdb.connect(str(tmp_path_factory.mktemp("holon") / "holon.duckdb"))
    install_macros(c)
    assert load_reference_streets(c, HOLON) > 600
    yield c
    c.close()


@pytest.mark.parametrize("typed,registry_name", [
    ("ז'בוטינסקי", "ז'בוטינסקי"),
    ("רח' ז'בוטינסקי", "ז'בוטינסקי"),
    ("רחוב ז׳בוטינסקי", "ז'בוטינסקי"),      # Hebrew geresh
    ("זבוטינסקי", "ז'בוטינסקי"),           # geresh missing
    ("שדרות בן גוריון", "שד בן גוריון"),
    ("שד' בן-גוריון", "שד בן גוריון"),
    ("מנחם בגין", "שד בגין מנחם"),          # registry writes person names surname first
    ("שמעון אבידן", "אבידן שמעון"),
    ("כיכר הלוחמים", "ככר הלוחמים"),
    ("סוקולב", "סוקולוב"),                  # ktiv haser
    ("סוקולוף", "סוקולוב"),                 # a typo
    ("אבן גבירל", "אבן גבירול"),
])
def test_typed_street_matches_registry(holon, typed, registry_name):
    code = holon.execute("SELECT street_code FROM ref_streets WHERE street_name = ?", [registry_name]).fetchone()[0]
    assert match_street_names(holon, HOLON, [typed])[typed] == code


def test_unknown_or_ambiguous_street_stays_unmatched(holon):
    result = match_street_names(holon, HOLON, ["רחוב שאינו קיים בכלל", "גבירול", "", "הרצל"])
    assert result["רחוב שאינו קיים בכלל"] is None
    assert result[""] is None
    assert result["הרצל"] is None          # Holon has no Herzl street; הרצפלד is another street, not a typo


@pytest.mark.parametrize("text,street,house,entrance,apartment,floor", [
    ("הרצל 12 דירה 4, חולון", "הרצל", "12", None, "4", None),
    ("רח' סוקולוב 5/3", "רח' סוקולוב", "5", None, "3", None),
    ("שד' ירושלים 20 כניסה ב קומה 3 דירה 7", "שד' ירושלים", "20", "ב", "7", 3),
    ("הרצל 12א", "הרצל", "12א", None, None, None),
    ("סוקולוב 5 ד' 3", "סוקולוב", "5", None, "3", None),
    ("ה' באייר 7", "ה' באייר", "7", None, None, None),
])
def test_free_text_address_parts(con, text, street, house, entrance, apartment, floor):
    install_address_parser(con)
    p = con.execute("SELECT address_parts(?)", [text]).fetchone()[0]
    assert (p["street"], p["house"].replace(" ", ""), p["entrance"], p["apartment"] or p["slash_apartment"], p["floor"]) == \
        (street, house, entrance, apartment, floor)
