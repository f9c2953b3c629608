"""Small, hand-made deliveries of the four sources, written in their real formats (CSV cp1255, JSON lines, XLSX)
and staged by the real connectors, so identity tests start from genuine stg tables.

Values are given per canonical field; the header written is the mapping's first header for that field.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import openpyxl
from stdnum import luhn

from connectors.delivery import ingest_files
from pipelines.normalize.addresses import load_reference_streets
from pipelines.staging import stage_source
from pipelines.staging.enrich import load_code_tables
from schemas.sources import load_source

MUNI = 6600
# Real Holon streets of the national registry (connectors/reference_data/streets.csv.gz)
JABOTINSKY, SOKOLOV = 416, 401


def valid_id(body: int) -> str:
    """A 9-digit Israeli ID with a valid check digit for an 8-digit body."""
    digits = f"{body:08d}"
    return digits + luhn.calc_check_digit(digits)


def bad_check_digit(national_id: str) -> str:
    """The same ID with its check digit changed: one digit off, so always invalid."""
    return national_id[:8] + str((int(national_id[8]) + 1) % 10)


def _header(source: str) -> list[tuple[str, str]]:
    return [(c.field, c.headers[0]) for c in load_source(source).columns]


def _csv(path: Path, source: str, rows: list[dict], encoding: str = "cp1255") -> Path:
    cols = _header(source)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([h for _, h in cols])
    for r in rows:
        w.writerow([r.get(f, "") for f, _ in cols])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps({"municipality_code": str(MUNI), **r}, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    return path


def _xlsx(path: Path, rows: list[dict]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "מאגר"
    cols = _header("disability_registry")
    ws.append([h for _, h in cols])
    for r in rows:
        ws.append([r.get(f) for f, _ in cols])
    wb.save(path)
    return path


def register_row(national_id: str, first: str, last: str, birth: str, street: int = JABOTINSKY,
                 house: str = "12", apartment: str = "4", **extra) -> dict:
    street_name = {JABOTINSKY: "ז'בוטינסקי", SOKOLOV: "סוקולוב"}.get(street, "")
    return {"national_id": national_id, "first_name": first, "last_name": last, "birth_date": birth,
            "gender": "ז", "marital_status": "נשוי", "locality_code": str(MUNI), "street_code": str(street),
            "street_name": street_name, "house_number": house, "apartment": apartment,
            "updated_at": "01/10/2026", **extra}


FIRST_NAMES = ("אברהם", "יצחק", "יעקב", "שרה", "רבקה", "לאה", "רחל", "דוד", "שלמה", "מרים", "אסתר", "נועה", "תמר",
               "איתי", "עומר", "יונתן", "מיכל", "שירה", "אורי", "גיל", "חנה", "רות", "אלון", "ליאור", "עדי",
               "נעמה", "יואב", "רון", "הדס", "אביגיל")
LAST_NAMES = ("לוי", "מזרחי", "פרץ", "ביטון", "דהן", "אברהם", "פרידמן", "אזולאי", "גבאי", "שפירא", "חדד", "עמר",
              "קפלן", "גולן", "ברק", "אוחיון", "יוסף", "רוזן", "שטרן", "בן דוד", "אשכנזי", "מלכה", "נחום",
              "סויסה", "טל", "וקנין", "כץ", "ששון", "הורוביץ", "זילברמן")


def background_register(n: int = 300) -> list[dict]:
    """Register rows of `n` unrelated residents in other buildings: a population around the few persons a test
    is about, so name frequencies (Splink's term-frequency adjustments) look like a town's, not like 3 rows'."""
    rows = []
    for i in range(n):
        rows.append(register_row(valid_id(30_000_000 + 7 * i), FIRST_NAMES[i % 30], LAST_NAMES[(i * 7 + i // 30) % 30],
                                 f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1940 + i % 70}", street=SOKOLOV,
                                 house=str(100 + i // 4), apartment=str(1 + i % 4)))
    return rows


def deliver(con: duckdb.DuckDBPyConnection, folder: Path, register: list[dict] | None = None,
            ods: list[dict] | None = None, yachad: list[dict] | None = None,
            registry: list[dict] | None = None, tag: str = "1") -> None:
    """Write the given sources as one delivery each (file names carry `tag`), ingest and stage them."""
    folder.mkdir(parents=True, exist_ok=True)
    has_ref = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'ref_streets'").fetchall()[0][0]
    if not has_ref:
        load_reference_streets(con, MUNI)
        load_code_tables(con)
    files = {}
    if register is not None:
        files["population_register"] = _csv(folder / f"register_{tag}.csv", "population_register", register)
    if ods is not None:
        files["ods"] = _jsonl(folder / f"ods_{tag}.jsonl", ods)
    if yachad is not None:
        files["yachad"] = _csv(folder / f"yachad_{tag}.csv", "yachad", yachad, encoding="utf-8-sig")
    if registry is not None:
        files["disability_registry"] = _xlsx(folder / f"registry_{tag}.xlsx", registry)
    # the register first: Yachad's name order is learnt from it
    for source in ("population_register", "ods", "disability_registry", "yachad"):
        if source in files:
            ingest_files(con, source, [files[source]])
            stage_source(con, source)


def keys_by_record(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], str]:
    """(source, record key) -> resident key, from the identity registry."""
    return {(s, k): r for s, k, r in con.execute(
        "SELECT source, record_key, resident_key FROM identity_registry").fetchall()}


def key_of(con: duckdb.DuckDBPyConnection, source: str, record_key: str) -> str:
    rows = con.execute("SELECT resident_key FROM identity_records WHERE source = ? AND record_key = ?",
                       [source, record_key]).fetchall()
    assert len(rows) == 1, f"expected one {source} record"
    return rows[0][0]
