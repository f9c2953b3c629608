"""Prints how long a city-wide call sheet takes and how many A4 landscape pages it prints to.

    python bench/bench_call_sheet.py --home DIR [--municipality 6600] [--query evacuation_assistance]

DIR is a TOSHAV_HOME with a built municipality (for example after `TOSHAV_HOME=DIR toshav demo`, the 20,000-resident
Holon demo). Runs the query's call-sheet view through the runner (audited under channel `bench`), lays the sheet
out, writes it as XLSX and as the printable page (templates/call_sheet.html with templates/call-sheet.css), prints the
page to PDF in Debian's headless Chromium (Playwright, /usr/bin/chromium) and counts the PDF's pages. For
comparison it also prints the same list as one plain table (every column the role sees, no grouping), which is what
printing the page's table gave before call sheets.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.reference import locality_name  # noqa: E402
from serving import callsheet, views  # noqa: E402
from serving.queries import run_query  # noqa: E402

SERVING = Path(__file__).resolve().parent.parent / "serving" / "templates"
CHROMIUM = "/usr/bin/chromium"


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def print_pdf(html_path: Path) -> bytes:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless"])
        try:
            page = browser.new_page()
            page.goto(html_path.as_uri())
            return page.pdf(prefer_css_page_size=True, format="A4", landscape=True)
        finally:
            browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--municipality", type=int, default=6600)
    ap.add_argument("--query", default="evacuation_assistance")
    args = ap.parse_args()

    t = time.perf_counter()
    result = run_query(args.query, args.municipality, {}, role="emergency_manager", user="bench", channel="bench",
                       home=args.home, view="call_sheet", exports=["call_sheet"])
    t_query = time.perf_counter() - t
    t = time.perf_counter()
    sheet = callsheet.layout(result, locality_name(args.municipality))
    xlsx = callsheet.xlsx_bytes(sheet)
    t_xlsx = time.perf_counter() - t
    work = Path(tempfile.mkdtemp(prefix="callsheet-"))
    try:
        shutil.copy(SERVING / "call-sheet.css", work / "call-sheet.css")
        page = views.render("call_sheet.html", sheet=sheet).replace('href="/call-sheet.css"', 'href="call-sheet.css"')
        (work / "sheet.html").write_text(page, encoding="utf-8")
        t = time.perf_counter()
        pages = pdf_pages(print_pdf(work / "sheet.html"))
        t_pdf = time.perf_counter() - t
        plain = run_query(args.query, args.municipality, {}, role="emergency_manager", user="bench",
                          channel="bench", home=args.home)
        head = "".join(f"<th>{c.title_he}</th>" for c in plain.columns)
        body = "".join("<tr>" + "".join(f"<td>{'' if v is None else v}</td>" for v in row) + "</tr>"
                       for row in plain.rows)
        (work / "plain.html").write_text(
            f'<!doctype html><html lang="he" dir="rtl"><meta charset="utf-8"><body><table border="1">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>", encoding="utf-8")
        plain_pages = pdf_pages(print_pdf(work / "plain.html"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    streets = sum(1 for ln in sheet.lines if ln.kind == "street")
    print(f"{args.query}: {len(result.rows):,} residents on {streets:,} streets, {len(sheet.headings)} columns")
    print(f"query (call-sheet view + counts): {t_query:.2f} s; layout + XLSX ({len(xlsx):,} bytes): {t_xlsx:.2f} s")
    print(f"call sheet, A4 landscape: {pages} pages (render + print {t_pdf:.1f} s)")
    print(f"the same list as one plain table, A4 landscape: {plain_pages} pages")


if __name__ == "__main__":
    main()
