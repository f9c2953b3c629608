"""Stage one source: parse the latest delivery of `raw_<source>` by its mapping into `stg_<source>`.

One SQL pass parses every column and collects, per row, the reasons it cannot be staged (a required value missing
or unparseable) and the optional values that had to be blanked. Rows with reasons go to `quarantine`, the rest to
`stg_<source>`, blanked values to `field_issues`. Source-specific enrichment (codes, streets, names) follows.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from connectors.delivery import QUARANTINE_DDL, ensure_tables, latest_delivery
from connectors.freshness import record_data_as_of
from pipelines.normalize.addresses import install_address_parser
from pipelines.staging import enrich
from pipelines.staging.parsers import parse
from schemas.sources import load_source

FIELD_ISSUES_DDL = """
CREATE TABLE IF NOT EXISTS field_issues (
    source VARCHAR NOT NULL, delivery_id INTEGER NOT NULL, file VARCHAR NOT NULL, row INTEGER NOT NULL,
    field VARCHAR NOT NULL, reason VARCHAR NOT NULL
)"""


@dataclass
class StageReport:
    source: str
    delivery_id: int | None
    rows_in: int = 0
    staged: int = 0
    quarantined: int = 0
    malformed: int = 0
    fields_blanked: int = 0

    def metadata(self) -> dict:
        return dict(self.__dict__)


def _reason_list(items: list[str]) -> str:
    return "list_filter([" + ", ".join(items) + "], lambda x: x IS NOT NULL)" if items else "[]::VARCHAR[]"


def build_parse_sql(source_name: str) -> str:
    source = load_source(source_name)
    outputs, rejects, issues, pre = [], [], [], []
    for col in source.columns:
        p = parse(col.parser, col.field)
        outputs += [f"{expr} AS \"{name}\"" for name, expr in p.outputs]
        pre += [f"{expr} AS \"{name}\"" for name, expr in p.pre]
        present = f"nullif(trim(\"{col.field}\"), '') IS NOT NULL"
        if col.values:
            allowed = ", ".join("'" + v + "'" for v in col.values)
            value_check = f"upper(trim(\"{col.field}\")) NOT IN ({allowed})"
            invalid, reason = (f"({p.invalid}) OR {value_check}" if p.invalid else value_check), "value not in the allowed list"
        else:
            invalid, reason = p.invalid, p.reason
        if col.max_length:
            too_long = f"length(\"{col.field}\") > {col.max_length}"
            invalid, reason = (f"({invalid}) OR {too_long}", f"{reason} or longer than {col.max_length} characters") \
                if invalid else (too_long, f"longer than {col.max_length} characters")
        bad = f"CASE WHEN {present} AND ({invalid}) THEN '{col.field}: {reason}' END" if invalid else None
        if col.required:
            rejects.append(f"CASE WHEN NOT {present} THEN '{col.field}: required value missing' END")
            if bad:
                rejects.append(bad)
        elif bad:
            issues.append(bad)
    if source.require_any:
        # a row that names nobody (no name, no address) cannot reach anyone: it is kept in quarantine
        none_present = " AND ".join(f"nullif(trim(\"{f}\"), '') IS NULL" for f in source.require_any)
        rejects.append(f"CASE WHEN {none_present} THEN '{source.require_any[0]}: none of "
                       f"{', '.join(source.require_any)} has a value' END")
    return f"""
        SELECT delivery_id, _file, _row, {', '.join(outputs)}, _extra,
               {_reason_list(rejects)} AS _rejects, {_reason_list(issues)} AS _issues
        FROM (SELECT *{''.join(', ' + e for e in pre)} FROM raw_{source_name} WHERE delivery_id = $delivery)"""


def stage_source(con: duckdb.DuckDBPyConnection, source_name: str) -> StageReport:
    source = load_source(source_name)
    ensure_tables(con, source)
    con.execute(QUARANTINE_DDL)
    con.execute(FIELD_ISSUES_DDL)
    install_address_parser(con)
    delivery = latest_delivery(con, source_name)
    report = StageReport(source_name, delivery)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _parsed AS {build_parse_sql(source_name)}", {"delivery": delivery or -1})
    con.execute("BEGIN")
    try:
        # re-staging a delivery replaces what an earlier staging of it wrote
        con.execute("DELETE FROM quarantine WHERE source = ? AND delivery_id = ? AND fields IS NOT NULL", [source_name, delivery or -1])
        con.execute("DELETE FROM field_issues WHERE source = ? AND delivery_id = ?", [source_name, delivery or -1])
        con.execute(f"""
            INSERT INTO quarantine
            SELECT ?, p.delivery_id, p._file, p._row,
                   list_transform(p._rejects, lambda x: split_part(x, ':', 1)), p._rejects,
                   to_json(struct_pack({', '.join(f'"{f}" := r."{f}"' for f in source.fields)})), now()
            FROM _parsed p JOIN raw_{source_name} r ON r.delivery_id = p.delivery_id AND r._row = p._row
            WHERE len(p._rejects) > 0""", [source_name])
        con.execute("""
            INSERT INTO field_issues
            SELECT ?, delivery_id, _file, _row, split_part(issue, ':', 1), trim(split_part(issue, ':', 2))
            FROM (SELECT delivery_id, _file, _row, unnest(_issues) AS issue FROM _parsed WHERE len(_rejects) = 0)""",
                    [source_name])
        con.execute(f"""CREATE OR REPLACE TABLE stg_{source_name} AS
                        SELECT * EXCLUDE (_rejects, _issues) FROM _parsed WHERE len(_rejects) = 0""")
        enrich.run(con, source_name)     # inside: downstream never sees a staged table without its enrichment
        record_data_as_of(con, source_name, delivery)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    report.rows_in, report.staged, report.quarantined, report.fields_blanked = con.execute(f"""
        SELECT (SELECT count(*) FROM _parsed), (SELECT count(*) FROM stg_{source_name}),
               (SELECT count(*) FROM _parsed WHERE len(_rejects) > 0),
               (SELECT coalesce(sum(len(_issues)), 0) FROM _parsed WHERE len(_rejects) = 0)""").fetchone()
    report.malformed = con.execute("SELECT count(*) FROM quarantine WHERE source = ? AND delivery_id = ? AND fields IS NULL",
                                   [source_name, delivery or -1]).fetchone()[0]
    con.execute("DROP TABLE IF EXISTS _parsed")
    return report
