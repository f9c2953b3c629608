"""`emergency_profile`: what field teams need to know about a resident, held only where the law allows it.

Legal basis (Equal Rights for Persons with Disabilities Regulations, emergency database, 2024):
- consent:   the resident's freshest disability-registry record says consent = yes. Only then are the registry's
             values (disability types, assistance needs, floor, elevator, lives alone, support, emergency
             contact) used. Consent = no (withdrawn) removes all of them, here and in the resident file.
- statutory: a government source (ODS: National Insurance, Welfare, Health, Defense rehabilitation) reports
             needs for the resident; those needs are held without consent.
A resident with neither has no profile row at all.

Yachad (the emergency-management system) status, current location and needs typed by its operators are
attached to residents who have a profile basis, never on their own: a resident Yachad tracks who has no
consent and no statutory source gets no profile (see docs/identity.md for what that means for the
"not located / hospitalised" lists).

Derived fields: `mobility` is the most demanding mobility of the resident's needs codes (bedridden >
wheelchair > assisted; NULL when no need says anything about mobility), `electricity_dependent`/
`oxygen_dependent` say whether any need carries that attribute (schemas/needs_codes.yaml), `lives_alone` is the
registry's answer, else true when a government source reports a senior living alone.
"""

from __future__ import annotations

import datetime as dt

import duckdb

from pipelines.identity.records import staged_sources
from schemas.loader import load_yaml
from schemas.model import ddl, table

MOBILITY_ORDER = ("bedridden", "wheelchair", "assisted")


def _codes_with(attribute: str, value=True) -> list[str]:
    needs = load_yaml("needs_codes.yaml")["needs"]
    return sorted(code for code, spec in needs.items() if spec.get(attribute) == value)


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]::VARCHAR[]"


# The staged columns each source contributes, with their types (for an empty stand-in when a source is absent).
SOURCE_COLUMNS = {
    "disability_registry": {
        "consent": "BOOLEAN", "consent_date": "DATE", "updated_at": "DATE", "_row": "INTEGER", "floor": "INTEGER",
        "has_elevator": "BOOLEAN", "lives_alone": "BOOLEAN", "has_emergency_support": "BOOLEAN",
        "emergency_contact_name": "VARCHAR", "emergency_contact_phone": "VARCHAR",
        "emergency_contact_relation": "VARCHAR", "information_source": "VARCHAR", "needs_codes": "VARCHAR[]",
        "disability_types": "VARCHAR[]"},
    "ods": {"needs_codes": "VARCHAR[]", "disability_types": "VARCHAR[]", "source_ministry": "VARCHAR",
            "updated_at": "TIMESTAMP"},
    "yachad": {"status": "VARCHAR", "current_location": "VARCHAR", "updated_at": "TIMESTAMP",
               "needs_codes": "VARCHAR[]", "floor": "INTEGER", "_row": "INTEGER"},
}


def _rows_of(source: str, staged: list[str]) -> str:
    """Staged rows of a source with the resident key of their record (no rows when the source is absent)."""
    cols = SOURCE_COLUMNS[source]
    if source not in staged:
        return "SELECT NULL::VARCHAR AS resident_key, " + ", ".join(
            f"NULL::{t} AS {c}" for c, t in cols.items()) + " WHERE false"
    return f"""
        SELECT x.resident_key, {', '.join('CAST(s.' + c + ' AS ' + t + ') AS ' + c for c, t in cols.items())}
        FROM stg_{source} s
        JOIN identity_record_rows x ON x.source = '{source}' AND x.file = s._file AND x.row = s._row"""


# The freshest registry record of a resident decides consent.
FRESHEST_CONSENT = """SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY resident_key
                                                         ORDER BY updated_at DESC NULLS LAST, consent_date DESC NULLS LAST, _row DESC) AS rn
                           FROM registry_rows) WHERE rn = 1"""

CONSENT_WITHDRAWALS_DDL = """CREATE TABLE IF NOT EXISTS consent_withdrawals (
    resident_key VARCHAR NOT NULL, consent_date DATE, recorded_at TIMESTAMP NOT NULL)"""


