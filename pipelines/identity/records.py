"""The staged sources seen as identity records: one row per source record, in one shape for every source.

A *source record* is what a source itself calls one entity: its `record_key` (schemas/sources/*.yaml) - the
ID number in the register, the disability registry and ODS, the record id in Yachad. ODS is long format (many
rows a person): its rows with one ID number are one record. `identity_records` holds one representative row
per record (the freshest), `identity_record_rows` ties every staged row to its record.

Matching forms are computed here once: names through `heb_translit` (one ASCII letter per Hebrew letter, finals
folded) and `heb_skeleton` (ktiv male/haser meet), so DuckDB's byte-counting string distances see letters.
"""

from __future__ import annotations

import duckdb

from pipelines.normalize import install_macros
from schemas.sources import SOURCES, load_source

# The columns every source contributes (NULL where a source does not know the field), as SQL over stg_<source>.
COMMON = ("national_id", "id_type", "id_valid", "first_name", "last_name", "father_name", "gender", "birth_date",
          "death_date", "marital_status", "street_code", "street_name", "house_number", "entrance", "apartment",
          "floor", "zip_code", "mobile_phone", "phone", "updated_at", "consent", "reported_deceased")

_ID = {"national_id": "national_id", "id_type": "id_type",
       "id_valid": "coalesce(id_type = 'IsraeliID' AND national_id_valid, false)"}
_NAMES = {"first_name": "first_name", "last_name": "last_name"}
_REGISTER_ADDRESS = {"street_code": "street_code", "street_name": "street_name", "house_number": "house_number",
                     "entrance": "entrance", "apartment": "apartment", "zip_code": "zip_code"}


def _phone_of_kind(columns: list[str], kinds: tuple[str, ...]) -> str:
    """The first of some phone columns whose kind (`<col>_kind`) is one of `kinds`."""
    wanted = ", ".join(f"'{k}'" for k in kinds)
    return "coalesce(" + ", ".join(f"CASE WHEN {c}_kind IN ({wanted}) THEN {c} END" for c in columns) + ")"


SOURCE_COLUMNS: dict[str, dict[str, str]] = {
    "population_register": {
        **_ID, **_NAMES, **_REGISTER_ADDRESS, "father_name": "father_name", "gender": "gender",
        "birth_date": "birth_date", "death_date": "death_date", "marital_status": "marital_status",
        "updated_at": "CAST(updated_at AS TIMESTAMP)", "reported_deceased": "death_date IS NOT NULL",
    },
    "ods": {**_ID, **_NAMES, "birth_date": "birth_date", "updated_at": "CAST(updated_at AS TIMESTAMP)"},
    "yachad": {
        **_ID, **_NAMES, "street_code": "street_code", "street_name": "street_text", "house_number": "house_number",
        "entrance": "entrance", "apartment": "apartment", "floor": "floor",
        "mobile_phone": _phone_of_kind(["phone"], ("mobile",)),
        "phone": _phone_of_kind(["phone"], ("landline", "voip")),
        "updated_at": "CAST(updated_at AS TIMESTAMP)", "reported_deceased": "status = 'deceased'",
    },
    "disability_registry": {
        **_ID, **_NAMES, "birth_date": "birth_date", "street_code": "street_code", "street_name": "street_name",
        "house_number": "house_number", "apartment": "apartment", "floor": "floor",
        "mobile_phone": _phone_of_kind(["phone", "phone_2"], ("mobile",)),
        "phone": _phone_of_kind(["phone", "phone_2"], ("landline", "voip")),
        "updated_at": "CAST(updated_at AS TIMESTAMP)", "consent": "consent",
    },
}

# Matching forms, computed over the common columns.
MATCH_COLUMNS = {
    "first_m": "heb_translit(first_name)",
    "last_m": "heb_translit(last_name)",
    "first_sk": "translate(heb_skeleton(first_name), 'אבגדהוזחטיכלמנסעפצקרשת', 'abgdhvzxtyklmnsepcqrwu')",
    "last_sk": "translate(heb_skeleton(last_name), 'אבגדהוזחטיכלמנסעפצקרשת', 'abgdhvzxtyklmnsepcqrwu')",
    "house_m": "nullif(regexp_replace(lower(replace(house_number, ' ', '')), '^0+', ''), '')",
    "apartment_m": "nullif(regexp_replace(lower(replace(apartment, ' ', '')), '^0+', ''), '')",
    # slices of a 9-digit ID: a one-digit typo leaves at least one of them intact (blocking for near IDs)
    "id_head": "CASE WHEN id_type = 'IsraeliID' THEN national_id[1:4] || national_id[9] END",
    "id_tail": "CASE WHEN id_type = 'IsraeliID' THEN national_id[5:9] END",
    "id_body": "CASE WHEN id_type = 'IsraeliID' THEN national_id[1:8] END",
}


def staged_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The sources whose stg table exists in this database, in the canonical order."""
    have = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    return [s for s in SOURCES if f"stg_{s}" in have]


def _source_select(source: str) -> str:
    cols = SOURCE_COLUMNS[source]
    key_field = load_source(source).record_key
    # ODS's mapping names its key by the API field `id_number`, staged as national_id
    by_id = key_field in ("national_id", "id_number")
    key_expr = "coalesce(national_id, national_id_raw)" if by_id else f"CAST({key_field} AS VARCHAR)"
    exprs = [f"{cols.get(c, 'NULL')} AS {c}" for c in COMMON]
    return f"""
        SELECT '{source}' AS source, {key_expr} AS record_key, delivery_id, _file AS file, _row AS row,
               {', '.join(exprs)}
        FROM stg_{source}"""


def build_identity_records(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build `identity_records` and `identity_record_rows` from the stg tables present; returns records.

    `rec_id` numbers records within this run only; what is stable across runs is (source, record_key)."""
    install_macros(con)
    sources = staged_sources(con)
    if not sources:
        union = "SELECT " + ", ".join(
            ["NULL::VARCHAR AS source", "NULL::VARCHAR AS record_key", "NULL::INTEGER AS delivery_id",
             "NULL::VARCHAR AS file", "NULL::INTEGER AS row"] + [f"NULL AS {c}" for c in COMMON]) + " WHERE false"
    else:
        union = " UNION ALL ".join(_source_select(s) for s in sources)
    match = ", ".join(f"{expr} AS {name}" for name, expr in MATCH_COLUMNS.items())
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _identity_rows AS
        SELECT * FROM ({union}) WHERE record_key IS NOT NULL""")
    con.execute(f"""
        CREATE OR REPLACE TABLE identity_records AS
        WITH ranked AS (
            SELECT r.*, d.ingested_at,
                   row_number() OVER (PARTITION BY r.source, r.record_key
                                      ORDER BY r.updated_at DESC NULLS LAST, r.delivery_id DESC, r.row DESC) AS rn
            FROM _identity_rows r LEFT JOIN deliveries d USING (delivery_id))
        SELECT CAST(row_number() OVER (ORDER BY source, record_key) AS BIGINT) AS rec_id,
               source, record_key, delivery_id, file, row,
               {', '.join(c for c in COMMON if c != 'updated_at')},
               coalesce(updated_at, ingested_at) AS as_of,
               {match}
        FROM ranked WHERE rn = 1""")
    con.execute("""
        CREATE OR REPLACE TABLE identity_record_rows AS
        SELECT r.source, r.file, r.row, i.rec_id
        FROM _identity_rows r JOIN identity_records i USING (source, record_key)""")
    con.execute("DROP TABLE _identity_rows")
    return con.execute("SELECT count(*) FROM identity_records").fetchall()[0][0]
