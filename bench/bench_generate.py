"""Benchmark of the sample-data generator: seconds and rows per second per source, per population size.

    python bench/bench_generate.py --residents 20000 200000 1000000

Each size is generated once into a temporary folder (removed afterwards). Prints figures only, no personal data.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.sample_data import Dirt, generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--municipality", type=int, default=6600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dirt-scale", type=float, default=1.0)
    args = parser.parse_args()

    print(f"cores available: {len(os.sched_getaffinity(0))}")
    for residents in args.residents:
        out = Path(tempfile.mkdtemp(prefix="bench-generate-"))
        try:
            started = time.perf_counter()
            summary = generate(args.municipality, residents, out, seed=args.seed, dirt=Dirt().scaled(args.dirt_scale))
            total = time.perf_counter() - started
            size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
        finally:
            shutil.rmtree(out, ignore_errors=True)
        print(f"\n{residents:,} residents: {total:.1f} s in all, {residents / total:,.0f} persons/s, {size_mb:.0f} MB written")
        print(f"  {'step':<22}{'rows':>10}{'seconds':>10}{'rows/s':>12}")
        print(f"  {'population':<22}{residents:>10,}{summary.seconds['population']:>10.2f}"
              f"{residents / summary.seconds['population']:>12,.0f}")
        for source, s in summary.sources.items():
            print(f"  {source:<22}{s.records:>10,}{s.seconds:>10.2f}{s.records / max(s.seconds, 1e-9):>12,.0f}")
        rows = sum(summary.records.values())
        print(f"  {'truth (parquet)':<22}{rows:>10,}{summary.seconds['truth']:>10.2f}{rows / summary.seconds['truth']:>12,.0f}")


if __name__ == "__main__":
    main()
