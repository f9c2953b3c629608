"""Benchmark: identity resolution + resident file (+ history) + emergency profile on a generated municipality.

    python bench/bench_identity.py --residents 1000000
    python bench/bench_identity.py --residents 100000 --write-model-defaults   # refresh linkage_defaults.json

Generates the municipality with the sample-data generator (default dirt), ingests and stages it with the real
connectors (both untimed for the target, but reported), then times each identity step on a copy of the staged
database and prints the quality against the ground truth. The staged database is kept in the work directory
and reused by later runs with the same size and seed. Prints figures only, never personal values.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from connectors.delivery import delivery_files, ingest_files  # noqa: E402
from pipelines.cli.evaluate import evaluation_rows  # noqa: E402
from pipelines.identity import (build_emergency_profile, build_resident_file, evaluate, resolve_identities,  # noqa: E402
                                update_history)
from pipelines.identity.probabilistic import DEFAULTS_PATH, train_parameters  # noqa: E402
from pipelines.normalize.addresses import load_reference_streets  # noqa: E402
from pipelines.sample_data import generate  # noqa: E402
from pipelines.staging import stage_source  # noqa: E402
from pipelines.staging.enrich import load_code_tables  # noqa: E402
from schemas.sources import SOURCES  # noqa: E402

MUNICIPALITY = 6600


def staged_database(workdir: Path, residents: int, seed: int) -> tuple[Path, Path]:
    """(staged database, truth dir) for this size and seed, generating and staging them when missing."""
    base = workdir / f"m{MUNICIPALITY}_n{residents}_s{seed}"
    staged, truth = base / "staged.duckdb", base / "truth"
    if staged.exists() and truth.exists():
        print(f"reusing {staged}")
        return staged, truth
    t = time.perf_counter()
    generate(MUNICIPALITY, residents, base, seed=seed)
    print(f"generate      {time.perf_counter() - t:8.1f} s")
    t = time.perf_counter()
    tmp = staged.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    con.execute("SET enable_progress_bar = false")
    load_reference_streets(con, MUNICIPALITY)
    load_code_tables(con)
    for source in SOURCES:
        ingest_files(con, source, delivery_files(base / "inbox" / str(MUNICIPALITY) / source))
        stage_source(con, source)
    con.close()
    tmp.rename(staged)
    print(f"ingest+stage  {time.perf_counter() - t:8.1f} s")
    return staged, truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/toshav-bench-identity"))
    ap.add_argument("--write-model-defaults", action="store_true",
                    help=f"train on this municipality and write {DEFAULTS_PATH.name}")
    args = ap.parse_args()

    staged, truth = staged_database(args.workdir, args.residents, args.seed)
    run_db = staged.with_name("run.duckdb")
    shutil.copyfile(staged, run_db)
    con = duckdb.connect(str(run_db))
    con.execute("SET enable_progress_bar = false")
    print(f"threads: {con.execute('SELECT current_setting(?)', ['threads']).fetchall()[0][0]}")
    timings = {}
    start = time.perf_counter()
    t = time.perf_counter()
    report = resolve_identities(con)
    timings["identity"] = time.perf_counter() - t
    t = time.perf_counter()
    rf = build_resident_file(con, MUNICIPALITY)
    timings["resident_file"] = time.perf_counter() - t
    t = time.perf_counter()
    hist = update_history(con)
    timings["resident_file_history"] = time.perf_counter() - t
    t = time.perf_counter()
    ep = build_emergency_profile(con, MUNICIPALITY)
    timings["emergency_profile"] = time.perf_counter() - t
    total = time.perf_counter() - start

    print(f"\nresidents generated {args.residents:,}; identity records {report.records:,}; "
          f"unresolved (no valid ID) {report.unresolved:,}; scored pairs {report.scored_pairs:,}; "
          f"model trained on this data: {report.model_trained}")
    print(f"resident file {rf['residents']:,} (active {rf['active']:,}, moved out {rf['moved_out']:,}, "
          f"deceased {rf['deceased']:,}), households {rf['households']:,}; history versions {hist['new_versions']:,}; "
          f"emergency profiles {ep['profiles']:,}; for review {report.for_review:,}")
    for step, seconds in timings.items():
        print(f"  {step:<24}{seconds:8.1f} s")
    print(f"  {'total':<24}{total:8.1f} s")

    ev = evaluate(con, truth, MUNICIPALITY)
    print()
    for name, value, target, met in evaluation_rows(ev):
        print(f"  {name:<30}{value:>14}  {target:<8} {'' if not target else ('ok' if met else 'MISSED')}")
    if args.write_model_defaults:
        params = train_parameters(con)
        DEFAULTS_PATH.write_text(json.dumps(params, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {DEFAULTS_PATH}")
    con.close()


if __name__ == "__main__":
    main()
