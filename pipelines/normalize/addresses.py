"""Addresses: free text parsed into street / house / entrance / apartment / floor, and street names matched to
the national street registry codes of one municipality.

Matching is set-based. The registry's streets of the municipality are expanded once into keys at increasing
tolerance (tiers); a typed name takes the street of its lowest tier whose key names exactly one street; what no
key finds goes to a fuzzy pass (Jaro-Winkler and Damerau-Levenshtein on the bare key, counted in letters), accepted
only when the best
candidate is clearly ahead of the runner-up. Unmatched names are kept (code NULL) and counted by the caller.

Tiers: 1 the name as written (street-type words canonicalised: שדרות -> שד, רחוב dropped),
       2 without any street-type word, 3 words in sorted order (registry `בגין מנחם` ~ typed `מנחם בגין`),
       4 ktiv skeleton (ו/י dropped inside words), 5 fuzzy (Jaro-Winkler, clearly ahead, and few edits).
"""

from __future__ import annotations

import duckdb

from connectors.reference import LOCALITY_ITSELF_STREET_CODE, streets_of
from pipelines.normalize.macros import install_macros
from schemas.loader import load_yaml

FUZZY_MIN_SCORE = 0.90
FUZZY_MIN_MARGIN = 0.03
FUZZY_MIN_LENGTH = 4   # letters; shorter names are too easy to confuse
# at most this many edits per this many letters: a typo, not another street (הרצל is not הרצפלד)
FUZZY_LETTERS_PER_EDIT = 4


