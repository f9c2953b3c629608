"""The page in a real headless browser (Debian's chromium driven by Playwright): choose a query, fill its form,
see the right-to-left table, download CSV and XLSX."""

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from serving.audit import AuditLog
from serving.identity import LocalIdentity
from tests.emergency.helpers import MUNI, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                     "(apt-get install -y chromium; see notes/ci_needs.md)"),
]


def test_fill_the_form_see_the_table_and_download(fresh_home):
    from playwright.sync_api import sync_playwright

    identity = LocalIdentity("emergency_manager", subject="dana")
    with serving(fresh_home, identity) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(identity.login_url(base))             # the link `toshav serve` prints
            assert "token" not in page.url
            assert page.locator("html").get_attribute("dir") == "rtl"
            assert page.locator("html").get_attribute("lang") == "he"

            page.get_by_role("link", name="זקוקים לסיוע בפינוי").click()
            page.get_by_label("רחובות").fill("רח' ז'בוטינסקי")
            page.get_by_label("עד מספר בית").fill("100")
            page.get_by_role("button", name="הצג רשימה").click()

            table = page.locator("#result")
            table.wait_for()
            assert page.locator("#row-count").inner_text() == "3"
            headers = table.locator("thead th").all_inner_texts()
            assert headers[:2] == ["רחוב", "מספר בית"]
            key = headers.index("מזהה תושב")
            shown = [row.locator("td").nth(key).inner_text() for row in table.locator("tbody tr").all()]
            assert shown == ["E05", "E01", "E02"]
            assert "(סמל 416)" in page.locator(".street-match").inner_text()
            # right to left as laid out by the browser: the first column is drawn to the right of the second
            assert table.evaluate("t => getComputedStyle(t).direction") == "rtl"
            first, second = (table.locator("thead th").nth(i).bounding_box() for i in (0, 1))
            assert first["x"] > second["x"]
            # the form keeps what was typed
            assert page.get_by_label("רחובות", exact=True).input_value() == "רח' ז'בוטינסקי"

            with page.expect_download() as csv_download:
                page.get_by_role("button", name="הורדה כ-CSV").click()
            data = Path(csv_download.value.path()).read_bytes()
            assert csv_download.value.suggested_filename.endswith(".csv")
            assert data.startswith(b"\xef\xbb\xbf")
            lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
            rows = lines[lines.index([]) + 1:]              # the list's title and "data as of" lines come first
            assert lines[0] == ["זקוקים לסיוע בפינוי"] and any("נתונים נכונים ל-" in line[0] for line in lines[1:3])
            assert rows[0] == headers
            assert [r[key] for r in rows[1:]] == ["E05", "E01", "E02"]

            with page.expect_download() as xlsx_download:
                page.get_by_role("button", name="הורדה כ-Excel").click()
            assert xlsx_download.value.suggested_filename.endswith(".xlsx")
            ws = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
            assert ws.sheet_view.rightToLeft
            header_row = lines.index([]) + 2
            assert [c.value for c in ws[header_row]] == headers
            assert [ws.cell(row=r, column=key + 1).value for r in range(header_row + 1, ws.max_row + 1)] == ["E05", "E01", "E02"]
        finally:
            browser.close()

    runs = [(e.channel, e.query, e.row_count, e.exports) for e in reversed(AuditLog.of(MUNI, fresh_home).entries())
            if e.query == "evacuation_assistance"]
    assert runs == [("web", "evacuation_assistance", 3, None), ("web", "evacuation_assistance", 3, "csv"),
                    ("web", "evacuation_assistance", 3, "xlsx")]
