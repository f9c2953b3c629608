"""The nightly tick over many municipalities on this machine, through the real deployment: Debian's PostgreSQL, the
real `dagster-daemon` with deploy/dagster.yaml (the run queue: TOSHAV_MAX_CONCURRENT_RUNS, one run per municipality).

    python bench/bench_nightly.py [--max-runs 2] [--sizes 2000,500,...] [--no-single]

Generates one inbox per municipality (real CBS codes, mixed sizes), then, each on a fresh data directory:
  1. single runs: the tick with a queue of one (each run alone on the machine): the sum of their times;
  2. the tick with a queue of --max-runs: wall time from the tick to the last run's end, peak memory of the daemon
     and every run process it started, runs queued at most, and runs of one municipality in progress at once.
Figures depend on the machine's load: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dagster as dg  # noqa: E402

from pipelines.partitions import add_municipalities  # noqa: E402
from pipelines.run_queue import PARTITION_TAG  # noqa: E402
from pipelines.sample_data import generate  # noqa: E402
from tests.runs.services import daemon, deployment, nightly_cron_in, postgres, tree_rss_bytes  # noqa: E402

CODES = [70, 6600, 3000, 5000, 4000, 7900, 8300, 6100, 9000, 1139, 2640, 6400]
DEFAULT_SIZES = [3000, 1000, 2000, 500, 1500, 300, 2500, 400, 1200, 200, 800, 600]
FINISHED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def tick(root: Path, pg_url: str, inbox: Path, codes: list[int], max_runs: int) -> dict:
    dep = deployment(root, pg_url, root / "home", inbox, max_runs, TOSHAV_NIGHTLY_CRON=nightly_cron_in(3),
                     TOSHAV_INBOX_SENSOR_SECONDS="3600")
    instance = dep.instance()
    before = {r.dagster_run.run_id for r in instance.get_run_records()}
    add_municipalities(instance, codes)
    peak_rss = queued_max = 0
    with daemon(dep, root / "daemon.log") as proc:
        while True:
            records = [r for r in instance.get_run_records() if r.dagster_run.run_id not in before
                       and r.dagster_run.tags.get("toshav/trigger") == "nightly"]
            peak_rss = max(peak_rss, tree_rss_bytes(proc.pid))
            queued_max = max(queued_max, sum(r.dagster_run.status == dg.DagsterRunStatus.QUEUED for r in records))
            if len(records) >= len(codes) and all(r.dagster_run.status in FINISHED for r in records):
                break
            time.sleep(1)
    instance.dispose()
    starts = [r.create_timestamp.timestamp() for r in records]
    spans = [(r.start_time, r.end_time) for r in records]
    per_muni: dict[str, int] = {}
    for r in records:
        per_muni[r.dagster_run.tags[PARTITION_TAG]] = per_muni.get(r.dagster_run.tags[PARTITION_TAG], 0) + 1
    return {"runs": len(records), "succeeded": sum(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records),
            "wall": max(e for _, e in spans) - min(starts), "sum": sum(e - s for s, e in spans),
            "longest": max(e - s for s, e in spans), "peak_rss": peak_rss, "queued_max": queued_max,
            "most_at_once": _most_at_once(spans)}


def _most_at_once(spans) -> int:
    edges = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-runs", type=int, default=2)
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="residents per municipality, in order "
                    f"of {CODES}")
    ap.add_argument("--no-single", action="store_true", help="skip the queue-of-one pass")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    codes = CODES[:len(sizes)]
    root = Path(tempfile.mkdtemp(prefix="bench-nightly-"))
    started = time.perf_counter()
    for code, n in zip(codes, sizes):
        generate(code, n, root / "sample", seed=code)
    print(f"{len(codes)} municipalities, {sum(sizes):,} residents ({min(sizes):,}-{max(sizes):,}), generated in "
          f"{time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} (2 cores shared)")
    with postgres() as pg_url:
        passes = [] if args.no_single else [("queue of 1 (single runs)", 1)]
        passes.append((f"queue of {args.max_runs}", args.max_runs))
        for label, max_runs in passes:
            r = tick(root / f"q{max_runs}", pg_url, root / "sample" / "inbox", codes, max_runs)
            print(f"{label:26s} {r['succeeded']}/{r['runs']} succeeded  wall {r['wall']:7.0f} s  sum of runs "
                  f"{r['sum']:7.0f} s  longest run {r['longest']:5.0f} s  in progress at most {r['most_at_once']}  "
                  f"queued at most {r['queued_max']}  peak memory {r['peak_rss'] / 2**30:.2f} GiB  "
                  f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
