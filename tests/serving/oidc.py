"""A real OpenID provider on 127.0.0.1 for the tests (oidc-provider-mock: Flask + authlib, RS256, JWKS).

`issue_id_token` walks the authorization-code flow the way a browser and a client would (authorize form, redirect
with a code, token endpoint) and returns the signed ID token: a JWT of this issuer for `client_id`, which the
bearer-token tests use as a system's token (the provider has no client-credentials grant; the JWT is the same kind).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterator, Sequence
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import werkzeug.serving

REDIRECT = "http://127.0.0.1:9/callback"     # never followed: the code is read from the Location header


@dataclass
class Provider:
    issuer: str

    def issue_id_token(self, sub: str, client_id: str) -> str:
        with httpx.Client(base_url=self.issuer, timeout=10) as http:
            params = {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
                      "scope": "openid profile", "state": "s", "nonce": "n"}
            granted = http.post("/oauth2/authorize", params=params, data={"sub": sub})
            assert granted.status_code == 302, granted.text[:300]
            code = parse_qs(urlsplit(granted.headers["location"]).query)["code"][0]
            tokens = http.post("/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": REDIRECT, "client_id": client_id,
                                                      "client_secret": "secret"})
            assert tokens.status_code == 200, tokens.text[:300]
            return tokens.json()["id_token"]


@contextmanager
def running_provider(users: Sequence[oidc_provider_mock.User] = (),
                     token_max_age: timedelta = timedelta(hours=1)) -> Iterator[Provider]:
    app = oidc_provider_mock.app(user_claims=users, access_token_max_age=token_max_age)
    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield Provider(issuer=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
