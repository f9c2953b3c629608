"""The emergency room's page in Debian's headless Chromium (Playwright) at a laptop's 1366×768 and a phone's 390×844:
counts before names, the planner view, the printed call sheet, phone cards, and axe-core at WCAG 2.0 A/AA on every
state visited. Screenshots of each state are kept under `test-artefacts/page/` (not committed)."""

import os
import re
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest

from serving.identity import LocalIdentity
from tests.emergency.conftest import FIRST_NAMES, JABOTINSKY, LAST_NAMES, SOKOLOV, STREET_NAMES
from tests.emergency.helpers import serving
from tests.emergency.test_web_browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TOSHAV_TEST_ARTEFACTS", ROOT / "test-artefacts")) / "page"
VIEWPORTS = {"laptop": (1366, 768), "phone": (390, 844)}
WCAG_20 = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa"]}}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium "
                                                     "(`make browser` installs it)"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def accessible(page, state: str) -> None:
    """axe-core finds nothing at WCAG 2.0 A/AA; a screenshot of the state is kept either way."""
    from axe_playwright_python.sync_playwright import Axe

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{state}.png"), full_page=False)
    results = Axe().run(page, options=WCAG_20)
    assert results.violations_count == 0, f"{state}: {results.generate_report()}"


@contextmanager
def page_as(browser, home, role: str, viewport: tuple[int, int], subject: str = "dana"):
    """The page served in local mode for `role`, opened in a fresh browser context through the link `toshav serve`
    prints (which starts the session); yields (page, base URL)."""
    identity = LocalIdentity(role, subject=subject)
    with serving(home, identity) as base:
        page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        page.goto(identity.login_url(base))
        try:
            yield page, base
        finally:
            page.close()


def run_list(page, base: str, query: str, button: str) -> None:
    page.goto(f"{base}/?q={query}")
    page.get_by_role("button", name=button).click()
    page.locator("#row-count").wait_for()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_counts_before_names_match_the_list(browser, home, device):
    width, height = VIEWPORTS[device]
    with page_as(browser, home, "emergency_manager", (width, height)) as (page, base):
        accessible(page, f"{device}-start")
        assert "חולון" in page.locator("header").inner_text()
        # choosing a list is one click on its link: the form for it is there at once
        page.get_by_role("link", name="תלויי חשמל או חמצן").click()
        assert page.locator("#query-title").inner_text() == "תלויי חשמל או חמצן"
        run_list(page, base, "evacuation_assistance", "הצג רשימה")
        accessible(page, f"{device}-evacuation-counts")

        rows = int(page.locator("#row-count").inner_text())
        assert rows == 6
        streets = page.locator("#street-counts tbody tr")
        counted = {r.locator("th").inner_text(): int(r.locator("td").first.inner_text()) for r in streets.all()}
        listed = Counter(t.strip() for t in page.locator("#result tbody tr td:first-child").all_text_contents())
        assert counted == dict(listed) == {STREET_NAMES[JABOTINSKY]: 4, STREET_NAMES[SOKOLOV]: 2}
        assert int(page.locator("#counts-total").inner_text()) == rows == page.locator("ol.cards li").count()
        # busiest first, and the chart is drawn by the server: an SVG, no script anywhere
        assert list(counted) == [STREET_NAMES[JABOTINSKY], STREET_NAMES[SOKOLOV]]
        assert page.locator("figure.chart svg[role=img]").count() == 1
        assert page.locator("script").count() == 0
        # what put them there: one only because the floor is unknown, one only because the elevator is
        assert "רק הקומה לא ידועה: 1" in page.locator("dl.reasons").inner_text()

        # the results come before the parameters (folded away once a list is shown)
        result_top = page.locator("#query-title").bounding_box()["y"]
        assert result_top < height / 2
        assert not page.locator("form.params").is_visible()
        if device == "phone":
            assert not page.locator("#result").is_visible() and page.locator("ol.cards").is_visible()
            # nothing wider than the phone but the scrollable tables
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        else:
            assert page.locator("#result").is_visible() and not page.locator("ol.cards").is_visible()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_planner_view_has_no_names_ids_phones_and_no_small_cells(browser, home, device):
    width, height = VIEWPORTS[device]
    with page_as(browser, home, "planner", (width, height), subject="noa") as (page, base):
        links = page.locator("nav.lists a").all_inner_texts()
        assert len(links) == 4 and all("ספירות בלבד" in t for t in links)     # no household view: no counts
        run_list(page, base, "evacuation_assistance", "הצג ספירה")
        accessible(page, f"{device}-planner")
        text = page.locator("main").inner_text()
        words = set(re.findall(r"\w+", text))
        assert not words & set(FIRST_NAMES + LAST_NAMES)
        assert not re.search(r"\d{2,3}-\d{3}-\d{4}|\d{9}", text)              # no phone, no ID number
        assert not any(street in text for street in STREET_NAMES.values())    # each street has fewer than 5
        assert page.locator("#result, ol.cards, form.exports, #building-counts").count() == 0
        numbers = [int(n.replace(",", "")) for n in page.locator("td.num").all_inner_texts() if n[0].isdigit()]
        assert numbers and min(numbers) >= 5
        assert "<5" in page.locator("#street-counts").inner_text()


