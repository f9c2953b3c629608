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


def _replace_chain(expr: str, pairs) -> str:
    """Nested replace() calls: DuckDB's translate() costs per character of its `from` set, replace() does not."""
    for old, new in pairs:
        expr = f"replace({expr}, {_lit(old)}, {_lit(new)})"
    return expr


def _char_class(chars: str) -> str:
    """An RE2 character class of the given characters, written as \\x{...} escapes."""
    return "[" + "".join(f"\\x{{{ord(c):04X}}}" for c in chars) + "]"


def macro_sql() -> list[str]:
    clean_pairs = [(c, to) for chars, to in h.CLEAN_MAP for c in chars]
    match_pairs = list(zip(h.FINALS, h.NON_FINALS)) + [(c, "") for c in h.MATCH_DELETE] + [(c, " ") for c in h.MATCH_SPACE]
    return [
        # --- Hebrew text --------------------------------------------------------------------------------------
        # fast path: plain Hebrew words separated by single spaces are already clean (most names)
        f"""CREATE OR REPLACE MACRO heb_clean(s) AS CASE
              WHEN regexp_full_match(CAST(s AS VARCHAR), '[א-ת]+(?: [א-ת]+)*') THEN CAST(s AS VARCHAR)
              ELSE nullif(trim(regexp_replace({_replace_chain(
                f"regexp_replace(nfc_normalize(CAST(s AS VARCHAR)), {_lit(_char_class(h.CLEAN_DELETE))}, '', 'g')",
                clean_pairs)}, ' +', ' ', 'g')), '') END""",
        # heb_match_c takes text that is already heb_clean'ed (staging cleans each column once)
        f"""CREATE OR REPLACE MACRO heb_match_c(c) AS
            nullif(trim(regexp_replace(lower({_replace_chain("c", match_pairs)}), ' +', ' ', 'g')), '')""",
        "CREATE OR REPLACE MACRO heb_match(s) AS heb_match_c(heb_clean(s))",
        """CREATE OR REPLACE MACRO heb_skeleton(s) AS
            array_to_string(list_transform(string_split(heb_match(s), ' '),
                            lambda w: w[1] || replace(replace(w[2:], 'ו', ''), 'י', '')), ' ')""",
        # --- Israeli ID ----------------------------------------------------------------------------------------
        r"""CREATE OR REPLACE MACRO il_id_compact(s) AS upper(regexp_replace(CAST(s AS VARCHAR), '[\s\-./]', '', 'g'))""",
        # Luhn over the 9 digits in integer arithmetic (k = position from the right; weights 1,2,1,2,...)
        "CREATE OR REPLACE MACRO il_id_checksum_ok(p) AS ("
        + " + ".join(f"((TRY_CAST(p AS BIGINT) // {10 ** k}) % 10 * {1 + k % 2}) // 10"
                     f" + ((TRY_CAST(p AS BIGINT) // {10 ** k}) % 10 * {1 + k % 2}) % 10" for k in range(9))
        + ") % 10 = 0",
        # for an already compacted value (staging computes il_id_compact once per row)
        r"""CREATE OR REPLACE MACRO il_id_type_c(c) AS CASE
              WHEN c IS NULL OR c = '' THEN 'Unknown'
              WHEN regexp_full_match(c, '\d{1,9}') THEN 'IsraeliID'
              WHEN regexp_full_match(c, '[A-Z]{1,2}\d{5,9}|\d{5,9}[A-Z]') THEN 'Passport'
              ELSE 'Unknown' END""",
        """CREATE OR REPLACE MACRO il_id_normalize_c(c, t) AS CASE t WHEN 'IsraeliID' THEN lpad(c, 9, '0') ELSE nullif(c, '') END""",
        """CREATE OR REPLACE MACRO il_id_valid_c(n, t) AS CASE t
              WHEN 'IsraeliID' THEN n <> '000000000' AND il_id_checksum_ok(n)
              WHEN 'Passport' THEN true ELSE false END""",
        "CREATE OR REPLACE MACRO il_id_type(s) AS il_id_type_c(il_id_compact(s))",
        "CREATE OR REPLACE MACRO il_id_normalize(s) AS il_id_normalize_c(il_id_compact(s), il_id_type(s))",
        "CREATE OR REPLACE MACRO il_id_valid(s) AS il_id_valid_c(il_id_normalize(s), il_id_type(s))",
        # --- Phones ----------------------------------------------------------------------------------------------
        r"""CREATE OR REPLACE MACRO phone_national(s) AS regexp_replace(
              regexp_replace(regexp_replace(CAST(s AS VARCHAR), '\D', '', 'g'), '^(00972|972)', ''), '^0', '')""",
        # *_n variants take the national number (staging computes phone_national once per value)
        "CREATE OR REPLACE MACRO phone_kind_n(n) AS CASE "
        + " ".join(f"WHEN regexp_full_match(n, {_lit(p)}) THEN '{kind}'" for kind, p in kind_patterns().items())
        + " END",
        "CREATE OR REPLACE MACRO phone_e164_n(n) AS CASE WHEN phone_kind_n(n) IS NOT NULL THEN '+972' || n END",
        "CREATE OR REPLACE MACRO phone_kind(s) AS phone_kind_n(phone_national(s))",
        "CREATE OR REPLACE MACRO phone_e164(s) AS phone_e164_n(phone_national(s))",
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