def profile_sql(municipality: int, sources: list[str]) -> str:
    registry, ods, yachad = (_rows_of(s, sources) for s in ("disability_registry", "ods", "yachad"))
    mobility = " ".join(f"WHEN list_has_any(needs, {_sql_list(_codes_with('mobility', m))}) THEN '{m}'"
                        for m in MOBILITY_ORDER)
    columns = table("emergency_profile").columns
    select = {
        "resident_key": "resident_key",
        "municipality_code": f"CAST({int(municipality)} AS INTEGER)",
        "needs_codes": "needs",
        "disability_types": "dtypes",
        "mobility": f"CASE {mobility} END",
        "electricity_dependent": f"list_has_any(needs, {_sql_list(_codes_with('electricity'))})",
        "oxygen_dependent": f"list_has_any(needs, {_sql_list(_codes_with('oxygen'))})",
        "floor": "coalesce(reg.floor, ya.floor)",
        "has_elevator": "reg.has_elevator",
        "lives_alone": "coalesce(reg.lives_alone, CASE WHEN list_contains(needs, 'SENIOR_ALONE') THEN true END)",
        "has_emergency_support": "reg.has_emergency_support",
        "emergency_contact_name": "reg.emergency_contact_name",
        "emergency_contact_phone": "reg.emergency_contact_phone",
        "emergency_contact_relation": "reg.emergency_contact_relation",
        "yachad_status": "ya.status",
        "yachad_location": "ya.current_location",
        "yachad_updated_at": "ya.updated_at",
        "legal_basis": "CASE WHEN consent_given THEN 'consent' ELSE 'statutory' END",
        # "no" with a consent date, or "no" where the last run held consent, is a withdrawal; "no" alone never consented
        "consent_status": """CASE WHEN consent_given THEN 'given'
                                  WHEN consent_seen AND (consent_date IS NOT NULL OR previously_given) THEN 'withdrawn'
                                  ELSE 'none' END""",
        "consent_date": "consent_date",
        "information_source": "coalesce(reg.information_source, CASE WHEN ods.resident_key IS NOT NULL THEN 'ODS' END)",
        "statutory_sources": "coalesce(ods.ministries, []::VARCHAR[])",
        # sources without dates keep the previous run's value, so an unchanged profile is not re-sent to MuniForce
        "updated_at": """coalesce(greatest(reg.updated_at, ods.updated_at, ya.updated_at),
                                  (SELECT pu.updated_at FROM _previous_updated pu WHERE pu.resident_key = p.resident_key),
                                  $now)""",
    }
    missing = set(columns) - set(select)
    if missing:
        raise KeyError(f"emergency_profile fields without a rule: {sorted(missing)}")
    return f"""
        WITH registry_rows AS ({registry}),
        freshest AS ({FRESHEST_CONSENT}),
        consent AS (SELECT resident_key, consent AS consent_given, true AS consent_seen, consent_date FROM freshest),
        reg AS (SELECT resident_key, floor, has_elevator, lives_alone, has_emergency_support, emergency_contact_name,
                       emergency_contact_phone, emergency_contact_relation, information_source, needs_codes,
                       disability_types, CAST(updated_at AS TIMESTAMP) AS updated_at
                FROM freshest WHERE consent),
        ods AS (SELECT resident_key, flatten(list(needs_codes)) AS needs, flatten(list(disability_types)) AS dtypes,
                       list_sort(list_distinct(list(source_ministry))) AS ministries, max(updated_at) AS updated_at
                FROM ({ods}) GROUP BY resident_key),
        ya AS (SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY resident_key
                                                            ORDER BY updated_at DESC NULLS LAST, _row DESC) AS rn
                              FROM ({yachad})) WHERE rn = 1),
        basis AS (SELECT resident_key FROM reg UNION SELECT resident_key FROM ods),
        p AS (
            SELECT b.resident_key, reg, ods, ya, c.consent_given, c.consent_seen, c.consent_date,
                   b.resident_key IN (SELECT resident_key FROM _previous_consent) AS previously_given,
                   list_sort(list_distinct(list_concat(coalesce(reg.needs_codes, []), coalesce(ods.needs, []),
                                                       coalesce(ya.needs_codes, [])))) AS needs,
                   list_sort(list_distinct(list_concat(coalesce(reg.disability_types, []), coalesce(ods.dtypes, []))))
                       AS dtypes
            FROM basis b
            JOIN resident_file f USING (resident_key)
            LEFT JOIN reg USING (resident_key) LEFT JOIN ods USING (resident_key)
            LEFT JOIN ya USING (resident_key) LEFT JOIN consent c USING (resident_key))
        SELECT {', '.join(f'{select[c]} AS {c}' for c in columns)}
        FROM p"""


