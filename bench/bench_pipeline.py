"""The whole chain at given sizes: seconds, rows/second, CPU use and peak memory per stage, as the real Dagster
job runs it.

    python bench/bench_pipeline.py --residents 20000 200000 1000000

Per size: the generator writes a Holon inbox, then `full_sync_job` runs in process (ingest, staging, identity,
resident file, emergency profile, history, quality checks, sync to the local MuniForce stand-in). Step times come
from Dagster's own step events; CPU use (process CPU seconds per wall second: 2.0 = both cores busy) and peak RSS
are sampled every half second while each step runs (the in-process executor runs one step at a time; the stand-in
runs in this process too, so its work counts in muniforce_sync). The load average is printed beside the figures.
Prints figures only, never personal data.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import time
from collections import defaultdict
from pathlib import Path

MUNICIPALITY = 6600
PAGE = os.sysconf("SC_PAGE_SIZE")

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


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class StageMeter:
    """CPU seconds, wall seconds and peak RSS per running step, from the run's progress callbacks."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.wall: dict[str, float] = defaultdict(float)
        self.peak: dict[str, int] = defaultdict(int)
        self._last = (time.monotonic(), self._cpu())

    @staticmethod
    def _cpu() -> float:
        t = os.times()
        return t.user + t.system

    def __call__(self, progress) -> None:
        now, cpu, rss = time.monotonic(), self._cpu(), rss_bytes()
        for step in progress.running:
            self.cpu[step] += (cpu - self._last[1]) / len(progress.running)
            self.wall[step] += (now - self._last[0]) / len(progress.running)
            self.peak[step] = max(self.peak[step], rss)
        self._last = (now, cpu)

    def cpu_use(self, steps) -> str:
        cpu, wall = sum(self.cpu.get(s, 0.0) for s in steps), sum(self.wall.get(s, 0.0) for s in steps)
        return f"{cpu / wall:.2f}" if wall else ""

    def peak_gb(self, steps) -> str:
        peak = max((self.peak.get(s, 0) for s in steps), default=0)
        return f"{peak / 2**30:.2f}" if peak else ""


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
    meter = StageMeter()
    try:
        load_before = os.getloadavg()[0]
        t = time.perf_counter()
        summary = run_municipality(MUNICIPALITY, inbox=base / "sample" / "inbox", home=base / "home", sync=True,
                                   extra_resources={"muniforce": MuniForce(instance_url=standin.url,
                                                                           session_id=standin.session_id)},
                                   on_progress=meter)
        run_s = time.perf_counter() - t
        load_after = os.getloadavg()[0]
    finally:
        standin.stop()
    print(f"\n== {residents:,} residents  (run {'succeeded' if summary.success else 'FAILED: ' + str(summary.failure)})")
    print(f"load average (1 min) before {load_before:.2f}, after {load_after:.2f}; {os.cpu_count()} cores")
    print(f"{'stage':<34}{'seconds':>10}{'rows':>12}{'rows/s':>12}{'CPU use':>9}{'peak GB':>9}")
    print(f"{'generate (all sources + truth)':<34}{gen_s:>10.1f}{residents:>12,}{residents / gen_s:>12,.0f}")
    checks = [s for s in summary.step_seconds if s.startswith("quality_") or "check" in s]
    for step, seconds in summary.step_seconds.items():
        if step in checks:
            continue
        asset, key = ROWS.get(step, (step, None))
        rows = summary.asset_metadata.get(asset, {}).get(key) if key else None
        rows_text = f"{rows:>12,}" if isinstance(rows, int) else f"{'':>12}"
        rate = f"{rows / seconds:>12,.0f}" if isinstance(rows, int) and seconds else f"{'':>12}"
        print(f"{step:<34}{seconds:>10.1f}{rows_text}{rate}{meter.cpu_use([step]):>9}{meter.peak_gb([step]):>9}")
    checks_s = sum(summary.step_seconds[s] for s in checks)
    print(f"{'quality checks (all suites)':<34}{checks_s:>10.1f}{'':>24}{meter.cpu_use(checks):>9}{meter.peak_gb(checks):>9}")
    chain = sum(s for step, s in summary.step_seconds.items() if step != "muniforce_sync")
    print(f"{'chain without the sync (steps)':<34}{chain:>10.1f}")
    print(f"{'whole run (wall clock)':<34}{run_s:>10.1f}")
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
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
