"""Bearer tokens of systems (OAuth2 client credentials): a JWT validated against the issuer's published keys.

A token is accepted only when all of these hold: it is a signed JWT (JWS, an asymmetric algorithm from
ALGORITHMS: never `none`, never a shared-secret HMAC a client could forge with a public value), its key is one of
the issuer's JWKS (found through the issuer's OpenID discovery document unless `jwks_url` is given), `iss` is the
configured issuer exactly, `aud` names this service, `exp` is in the future (and `nbf`/`iat` not in it, within
`leeway` seconds), and the token carries every scope the caller asks for. Scopes are read from `scope`
(space-separated, RFC 9068 / Keycloak / Okta) or `scp` (Entra ID, a list or a string); Entra ID application
permissions arrive as `roles`, read too.

Refusals raise `TokenRefused` whose `reason` is one short word (for the audit and the `WWW-Authenticate` header)
and whose message never contains the token or a claim value.

Keys are fetched once and again when a token names a key id that is not known (key rotation), at most every
`refresh_after` seconds, so a stream of forged key ids cannot make us hammer the issuer.

    validator = TokenValidator(TokenSettings(issuer="https://login.example/realms/city", audience="toshav"))
    principal = validator.validate(bearer(request.headers.get("authorization")), scopes=["residents:read"])
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import httpx
from joserfc import jwt
from joserfc.errors import (BadSignatureError, ClaimError, DecodeError, ExpiredTokenError, InvalidClaimError,
                            JoseError, MissingClaimError)
from joserfc.jwk import KeySet

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
MAX_TOKEN_CHARS = 8192
REASONS = ("missing", "malformed", "signature", "unknown_key", "issuer", "audience", "expired", "not_yet_valid",
           "scope", "keys_unavailable")


class TokenRefused(PermissionError):
    """The bearer token is not accepted. `reason` is one of REASONS; the message is safe to log and to show."""

    def __init__(self, reason: str, message: str):
        assert reason in REASONS, reason
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class TokenSettings:
    """Where tokens come from and whom they must be for (`TOSHAV_TOKEN_ISSUER`, `TOSHAV_TOKEN_AUDIENCE`)."""

    issuer: str
    audience: str
    jwks_url: str | None = None          # default: the discovery document's jwks_uri
    leeway: int = 30                     # seconds of clock difference allowed for exp / nbf / iat
    refresh_after: float = 60.0          # seconds between key fetches triggered by an unknown key id
    algorithms: tuple[str, ...] = ALGORITHMS

    def __post_init__(self):
        if not self.issuer or not self.audience:
            raise ValueError("token settings need an issuer and an audience")
        unsafe = [a for a in self.algorithms if a not in ALGORITHMS]
        if unsafe:
            raise ValueError(f"token algorithms {unsafe} are not accepted (only asymmetric: {', '.join(ALGORITHMS)})")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "TokenSettings | None":
        """From TOSHAV_TOKEN_ISSUER / TOSHAV_TOKEN_AUDIENCE / TOSHAV_TOKEN_JWKS_URL; None when no issuer is set."""
        issuer = env.get("TOSHAV_TOKEN_ISSUER") or env.get("TOSHAV_OIDC_ISSUER")
        if not issuer:
            return None
        audience = env.get("TOSHAV_TOKEN_AUDIENCE")
        if not audience:
            raise ValueError("TOSHAV_TOKEN_AUDIENCE is not set: tokens must name this service as their audience")
        return cls(issuer=issuer, audience=audience, jwks_url=env.get("TOSHAV_TOKEN_JWKS_URL") or None)


@dataclass(frozen=True)
class Principal:
    """Who presented a valid token: the client (a system), its subject and the scopes it was granted."""

    subject: str
    client_id: str
    scopes: frozenset[str]
    claims: Mapping[str, Any] = field(repr=False)

    def has_scopes(self, wanted: Iterable[str]) -> bool:
        return set(wanted) <= self.scopes


def bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header value; TokenRefused when absent or malformed."""
    if not authorization:
        raise TokenRefused("missing", "no bearer token (send Authorization: Bearer <token>)")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise TokenRefused("malformed", "the Authorization header is not 'Bearer <token>'")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenRefused("malformed", f"the bearer token is longer than {MAX_TOKEN_CHARS} characters")
    return token


def token_scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    found: set[str] = set()
    for name in ("scope", "scp", "roles"):
        value = claims.get(name)
        if isinstance(value, str):
            found.update(value.split())
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
    return frozenset(found)


