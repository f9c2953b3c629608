"""Israeli phone numbers to E.164 with their kind (mobile, landline, voip).

Staging uses the SQL macro (`phone_e164`); this twin serves single values and the tests that hold the macro
to the `phonenumbers` library's answers.
"""

from __future__ import annotations

import re

_NON_DIGITS = re.compile(r"\D")


def national_number(raw: str | None) -> str | None:
    """The national significant number (no leading 0, no 972) or None if it cannot be an Israeli number."""
    if raw is None:
        return None
    digits = _NON_DIGITS.sub("", str(raw))
    if digits.startswith("00972"):
        digits = digits[5:]
    elif digits.startswith("972"):
        digits = digits[3:]
    digits = digits.removeprefix("0")
    return digits if phone_kind_of(digits) else None


def phone_kind_of(national: str) -> str | None:
    if re.fullmatch(r"5\d{8}", national):
        return "mobile"
    if re.fullmatch(r"[2-489]\d{7}", national):
        return "landline"
    if re.fullmatch(r"7\d{8}", national):
        return "voip"
    return None


def to_e164(raw: str | None) -> tuple[str | None, str | None]:
    """-> (E.164 string, kind) or (None, None)."""
    n = national_number(raw)
    return (f"+972{n}", phone_kind_of(n)) if n else (None, None)