def _words() -> dict:
    return load_yaml("address_words.yaml")


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def install_address_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Macros for street keys, built from schemas/address_words.yaml."""
    install_macros(con)
    types = _words()["street_types"]
    written = _sql_list(types.keys())
    canonical = _sql_list(types.values())
    # street_key_*_m take the matching form (heb_match) of the name, so it is computed once per name
    con.execute(f"""
        CREATE OR REPLACE MACRO street_key_written_m(m) AS nullif(trim(array_to_string(list_transform(
            string_split(m, ' '), lambda w, i: CASE WHEN i = 1 AND list_contains({written}, w)
                                     THEN {canonical}[list_position({written}, w)] ELSE w END), ' ')), '');
        CREATE OR REPLACE MACRO street_key_bare_m(m) AS nullif(array_to_string(list_filter(
            string_split(m, ' '), lambda w, i: NOT (i = 1 AND list_contains({written}, w))), ' '), '');
        CREATE OR REPLACE MACRO street_key_sorted_m(m) AS array_to_string(list_sort(string_split(street_key_bare_m(m), ' ')), ' ');
        CREATE OR REPLACE MACRO street_key_skeleton_m(m) AS array_to_string(list_sort(list_transform(
            string_split(street_key_bare_m(m), ' '), lambda w: w[1] || replace(replace(w[2:], 'ו', ''), 'י', ''))), ' ');
    """)


def load_reference_streets(con: duckdb.DuckDBPyConnection, municipality: int, streets: list | None = None) -> int:
    """(Re)build `ref_streets` and `ref_street_keys` for the municipality (from the local registry copy unless
    `streets` are given, e.g. fetched from data.gov.il); returns the number of streets."""
    install_address_macros(con)
    streets = streets if streets is not None else streets_of(municipality)
    rows = [(s.street_code, s.street_name, s.is_neighbourhood) for s in streets if s.street_code != LOCALITY_ITSELF_STREET_CODE]
    con.execute("""CREATE OR REPLACE TABLE ref_streets (street_code INTEGER PRIMARY KEY, street_name VARCHAR,
                   is_neighbourhood BOOLEAN, key_bare VARCHAR)""")
    if rows:
        con.executemany("INSERT INTO ref_streets VALUES (?, ?, ?, NULL)", rows)
        con.execute("UPDATE ref_streets SET key_bare = street_key_bare_m(heb_match(street_name))")
    con.execute("""
        CREATE OR REPLACE TABLE ref_street_keys AS
        WITH m AS (SELECT street_code, heb_match(street_name) AS m FROM ref_streets),
        keys AS (
            SELECT street_code, 1 AS tier, street_key_written_m(m) AS key FROM m
            UNION ALL SELECT street_code, 2, street_key_bare_m(m) FROM m
            UNION ALL SELECT street_code, 3, street_key_sorted_m(m) FROM m
            UNION ALL SELECT street_code, 4, street_key_skeleton_m(m) FROM m
        )
        -- a key that names two streets is ambiguous at that tier and is not used
        SELECT tier, key, any_value(street_code) AS street_code
        FROM keys WHERE key IS NOT NULL
        GROUP BY tier, key HAVING count(DISTINCT street_code) = 1
    """)
    return len(rows)


MATCH_SQL = """
WITH names AS (SELECT DISTINCT {col} AS street_text FROM {source} WHERE {col} IS NOT NULL),
matched AS (SELECT street_text, heb_match(street_text) AS m FROM names),
typed AS (
    SELECT street_text, street_key_written_m(m) AS k1, street_key_bare_m(m) AS k2, street_key_sorted_m(m) AS k3,
           street_key_skeleton_m(m) AS k4
    FROM matched
),
hits AS (
    SELECT t.street_text, r.street_code, r.tier FROM typed t JOIN ref_street_keys r ON r.tier = 1 AND r.key = t.k1
    UNION ALL SELECT t.street_text, r.street_code, r.tier FROM typed t JOIN ref_street_keys r ON r.tier = 2 AND r.key = t.k2
    UNION ALL SELECT t.street_text, r.street_code, r.tier FROM typed t JOIN ref_street_keys r ON r.tier = 3 AND r.key = t.k3
    UNION ALL SELECT t.street_text, r.street_code, r.tier FROM typed t JOIN ref_street_keys r ON r.tier = 4 AND r.key = t.k4
),
exact AS (
    SELECT street_text, arg_min(street_code, tier) AS street_code, min(tier) AS tier FROM hits GROUP BY street_text
),
fuzzy_candidates AS (
    SELECT t.street_text, s.street_code, jaro_winkler_similarity(t.k2, s.key_bare) AS score
    FROM typed t CROSS JOIN ref_streets s
    WHERE t.street_text NOT IN (SELECT street_text FROM exact) AND length(t.k2) >= {min_len}
      AND damerau_levenshtein(t.k2, s.key_bare) <= greatest(1, length(t.k2) // {letters_per_edit})
),
fuzzy AS (
    SELECT street_text, street_code, score FROM (
        SELECT *, row_number() OVER w AS rn, lead(score) OVER w AS runner_up
        FROM fuzzy_candidates WINDOW w AS (PARTITION BY street_text ORDER BY score DESC, street_code)
    ) WHERE rn = 1 AND score >= {min_score} AND score - coalesce(runner_up, 0) >= {min_margin}
)
SELECT t.street_text, coalesce(e.street_code, f.street_code) AS street_code,
       coalesce(e.tier, CASE WHEN f.street_code IS NOT NULL THEN 5 END) AS match_tier
FROM typed t LEFT JOIN exact e USING (street_text) LEFT JOIN fuzzy f USING (street_text)
"""


def match_streets(con: duckdb.DuckDBPyConnection, source: str, column: str, out_table: str) -> None:
    """Create `out_table(street_text, street_code, match_tier)` for every distinct `column` of `source`.

    Requires `ref_streets`/`ref_street_keys` (see load_reference_streets). Distinct names are few (thousands for
    a city of a million), so the fuzzy cross join stays small."""
    install_address_macros(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out_table} AS " + MATCH_SQL.format(
        col=column, source=source, min_len=FUZZY_MIN_LENGTH, min_score=FUZZY_MIN_SCORE, min_margin=FUZZY_MIN_MARGIN,
        letters_per_edit=FUZZY_LETTERS_PER_EDIT))


def match_street_names(con: duckdb.DuckDBPyConnection, municipality: int, names: list[str]) -> dict[str, int | None]:
    """Street code per typed street name (None when no street matches clearly), for one municipality.

    Uses the municipality's `ref_streets` if the database has them, else loads them from the reference."""
    has_ref = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'ref_street_keys'").fetchone()[0]
    if not has_ref:
        load_reference_streets(con, municipality)
    con.execute("CREATE OR REPLACE TEMP TABLE _typed_streets (name VARCHAR)")
    con.executemany("INSERT INTO _typed_streets VALUES (?)", [(n,) for n in names])
    match_streets(con, "_typed_streets", "name", "_typed_street_matches")
    found = dict(con.execute("SELECT street_text, street_code FROM _typed_street_matches").fetchall())
    return {n: found.get(n) for n in names}


PARSE_ADDRESS_SQL = r"""
CREATE OR REPLACE MACRO address_parts(s) AS (
    WITH t AS (SELECT
        -- drop a trailing ", city" (a part after the last comma without digits)
        regexp_replace(heb_clean(s), ',\s*[^,0-9]*$', '') AS body)
    SELECT {
        'apartment': nullif(regexp_extract(body, '(?:^|\s)(?:{apt})[''"]?\s*(\d+[א-ת]?)', 1), ''),
        'floor':     TRY_CAST(nullif(regexp_extract(body, '(?:^|\s)(?:{floor})[''"]?\s*(-?\d+)', 1), '') AS INTEGER),
        'entrance':  nullif(regexp_extract(body, '(?:^|\s)(?:{ent})[''"]?\s*([א-ת0-9])(?:\s|,|$)', 1), ''),
        'street':    nullif(trim(regexp_extract(body, '^\s*([^0-9,]*?)\s*(?:\d|,|$)', 1)), ''),
        'house':     nullif(regexp_extract(regexp_replace(body, '(?:^|\s)(?:{apt}|{floor}|{ent})[''"]?\s*\S+', '', 'g'),
                                           '(\d+\s*[א-ת]?)(?:\s|/|,|$)', 1), ''),
        'slash_apartment': nullif(regexp_extract(body, '\d+\s*[א-ת]?\s*/\s*(\d+)', 1), '')
    } FROM t
)
"""


def install_address_parser(con: duckdb.DuckDBPyConnection) -> None:
    """`address_parts(text)` -> struct(street, house, entrance, apartment, floor, slash_apartment)."""
    install_address_macros(con)
    w = _words()
    con.execute(PARSE_ADDRESS_SQL.replace("{apt}", "|".join(w["apartment"]))
                .replace("{floor}", "|".join(w["floor"])).replace("{ent}", "|".join(w["entrance"])))
