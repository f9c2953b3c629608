"""The staged sources seen as identity records: one row per source record, in one shape for every source.

A *source record* is what a source itself calls one entity: its `record_key` (schemas/sources/*.yaml) - the
ID number in the register, the disability registry and ODS, the record id in Yachad. ODS is long format (many
rows a person): its rows with one ID number are one record.

During resolution the records live in the TEMP table `_records` (one representative row per record, the
freshest, plus matching forms); `persist_identity_records` then writes `identity_records` (with each record's
resident key) and the view `identity_record_rows` (every staged row -> its record and resident key).

Matching forms are computed here once, from staging's `*_match` names (heb_match: final letters folded,
punctuation dropped), which the model compares as they are (DuckDB 2.0.1's string distances count characters), and
the ktiv skeleton (`heb_skeleton`: ו/י dropped after a word's first letter).
"""

from __future__ import annotations

import duckdb

from pipelines.normalize import install_macros
from pipelines.normalize.hebrew import match_form
from schemas.loader import load_yaml
from schemas.model import table
from schemas.sources import SOURCES, load_source

# The columns every source contributes (NULL where a source does not know the field), as SQL over stg_<source>.
COMMON = ("national_id", "id_type", "id_valid", "first_name", "last_name", "first_name_match", "last_name_match",
          "father_name", "gender", "birth_date",
          "death_date", "marital_status", "street_code", "street_name", "house_number", "entrance", "apartment",
          "floor", "zip_code", "mobile_phone", "phone", "updated_at", "consent", "reported_deceased")

# Types: the resident model's where the field is in it, else these (so a field no staged source has is still typed).
EXTRA_TYPES = {"id_valid": "BOOLEAN", "first_name_match": "VARCHAR", "last_name_match": "VARCHAR",
               "updated_at": "TIMESTAMP", "consent": "BOOLEAN", "reported_deceased": "BOOLEAN"}


def column_type(name: str) -> str:
    model = table("resident_file")
    return model[name].type if name in model.columns else EXTRA_TYPES[name]


_ID = {"national_id": "national_id", "id_type": "id_type",
       "id_valid": "coalesce(id_type = 'IsraeliID' AND national_id_valid, false)"}
_NAMES = {"first_name": "first_name", "last_name": "last_name", "first_name_match": "first_name_match",
          "last_name_match": "last_name_match"}
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


def skeleton_of_match(expr: str) -> str:
    """`heb_skeleton` of a value already in matching form, as one regexp (a run of ו/י after any letter goes):
    the macro recomputes the matching form and splits words, ~4x slower at a million names. Tested equal."""
    return f"regexp_replace({expr}, '([^ ])[וי]+', '\\1', 'g')"


def formal_first_name(expr: str) -> str:
    """The formal first name for an everyday form (schemas/first_name_variants.yaml: יוסי -> יוסף, קובי -> יעקב),
    in matching form; other names unchanged. One CASE over a short list: cheaper than a join per record."""
    variants = {}
    for formal, forms in load_yaml("first_name_variants.yaml").items():
        for form in forms:
            key = match_form(form)
            if key in variants and variants[key] != match_form(formal):
                raise ValueError(f"first_name_variants.yaml: {form!r} is given for two formal names")
            variants[key] = match_form(formal)
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in sorted(variants.items()) if "'" not in k + v)
    return f"CASE {expr} {cases} ELSE {expr} END"


# Matching forms, computed over the common columns.
MATCH_COLUMNS = {
    "first_m": formal_first_name("first_name_match"),
    "last_m": "last_name_match",
    "first_sk": skeleton_of_match(formal_first_name("first_name_match")),
    "last_sk": skeleton_of_match("last_name_match"),
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


def _record_key_expr(source: str) -> str:
    """The record's name inside its source (`record_key`); a row without one (a hand-kept registry row with no ID
    number) is named by its `record_key_fallback` fields, so it is still a record: linked, never dropped."""
    mapping = load_source(source)
    key = ("coalesce(national_id, national_id_raw)" if mapping.record_key == "national_id"
           else f"CAST({mapping.record_key} AS VARCHAR)")
    if mapping.record_key_fallback:
        parts = ", ".join(f"coalesce(CAST({f} AS VARCHAR), '')" for f in mapping.record_key_fallback)
        key = f"coalesce({key}, '~' || md5(concat_ws('|', {parts})))"
    return key


def _source_select(source: str) -> str:
    cols = SOURCE_COLUMNS[source]
    exprs = [f"CAST({cols.get(c, 'NULL')} AS {column_type(c)}) AS {c}" for c in COMMON]
    return f"""
        SELECT '{source}' AS source, {_record_key_expr(source)} AS record_key, delivery_id, _file AS file, _row AS row,
               {', '.join(exprs)}
        FROM stg_{source}"""


def build_identity_records(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build TEMP `_records` from the stg tables present; returns the number of records.

    `rec_id` numbers records within this run only; what is stable across runs is (source, record_key)."""
    install_macros(con)
    sources = staged_sources(con)
    if not sources:
        union = "SELECT " + ", ".join(
            ["NULL::VARCHAR AS source", "NULL::VARCHAR AS record_key", "NULL::INTEGER AS delivery_id",
             "NULL::VARCHAR AS file", "NULL::INTEGER AS row"] + [f"CAST(NULL AS {column_type(c)}) AS {c}" for c in COMMON]) + " WHERE false"
    else:
        union = " UNION ALL ".join(_source_select(s) for s in sources)
    match = ", ".join(f"{expr} AS {name}" for name, expr in MATCH_COLUMNS.items())
    deliveries = "deliveries" if sources else "(SELECT NULL::INTEGER AS delivery_id, NULL::TIMESTAMP AS ingested_at)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _records AS
        WITH ranked AS (
            SELECT r.*, d.ingested_at,
                   row_number() OVER (PARTITION BY r.source, r.record_key
                                      ORDER BY r.updated_at DESC NULLS LAST, r.delivery_id DESC, r.row DESC) AS rn
            FROM ({union}) r LEFT JOIN {deliveries} d USING (delivery_id)
            WHERE r.record_key IS NOT NULL)
        SELECT CAST(row_number() OVER (ORDER BY source, record_key) AS BIGINT) AS rec_id,
               source, record_key, delivery_id, file, row,
               {', '.join(c for c in COMMON if c != 'updated_at')},
               coalesce(updated_at, ingested_at) AS as_of,
               {match}
        FROM ranked WHERE rn = 1""")
    return con.execute("SELECT count(*) FROM _records").fetchall()[0][0]


def persist_identity_records(con: duckdb.DuckDBPyConnection, keys: str) -> None:
    """Write `identity_records` (the records of this run with their resident keys, without matching forms) from
    `_records` and the TEMP table `keys(rec_id, resident_key)`; (re)define the view `identity_record_rows`."""
    kept = [c for c in ("rec_id", "source", "record_key", "delivery_id", "file", "row", *COMMON, "as_of")
            if c not in ("updated_at", "first_name_match", "last_name_match")]
    con.execute(f"""
        CREATE OR REPLACE TABLE identity_records AS
        SELECT {', '.join('r.' + c for c in kept)}, k.resident_key
        FROM _records r JOIN {keys} k USING (rec_id)""")
    sources = staged_sources(con)
    rows = " UNION ALL ".join(
        f"SELECT '{s}' AS source, {_record_key_expr(s)} AS record_key, _file AS file, _row AS row FROM stg_{s}"
        for s in sources) or "SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS record_key, NULL::VARCHAR AS file, NULL::INTEGER AS row WHERE false"
    con.execute(f"""
        CREATE OR REPLACE VIEW identity_record_rows AS
        SELECT x.source, x.file, x.row, i.rec_id, i.resident_key
        FROM ({rows}) x JOIN identity_records i USING (source, record_key)""")
