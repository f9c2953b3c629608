"""SQL predicates behind the `format:` names of schemas/resident_model.yaml: true when a present value is well formed.

`israeli_id` is the check-digit rule of `il_id_valid` (pipelines/normalize/macros.py) written for speed: the
macro walks the digits with `list_transform` over `range(9)`, which costs ~29 s per million IDs on 2 cores - the
whole quality budget. Here the nine digits are taken arithmetically from the number, ~0.9 s per million. The two
are held to the same answers by tests/quality/test_formats.py, as the normalizers' SQL and Python twins are.
"""

from __future__ import annotations


def _digit(col: str, i: int) -> str:
    """Digit i (0 = leftmost) of a 9-digit value."""
    return f"(TRY_CAST({col} AS BIGINT) // {10 ** (8 - i)} % 10)"


def israeli_id(col: str) -> str:
    """Stored form of an ID: 9 digits (leading zeros kept) with a valid check digit, or a passport number."""
    terms = " + ".join(_digit(col, i) if i % 2 == 0 else f"({_digit(col, i)} * 2 // 10 + {_digit(col, i)} * 2 % 10)"
                       for i in range(9))
    israeli = f"regexp_full_match({col}, '[0-9]{{9}}') AND {col} <> '000000000' AND ({terms}) % 10 = 0"
    passport = f"il_id_type({col}) = 'Passport' AND {col} = il_id_normalize({col})"
    return f"(({israeli}) OR ({passport}))"


def e164(col: str) -> str:
    return f"regexp_full_match({col}, '\\+[1-9][0-9]{{7,14}}')"


def cbs_code(col: str) -> str:
    """The municipality's own CBS code: the partition being checked."""
    return f"{col} = $municipality"


FORMATS = {"israeli_id": israeli_id, "e164": e164, "cbs_code": cbs_code}


def predicate(name: str, column: str) -> str:
    try:
        return FORMATS[name]('"' + column.replace('"', '""') + '"')
    except KeyError:
        raise KeyError(f"format {name!r} is not defined in quality/formats.py (known: {', '.join(FORMATS)})") from None
