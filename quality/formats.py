"""SQL predicates behind the `format:` names of schemas/resident_model.yaml: true when a present value is well formed.

`israeli_id` uses the normalizer's own macros (pipelines/normalize/macros.py), whose check digit is integer
arithmetic (~1 s per million IDs on 2 cores).
"""

from __future__ import annotations


def israeli_id(col: str) -> str:
    """Stored form of an ID: 9 digits (leading zeros kept) with a valid check digit, or a passport number."""
    kind = f"il_id_type_c({col})"
    return f"({kind} IN ('IsraeliID', 'Passport') AND {col} = il_id_normalize_c({col}, {kind}) AND il_id_valid_c({col}, {kind}))"


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