def test_printed_call_sheet_has_no_form_or_buttons(browser, home):
    with page_as(browser, home, "emergency_manager", (1366, 768)) as (page, base):
        run_list(page, base, "evacuation_assistance", "הצג רשימה")
        # printing the list page itself leaves out the navigation, the form and the buttons
        page.emulate_media(media="print")
        assert not any(page.locator(s).is_visible() for s in ("nav.lists", "form.exports", "form.logout",
                                                              "details.params-box"))
        assert page.locator("#result").is_visible()
        page.emulate_media(media="screen")

        with page.expect_popup() as popup:
            page.get_by_role("button", name="דף קריאה להדפסה").click()
        sheet = popup.value
        sheet.wait_for_load_state()
        accessible(sheet, "call-sheet")
        assert sheet.locator("form, button, input, select, nav").count() == 0
        assert sheet.locator("h1").inner_text() == "דף קריאה: זקוקים לסיוע בפינוי"
        meta = sheet.locator(".sheet-meta").all_inner_texts()
        assert "חולון" in meta[0] and "6 תושבים" in meta[0] and "הודפס" in meta[0]
        assert meta[1].startswith("פרמטרים:") and "מעל קומה: 2" in meta[1]
        assert meta[2].startswith("מרשם האוכלוסין: נתונים נכונים ל-") and "לא עדכני" in meta[2]   # per source
        headings = sheet.locator("thead tr:not(.repeat-title) th").all_inner_texts()
        assert headings[-3:] == ["הושג", "לא הושג", "הערות"] and "מזהה תושב" not in headings
        streets = sheet.locator("tr.street th").all_inner_texts()
        assert streets == [f"{STREET_NAMES[JABOTINSKY]} · 4 תושבים", f"{STREET_NAMES[SOKOLOV]} · 2 תושבים"]
        pdf = sheet.pdf(prefer_css_page_size=True)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        (ARTEFACTS / "call-sheet.pdf").write_bytes(pdf)
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == 1
        # landscape A4: the page box is wider than it is tall
        width, height = map(float, re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf).groups())
        assert width > height and round(width) == 842


def test_phone_card_calls_with_one_tap(browser, home):
    width, height = VIEWPORTS["phone"]
    with page_as(browser, home, "emergency_manager", (width, height)) as (page, base):
        run_list(page, base, "power_dependent", "הצג רשימה")
        page.locator("ol.cards").scroll_into_view_if_needed()
        accessible(page, "phone-cards")
        link = page.locator("ol.cards a.phone").first
        assert link.is_visible()
        assert re.fullmatch(r"tel:0\d{8,9}", link.get_attribute("href"))
        assert re.fullmatch(r"0\d{1,2}-\d{3}-\d{4}", link.inner_text())
        # on one line: no taller than one line of its text
        one_line = link.evaluate("a => a.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(a).fontSize)")
        assert one_line