def discover(issuer: str, http: httpx.Client) -> dict[str, Any]:
    """The issuer's OpenID Provider metadata (`/.well-known/openid-configuration`), checked to name the issuer."""
    response = http.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
    response.raise_for_status()
    metadata = response.json()
    if metadata.get("issuer") != issuer:
        raise ValueError(f"the discovery document of {issuer} names another issuer")
    return metadata


class TokenValidator:
    """Validates bearer tokens of one issuer for one audience. Thread-safe; keep one per process."""

    def __init__(self, settings: TokenSettings, *, keys: KeySet | None = None,
                 http: httpx.Client | None = None, clock: Callable[[], float] = time.time):
        self.settings = settings
        self._keys = keys
        self._fixed_keys = keys is not None
        self._http = http or httpx.Client(timeout=10.0, follow_redirects=False)
        self._clock = clock
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    # --- keys
    def _jwks_url(self) -> str:
        return self.settings.jwks_url or discover(self.settings.issuer, self._http)["jwks_uri"]

    def _fetch_keys(self) -> None:
        try:
            response = self._http.get(self._jwks_url())
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError, JoseError) as e:
            raise TokenRefused("keys_unavailable", f"the issuer's keys could not be read ({type(e).__name__})") from None
        finally:
            self._fetched_at = time.monotonic()

    def keys(self, kid: str | None = None) -> KeySet:
        """The issuer's key set, fetched when first needed and again (rate-limited) for an unknown key id."""
        with self._lock:
            if self._fixed_keys:
                return self._keys
            known = self._keys is not None and (kid is None or any(k.kid == kid for k in self._keys.keys))
            due = time.monotonic() - self._fetched_at >= self.settings.refresh_after
            if self._keys is None or (not known and due):
                self._fetch_keys()
            return self._keys

    # --- tokens
    def validate(self, token: str, scopes: Iterable[str] = ()) -> Principal:
        """The principal of a valid token carrying every scope in `scopes`; TokenRefused otherwise."""
        if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
            raise TokenRefused("malformed", "the bearer token is not a signed JWT")
        header = _header(token)
        if header.get("alg") not in self.settings.algorithms:
            raise TokenRefused("malformed", "the bearer token's algorithm is not accepted")
        kid = header.get("kid")
        keys = self.keys(kid)
        if kid is not None and not any(k.kid == kid for k in keys.keys):
            raise TokenRefused("unknown_key", "the bearer token was signed with a key the issuer does not publish")
        try:
            decoded = jwt.decode(token, keys, algorithms=list(self.settings.algorithms))
        except BadSignatureError:
            raise TokenRefused("signature", "the bearer token's signature is not valid") from None
        except (DecodeError, JoseError, ValueError):
            raise TokenRefused("malformed", "the bearer token could not be decoded") from None
        claims = decoded.claims
        self._check_claims(claims)
        granted = token_scopes(claims)
        missing = set(scopes) - granted
        if missing:
            raise TokenRefused("scope", f"the token lacks scope {', '.join(sorted(missing))}")
        client = claims.get("azp") or claims.get("client_id") or claims.get("appid") or claims.get("sub") or ""
        return Principal(subject=str(claims.get("sub") or client), client_id=str(client), scopes=granted,
                         claims=dict(claims))

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(self._clock()), leeway=self.settings.leeway,
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.audience},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise TokenRefused("expired", "the bearer token has expired") from None
        except (InvalidClaimError, MissingClaimError) as e:
            names = set((getattr(e, "claim", "") or "").split(","))
            if "iss" in names:
                raise TokenRefused("issuer", "the bearer token was not issued by the configured issuer") from None
            if "aud" in names:
                raise TokenRefused("audience", "the bearer token is not meant for this service") from None
            if names & {"nbf", "iat"}:
                raise TokenRefused("not_yet_valid", "the bearer token is not valid yet") from None
            raise TokenRefused("malformed", f"the bearer token's claim {', '.join(sorted(names))} is missing or "
                                            "invalid") from None
        except ClaimError:
            raise TokenRefused("malformed", "the bearer token's claims are not valid") from None


def _header(token: str) -> dict[str, Any]:
    """The JWS protected header (algorithm, key id), read before choosing a key; the signature is checked later."""
    try:
        part = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise TokenRefused("malformed", "the bearer token is not a signed JWT") from None
    if not isinstance(header, dict):
        raise TokenRefused("malformed", "the bearer token is not a signed JWT")
    return header