def build_emergency_profile(con: duckdb.DuckDBPyConnection, municipality: int,
                            now: dt.datetime | None = None) -> dict[str, int]:
    """Rebuild `emergency_profile` (requires `identity_records` with keys and `resident_file`). Returns counts."""
    now = now or dt.datetime.now()
    sources = staged_sources(con)
    sql = profile_sql(municipality, sources)
    con.execute(ddl("emergency_profile"))     # so that a first run finds an (empty) previous profile table
    con.execute("""CREATE OR REPLACE TEMP TABLE _previous_consent AS
                   SELECT resident_key FROM emergency_profile WHERE consent_status = 'given'""")
    con.execute("CREATE OR REPLACE TEMP TABLE _previous_updated AS SELECT resident_key, updated_at FROM emergency_profile")
    con.execute("BEGIN")
    try:
        con.execute("DROP TABLE IF EXISTS emergency_profile")
        con.execute(ddl("emergency_profile"))
        con.execute(f"INSERT INTO emergency_profile {sql}", {"now": now})
        withdrawals = record_consent_withdrawals(con, sources, now)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("DROP TABLE _previous_consent")
    con.execute("DROP TABLE _previous_updated")
    profiles, consent, statutory, withdrawn, with_yachad = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE legal_basis = 'consent'), count(*) FILTER (WHERE legal_basis = 'statutory'),
               count(*) FILTER (WHERE consent_status = 'withdrawn'), count(*) FILTER (WHERE yachad_status IS NOT NULL)
        FROM emergency_profile""").fetchall()[0]
    return {"profiles": profiles, "legal_basis_consent": consent, "legal_basis_statutory": statutory,
            "consent_withdrawn": withdrawn, "with_yachad_status": with_yachad, "withdrawals_recorded": withdrawals}


def record_consent_withdrawals(con: duckdb.DuckDBPyConnection, sources: list[str], now: dt.datetime) -> int:
    """Append to `consent_withdrawals` each resident whose consent is withdrawn as of this run, once per withdrawal.

    A withdrawal is the freshest registry record saying consent = no where the previous run held consent (whatever
    the date), or saying no with a consent date for a resident with no withdrawal recorded yet (a first run meeting
    an old withdrawal). The profile row itself is gone by then (no basis) or kept for a statutory basis; this table
    is what tells the systems downstream (the open API's change feed) to remove what they hold. Needs TEMP
    `_previous_consent` (the residents whose profile held consent before this run). Returns rows appended."""
    con.execute(CONSENT_WITHDRAWALS_DDL)
    registry = _rows_of("disability_registry", sources)
    return con.execute(f"""
        INSERT INTO consent_withdrawals
        WITH registry_rows AS ({registry}), freshest AS ({FRESHEST_CONSENT})
        SELECT f.resident_key, f.consent_date, $now FROM freshest f
        WHERE NOT f.consent
          AND (f.resident_key IN (SELECT resident_key FROM _previous_consent)
               OR (f.consent_date IS NOT NULL
                   AND f.resident_key NOT IN (SELECT resident_key FROM consent_withdrawals)))""",
                       {"now": now}).fetchall()[0][0]
