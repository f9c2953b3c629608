"""Realistic sample data for Toshav: a municipality's inbox of dirty source files and the ground truth behind them.

    from pipelines.sample_data import generate, Dirt
    summary = generate(6600, 20_000, Path("demo"), seed=0, dirt=Dirt().scaled(2))

writes `demo/inbox/6600/<source>/<source>_<as-of>.<ext>` for the population register (CSV, cp1255), ODS
(JSON lines), Yachad (CSV, cp1255 or UTF-8 with BOM) and the disability registry (XLSX), and
`demo/truth/6600/persons.parquet` (one row per true person) and `records.parquet` (one row per source record:
file, row as a person sees it, person, dirt applied). Column layouts are the defaults of SOURCES.md /
`schemas/sources/*.yaml`. Everything is a pure function of the arguments.
"""

from pipelines.sample_data.dirt import Dirt  # noqa: F401
from pipelines.sample_data.generator import STEPS, GenerationSummary, SourceSummary, generate  # noqa: F401
