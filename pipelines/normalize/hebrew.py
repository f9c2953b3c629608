"""Hebrew text: cleaning, a matching form (final letters folded, punctuation dropped) and a ktiv skeleton.

Names and streets are compared on their matching form directly: DuckDB 2.0.1's string distances
(`jaro_winkler_similarity`, `levenshtein`, `damerau_levenshtein`) count characters, not UTF-8 bytes, so Hebrew
letters are letters to them. (2.0.0 counted bytes; a one-ASCII-letter-per-Hebrew-letter transliteration stood in
until it was measured to change nothing on 2.0.1: docs/identity.md, "Comparing Hebrew".)
"""

from __future__ import annotations

import re
import unicodedata

NIQQUD = "".join(chr(c) for c in range(0x0591, 0x05C8) if c not in (0x05BE, 0x05C0, 0x05C3, 0x05C6))
BIDI_MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
WHITESPACE_LIKE = "\t\n\r\f\v\u00a0\u2007\u2009\u200a\u202f"
# (characters, replacement): geresh/gershayim-like marks as exports write them, maqaf, odd spaces; then deletions.
CLEAN_MAP = (
    ("\u05F3\u2019\u2018`\u00B4", "'"),
    ("\u05F4\u201D\u201C", '"'),
    ("\u05BE", "-"),
    (WHITESPACE_LIKE, " "),
)
CLEAN_DELETE = NIQQUD + BIDI_MARKS
FINALS = "ךםןףץ"
NON_FINALS = "כמנפצ"
MATCH_DELETE = "'\""            # geresh/gershayim vanish: ז'בוטינסקי ~ זבוטינסקי, צה"ל ~ צהל
MATCH_SPACE = "-.,()/\\_"         # separators become spaces

_clean_table = str.maketrans(
    {**{c: to for chars, to in CLEAN_MAP for c in chars}, **{c: None for c in CLEAN_DELETE}}
)
_fold_table = str.maketrans(FINALS, NON_FINALS)
_punct_table = str.maketrans({**{c: None for c in MATCH_DELETE}, **{c: " " for c in MATCH_SPACE}})
_spaces = re.compile(" +")


def clean(text: str | None) -> str | None:
    """NFC, niqqud stripped, geresh/gershayim unified, whitespace collapsed. Empty -> None."""
    if text is None:
        return None
    t = unicodedata.normalize("NFC", str(text)).translate(_clean_table)
    t = _spaces.sub(" ", t).strip()
    return t or None


def match_form(text: str | None) -> str | None:
    """The form names are compared in: cleaned, final letters folded, punctuation dropped."""
    t = clean(text)
    if t is None:
        return None
    t = _spaces.sub(" ", t.translate(_fold_table).translate(_punct_table)).strip().lower()
    return t or None


def skeleton(text: str | None) -> str | None:
    """Matching form without the vowel letters ו and י after a word's first letter: ktiv male and haser meet here."""
    t = match_form(text)
    if t is None:
        return None
    return " ".join(w[0] + w[1:].replace("ו", "").replace("י", "") for w in t.split())
