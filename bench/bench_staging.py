"""Times ingestion and staging per source on generated data and prints rows/second.

    python bench/bench_staging.py --residents 20000 200000 1000000

Generated inboxes are cached under --work (default /tmp/toshav-bench) by size and seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from connectors.delivery import delivery_files, ingest_files
from pipelines.normalize.addresses import load_reference_streets
from pipelines.staging import stage_source
from pipelines.staging.evaluation import address_matching
from schemas.sources import SOURCES

MUNICIPALITY = 6600


def inbox_for(residents: int, work: Path, seed: int) -> Path:
    from pipelines.sample_data import generate

    out = work / f"inbox-{residents}-{seed}"
    if not (out / "inbox" / str(MUNICIPALITY)).exists():
        t = time.perf_counter()
        generate(MUNICIPALITY, residents, out, seed=seed)
        print(f"  generated {residents:,} residents in {time.perf_counter() - t:.1f} s")
    return out / "inbox"


def bench(residents: int, work: Path, seed: int) -> dict:
    inbox = inbox_for(residents, work, seed)
    db = work / f"staging-{residents}.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    load_reference_streets(con, MUNICIPALITY)
    figures = {}
    for source in SOURCES:
        files = delivery_files(inbox / str(MUNICIPALITY) / source)
        t0 = time.perf_counter()
        ingest = ingest_files(con, source, files)
        t1 = time.perf_counter()
        stage = stage_source(con, source)
        t2 = time.perf_counter()
        figures[source] = (ingest.rows, t1 - t0, stage.staged, stage.quarantined, t2 - t1)
    for a in address_matching(con, inbox.parent / "truth", MUNICIPALITY):
        figures[f"address:{a.source}"] = a
    con.close()
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--work", type=Path, default=Path("/tmp/toshav-bench"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for n in args.residents:
        print(f"\n== {n:,} residents")
        figures = bench(n, args.work, args.seed)
        print(f"{'source':<22}{'rows':>10}{'ingest s':>10}{'rows/s':>12}{'stage s':>10}{'rows/s':>12}{'quarant.':>10}")
        total = 0.0
        for source, (rows, ti, staged, quarantined, ts) in ((k, v) for k, v in figures.items() if ":" not in k):
            total += ti + ts
            print(f"{source:<22}{rows:>10,}{ti:>10.2f}{rows / ti if ti else 0:>12,.0f}{ts:>10.2f}"
                  f"{rows / ts if ts else 0:>12,.0f}{quarantined:>10,}")
        print(f"{'total ingest + stage':<22}{'':>10}{total:>10.2f} s")
        for key, a in ((k, v) for k, v in figures.items() if k.startswith("address:")):
            print(f"street matching {a.source}: {a.addresses:,} addresses, {a.matched_share:.2%} matched, "
                  f"{a.correct_share:.3%} of matches correct")


if __name__ == "__main__":
    main()
