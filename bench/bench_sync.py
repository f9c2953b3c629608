"""Times the MuniForce sync of a synthetic municipality against the local stand-in.

    python bench/bench_sync.py --residents 1000000 [--profiles-share 0.10] [--changed 0.01] [--home DIR]

Builds `resident_file` and `emergency_profile` by SQL with bench_queries.build (real Holon streets, 5% moved
out or deceased, profiles on both legal bases, a few with consent withdrawn), starts the stand-in as a separate
process (`python -m connectors.muniforce.standin`, as `toshav standin` does, so the sync and the stand-in each
have a core), then prints seconds and API calls of:
  1. the first sync (everything is created, through Bulk API 2.0 jobs),
  2. a second sync with nothing changed (expected: 0 calls),
  3. an incremental sync after `--changed` of the residents changed their mobile phone.
The incremental run's calls must follow the change, not the municipality's size.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_queries import MUNI, build  # noqa: E402  (the same synthetic municipality as the query benchmark)
from connectors.muniforce.client import connect  # noqa: E402
from connectors.muniforce.sync import SyncOptions, sync_municipality  # noqa: E402
from pipelines.settings import municipality_db_path  # noqa: E402


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
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--profiles-share", type=float, default=0.10)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--home", type=Path, default=None)
    args = parser.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-sync-"))
    home.mkdir(parents=True, exist_ok=True)
    org = home / "muniforce.sqlite"
    org.unlink(missing_ok=True)
    shutil.rmtree(home / "muniforce.sqlite.jobs", ignore_errors=True)

    start = time.perf_counter()
    build(home, args.residents, args.profiles_share)
    con = duckdb.connect(str(municipality_db_path(MUNI, home)))
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
            "UPDATE resident_file SET mobile_phone = CASE WHEN mobile_phone = '+972580000000' THEN '+972580000001' "
            f"ELSE '+972580000000' END WHERE hash(resident_key, 11) % 10000 < {int(args.changed * 10000)}"
        ).fetchone()[0]
        timed_sync(f"incremental ({changed:,} changed)", con, sf, options)
    finally:
        con.close()
        child.terminate()
        child.wait(timeout=60)


if __name__ == "__main__":
    main()
