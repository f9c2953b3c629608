"""People log in with a real OpenID provider (started by the test): code + PKCE, roles from the groups claim."""

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from serving.audit import AuditLog
from serving.identity import OidcIdentity, OidcSettings
from tests.emergency.helpers import MUNI, serving
from tests.emergency.test_web_browser import CHROMIUM, CHROMIUM_ARGS


def oidc_identity(provider) -> OidcIdentity:
    return OidcIdentity(OidcSettings(issuer=provider.issuer, client_id="toshav-page", client_secret="s3cret"))


def log_in(client: httpx.Client, sub: str) -> httpx.Response:
    """What a browser does: /login -> the provider's form -> the provider redirects back with a code."""
    to_provider = client.get("/login")
    assert to_provider.status_code == 302
    authorize = to_provider.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]      # PKCE
    back = httpx.post(authorize, data={"sub": sub})
    assert back.status_code == 302
    return client.get(back.headers["location"])


def test_a_person_logs_in_and_sees_the_lists_of_the_role_their_groups_give(provider, fresh_home):
    with serving(fresh_home, oidc_identity(provider)) as base, httpx.Client(base_url=base) as client:
        before = client.get("/")
        done = log_in(client, "yossi")
        page = client.get("/")
    assert before.status_code == 303 and before.headers["location"] == "/login"
    assert done.status_code == 303
    assert page.status_code == 200 and "רווחה" in page.text
    assert 'value="alone_without_support"' in page.text and 'value="power_dependent"' not in page.text
    cookie = done.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    login = next(e for e in AuditLog.of(MUNI, fresh_home).entries() if e.query == "login")
    assert (login.outcome, login.peer) == ("ok", "127.0.0.1")


def test_an_account_without_a_toshav_group_is_refused(provider, fresh_home):
    with serving(fresh_home, oidc_identity(provider)) as base, httpx.Client(base_url=base) as client:
        refused = log_in(client, "nobody")
        after = client.get("/")
    assert refused.status_code == 403 and after.status_code == 303
    [entry] = [e for e in AuditLog.of(MUNI, fresh_home).entries() if e.reason == "no_role"]
    assert entry.outcome == "denied"


def test_a_forged_callback_is_refused(provider, fresh_home):
    with serving(fresh_home, oidc_identity(provider)) as base, httpx.Client(base_url=base) as client:
        forged = client.get("/auth/callback", params={"code": "made-up", "state": "made-up"})
    assert forged.status_code == 403


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed at /usr/bin/chromium")
def test_the_browser_logs_in_through_the_provider_and_runs_a_list(provider, fresh_home):
    from playwright.sync_api import sync_playwright

    with serving(fresh_home, oidc_identity(provider)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(base + "/")
            assert page.url.startswith(provider.issuer)                     # sent to the provider to log in
            page.get_by_role("button", name="dana").click()                # the provider's own login form
            page.wait_for_url(base + "/")
            assert "מנהל/ת חירום" in page.locator(".who").inner_text()
            page.get_by_role("link", name="תלויי חשמל או חמצן").click()
            page.get_by_role("button", name="הצג רשימה").click()
            page.locator("#result").wait_for()
            assert int(page.locator("#row-count").inner_text()) > 0
            page.get_by_role("button", name="יציאה").click()
            page.goto(base + "/")
            assert page.url.startswith(provider.issuer)                     # logged out: asked to log in again
        finally:
            browser.close()
    runs = [(e.subject, e.query, e.outcome) for e in AuditLog.of(MUNI, fresh_home).entries()
            if e.query in ("power_dependent", "logout")]
    assert runs[0] == ("dana", "logout", "ok") and runs[1][:2] == ("dana", "power_dependent")
