"""Source-specific enrichment of staged tables, each step one set-based SQL statement:

- canonical codes for needs and disability types (schemas/needs_codes.yaml), unmapped labels kept;
- registry street codes for street names (pipelines/normalize/addresses.py);
- Yachad's single full-name field split into first/last, the order inferred from the population register's names.
"""

from __future__ import annotations

import re

import duckdb

from pipelines.normalize.addresses import match_streets
from pipelines.normalize.hebrew import match_form
from schemas.loader import load_yaml


def _codes() -> dict:
    return load_yaml("needs_codes.yaml")


def load_code_tables(con: duckdb.DuckDBPyConnection) -> None:
    """`ref_codes(kind, alias, code)` (alias in matching form) and `ref_ods_indicators(indicator, needs, disability_types)`."""
    codes = _codes()
    rows = []
    for kind in ("disability_types", "needs"):
        for code, spec in codes[kind].items():
            for alias in [spec["label_he"], *spec.get("aliases", [])]:
                rows.append((kind, alias, code))
    con.execute("CREATE OR REPLACE TEMP TABLE _code_aliases (kind VARCHAR, alias VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO _code_aliases VALUES (?, ?, ?)", rows)
    con.execute("""CREATE OR REPLACE TABLE ref_codes AS
                   SELECT DISTINCT kind, heb_match(alias) AS alias, code FROM _code_aliases""")
    con.execute("CREATE OR REPLACE TABLE ref_ods_indicators (indicator VARCHAR, needs VARCHAR[], disability_types VARCHAR[])")
    con.executemany("INSERT INTO ref_ods_indicators VALUES (?, ?, ?)",
                    [(k.upper(), v.get("needs", []), v.get("disability_types", [])) for k, v in codes["ods_indicators"].items()])
    con.execute("CREATE OR REPLACE TABLE ref_yachad_status (status_match VARCHAR, status VARCHAR)")
    con.executemany("INSERT INTO ref_yachad_status VALUES (heb_match(?), ?)", list(codes["yachad_status"].items()))


def _map_code_list(con, table: str, items_col: str, kind: str, out_col: str) -> None:
    """Exact alias lookup per item: `out_col` (codes) and `out_col_unmapped` (labels with no code)."""
    con.execute(f"""
        CREATE OR REPLACE TABLE {table} AS
        WITH items AS (SELECT _row, unnest({items_col}) AS item FROM {table}),
        mapped AS (
            SELECT i._row, list(DISTINCT c.code ORDER BY c.code) FILTER (WHERE c.code IS NOT NULL) AS codes,
                   list(DISTINCT i.item) FILTER (WHERE c.code IS NULL) AS unmapped
            FROM items i LEFT JOIN ref_codes c ON c.kind = '{kind}' AND c.alias = i.item GROUP BY i._row)
        SELECT t.* EXCLUDE ({items_col}), coalesce(m.codes, []::VARCHAR[]) AS {out_col},
               coalesce(m.unmapped, []::VARCHAR[]) AS {out_col}_unmapped
        FROM {table} t LEFT JOIN mapped m USING (_row)""")


HEBREW_PREFIXES = "והבלמשכ"   # letters that attach to the front of a word: ו-ה-ב-ל-מ-ש-כ


def needs_patterns() -> dict[str, str]:
    """One constant RE2 pattern per needs code: any of its aliases as whole words (matching forms), also behind up
    to two prefix letters (`ולתרופות` holds `תרופות`). Constant patterns are compiled once, not once per row."""
    patterns = {}
    for code, spec in _codes()["needs"].items():
        aliases = sorted({match_form(a) for a in [spec["label_he"], *spec.get("aliases", [])]} - {None}, key=len, reverse=True)
        patterns[code] = f" [{HEBREW_PREFIXES}]{{0,2}}(?:" + "|".join(re.escape(a) for a in aliases) + ") "
    return patterns


