"""The page refuses whoever it cannot name, and says so in the audit with the peer address."""

import os
import socket
import time

import httpx
import pytest

from pipelines.private_files import privatize_tree
from serving.app import ServeSettings, UnsafeToServe, create_app
from serving.audit import AuditLog
from serving.identity import LocalIdentity, ProxyIdentity
from tests.emergency.helpers import MUNI, csrf_of, local_page, serving


def audit_of(home):
    return AuditLog.of(MUNI, home).entries()


def test_an_unauthenticated_request_gets_no_data(fresh_home):
    with serving(fresh_home, LocalIdentity("emergency_manager")) as base, httpx.Client(base_url=base) as client:
        page = client.get("/")
        run = client.post("/run", data={"q": "power_dependent"})
        export = client.post("/export", data={"q": "power_dependent", "format": "csv"})
        wrong_token = client.get("/?token=guessed")
    assert page.status_code == 401 and '<select id="q"' not in page.text
    assert run.status_code == 401 and "<table" not in run.text
    assert export.status_code == 401 and not export.headers["content-type"].startswith("text/csv")
    assert wrong_token.status_code == 403
    entries = audit_of(fresh_home)
    assert sorted(e.outcome for e in entries) == ["denied", "unauthenticated", "unauthenticated", "unauthenticated"]
    assert all(e.peer == "127.0.0.1" and e.row_count is None for e in entries)


def test_identity_headers_are_believed_only_from_the_proxy(fresh_home):
    elsewhere = ProxyIdentity(["10.9.9.9"])
    claims = {"X-Forwarded-User": "intruder", "X-Forwarded-Groups": "toshav-emergency-managers"}
    with serving(fresh_home, elsewhere) as base, httpx.Client(base_url=base) as client:
        forged = client.get("/", headers=claims)
        anonymous = client.get("/")
    assert forged.status_code == 403 and anonymous.status_code == 401
    forged_entry = next(e for e in audit_of(fresh_home) if e.reason == "forged_identity_header")
    assert (forged_entry.outcome, forged_entry.peer, forged_entry.subject) == ("denied", "127.0.0.1", "")

    with serving(fresh_home, ProxyIdentity(["127.0.0.1/32"])) as base, httpx.Client(base_url=base) as client:
        trusted = client.get("/", headers={**claims, "X-Forwarded-For": "10.1.2.3"})
        twice = client.get("/", headers=[("X-Forwarded-User", "dana"), ("X-Forwarded-User", "root"),
                                          ("X-Forwarded-Groups", "toshav-welfare")])
        no_role = client.get("/", headers={"X-Forwarded-User": "dana", "X-Forwarded-Groups": "finance"})
    assert trusted.status_code == 200 and "intruder" in trusted.text
    assert twice.status_code == 403 and no_role.status_code == 403
    page_view = next(e for e in audit_of(fresh_home) if e.subject == "intruder" and e.outcome == "ok")
    assert page_view.peer == "10.1.2.3 via 127.0.0.1"


def test_foreign_host_and_origin_are_refused(fresh_home):
    with local_page(fresh_home) as client:
        token = csrf_of(client)
        form = {"q": "power_dependent", "csrf_token": token}
        rebound = client.post("/run", data=form, headers={"Host": "evil.example", "Origin": "http://evil.example"})
        rebound_get = client.get("/", headers={"Host": "evil.example"})
        cross_origin = client.post("/run", data=form, headers={"Origin": "http://evil.example"})
        cross_site = client.post("/run", data=form, headers={"Sec-Fetch-Site": "cross-site"})
        same = client.post("/run", data=form, headers={"Sec-Fetch-Site": "same-origin"})
    assert rebound.status_code == 421 and rebound_get.status_code == 421
    assert cross_origin.status_code == 403 and cross_site.status_code == 403
    assert same.status_code == 200 and 'id="row-count"' in same.text
    reasons = [e.reason for e in audit_of(fresh_home) if e.outcome == "denied"]
    assert sorted(reasons) == ["host", "host", "origin", "origin"]


