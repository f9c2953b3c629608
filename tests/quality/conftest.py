"""Fixtures: a municipality database with a crafted resident file and emergency profiles (generated names, not
real people), and helpers that break it in known ways."""

from __future__ import annotations

import duckdb
from stdnum import luhn

from schemas import ddl

MUNI = 6600
FIRST = ["משה", "שרה", "יוסף", "רחל", "דוד", "לאה", "אברהם", "מרים"]
LAST = ["כהן", "לוי", "מזרחי", "פרץ", "ביטון", "אברהמי", "פרידמן", "שלום"]


def valid_id(i: int) -> str:
    """A valid Israeli ID number (the check digit is Luhn's), distinct per i."""
    body = f"{10_000_000 + i:08d}"
    return body + luhn.calc_check_digit(body)


def add_residents(con: duckdb.DuckDBPyConnection, n: int, start: int = 0) -> None:
    """n active residents with valid IDs, Hebrew names, an address and a mobile phone."""
    con.execute(ddl("resident_file"))
    first = "[" + ",".join(f"'{x}'" for x in FIRST) + "]"
    last = "[" + ",".join(f"'{x}'" for x in LAST) + "]"
    con.execute("CREATE OR REPLACE TEMP TABLE _ids (i INTEGER, national_id VARCHAR)")
    con.executemany("INSERT INTO _ids VALUES (?, ?)", [(i, valid_id(i)) for i in range(start, start + n)])
    con.execute(f"""
        INSERT INTO resident_file (resident_key, municipality_code, national_id, id_type, first_name, last_name,
            gender, birth_date, street_code, street_name, house_number, apartment, floor, zip_code,
            mobile_phone, email, household_key, status, sources, updated_at)
        SELECT 'R' || lpad(CAST(i AS VARCHAR), 8, '0'), {MUNI}, national_id, 'IsraeliID',
               {first}[1 + i % 8], {last}[1 + (i // 8) % 8], 'male', DATE '1950-01-01' + i % 20000,
               100 + i % 40, 'הרצל', CAST(1 + i % 90 AS VARCHAR), CAST(1 + i % 12 AS VARCHAR), i % 9, '5800000',
               '+97250' || lpad(CAST(i AS VARCHAR), 7, '0'), 'r' || i || '@example.org', 'H' || (i // 3), 'active',
               ['population_register'], TIMESTAMP '2026-11-01 08:00:00'
        FROM _ids""")


def add_profiles(con: duckdb.DuckDBPyConnection, where: str = "true") -> None:
    """An emergency profile with consent given for the residents matching `where`."""
    con.execute(ddl("emergency_profile"))
    con.execute(f"""
        INSERT INTO emergency_profile (resident_key, municipality_code, needs_codes, disability_types, mobility,
            floor, has_elevator, lives_alone, emergency_contact_name, emergency_contact_phone, legal_basis,
            consent_status, consent_date, information_source, statutory_sources, updated_at)
        SELECT resident_key, municipality_code, ['WHEELCHAIR'], ['PHYSICAL'], 'wheelchair', floor, false, true,
               'איש קשר', '+972521234567', 'consent', 'given', DATE '2026-01-15', 'רווחה', []::VARCHAR[],
               TIMESTAMP '2026-11-01 08:00:00'
        FROM resident_file WHERE {where}""")

