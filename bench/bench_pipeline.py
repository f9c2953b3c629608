"""The whole chain at given sizes: seconds and rows/second per stage, as the real Dagster job runs it.

    python bench/bench_pipeline.py --residents 20000 200000 1000000

Per size: the generator writes a Holon inbox, then `full_sync_job` runs in process (ingest, staging, identity,
resident file, emergency profile, history, quality checks, sync to the local MuniForce stand-in). Step times come
from Dagster's own step events. Prints figures only, never personal data.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

MUNICIPALITY = 6600

# step -> (metadata of which asset, which metadata key counts its rows)
ROWS = {
    **{f"raw_{s}": (f"raw_{s}", "rows") for s in ("population_register", "ods", "yachad", "disability_registry")},
    **{f"stg_{s}": (f"stg_{s}", "rows_in") for s in ("population_register", "ods", "yachad", "disability_registry")},
    "identity": ("identity", "records"),
    "resident_file": ("resident_file", "residents"),
    "resident_file_history": ("resident_file", "residents"),
    "emergency_profile": ("emergency_profile", "profiles"),
    "muniforce_sync": ("resident_file", "residents"),
}


def run(residents: int, work: Path, seed: int) -> None:
    from connectors.muniforce.standin import start_standin
    from pipelines.resources import MuniForce
    from pipelines.runner import run_municipality
    from pipelines.sample_data import generate

    base = work / f"pipeline-{residents}"
    shutil.rmtree(base, ignore_errors=True)
    t = time.perf_counter()
    generate(MUNICIPALITY, residents, base / "sample", seed=seed)
    gen_s = time.perf_counter() - t
    standin = start_standin(base / "standin.sqlite3")
    try:
        t = time.perf_counter()
        summary = run_municipality(MUNICIPALITY, inbox=base / "sample" / "inbox", home=base / "home", sync=True,
                                   extra_resources={"muniforce": MuniForce(instance_url=standin.url,
                                                                           session_id=standin.session_id)})
        run_s = time.perf_counter() - t
    finally:
        standin.stop()
    print(f"\n== {residents:,} residents  (run {'succeeded' if summary.success else 'FAILED: ' + str(summary.failure)})")
    print(f"{'stage':<34}{'seconds':>10}{'rows':>12}{'rows/s':>12}")
    print(f"{'generate (all sources + truth)':<34}{gen_s:>10.1f}{residents:>12,}{residents / gen_s:>12,.0f}")
    checks = 0.0
    for step, seconds in summary.step_seconds.items():
        if step.startswith("quality_") or "check" in step:
            checks += seconds
            continue
        asset, key = ROWS.get(step, (step, None))
        rows = summary.asset_metadata.get(asset, {}).get(key) if key else None
        rate = f"{rows / seconds:>12,.0f}" if isinstance(rows, (int, float)) and seconds else f"{'':>12}"
        print(f"{step:<34}{seconds:>10.1f}{rows if isinstance(rows, int) else '':>12,}{rate}" if isinstance(rows, int)
              else f"{step:<34}{seconds:>10.1f}{'':>12}{rate}")
    print(f"{'quality checks (all suites)':<34}{checks:>10.1f}")
    print(f"{'whole run (wall clock)':<34}{run_s:>10.1f}")
    passed = sum(1 for ok, _ in summary.checks.values() if ok)
    print(f"checks: {passed} passed, {len(summary.checks) - passed} failed")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, nargs="+", default=[20_000])
    ap.add_argument("--work", type=Path, default=Path("/tmp/toshav-bench"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    for n in args.residents:
        run(n, args.work, args.seed)


if __name__ == "__main__":
    main()