def test_a_post_without_the_csrf_token_is_refused(fresh_home):
    with local_page(fresh_home) as client:
        missing = client.post("/run", data={"q": "power_dependent"})
        wrong = client.post("/export", data={"q": "power_dependent", "format": "csv", "csrf_token": "x" * 43})
    assert missing.status_code == 403 and "<table" not in missing.text
    assert wrong.status_code == 403 and not wrong.headers["content-type"].startswith("text/csv")
    assert [e.reason for e in audit_of(fresh_home) if e.outcome == "denied"] == ["csrf", "csrf"]


def test_oversized_and_malformed_bodies_are_refused_and_audited(fresh_home):
    with local_page(fresh_home) as client:
        token = csrf_of(client)
        huge = client.post("/run", content=b"q=household&street=" + b"x" * 100_000 + b"&csrf_token=" + token.encode(),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
        host, port = client.base_url.host, client.base_url.port
        with socket.create_connection((host, port), timeout=30) as s:
            s.sendall(b"POST /run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n")
            negative = s.recv(1000)
    assert huge.status_code == 413
    assert negative.split(b" ")[1] in (b"400", b"413")
    outcomes = {(e.outcome, e.reason) for e in audit_of(fresh_home)}
    assert ("too_large", "body") in outcomes
    assert all(len(e.parameters.__repr__()) < 5000 for e in audit_of(fresh_home))


def test_a_world_readable_home_or_an_open_address_is_refused(tmp_path, fresh_home):
    os.chmod(fresh_home / "municipalities", 0o755)
    with pytest.raises(UnsafeToServe, match="can be read by other users"):
        create_app(ServeSettings(MUNI, identity=LocalIdentity("welfare"), home=fresh_home))
    privatize_tree(fresh_home)
    with pytest.raises(UnsafeToServe, match="refusing to listen on 0.0.0.0"):
        create_app(ServeSettings(MUNI, identity=LocalIdentity("welfare"), home=fresh_home, host="0.0.0.0",
                                 allowed_hosts=("toshav.example",)))
    create_app(ServeSettings(MUNI, identity=ProxyIdentity(["10.0.0.1"]), home=fresh_home, host="0.0.0.0",
                             allowed_hosts=("toshav.example",)))


def test_slow_loris_connections_are_closed(fresh_home):
    """Connections that trickle their request head are closed by the server (uvicorn alone keeps them)."""
    from serving import server

    class QuickDeadline(server.DeadlineH11):
        head_seconds = 1.0

    app = create_app(ServeSettings(MUNI, identity=LocalIdentity("welfare"), home=fresh_home))
    with server.running(app, http=QuickDeadline) as base:
        port = int(base.rsplit(":", 1)[1])
        sockets = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(20)]
        for s in sockets:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")          # ... and never the blank line
        time.sleep(0.3)
        for s in sockets:
            s.sendall(b"X-Slow: 1\r\n")
        closed = [s.recv(1024) == b"" for s in sockets]                 # b"" = the server closed it
        for s in sockets:
            s.close()
    assert all(closed)


def test_requests_per_minute_per_person_are_limited(fresh_home):
    identity = LocalIdentity("welfare", subject="yossi")
    app = create_app(ServeSettings(MUNI, identity=identity, home=fresh_home, requests_per_minute=5))
    from serving.server import running

    with running(app) as base, httpx.Client(base_url=base) as client:
        client.get(identity.login_url(base))
        statuses = [client.get("/").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert [e.reason for e in audit_of(fresh_home) if e.outcome == "rate_limited"] == ["requests_per_minute"]


def test_rows_per_hour_per_role_are_limited(fresh_home, monkeypatch):
    from dataclasses import replace

    from serving import roles
    from serving.queries import RateLimited
    from tests.emergency.helpers import run

    welfare = replace(roles.load_roles()["welfare"], rows_per_hour=4)
    monkeypatch.setitem(roles.load_roles(), "welfare", welfare)
    first = run(fresh_home, "alone_without_support", role="welfare", user="yossi")          # 3 rows
    with pytest.raises(RateLimited):
        run(fresh_home, "alone_without_support", role="welfare", user="yossi")              # 3 more: over 4
    other = run(fresh_home, "alone_without_support", role="welfare", user="rina")           # another person
    assert len(first.rows) == len(other.rows) == 3
    limited = [e for e in audit_of(fresh_home) if e.outcome == "rate_limited"]
    assert [(e.subject, e.row_count, e.reason) for e in limited] == [("yossi", 3, "rows_per_hour")]
