"""Israeli national ID numbers: padding, separators, check digit; passports recognised as such."""

from __future__ import annotations

import re

from stdnum.il import idnr

_SEPARATORS = re.compile(r"[\s\-./]")
_PASSPORT = re.compile(r"^[A-Z]{1,2}\d{5,9}$|^\d{5,9}[A-Z]$")


def parse_id(raw: str | None) -> tuple[str | None, str, bool]:
    """-> (normalized value, id_type, valid).

    `39337423` -> (`039337423`, IsraeliID, True); `03933742-3` likewise; a value with Latin letters in a
    passport shape -> (upper-cased, Passport, True); anything else -> (digits or None, Unknown/IsraeliID, False).
    """
    if raw is None or not str(raw).strip():
        return None, "Unknown", False
    compact = _SEPARATORS.sub("", str(raw)).upper()
    if compact.isdigit() and len(compact) <= 9:
        padded = compact.zfill(9)
        return padded, "IsraeliID", padded != "000000000" and idnr.is_valid(padded)
    if _PASSPORT.match(compact):
        return compact, "Passport", True
    return compact, "Unknown", False
