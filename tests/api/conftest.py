"""The open API under test: a resident file built by the real pipeline (tests/api/scenario.py), a real OpenID
provider issuing each consumer's signed token (oidc-provider-mock on 127.0.0.1), and the app served by real uvicorn
on 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import oidc_provider_mock
import pytest

from serving.api.app import create_app
from serving.consumers import load_consumers
from serving.server import running
from serving.tokens import TokenSettings, TokenValidator
from tests.api import scenario
from tests.serving.oidc import REDIRECT, running_provider

AUDIENCE = "toshav-api"
MUNI = scenario.MUNI


def _users() -> list[oidc_provider_mock.User]:
    """One provider user per consumer, carrying the client id and the scopes its operations need."""
    consumers = load_consumers()
    users = []
    for client_id, c in consumers.by_client.items():
        scopes = sorted({consumers.scopes[op] for op in c.operations})
        users.append(oidc_provider_mock.User(sub=client_id, claims={"client_id": client_id, "scope": " ".join(scopes)}))
    users.append(oidc_provider_mock.User(sub="toshav-unknown", claims={"client_id": "toshav-unknown",
                                                                        "scope": "residents:read residents:feed"}))
    users.append(oidc_provider_mock.User(sub="toshav-no-scope", claims={"client_id": "toshav-property-tax",
                                                                         "scope": "other:read"}))
    return users


@dataclass
class Issuer:
    issuer: str

    def token(self, sub: str, audience: str = AUDIENCE) -> str:
        """A signed JWT of this issuer for `audience`, walked through the provider's own flow."""
        with httpx.Client(base_url=self.issuer, timeout=10) as http:
            params = {"client_id": audience, "redirect_uri": REDIRECT, "response_type": "code",
                      "scope": "openid", "state": "s", "nonce": "n"}
            granted = http.post("/oauth2/authorize", params=params, data={"sub": sub})
            code = parse_qs(urlsplit(granted.headers["location"]).query)["code"][0]
            tokens = http.post("/oauth2/token", data={"grant_type": "authorization_code", "code": code,
                                                      "redirect_uri": REDIRECT, "client_id": audience,
                                                      "client_secret": "secret"})
            return tokens.json()["id_token"]


@pytest.fixture(scope="session")
def issuer() -> Iterator[Issuer]:
    with running_provider(_users()) as p:
        yield Issuer(p.issuer)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    return scenario.build(tmp_path_factory.mktemp("scenario"))


@pytest.fixture(scope="session")
def people(built) -> dict[str, str]:
    return scenario.keys(built)


@pytest.fixture(scope="session")
def home(built, tmp_path_factory) -> Path:
    return scenario.install(built, tmp_path_factory.mktemp("api_home"))


def served(app):
    """`app` on real uvicorn at 127.0.0.1 and a free port, configured as `toshav api` serves it."""
    return running(app)


def validator(issuer: Issuer, **kwargs) -> TokenValidator:
    return TokenValidator(TokenSettings(issuer=issuer.issuer, audience=AUDIENCE), **kwargs)


@pytest.fixture(scope="session")
def api(issuer, home) -> Iterator[str]:
    """The API of 6600 on 127.0.0.1, shared by the session (tests that count limits or audit start their own)."""
    with served(create_app(MUNI, validator=validator(issuer), home=home)) as url:
        yield url


@pytest.fixture(scope="session")
def tokens(issuer) -> dict[str, str]:
    """A valid token per consumer name."""
    return {c.name: issuer.token(client_id) for client_id, c in load_consumers().by_client.items()}


def client(url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=url, headers=headers, timeout=30)
