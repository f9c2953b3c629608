"""Israeli phone numbers to E.164 with their kind (mobile, landline, voip).

Validity is the `phonenumbers` library's: which number ranges are allocated comes from its metadata for IL. The
SQL twin (`phone_e164`/`phone_kind` macros) compiles the same metadata patterns into RE2 regexes, so staging a
million rows does not call the library per row, and tests hold the two to the same answers.
"""

from __future__ import annotations

import phonenumbers

KINDS = {  # phonenumbers number type -> our kind, in the order the SQL macro tests them
    "mobile": phonenumbers.PhoneNumberType.MOBILE,
    "landline": phonenumbers.PhoneNumberType.FIXED_LINE,
    "voip": phonenumbers.PhoneNumberType.VOIP,
}


def kind_patterns() -> dict[str, str]:
    """National-number regex per kind, from phonenumbers' metadata for Israel."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("IL")
    return {"mobile": meta.mobile.national_number_pattern, "landline": meta.fixed_line.national_number_pattern,
            "voip": meta.voip.national_number_pattern}


def to_e164(raw: str | None) -> tuple[str | None, str | None]:
    """-> (E.164 string, kind) or (None, None) for anything that is not a valid Israeli phone number."""
    if raw is None or not str(raw).strip():
        return None, None
    try:
        number = phonenumbers.parse(str(raw), "IL")
    except phonenumbers.NumberParseException:
        return None, None
    if number.country_code != 972 or not phonenumbers.is_valid_number(number):
        return None, None
    kind = next((k for k, t in KINDS.items() if phonenumbers.number_type(number) == t), None)
    if kind is None:
        return None, None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), kind