def _needs_from_free_text(con, table: str, text_col: str) -> None:
    """Free text (items already in matching form) -> the needs codes whose aliases it contains."""
    checks = ", ".join(f"CASE WHEN regexp_matches(txt, '{pattern}') THEN '{code}' END"
                       for code, pattern in sorted(needs_patterns().items()))
    con.execute(f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT * EXCLUDE (txt, {text_col}), array_to_string({text_col}, '; ') AS needs_text,
               list_filter([{checks}], lambda c: c IS NOT NULL) AS needs_codes
        FROM (SELECT *, ' ' || array_to_string({text_col}, ' ; ') || ' ' AS txt FROM {table})""")


def _streets(con, table: str, name_col: str, keep_delivered_code: bool) -> None:
    match_streets(con, table, name_col, "_street_matches")
    code = "coalesce(t.street_code, m.street_code)" if keep_delivered_code else "m.street_code"
    exclude = "EXCLUDE (street_code)" if keep_delivered_code else ""
    con.execute(f"""
        CREATE OR REPLACE TABLE {table} AS
        SELECT t.* {exclude}, {code} AS street_code,
               CASE WHEN {'t.street_code IS NOT NULL' if keep_delivered_code else 'false'} THEN 0 ELSE m.match_tier END
                   AS street_match_tier
        FROM {table} t LEFT JOIN _street_matches m ON m.street_text = t.{name_col}""")


def _yachad_names(con) -> None:
    """Split `full_name` into last/first. Every split point in both orders is scored by how common the parts are
    as last and first names in the population register; ties go to `last first`, Yachad's usual order."""
    has_register = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'stg_population_register'").fetchone()[0]
    source = "stg_population_register" if has_register else "(SELECT NULL::VARCHAR AS first_name_match, NULL::VARCHAR AS last_name_match)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _first_freq AS SELECT first_name_match AS name, count(*) AS n FROM {source} GROUP BY 1;
        CREATE OR REPLACE TEMP TABLE _last_freq AS SELECT last_name_match AS name, count(*) AS n FROM {source} GROUP BY 1;
        CREATE OR REPLACE TABLE stg_yachad AS
        WITH toks AS (SELECT _row, string_split(full_name, ' ') AS t FROM stg_yachad WHERE full_name IS NOT NULL),
        cands AS (
            SELECT _row, k, o,
                   array_to_string(CASE o WHEN 'last_first' THEN t[1:k] ELSE t[k + 1:] END, ' ') AS last_name,
                   array_to_string(CASE o WHEN 'last_first' THEN t[k + 1:] ELSE t[1:k] END, ' ') AS first_name
            FROM (SELECT _row, t, unnest(range(1, greatest(len(t), 2))) AS k FROM toks)
            CROSS JOIN (VALUES ('last_first'), ('first_last')) AS orders(o)),
        scored AS (
            SELECT c.*, ln(1 + coalesce(lf.n, 0)) + ln(1 + coalesce(ff.n, 0))
                        + CASE o WHEN 'last_first' THEN 0.001 ELSE 0 END AS score
            FROM cands c LEFT JOIN _last_freq lf ON lf.name = heb_match(c.last_name)
                         LEFT JOIN _first_freq ff ON ff.name = heb_match(c.first_name)),
        best AS (SELECT _row, arg_max(struct_pack(last_name, first_name, o), score) AS b FROM scored GROUP BY _row)
        SELECT s.*, nullif(b.b.first_name, '') AS first_name, nullif(b.b.last_name, '') AS last_name,
               heb_match(nullif(b.b.first_name, '')) AS first_name_match, heb_match(nullif(b.b.last_name, '')) AS last_name_match,
               b.b.o AS name_order
        FROM stg_yachad s LEFT JOIN best b USING (_row)""")


def population_register(con) -> None:
    _streets(con, "stg_population_register", "street_name", keep_delivered_code=True)


def yachad(con) -> None:
    load_code_tables(con)
    con.execute("""CREATE OR REPLACE TABLE stg_yachad AS
                   SELECT s.* EXCLUDE (status), y.status AS status, s.status AS status_text
                   FROM stg_yachad s LEFT JOIN ref_yachad_status y ON y.status_match = heb_match(s.status)""")
    _needs_from_free_text(con, "stg_yachad", "needs_text_items")
    _streets(con, "stg_yachad", "street_text", keep_delivered_code=False)
    _yachad_names(con)


def disability_registry(con) -> None:
    load_code_tables(con)
    _map_code_list(con, "stg_disability_registry", "disability_types_items", "disability_types", "disability_types")
    _map_code_list(con, "stg_disability_registry", "assistance_needs_items", "needs", "needs_codes")
    _streets(con, "stg_disability_registry", "street_name", keep_delivered_code=False)


def ods(con) -> None:
    load_code_tables(con)
    con.execute("""CREATE OR REPLACE TABLE stg_ods AS
                   SELECT s.*, coalesce(i.needs, []::VARCHAR[]) AS needs_codes,
                          coalesce(i.disability_types, []::VARCHAR[]) AS disability_types, i.indicator IS NOT NULL AS indicator_known
                   FROM stg_ods s LEFT JOIN ref_ods_indicators i ON i.indicator = s.indicator""")


STEPS = {"population_register": population_register, "yachad": yachad,
         "disability_registry": disability_registry, "ods": ods}


def run(con: duckdb.DuckDBPyConnection, source: str) -> None:
    STEPS[source](con)
