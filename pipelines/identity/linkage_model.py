"""The probabilistic linkage model (Splink 5), as a settings object: what is compared, at which levels, and
which pairs are looked at at all (blocking).

Every name is compared on its matching form (`first_m`, `last_m`: final letters folded, punctuation dropped) or
its ktiv skeleton (`first_sk`, `last_sk`); DuckDB 2.0.1's `jaro_winkler_similarity` counts characters, so Hebrew
letters are compared as letters.

The m probabilities are learnt from the records that share a valid national ID (they are known matches, with
the sources' real typos), the u probabilities from random pairs; only the ID comparison is fixed here, because
the known matches all have equal IDs by construction and cannot teach how likely a typo is.
"""

from __future__ import annotations

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator

# Columns the model reads (built by records.py / probabilistic.py).
MODEL_COLUMNS = ("rec_id", "first_m", "last_m", "first_sk", "last_sk", "birth_date", "street_code", "house_m",
                 "apartment_m", "mobile_phone", "phone", "national_id", "id_type", "id_head", "id_tail", "id_body",
                 "id_label")

# Typing slips in ID numbers: how often a true match shows them (m), fixed (see module docstring).
ID_M = {"exact": 0.95, "one_edit": 0.03, "two_edits": 0.01, "different": 0.01}

# Pairs are only scored when they agree on one of these; each stays small at 1M residents
# (a birth date is shared by ~30 people, a building by a few dozen, a 5-digit ID slice by ~15).
BLOCKING_RULES = (
    "l.birth_date = r.birth_date",
    "l.first_m = r.first_m AND l.last_m = r.last_m",
    "l.first_m = r.last_m AND l.last_m = r.first_m",          # Yachad's full name split the other way round
    "l.street_code = r.street_code AND l.house_m = r.house_m",
    "l.mobile_phone = r.mobile_phone",
    "l.phone = r.phone",
    "l.id_head = r.id_head",                                  # a typo in digits 5-9 keeps digits 1-4 + 9 ...
    "l.id_tail = r.id_tail",                                  # ... one in digits 1-4 keeps digits 5-9
    "l.id_body = r.id_body",                                  # ... one in the check digit keeps digits 1-8
)


# hamming() needs equal lengths; Israeli IDs are normalized to 9 digits, passports are not compared this way.
# DuckDB's damerau_levenshtein would also do, but costs ~100x more per pair.
def _id_digits_off(n: int) -> str:
    return (f"CASE WHEN id_type_l = 'IsraeliID' AND id_type_r = 'IsraeliID' "
            f"THEN hamming(national_id_l, national_id_r) <= {n} ELSE false END")


def _name(col: str, other: str, label: str) -> cl.CustomComparison:
    sk = col.replace("_m", "_sk")
    return cl.CustomComparison(
        output_column_name=label,
        comparison_levels=[
            cll.NullLevel(col),
            cll.ExactMatchLevel(col, term_frequency_adjustments=True),
            cll.CustomLevel(f"{col}_l = {other}_r AND {other}_l = {col}_r", "names in the other order"),
            cll.CustomLevel(f"{sk}_l = {sk}_r", "same ktiv skeleton"),
            cll.JaroWinklerLevel(col, 0.92),
            cll.JaroWinklerLevel(col, 0.8),
            cll.ElseLevel(),
        ],
    )


def comparisons() -> list:
    return [
        _name("first_m", "last_m", "first_name"),
        _name("last_m", "first_m", "last_name"),
        cl.CustomComparison(
            output_column_name="birth_date",
            comparison_levels=[
                cll.NullLevel("birth_date"),
                cll.ExactMatchLevel("birth_date"),
                cll.CustomLevel("year(birth_date_l) = year(birth_date_r) AND (month(birth_date_l) = month(birth_date_r) "
                                "OR day(birth_date_l) = day(birth_date_r) OR (month(birth_date_l) = day(birth_date_r) "
                                "AND day(birth_date_l) = month(birth_date_r)))", "same year, day or month off or swapped"),
                cll.CustomLevel("abs(year(birth_date_l) - year(birth_date_r)) <= 1 AND month(birth_date_l) = month(birth_date_r) "
                                "AND day(birth_date_l) = day(birth_date_r)", "year off by one"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="address",
            comparison_levels=[
                cll.CustomLevel("street_code_l IS NULL OR street_code_r IS NULL OR house_m_l IS NULL OR house_m_r IS NULL")
                .configure(is_null_level=True),
                cll.CustomLevel("street_code_l = street_code_r AND house_m_l = house_m_r AND apartment_m_l = apartment_m_r",
                                "same apartment"),
                cll.CustomLevel("street_code_l = street_code_r AND house_m_l = house_m_r", "same building"),
                cll.CustomLevel("street_code_l = street_code_r", "same street"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="phones",
            comparison_levels=[
                cll.CustomLevel("(mobile_phone_l IS NULL AND phone_l IS NULL) OR (mobile_phone_r IS NULL AND phone_r IS NULL)")
                .configure(is_null_level=True),
                cll.CustomLevel("mobile_phone_l = mobile_phone_r", "same mobile"),
                cll.CustomLevel("phone_l = phone_r", "same landline"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="national_id",
            comparison_levels=[
                cll.NullLevel("national_id"),
                cll.ExactMatchLevel("national_id").configure(m_probability=ID_M["exact"], fix_m_probability=True),
                cll.CustomLevel(_id_digits_off(1), "one digit off")
                .configure(m_probability=ID_M["one_edit"], fix_m_probability=True),
                cll.CustomLevel(_id_digits_off(2), "two digits off or swapped")
                .configure(m_probability=ID_M["two_edits"], fix_m_probability=True),
                cll.ElseLevel().configure(m_probability=ID_M["different"], fix_m_probability=True),
            ],
        ),
    ]


def settings(probability_two_random_records_match: float) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="rec_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=list(BLOCKING_RULES),
        probability_two_random_records_match=probability_two_random_records_match,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )
