"""The SQL twins of the normalizers, as DuckDB macros.

Built from the same constants as the Python functions (hebrew.py, israeli_id.py, phones.py, dates.py), so the
two cannot drift apart silently; tests compare them value by value.
"""

from __future__ import annotations

import duckdb

from pipelines.normalize import hebrew as h
from pipelines.normalize.phones import kind_patterns


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _clean_translate_args() -> tuple[str, str]:
    src = "".join(chars for chars, _ in h.CLEAN_MAP)
    dst = "".join(to * len(chars) for chars, to in h.CLEAN_MAP)
    return src + h.CLEAN_DELETE, dst


def macro_sql() -> list[str]:
    src, dst = _clean_translate_args()
    punct = h.MATCH_SPACE + h.MATCH_DELETE
    spaces = " " * len(h.MATCH_SPACE)
    return [
        # --- Hebrew text --------------------------------------------------------------------------------------
        f"""CREATE OR REPLACE MACRO heb_clean(s) AS
            nullif(trim(regexp_replace(translate(nfc_normalize(CAST(s AS VARCHAR)), {_lit(src)}, {_lit(dst)}), ' +', ' ', 'g')), '')""",
        f"""CREATE OR REPLACE MACRO heb_match(s) AS
            nullif(trim(regexp_replace(lower(translate(translate(heb_clean(s), {_lit(h.FINALS)}, {_lit(h.NON_FINALS)}),
                   {_lit(punct)}, {_lit(spaces)})), ' +', ' ', 'g')), '')""",
        f"""CREATE OR REPLACE MACRO heb_translit(s) AS
            translate(heb_match(s), {_lit(h.HEBREW_LETTERS)}, {_lit(h.TRANSLIT_LETTERS)})""",
        """CREATE OR REPLACE MACRO heb_skeleton(s) AS
            array_to_string(list_transform(string_split(heb_match(s), ' '),
                            lambda w: w[1] || replace(replace(w[2:], 'ו', ''), 'י', '')), ' ')""",
        # --- Israeli ID ----------------------------------------------------------------------------------------
        r"""CREATE OR REPLACE MACRO il_id_compact(s) AS upper(regexp_replace(CAST(s AS VARCHAR), '[\s\-./]', '', 'g'))""",
        r"""CREATE OR REPLACE MACRO il_id_type(s) AS CASE
              WHEN s IS NULL OR trim(CAST(s AS VARCHAR)) = '' THEN 'Unknown'
              WHEN regexp_full_match(il_id_compact(s), '\d{1,9}') THEN 'IsraeliID'
              WHEN regexp_full_match(il_id_compact(s), '[A-Z]{1,2}\d{5,9}|\d{5,9}[A-Z]') THEN 'Passport'
              ELSE 'Unknown' END""",
        r"""CREATE OR REPLACE MACRO il_id_normalize(s) AS CASE il_id_type(s)
              WHEN 'IsraeliID' THEN lpad(il_id_compact(s), 9, '0')
              ELSE nullif(il_id_compact(s), '') END""",
        """CREATE OR REPLACE MACRO il_id_checksum_ok(p) AS
              list_sum(list_transform(range(9), lambda i:
                  ((ascii(p[i + 1]) - 48) * (1 + i % 2)) // 10 + ((ascii(p[i + 1]) - 48) * (1 + i % 2)) % 10)) % 10 = 0""",
        """CREATE OR REPLACE MACRO il_id_valid(s) AS CASE il_id_type(s)
              WHEN 'IsraeliID' THEN il_id_normalize(s) <> '000000000' AND il_id_checksum_ok(il_id_normalize(s))
              WHEN 'Passport' THEN true
              ELSE false END""",
        # --- Phones ----------------------------------------------------------------------------------------------
        r"""CREATE OR REPLACE MACRO phone_national(s) AS regexp_replace(
              regexp_replace(regexp_replace(CAST(s AS VARCHAR), '\D', '', 'g'), '^(00972|972)', ''), '^0', '')""",
        "CREATE OR REPLACE MACRO phone_kind(s) AS CASE "
        + " ".join(f"WHEN regexp_full_match(phone_national(s), {_lit(p)}) THEN '{kind}'" for kind, p in kind_patterns().items())
        + " END",
        """CREATE OR REPLACE MACRO phone_e164(s) AS CASE WHEN phone_kind(s) IS NOT NULL THEN '+972' || phone_national(s) END""",
        # --- Dates -----------------------------------------------------------------------------------------------
        r"""CREATE OR REPLACE MACRO parse_date_any(s) AS CASE
              WHEN regexp_full_match(trim(CAST(s AS VARCHAR)), '\d{1,2}[/.\-]\d{1,2}[/.\-]\d{4}')
                THEN CAST(try_strptime(regexp_replace(trim(CAST(s AS VARCHAR)), '[.\-]', '/', 'g'), '%d/%m/%Y') AS DATE)
              WHEN regexp_full_match(trim(CAST(s AS VARCHAR)), '\d{4}-\d{1,2}-\d{1,2}([ T].*)?')
                THEN CAST(try_strptime(regexp_extract(trim(CAST(s AS VARCHAR)), '^\d{4}-\d{1,2}-\d{1,2}'), '%Y-%m-%d') AS DATE)
              WHEN regexp_full_match(trim(CAST(s AS VARCHAR)), '\d{4,5}(\.0+)?')
                THEN DATE '1899-12-30' + CAST(regexp_extract(trim(CAST(s AS VARCHAR)), '^\d+') AS INTEGER)
              END""",
        r"""CREATE OR REPLACE MACRO parse_timestamp_any(s) AS coalesce(
              try_strptime(trim(CAST(s AS VARCHAR)), '%d/%m/%Y %H:%M'),
              try_strptime(trim(CAST(s AS VARCHAR)), '%d/%m/%Y %H:%M:%S'),
              try_cast(regexp_extract(replace(trim(CAST(s AS VARCHAR)), 'T', ' '), '^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?') AS TIMESTAMP),
              CAST(parse_date_any(s) AS TIMESTAMP))""",
    ]


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    for stmt in macro_sql():
        con.execute(stmt)
