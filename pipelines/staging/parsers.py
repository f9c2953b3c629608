"""Parsers named in the source mappings (`parser:` in schemas/sources/*.yaml), as SQL.

Each parser turns one raw text column into one or more typed columns and says, in SQL, when a present value
failed to parse (and why). Staging runs two levels: `pre` expressions (the costly cleaning, computed once per
value) in an inner SELECT, then `outputs` and `invalid` over them. Missing values are judged by the caller from
the mapping's `required`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Parsed:
    outputs: list[tuple[str, str]]                          # (staged column, SQL over raw and pre columns)
    invalid: str | None = None                              # SQL: true when a present value did not parse
    reason: str = ""
    pre: list[tuple[str, str]] = field(default_factory=list)  # (inner column, SQL over the raw column)


def _v(f: str) -> str:
    return f"nullif(trim(\"{f}\"), '')"


def _clean(f: str) -> tuple[str, str]:
    return f"_c_{f}", f"heb_clean(\"{f}\")"


def _match(f: str) -> str:
    return f"heb_match_c(_c_{f})"


def israeli_id(f: str) -> Parsed:
    # Invalid IDs are kept as evidence (valid = false), never rejected: they still help identity by other fields.
    c, t, n = f"_c_{f}", f"_t_{f}", f"il_id_normalize_c(_c_{f}, _t_{f})"
    return Parsed([(f, n), (f"{f}_raw", _v(f)), ("id_type", t), (f"{f}_valid", f"il_id_valid_c({n}, {t})")],
                  pre=[(c, f"il_id_compact({_v(f)})"), (t, f"il_id_type_c(il_id_compact({_v(f)}))")])


def hebrew_name(f: str) -> Parsed:
    return Parsed([(f, f"_c_{f}"), (f"{f}_match", _match(f))], pre=[_clean(f)])


def text(f: str) -> Parsed:
    return Parsed([(f, f"_c_{f}")], pre=[_clean(f)])


def code(f: str) -> Parsed:
    return Parsed([(f, f"upper({_v(f)})")])


def integer(f: str) -> Parsed:
    v = _v(f)
    return Parsed([(f, f"TRY_CAST({v} AS INTEGER)")], f"TRY_CAST({v} AS INTEGER) IS NULL", "not a whole number")


def _mapped(f: str, cases: str, reason: str) -> Parsed:
    """A value looked up by its matching form: `cases` is a CASE body over `{m}` (and `{c}`, the cleaned value)."""
    expr = "CASE " + cases.replace("{m}", _match(f)).replace("{c}", f"_c_{f}") + " END"
    return Parsed([(f, expr)], f"({expr}) IS NULL", reason, pre=[_clean(f)])


def floor(f: str) -> Parsed:
    p = _mapped(f, "WHEN {m} IN ('קרקע', 'ק') THEN 0 WHEN {m} = 'מרתפ' THEN -1 "
                   "ELSE TRY_CAST(regexp_extract({c}, '^-?\\d+$') AS INTEGER)", "not a floor number")
    expr = p.outputs[0][1]
    return Parsed(p.outputs, f"({expr}) IS NULL OR ({expr}) NOT BETWEEN -5 AND 120", p.reason, p.pre)


def gender(f: str) -> Parsed:
    return _mapped(f, "WHEN {m} IN ('ז', 'זכר', 'm', 'male', '1') THEN 'male' "
                      "WHEN {m} IN ('נ', 'נקבה', 'f', 'female', '2') THEN 'female'", "unknown gender code")


def marital_status(f: str) -> Parsed:
    # masculine, feminine (נשואה, רווקה...) and the registry's combined forms (נשוי/אה)
    return _mapped(f, "WHEN {m} LIKE 'רווק%' THEN 'single' WHEN {m} LIKE 'נשוי%' OR {m} LIKE 'נשוא%' THEN 'married' "
                      "WHEN {m} LIKE 'גרוש%' THEN 'divorced' WHEN {m} LIKE 'אלמנ%' THEN 'widowed'", "unknown marital status")


def yes_no(f: str) -> Parsed:
    return _mapped(f, "WHEN {m} IN ('כנ', 'yes', 'y', 'v', '1', 'true', 'x') THEN true "
                      "WHEN {m} IN ('לא', 'no', 'n', '0', 'false') THEN false", "not yes/no (כן/לא)")


def _date(f: str, lo: str = "DATE '1900-01-01'", hi: str = "current_date + 1") -> Parsed:
    d = f"_d_{f}"
    ok = f"{d} BETWEEN {lo} AND {hi}"
    return Parsed([(f, f"CASE WHEN {ok} THEN {d} END")], f"NOT coalesce({ok}, false)", "invalid or impossible date",
                  pre=[(d, f"parse_date_any({_v(f)})")])


def timestamp(f: str) -> Parsed:
    ts = f"_d_{f}"
    return Parsed([(f, ts)], f"{ts} IS NULL", "invalid date/time", pre=[(ts, f"parse_timestamp_any({_v(f)})")])


def house_number(f: str) -> Parsed:
    h = f"replace(_c_{f}, ' ', '')"
    return Parsed([(f, h)], f"NOT regexp_full_match({h}, '\\d{{1,4}}[א-ת]?')", "not a house number", pre=[_clean(f)])


def zip_code(f: str) -> Parsed:
    v = f"regexp_replace({_v(f)}, '\\D', '', 'g')"
    return Parsed([(f, f"CASE WHEN length({v}) = 7 THEN {v} END")], f"length({v}) <> 7", "not a 7-digit zip code")


def phone(f: str) -> Parsed:
    n = f"_n_{f}"
    return Parsed([(f, f"phone_e164_n({n})"), (f"{f}_kind", f"phone_kind_n({n})")], f"phone_kind_n({n}) IS NULL",
                  "not an Israeli phone number", pre=[(n, f"phone_national({_v(f)})")])


def address_text(f: str) -> Parsed:
    p = f"_a_{f}"
    return Parsed([(f, f"heb_clean({_v(f)})"), ("street_text", f"{p}.street"), ("house_number", f"replace({p}.house, ' ', '')"),
                   ("entrance", f"{p}.entrance"), ("apartment", f"coalesce({p}.apartment, {p}.slash_apartment)"),
                   ("floor", f"{p}.floor")], f"{p}.street IS NULL", "no street in the address",
                  pre=[(p, f"address_parts({_v(f)})")])


def code_list(f: str) -> Parsed:
    """Comma/semicolon separated Hebrew labels; mapped to canonical codes after parsing (see enrich.py)."""
    v = _v(f)
    items = f"list_filter(list_transform(regexp_split_to_array({v}, '[,;]'), lambda x: heb_match(x)), lambda x: x IS NOT NULL)"
    return Parsed([(f"{f}_items", items)])


PARSERS = {
    "israeli_id": israeli_id, "hebrew_name": hebrew_name, "full_name": text, "text": text, "code": code,
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
