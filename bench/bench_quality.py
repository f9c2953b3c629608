"""Benchmark of the quality suites on one municipality: seconds per suite and in total, at up to 1M residents.

    python bench/bench_quality.py --residents 1000000 --workdir /tmp/bench-quality [--compare-full-frame]

Builds the municipality once (kept in --workdir, reused by later runs): the sample-data generator's four source
files, ingested and staged by the real connectors; the tables after staging synthesized quickly by SQL and the
identity package's own functions (see `synthesize_after_staging`). Then runs every
suite as the asset checks do (SQL measurement, Great Expectations judgement, results written) and prints the
seconds per suite. `--compare-full-frame` also times the alternative that was rejected: the resident file loaded
into pandas and validated by GX's own expectations. Prints figures only, never personal data.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

MUNI = 6600


def build(workdir: Path, residents: int) -> Path:
    """The municipality's database with its staged sources (built once, then reused) and the tables after staging."""
    from connectors.delivery import delivery_files, ingest_files
    from pipelines.normalize.addresses import load_reference_streets
    from pipelines.sample_data import generate
    from pipelines.staging import stage_source
    from pipelines.staging.enrich import load_code_tables
    from schemas.sources import SOURCES

    db = workdir / f"toshav-{residents}.duckdb"
    staged = workdir / f"toshav-{residents}.staged"          # marks a complete staging
    if not staged.exists():
        db.unlink(missing_ok=True)
        gen = workdir / f"gen-{residents}"
        t = time.perf_counter()
        if not (gen / "inbox").exists():
            generate(MUNI, residents, gen, seed=1)
        print(f"generated sources: {time.perf_counter() - t:.1f} s", flush=True)
        con = duckdb.connect(str(db))
        load_reference_streets(con, MUNI)
        load_code_tables(con)
        for source in SOURCES:
            t = time.perf_counter()
            ingest_files(con, source, delivery_files(gen / "inbox" / str(MUNI) / source))
            report = stage_source(con, source)
            print(f"ingested and staged {source}: {report.staged:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
        con.close()
        staged.touch()
    con = duckdb.connect(str(db))
    t = time.perf_counter()
    synthesize_after_staging(con)
    print(f"tables after staging ready: {time.perf_counter() - t:.1f} s", flush=True)
    con.close()
    return db


def _exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0])


