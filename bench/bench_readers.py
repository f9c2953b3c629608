"""Readers during a run: emergency query latency while a real pipeline run writes the municipality's working file,
and what publishing (the copy readers get) costs at 1M residents.

    python bench/bench_readers.py [--residents 20000] [--publish-residents 1000000]

1. Generates a municipality (Holon's real streets) and runs the chain once: the first published state.
2. Times named queries with no run going (baseline).
3. Starts the chain again in another process (it re-stages, re-resolves, rebuilds and republishes) and, while that
   process lives, runs the same queries back to back: count, errors, median, 95th percentile and worst latency,
   and which run's state the readers saw.
4. --publish-residents: builds a synthetic resident file of that size (bench/bench_queries.py's builder) and times
   `publish` (ATTACH + CREATE TABLE AS + os.replace): seconds and bytes of the served copy.
Figures depend on the machine's load: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from pipelines.publishing import publish, published_run  # noqa: E402
from pipelines.runner import run_municipality  # noqa: E402
from pipelines.sample_data import generate  # noqa: E402
from pipelines.settings import municipality_db_path  # noqa: E402
from serving.queries import run_query  # noqa: E402

MUNI = 6600
QUERIES = [("alone_without_support", {}), ("evacuation_assistance", {"streets": ["סוקולוב", "ויצמן"]})]
RUN_AGAIN = ("import sys; from pathlib import Path; from pipelines.runner import run_municipality; "
             "s = run_municipality(int(sys.argv[1]), inbox=Path(sys.argv[2]), home=Path(sys.argv[3])); "
             "print(s.run_id, s.success, s.step_seconds.get('published', 0.0))")


def query_once(home: Path) -> list[float]:
    times = []
    for name, params in QUERIES:
        t = time.perf_counter()
        run_query(name, MUNI, params, role="emergency_manager", user="bench", channel="bench", home=home)
        times.append(time.perf_counter() - t)
    return times


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"{len(times)} queries  median {statistics.median(times):.3f} s  p95 {p95:.3f} s  "
            f"worst {max(times):.3f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--residents", type=int, default=20_000)
    ap.add_argument("--publish-residents", type=int, default=0)
    ap.add_argument("--baseline", type=int, default=10, help="query rounds with no run going")
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-readers-"))
    home, inbox = root / "home", root / "sample" / "inbox"
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared machine)")
    generate(MUNI, args.residents, root / "sample", seed=1)
    t = time.perf_counter()
    first = run_municipality(MUNI, inbox=inbox, home=home)
    print(f"first run of {args.residents:,} residents: {'ok' if first.success else first.failure}, "
          f"{time.perf_counter() - t:.0f} s (published in {first.step_seconds.get('published', 0):.2f} s)")

    baseline = [s for _ in range(args.baseline) for s in query_once(home)]
    print(f"no run going:     {summary(baseline)}  load average {os.getloadavg()[0]:.1f}")

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    writer = subprocess.Popen([sys.executable, "-c", RUN_AGAIN, str(MUNI), str(inbox), str(home)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    during, errors, seen = [], 0, set()
    while writer.poll() is None:
        try:
            during += query_once(home)
            seen.add(published_run(MUNI, home)[0])
        except Exception as e:          # counted and named by kind: the point is that there are none
            errors += 1
            print(f"  reader error: {type(e).__name__}")
    run_id, success, published_s = writer.stdout.read().strip().splitlines()[-1].split()   # the last line is ours
    print(f"second run: {success == 'True'}, {time.perf_counter() - t:.0f} s (published in {float(published_s):.2f} s)")
    print(f"during the run:   {summary(during)}  errors {errors}  states seen {len(seen)} "
          f"(first run's, then the second's)  load average {os.getloadavg()[0]:.1f}")
    print(f"working file {municipality_db_path(MUNI, home).stat().st_size / 1e6:.0f} MB")

    if args.publish_residents:
        sys.path.insert(0, str(ROOT / "bench"))
        from bench_queries import build

        big = root / "big"
        t = time.perf_counter()
        path = build(big, args.publish_residents, 0.10)
        print(f"built a synthetic {args.publish_residents:,}-resident file in {time.perf_counter() - t:.0f} s "
              f"({path.stat().st_size / 1e6:.0f} MB)")
        with duckdb.connect(str(path)) as con:
            publication = publish(con, MUNI, big, run_id="bench")
        print(f"publish at {args.publish_residents:,}: {publication.seconds:.1f} s, {publication.bytes / 1e6:.0f} MB "
              f"served ({', '.join(f'{t} {n:,}' for t, n in publication.rows.items())})  "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
