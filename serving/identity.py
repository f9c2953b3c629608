"""Who is asking: one small layer in front of the page (and the API) that turns a request into a `Caller`.

Three ways a person is known, chosen when the server starts (`toshav serve --auth ...`):

- `LocalIdentity`  one person on their own machine, as Jupyter does: a random token is printed at start; opening
                   the printed link once puts a signed session cookie in that browser. The role is fixed at start,
                   the subject is the operating-system account that started the server. Loopback addresses only.
- `OidcIdentity`   people log in with the authority's OpenID Connect provider (Entra ID, Keycloak, Google
                   Workspace...): authorization code + PKCE (authlib), the ID token checked against the issuer's
                   keys; the role comes from a claim (`groups` by default) mapped in `schemas/roles.yaml`.
- `ProxyIdentity`  a reverse proxy that authenticates people passes the user and groups in headers; they are
                   believed only from the configured proxy addresses, a request carrying them from anywhere else is
                   refused (and audited), and a header sent twice is refused.

Systems present bearer tokens instead (`serving.tokens`), read by the open API.

Sessions are Starlette's signed cookie (HttpOnly, SameSite=Lax, Secure when the public URL is https), refreshed on
each response and void after `IDLE_SECONDS` without one (idle timeout) or `MAX_SESSION_SECONDS` after login. Each
session holds a random CSRF token that every form carries (`check_csrf`).
"""

from __future__ import annotations

import getpass
import ipaddress
import secrets
import time
from dataclasses import dataclass, field
from typing import Iterable, Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from serving.roles import AccessDenied, Role, load_roles, role as role_named, role_for_groups

IDLE_SECONDS = 30 * 60
MAX_SESSION_SECONDS = 12 * 3600
SESSION_COOKIE = "toshav_session"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


class NotAuthenticated(PermissionError):
    """Nobody is logged in (the page then sends the person to log in)."""


class Refused(PermissionError):
    """The request claims an identity it may not claim (a forged header, a role nobody gave)."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Caller:
    subject: str            # who, as the identity source vouches for it (recorded in the audit)
    role: Role
    peer: str               # network address of the request's sender
    via: str                # local | oidc | proxy | token
    display: str = ""       # a name to show on the page

    @property
    def name(self) -> str:
        return self.display or self.subject

    @property
    def role_title(self) -> str:
        return self.role.title_he


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def peer_of(request: Request) -> str:
    return request.client.host if request.client else ""


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, sent: str | None) -> bool:
    expected = request.session.get("csrf")
    return bool(expected and sent and secrets.compare_digest(str(expected), str(sent)))


def _session_caller(request: Request, via: str) -> Caller | None:
    s = request.session
    if s.get("via") != via or not s.get("subject") or not s.get("role"):
        return None
    if time.time() - float(s.get("login_at", 0)) > MAX_SESSION_SECONDS:
        s.clear()
        return None
    try:
        r = role_named(s["role"])
    except AccessDenied:
        s.clear()
        return None
    return Caller(subject=s["subject"], role=r, peer=peer_of(request), via=via, display=s.get("display", ""))


def _start_session(request: Request, via: str, subject: str, role: Role, display: str = "") -> None:
    request.session.clear()          # a new session for a new login (no fixation of an older one)
    request.session.update(via=via, subject=subject, role=role.name, display=display, login_at=time.time(),
                           csrf=secrets.token_urlsafe(32))


class LocalIdentity:
    """One person, one machine: the holder of the printed token, in the role fixed at start."""

    via = "local"
    note = "מצב מקומי: העמוד פתוח רק למי שקיבל את הקישור שהודפס בהפעלת השרת, בתפקיד שנקבע אז."
    secure_cookies = False

    def __init__(self, role: str, token: str | None = None, subject: str | None = None):
        if role not in load_roles():
            raise ValueError(f"unknown role {role!r}; known roles: {', '.join(sorted(load_roles()))}")
        self.role = role_named(role)
        self.token = token or secrets.token_urlsafe(32)
        self.subject = subject or f"local:{getpass.getuser()}"

    def login_url(self, base: str) -> str:
        return f"{base.rstrip('/')}/?{urlencode({'token': self.token})}"

    def describe(self) -> str:
        return f"local mode, role {self.role.name}, as {self.subject}"

    async def authenticate(self, request: Request) -> Caller | Response:
        given = request.query_params.get("token")
        if given is not None:
            if not secrets.compare_digest(given, self.token):
                raise Refused("bad_token", "the token in the link is not this server's")
            _start_session(request, self.via, self.subject, self.role)
            return RedirectResponse(request.url.path, status_code=303)     # the token leaves the address bar
        caller = _session_caller(request, self.via)
        if caller is None:
            raise NotAuthenticated("open the link that `toshav serve` printed when it started")
        return caller

    def routes(self) -> list:
        return []


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    roles_claim: str = "groups"
    scopes: str = "openid profile email"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "OidcSettings | None":
        issuer = env.get("TOSHAV_OIDC_ISSUER")
        if not issuer:
            return None
        client_id, secret = env.get("TOSHAV_OIDC_CLIENT_ID"), env.get("TOSHAV_OIDC_CLIENT_SECRET")
        if not client_id or not secret:
            raise ValueError("TOSHAV_OIDC_ISSUER is set but TOSHAV_OIDC_CLIENT_ID or TOSHAV_OIDC_CLIENT_SECRET is not")
        return cls(issuer=issuer.rstrip("/"), client_id=client_id, client_secret=secret,
                   roles_claim=env.get("TOSHAV_OIDC_ROLES_CLAIM") or "groups",
                   scopes=env.get("TOSHAV_OIDC_SCOPES") or "openid profile email")


def claim_values(claims: Mapping, name: str) -> list[str]:
    """A claim as a list of strings; dotted names reach into objects (Keycloak's `realm_access.roles`)."""
    value: object = claims
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


class OidcIdentity:
    """People log in with the authority's OpenID provider (authorization code + PKCE)."""

    via = "oidc"
    note = "הכניסה לעמוד בהזדהות מול ספק הזהויות של הרשות; התפקיד נקבע לפי הקבוצות שלך שם."

    def __init__(self, settings: OidcSettings, public_url: str | None = None):
        from authlib.integrations.starlette_client import OAuth

        self.settings = settings
        self.public_url = public_url.rstrip("/") if public_url else None
        self.secure_cookies = bool(self.public_url and self.public_url.startswith("https://"))
        self.oauth = OAuth()
        self.oauth.register(
            "idp", client_id=settings.client_id, client_secret=settings.client_secret,
            server_metadata_url=f"{settings.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": settings.scopes, "code_challenge_method": "S256", "timeout": 10.0})

    def describe(self) -> str:
        return f"OpenID Connect login with {self.settings.issuer}, roles from claim {self.settings.roles_claim}"

    def _callback_url(self, request: Request) -> str:
        return f"{self.public_url}/auth/callback" if self.public_url else str(request.url_for("auth_callback"))

    async def authenticate(self, request: Request) -> Caller | Response:
        caller = _session_caller(request, self.via)
        if caller is None:
            raise NotAuthenticated("log in")
        return caller

    async def login(self, request: Request) -> Response:
        return await self.oauth.idp.authorize_redirect(request, self._callback_url(request))

    async def callback(self, request: Request) -> Response:
        from authlib.integrations.base_client.errors import OAuthError

        try:
            token = await self.oauth.idp.authorize_access_token(request)
        except OAuthError:
            raise Refused("oidc_error", "the identity provider did not confirm the login") from None
        claims = token.get("userinfo") or {}
        subject = str(claims.get("preferred_username") or claims.get("email") or claims.get("sub") or "")
        if not subject:
            raise Refused("oidc_error", "the identity provider's token names nobody")
        r = role_for_groups(claim_values(claims, self.settings.roles_claim))
        if r is None:
            raise Refused("no_role", "your account has no Toshav role; ask the administrator for one")
        _start_session(request, self.via, subject, r, display=str(claims.get("name") or ""))
        return RedirectResponse("/", status_code=303)


