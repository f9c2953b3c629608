"""Times the MuniForce sync of a synthetic municipality against the local stand-in.

    python bench/bench_sync.py --residents 1000000 [--profiles-share 0.05] [--changed 0.01] [--home DIR]

Builds `resident_file` and `emergency_profile` (DDL from schemas/resident_model.yaml) by SQL in one DuckDB file,
starts the stand-in as a separate process (`python -m connectors.muniforce.standin`, as `toshav standin` does,
so the sync and the stand-in each have a core), then prints seconds and API calls of:
  1. the first sync (everything is created, through Bulk API 2.0 jobs),
  2. a second sync with nothing changed (expected: 0 calls),
  3. an incremental sync after `--changed` of the residents changed their mobile phone.
The incremental run's calls must follow the change, not the municipality's size.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import schemas  # noqa: E402
from connectors.muniforce.client import connect  # noqa: E402
from connectors.muniforce.sync import SyncOptions, sync_municipality  # noqa: E402

MUNI = 6600
FIRST = ["דנה", "יוסי", "מרים", "אבי", "שרה", "משה", "רותי", "חיים", "נועה", "עמית", "תמר", "אורי", "מוחמד", "פאטמה"]
LAST = ["כהן", "לוי", "מזרחי", "פרץ", "ביטון", "אברהם", "פרידמן", "דהן", "אזולאי", "גבאי", "חדד", "עמר", "שפירא"]
STREETS = ["הרצל", "סוקולוב", "ויצמן", "ז'בוטינסקי", "שנקר", "אילת", "המעפילים", "גולדה מאיר"]


def _lit(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def build(path: Path, residents: int, profiles_share: float) -> None:
    con = duckdb.connect(str(path))
    con.execute(schemas.ddl("resident_file"))
    con.execute(schemas.ddl("emergency_profile"))
    con.execute(
        f"""
        INSERT INTO resident_file (resident_key, municipality_code, national_id, id_type, first_name, last_name,
            gender, birth_date, street_code, street_name, house_number, apartment, floor, zip_code, mobile_phone,
            email, household_key, status, sources, updated_at)
        SELECT 'R' || lpad(upper(to_hex(i)), 20, '0'), {MUNI}, lpad(CAST(100000000 + i AS VARCHAR), 9, '0'),
               'IsraeliID', {_lit(FIRST)}[CAST(1 + hash(i, 1) % {len(FIRST)} AS BIGINT)], {_lit(LAST)}[CAST(1 + hash(i, 2) % {len(LAST)} AS BIGINT)],
               CASE WHEN i % 2 = 0 THEN 'male' ELSE 'female' END,
               DATE '1930-01-01' + CAST(hash(i, 3) % 30000 AS INTEGER), 100 + i % 600,
               {_lit(STREETS)}[CAST(1 + hash(i, 4) % {len(STREETS)} AS BIGINT)], CAST(1 + hash(i, 5) % 120 AS VARCHAR),
               CAST(1 + hash(i, 6) % 30 AS VARCHAR), CAST(hash(i, 7) % 12 AS INTEGER), '58' || lpad(CAST(i % 100000 AS VARCHAR), 5, '0'),
               '+97250' || lpad(CAST(i AS VARCHAR), 7, '0'), CASE WHEN i % 3 = 0 THEN 'r' || i || '@example.org' END,
               'H' || (i // 3), CASE WHEN i % 97 = 0 THEN 'moved_out' ELSE 'active' END, ['population_register'],
               TIMESTAMP '2026-11-01 08:00:00'
        FROM range({residents}) t(i)
        """
    )
    con.execute(
        f"""
        INSERT INTO emergency_profile (resident_key, municipality_code, needs_codes, disability_types, mobility,
            electricity_dependent, floor, has_elevator, lives_alone, legal_basis, consent_status, consent_date,
            information_source, updated_at)
        SELECT resident_key, municipality_code, ['WHEELCHAIR', 'ESCORT_EVACUATION'], ['PHYSICAL'], 'wheelchair',
               hash(resident_key) % 5 = 0, floor, hash(resident_key) % 2 = 0, hash(resident_key) % 3 = 0,
               'consent', 'given', DATE '2026-01-15', 'רווחה', TIMESTAMP '2026-11-01 08:00:00'
        FROM resident_file WHERE hash(resident_key, 9) % 1000 < {int(profiles_share * 1000)}
        """
    )
    con.close()


def start_standin(db: Path) -> tuple[subprocess.Popen, str, str]:
    child = subprocess.Popen([sys.executable, "-m", "connectors.muniforce.standin", "--db", str(db)], cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    url = session = None
    while url is None or session is None:
        line = child.stdout.readline()
        if not line:
            raise RuntimeError("the stand-in did not start")
        if m := re.search(r"MUNIFORCE_INSTANCE_URL=(\S+)", line):
            url = m.group(1)
        if m := re.search(r"MUNIFORCE_SESSION_ID='([^']+)'", line):
            session = m.group(1)
    return child, url, session


def timed_sync(label: str, con, sf, options: SyncOptions) -> None:
    start = time.perf_counter()
    report = sync_municipality(con, MUNI, sf, options)
    seconds = time.perf_counter() - start
    t = report.totals
    print(f"{label:<28} {seconds:9.1f} s {report.api_calls:7d} API calls   created {t.created:>9,} "
          f"updated {t.updated:>7,} unchanged {t.unchanged:>9,} deleted {t.deleted:>5,} rejected {t.rejected} "
          f"pending {t.pending}" + (f"  STOPPED: {report.stopped}" if report.stopped else ""), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--profiles-share", type=float, default=0.05)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-sync-"))
    home.mkdir(parents=True, exist_ok=True)
    db, org = home / "toshav.duckdb", home / "muniforce.sqlite"
    for p in (db, org):
        p.unlink(missing_ok=True)

    start = time.perf_counter()
    build(db, args.residents, args.profiles_share)
    con = duckdb.connect(str(db))
    profiles = con.execute("SELECT count(*) FROM emergency_profile").fetchone()[0]
    print(f"built {args.residents:,} residents and {profiles:,} emergency profiles in "
          f"{time.perf_counter() - start:.1f} s ({home})", flush=True)
    child, url, session = start_standin(org)
    try:
        sf = connect(url, session_id=session)
        options = SyncOptions(municipality_name="חולון", poll_interval=0.5, max_poll_interval=2.0, quota_share=1.0)
        timed_sync("first sync", con, sf, options)
        timed_sync("second sync (no change)", con, sf, options)
        changed = con.execute(
            f"UPDATE resident_file SET mobile_phone = '+97252' || substr(mobile_phone, 7) "
            f"WHERE hash(resident_key, 11) % 10000 < {int(args.changed * 10000)}").fetchone()[0]
        timed_sync(f"incremental ({changed:,} changed)", con, sf, options)
    finally:
        con.close()
        child.terminate()
        child.wait(timeout=60)


if __name__ == "__main__":
    main()