def synthesize_after_staging(con: duckdb.DuckDBPyConnection) -> None:
    """What identity resolution would build, made quickly (for timing the checks, not for its own quality):
    identity_records by the real `build_identity_records`, resident keys by valid ID number (a record without
    one is its own person), resident_file (model columns and types) from the staged register, emergency_profile
    from the disability registry's consenting rows, and the history by the real `update_history`."""
    from pipelines.identity.history import update_history
    from pipelines.identity.records import build_identity_records
    from schemas import ddl

    if not _exists(con, "resident_file"):
        con.execute(ddl("resident_file"))
        con.execute(f"""
            INSERT INTO resident_file
            SELECT 'R' || upper(md5(national_id))[1:20], {MUNI},
                   national_id, id_type, first_name, last_name, father_name, gender, birth_date, death_date,
                   marital_status, street_code, street_name, house_number, entrance, apartment, NULL, zip_code,
                   '+9725' || lpad(CAST(hash(national_id) % 100000000 AS VARCHAR), 8, '0'), NULL, NULL,
                   'H' || hash(street_code, house_number, apartment) % 1000000,
                   CASE WHEN death_date IS NOT NULL THEN 'deceased' ELSE 'active' END, ['population_register'],
                   NULL, now()
            FROM (SELECT DISTINCT ON (national_id) * FROM stg_population_register WHERE national_id_valid)""")
    if not _exists(con, "emergency_profile"):
        con.execute(ddl("emergency_profile"))
        con.execute(f"""
            INSERT INTO emergency_profile (resident_key, municipality_code, needs_codes, disability_types, floor,
                has_elevator, lives_alone, has_emergency_support, emergency_contact_phone, legal_basis, consent_status,
                consent_date, information_source, statutory_sources, updated_at)
            SELECT DISTINCT ON (r.resident_key) r.resident_key, {MUNI}, d.needs_codes, d.disability_types, d.floor,
                   d.has_elevator, d.lives_alone, d.has_emergency_support, d.emergency_contact_phone,
                   'consent', 'given', d.consent_date, d.information_source, []::VARCHAR[], now()
            FROM stg_disability_registry d JOIN resident_file r ON r.national_id = d.national_id WHERE d.consent""")
    if not _exists(con, "identity_records") or "resident_key" not in {
            r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'identity_records'").fetchall()}:
        build_identity_records(con)
        con.execute("""
            CREATE OR REPLACE TABLE identity_records AS
            SELECT i.*, coalesce(r.resident_key,
                                 CASE WHEN i.id_valid THEN 'V' || upper(md5(i.national_id))[1:20]
                                      ELSE 'U' || lpad(CAST(i.rec_id AS VARCHAR), 19, '0') END) AS resident_key
            FROM identity_records i LEFT JOIN resident_file r ON i.id_valid AND r.national_id = i.national_id""")
        con.execute("""CREATE OR REPLACE TABLE identity_keys AS
                       SELECT DISTINCT resident_key, now() AS issued_at, NULL::TIMESTAMP AS retired_at,
                              NULL::VARCHAR AS surviving_key FROM identity_records""")
    if not _exists(con, "resident_file_history"):
        update_history(con)


def run_suites(db: Path) -> float:
    from connectors.muniforce.state import ensure_state
    from quality.runner import run_suite
    from quality.suites import suites

    con = duckdb.connect(str(db))
    ensure_state(con)          # the post-sync suite reads the sync state (empty here: no sync in the bench)
    t = time.perf_counter()
    import great_expectations  # noqa: F401  - paid once per process, reported apart
    gx_import = time.perf_counter() - t
    print(f"\nimport great_expectations: {gx_import:.1f} s (once per process)")
    print(f"{'suite':40} {'rows':>12} {'checks':>7} {'seconds':>8}")
    total = 0.0
    for name, suite in suites().items():
        rows = con.execute(f"SELECT count(*) FROM {suite.table}").fetchone()[0] if not suite.payload_object else None
        t = time.perf_counter()
        outcomes = run_suite(con, suite, MUNI, "bench")
        seconds = time.perf_counter() - t
        total += seconds
        failed = [o.expectation.name for o in outcomes if not o.passed]
        print(f"{name:40} {rows if rows is not None else '-':>12} {len(outcomes):>7} {seconds:>8.2f}"
              + (f"  failed: {', '.join(failed)}" if failed else ""))
    con.close()
    print(f"{'all suites':40} {'':>12} {'':>7} {total:>8.2f}")
    print(f"validation added to a run: {total + gx_import:.1f} s including the GX import")
    return total


def full_frame(db: Path) -> None:
    """The rejected alternative: the resident file as a pandas frame, validated by GX's own expectations."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.data_context.types.base import ProgressBarsConfig

    con = duckdb.connect(str(db), read_only=True)
    t = time.perf_counter()
    frame = con.execute("SELECT * FROM resident_file").fetchdf()
    load = time.perf_counter() - t
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_def = (context.data_sources.add_pandas("frame").add_dataframe_asset("resident_file")
                 .add_batch_definition_whole_dataframe("all"))
    suite = gx.ExpectationSuite(name="resident_file_full_frame")
    for e in (gxe.ExpectColumnValuesToNotBeNull(column="resident_key"),
              gxe.ExpectColumnValuesToBeUnique(column="resident_key"),
              gxe.ExpectColumnValuesToNotBeNull(column="last_name"),
              gxe.ExpectColumnValuesToBeInSet(column="status", value_set=["active", "moved_out", "deceased"]),
              gxe.ExpectColumnValuesToBeInSet(column="id_type", value_set=["IsraeliID", "Passport", "Unknown"]),
              gxe.ExpectColumnValuesToMatchRegex(column="mobile_phone", regex=r"^\+[1-9][0-9]{7,14}$")):
        suite.add_expectation(e)
    t = time.perf_counter()
    result = batch_def.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format="BASIC")
    validate = time.perf_counter() - t
    con.close()
    from quality.suites import suites

    print(f"\nfull-frame alternative on resident_file ({len(frame):,} rows, 6 of its "
          f"{len(suites()['resident_file'].expectations)} expectations): load into pandas {load:.1f} s, "
          f"GX validation {validate:.1f} s (success={result.success})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-quality"))
    parser.add_argument("--compare-full-frame", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"cores available: {len(os.sched_getaffinity(0))}, residents: {args.residents:,}")
    db = build(args.workdir, args.residents)
    run_suites(db)
    if args.compare_full_frame:
        full_frame(db)


if __name__ == "__main__":
    main()