@dataclass
class ProxyIdentity:
    """A reverse proxy that authenticated the person passes who it is (user and groups headers)."""

    proxies: Iterable[str]
    user_header: str = "X-Forwarded-User"
    groups_header: str = "X-Forwarded-Groups"
    public_url: str | None = None
    via: str = field(default="proxy", init=False)
    note: str = field(default="הכניסה לעמוד דרך שרת הביניים (proxy) של הרשות, שמזהה את המשתמשים.", init=False)

    def __post_init__(self):
        self.networks = [ipaddress.ip_network(p, strict=False) for p in self.proxies]
        if not self.networks:
            raise ValueError("trusted-proxy mode needs the proxy's address (--trusted-proxy)")
        self.secure_cookies = bool(self.public_url and self.public_url.startswith("https://"))

    def describe(self) -> str:
        return (f"identity from headers {self.user_header} / {self.groups_header}, believed only from "
                f"{', '.join(map(str, self.networks))}")

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in n for n in self.networks)

    async def authenticate(self, request: Request) -> Caller | Response:
        names = (self.user_header.lower(), self.groups_header.lower())
        values = {n: request.headers.getlist(n) for n in names}
        peer = peer_of(request)
        if not self._trusted(peer):
            if any(values.values()):
                raise Refused("forged_identity_header", "identity headers are accepted only from the proxy")
            raise NotAuthenticated("this page is reached through the authority's proxy")
        if any(len(v) > 1 for v in values.values()):
            raise Refused("duplicate_identity_header", "an identity header was sent more than once")
        user = (values[names[0]] or [""])[0].strip()
        if not user:
            raise NotAuthenticated("the proxy did not say who is asking")
        groups = [g.strip() for g in (values[names[1]] or [""])[0].split(",") if g.strip()]
        r = role_for_groups(groups)
        if r is None:
            raise Refused("no_role", "your account has no Toshav role; ask the administrator for one")
        if request.session.get("subject") != user:      # a CSRF token bound to this person's session
            _start_session(request, self.via, user, r)
        forwarded = request.headers.getlist("x-forwarded-for")
        client = forwarded[-1].split(",")[-1].strip() if forwarded else ""
        return Caller(subject=user, role=r, peer=f"{client} via {peer}" if client else peer, via=self.via)
