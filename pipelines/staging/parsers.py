"""Parsers named in the source mappings (`parser:` in schemas/sources/*.yaml), as SQL.

Each parser turns one raw text column into one or more typed columns and says, in SQL, when a present value
failed to parse (and why). Missing values are judged by the caller from the mapping's `required`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parsed:
    outputs: list[tuple[str, str]]          # (staged column, SQL expression)
    invalid: str | None = None              # SQL: true when a present value did not parse
    reason: str = ""


def _v(f: str) -> str:
    return f"nullif(trim(\"{f}\"), '')"


def israeli_id(f: str) -> Parsed:
    # Invalid IDs are kept as evidence (valid = false), never rejected: they still help identity by other fields.
    v = _v(f)
    return Parsed([(f, f"il_id_normalize({v})"), (f"{f}_raw", v), ("id_type", f"il_id_type({v})"),
                   (f"{f}_valid", f"il_id_valid({v})")])


def hebrew_name(f: str) -> Parsed:
    return Parsed([(f, f"heb_clean({_v(f)})"), (f"{f}_match", f"heb_match({_v(f)})")])


def full_name(f: str) -> Parsed:
    return Parsed([(f, f"heb_clean({_v(f)})")])


def text(f: str) -> Parsed:
    return Parsed([(f, f"heb_clean({_v(f)})")])


def code(f: str) -> Parsed:
    return Parsed([(f, f"upper({_v(f)})")])


def integer(f: str) -> Parsed:
    v = _v(f)
    return Parsed([(f, f"TRY_CAST({v} AS INTEGER)")], f"TRY_CAST({v} AS INTEGER) IS NULL", "not a whole number")


def floor(f: str) -> Parsed:
    v = _v(f)
    expr = f"""CASE WHEN heb_match({v}) IN ('קרקע', 'ק') THEN 0 WHEN heb_match({v}) = 'מרתפ' THEN -1
                    ELSE TRY_CAST(regexp_extract({v}, '^-?\\d+$') AS INTEGER) END"""
    return Parsed([(f, expr)], f"({expr}) IS NULL OR ({expr}) NOT BETWEEN -5 AND 120", "not a floor number")


def _date(f: str, lo: str = "DATE '1900-01-01'", hi: str = "current_date + 1") -> Parsed:
    v = _v(f)
    expr = f"parse_date_any({v})"
    ok = f"({expr}) BETWEEN {lo} AND {hi}"
    return Parsed([(f, f"CASE WHEN {ok} THEN {expr} END")], f"NOT coalesce({ok}, false)", "invalid or impossible date")


def timestamp(f: str) -> Parsed:
    v = _v(f)
    expr = f"parse_timestamp_any({v})"
    return Parsed([(f, expr)], f"({expr}) IS NULL", "invalid date/time")


def gender(f: str) -> Parsed:
    v = f"heb_match({_v(f)})"
    expr = f"""CASE WHEN {v} IN ('ז', 'זכר', 'm', 'male', '1') THEN 'male'
                    WHEN {v} IN ('נ', 'נקבה', 'f', 'female', '2') THEN 'female' END"""
    return Parsed([(f, expr)], f"({expr}) IS NULL", "unknown gender code")


def marital_status(f: str) -> Parsed:
    v = f"heb_match({_v(f)})"
    expr = f"""CASE WHEN {v} LIKE 'רווק%' THEN 'single' WHEN {v} LIKE 'נשוי%' THEN 'married'
                    WHEN {v} LIKE 'גרוש%' THEN 'divorced' WHEN {v} LIKE 'אלמנ%' THEN 'widowed' END"""
    return Parsed([(f, expr)], f"({expr}) IS NULL", "unknown marital status")


def house_number(f: str) -> Parsed:
    v = f"replace(heb_clean({_v(f)}), ' ', '')"
    return Parsed([(f, v)], f"NOT regexp_full_match({v}, '\\d{{1,4}}[א-ת]?')", "not a house number")


def zip_code(f: str) -> Parsed:
    v = f"regexp_replace({_v(f)}, '\\D', '', 'g')"
    return Parsed([(f, f"CASE WHEN length({v}) = 7 THEN {v} END")], f"length({v}) <> 7", "not a 7-digit zip code")


def phone(f: str) -> Parsed:
    v = _v(f)
    return Parsed([(f, f"phone_e164({v})"), (f"{f}_kind", f"phone_kind({v})")], f"phone_e164({v}) IS NULL",
                  "not an Israeli phone number")


def yes_no(f: str) -> Parsed:
    v = f"heb_match({_v(f)})"
    expr = f"""CASE WHEN {v} IN ('כנ', 'כן', 'yes', 'y', 'v', '1', 'true', 'x') THEN true
                    WHEN {v} IN ('לא', 'no', 'n', '0', 'false') THEN false END"""
    return Parsed([(f, expr)], f"({expr}) IS NULL", "not yes/no (כן/לא)")


def address_text(f: str) -> Parsed:
    v = _v(f)
    p = f"address_parts({v})"
    return Parsed([(f, f"heb_clean({v})"), ("street_text", f"{p}.street"), ("house_number", f"replace({p}.house, ' ', '')"),
                   ("entrance", f"{p}.entrance"), ("apartment", f"coalesce({p}.apartment, {p}.slash_apartment)"),
                   ("floor", f"{p}.floor")], f"{p}.street IS NULL", "no street in the address")


def code_list(f: str) -> Parsed:
    """Comma/semicolon separated Hebrew labels; mapped to canonical codes after parsing (see codes.py)."""
    v = _v(f)
    items = f"list_filter(list_transform(regexp_split_to_array({v}, '[,;]'), lambda x: heb_match(x)), lambda x: x IS NOT NULL)"
    return Parsed([(f"{f}_items", items)])


PARSERS = {
    "israeli_id": israeli_id, "hebrew_name": hebrew_name, "full_name": full_name, "text": text, "code": code,
    "integer": integer, "floor": floor, "gender": gender, "marital_status": marital_status,
    "house_number": house_number, "zip_code": zip_code, "phone": phone, "yes_no": yes_no,
    "address_text": address_text, "code_list": code_list, "needs": code_list, "yachad_status": text,
    "date_dmy": _date, "date_iso": _date, "date_any": _date, "timestamp": timestamp, "timestamp_dmy": timestamp,
}


def parse(parser: str, field: str) -> Parsed:
    try:
        return PARSERS[parser](field)
    except KeyError:
        raise KeyError(f"mapping names unknown parser {parser!r} for field {field!r}; known: {', '.join(sorted(PARSERS))}") from None
