"""A municipality built by the real pipeline over three monthly runs, so the change feed has every kind of event:
hand-made deliveries in the sources' real formats (tests/identity/deliveries.py), staged by the real connectors,
then identity, the resident file, its history and the emergency profile, as a run does them.

  run 1 (Oct)  Moshe, Rivka (registry consent: floor 3, wheelchair), David, Sara (also known to ODS), 50 others
  run 2 (Nov)  Moshe moves to Sokolov 5; Yachad tracks "אהרון כהן" without an ID at another address: a new person
  run 3 (Dec)  Yachad now gives that record Moshe's ID: merged into Moshe; Rivka withdraws consent; David has died;
               the register no longer holds Sara (ODS still does): moved out
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb

from pipelines.identity import build_emergency_profile, build_resident_file, resolve_identities, update_history
from pipelines.identity.emergency_reports import build_emergency_system_reports
from pipelines.normalize import install_macros
from pipelines.normalize.addresses import load_reference_streets
from pipelines.settings import serving_db_path
from pipelines.staging.enrich import load_code_tables
from tests.identity.deliveries import SOKOLOV, background_register, deliver, register_row, valid_id

MUNI = 6600
MOSHE, RIVKA, DAVID, SARA = (valid_id(b) for b in (3933742, 2233445, 4455667, 5566778))
RUNS = (dt.datetime(2026, 10, 1, 2), dt.datetime(2026, 11, 1, 2), dt.datetime(2026, 12, 1, 2))


def _registry(consent: str, consent_date: str = "01/01/2025", updated_at: str = "01/10/2026") -> dict:
    return {"national_id": RIVKA, "first_name": "רבקה", "last_name": "לוי", "birth_date": "01/03/1942",
            "consent": consent, "consent_date": consent_date, "updated_at": updated_at, "floor": "3",
            "has_elevator": "לא", "assistance_needs": "כיסא גלגלים", "emergency_contact_name": "יעל",
            "emergency_contact_phone": "050-2345678"}


def _ods(updated_at: str) -> dict:
    return {"id_number": SARA, "first_name": "שרה", "last_name": "פרץ", "birth_date": "1960-05-05",
            "source_ministry": "WELFARE", "indicator": "senior_alone", "updated_at": updated_at}


def _yachad(national_id: str = "") -> dict:
    return {"source_record_id": "Y7", "national_id": national_id, "full_name": "כהן אהרון", "phone": "050-9998877",
            "address_text": "סוקולוב 9 דירה 1", "status": "בבית", "updated_at": "01/11/2026 10:00"}


def _register(month: int, moshe_moved: bool, david_died: bool, sara_there: bool) -> list[dict]:
    updated = f"01/{month:02d}/2026"
    rows = [register_row(MOSHE, "משה", "כהן", "01/02/1980", updated_at=updated,
                         **(dict(street=SOKOLOV, house="5", apartment="2") if moshe_moved else {})),
            register_row(RIVKA, "רבקה", "לוי", "01/03/1942", house="20", apartment="7", updated_at=updated),
            register_row(DAVID, "דוד", "מזרחי", "07/07/1930", house="22", apartment="1", updated_at=updated,
                         **({"death_date": "20/11/2026"} if david_died else {}))]
    if sara_there:
        rows.append(register_row(SARA, "שרה", "פרץ", "05/05/1960", house="24", apartment="3", updated_at=updated))
    return rows + background_register(50)


def build(folder: Path) -> Path:
    """The municipality's DuckDB file after the three runs (in `folder`)."""
    path = folder / "toshav.duckdb"
    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        install_macros(con)
        load_reference_streets(con, MUNI)
        load_code_tables(con)
        deliveries = [
            dict(register=_register(10, False, False, True), registry=[_registry("כן")], ods=[_ods("2026-10-01")]),
            dict(register=_register(11, True, False, True), registry=[_registry("כן")], ods=[_ods("2026-10-01")],
                 yachad=[_yachad()]),
            dict(register=_register(12, True, True, False), ods=[_ods("2026-10-01")], yachad=[_yachad(MOSHE)],
                 registry=[_registry("לא", consent_date="15/11/2026", updated_at="15/11/2026")]),
        ]
        for i, (now, sources) in enumerate(zip(RUNS, deliveries), start=1):
            deliver(con, folder / f"run{i}", tag=str(i), **sources)
            resolve_identities(con, now=now)
            build_resident_file(con, MUNI, now=now)
            update_history(con, now=now)
            build_emergency_profile(con, MUNI, now=now)
            build_emergency_system_reports(con, MUNI)
    finally:
        con.close()
    return path


def keys(path: Path) -> dict[str, str]:
    """Resident keys of the scenario's people (and of Yachad's Y7, retired into Moshe's)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        ids = dict(con.execute("SELECT national_id, resident_key FROM identity_national_ids").fetchall())
        out = {name: ids[nid] for name, nid in (("moshe", MOSHE), ("rivka", RIVKA), ("david", DAVID), ("sara", SARA))}
        out["retired"] = con.execute("SELECT retired_key FROM identity_merges").fetchall()[0][0]
    finally:
        con.close()
    return out


def install(built: Path, home: Path) -> Path:
    """A TOSHAV_HOME whose published state of 6600 is a copy of the built file."""
    target = serving_db_path(MUNI, home)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built, target)
    return home
