"""The Salesforce client: simple-salesforce, plus what it lacks for this sync.

- simple-salesforce builds every URL as `https://<instance>/...`. The local stand-in speaks plain HTTP,
  so for an `http://` instance URL the client's `requests.Session` carries an adapter that rewrites those
  URLs back to `http://` for that one host (nothing else is rewritten).
- Bulk 2.0 calls in simple-salesforce do not read `Sforce-Limit-Info`, and nothing counts calls. A response
  hook on the session does both for every request: `api_meter(sf)` returns the counter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce

from connectors.muniforce.mapping import load_mapping

_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")


class _PlainHttpAdapter(HTTPAdapter):
    """Sends `https://host:port/...` requests to `http://host:port/...` (for the local stand-in only)."""

    def send(self, request, *args, **kwargs):  # noqa: ANN001 - requests' signature
        if request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://"):]
        return super().send(request, *args, **kwargs)


@dataclass
class ApiMeter:
    """API calls made through one session, and the org's daily usage from `Sforce-Limit-Info`."""

    calls: int = 0
    used: int | None = None
    limit: int | None = None

    def __call__(self, response: requests.Response, *args, **kwargs) -> None:
        self.calls += 1
        m = _LIMIT_INFO.search(response.headers.get("Sforce-Limit-Info", ""))
        if m:
            self.used, self.limit = int(m.group(1)), int(m.group(2))


def api_meter(sf: Salesforce) -> ApiMeter:
    """The meter of a client's session, installed on first use (also for clients not made by `connect`)."""
    for hook in sf.session.hooks.get("response", []):
        if isinstance(hook, ApiMeter):
            return hook
    meter = ApiMeter()
    sf.session.hooks.setdefault("response", []).append(meter)
    return meter


def connect(
    instance_url: str,
    session_id: str | None = None,
    username: str | None = None,
    password: str | None = None,
    security_token: str | None = None,
    domain: str | None = None,
    version: str | None = None,
    timeout: float = 300.0,
) -> Salesforce:
    """A simple-salesforce client for MuniForce (or the stand-in).

    Either a session id (an OAuth access token) with the instance URL, or username + password + security
    token (`domain` 'login' or 'test'). Secrets come from the caller's configuration (Dagster EnvVar,
    environment), never from code.
    """
    session = requests.Session()
    parsed = urlparse(instance_url)
    if parsed.scheme == "http":
        session.mount(f"https://{parsed.netloc}/", _PlainHttpAdapter())
    elif parsed.scheme != "https":
        raise ValueError("the MuniForce instance URL must start with https:// (or http:// for the local stand-in)")
    session.request = _with_default_timeout(session.request, timeout)  # type: ignore[method-assign]
    version = version or load_mapping().api_version
    if session_id:
        sf = Salesforce(instance_url=instance_url, session_id=session_id, session=session, version=version)
    elif username and password:
        sf = Salesforce(username=username, password=password, security_token=security_token or "",
                        domain=domain, session=session, version=version)
    else:
        raise ValueError("MuniForce credentials missing: set a session id, or username, password and security token")
    api_meter(sf)
    return sf


def _with_default_timeout(request, timeout: float):
    """simple-salesforce sets no timeout; a hung socket must not hang a run forever."""

    def call(method, url, **kwargs):
        kwargs.setdefault("timeout", timeout)
        return request(method, url, **kwargs)

    return call
