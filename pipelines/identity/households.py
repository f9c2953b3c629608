"""Households: active residents at the same address and apartment share a `household_key`.

The key is opaque and kept in `household_registry` (address -> key), so a household keeps its key run after run
and the key says nothing about the address. Moved-out and deceased residents belong to no household.
"""

from __future__ import annotations

import datetime as dt

import duckdb

DDL = """CREATE TABLE IF NOT EXISTS household_registry (
    address_key VARCHAR NOT NULL, household_key VARCHAR NOT NULL, first_seen TIMESTAMP NOT NULL)"""

NEW_KEY_SQL = "'H' || upper(replace(CAST(gen_random_uuid() AS VARCHAR), '-', '')[1:20])"

# street (registry code, else the name in matching form) | house | entrance | apartment, in matching forms
ADDRESS_KEY_SQL = """CASE WHEN status = 'active' AND house_number IS NOT NULL
                           AND (street_code IS NOT NULL OR street_name IS NOT NULL)
    THEN concat_ws('|', coalesce(CAST(street_code AS VARCHAR), 'name:' || heb_match(street_name)),
                   lower(replace(house_number, ' ', '')), coalesce(heb_match(entrance), ''),
                   coalesce(regexp_replace(lower(replace(apartment, ' ', '')), '^0+', ''), ''))
    END"""


def assign_households(con: duckdb.DuckDBPyConnection, residents: str, now: dt.datetime) -> str:
    """Issue/reuse household keys for the rows of table `residents`; returns the name of a TEMP table
    `(resident_key, household_key)`."""
    con.execute(DDL)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _resident_addresses AS
        SELECT resident_key, {ADDRESS_KEY_SQL} AS address_key FROM {residents}""")
    con.execute(f"""
        INSERT INTO household_registry
        SELECT address_key, {NEW_KEY_SQL}, $now FROM (
            SELECT DISTINCT address_key FROM _resident_addresses a
            WHERE address_key IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM household_registry h WHERE h.address_key = a.address_key))""",
                {"now": now})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _resident_households AS
        SELECT a.resident_key, h.household_key
        FROM _resident_addresses a LEFT JOIN household_registry h USING (address_key)""")
    con.execute("DROP TABLE _resident_addresses")
    return "_resident_households"
