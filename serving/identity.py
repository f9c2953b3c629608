"""Who is asking: the caller of a request, as an identity layer in front of the page (and the API).

A `Caller` is an authenticated subject with a role (`schemas/roles.yaml`) and the peer address the request came
from. An identity source turns a request into a Caller or refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from serving.roles import AccessDenied, Role, load_roles, role as role_named


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


@dataclass(frozen=True)
class CallerSource:
    """Where the caller's role and user name come from: fixed at startup, or request headers set by a proxy."""

    role: str | None = None
    user: str | None = None
    role_header: str | None = None
    user_header: str | None = None

    def __post_init__(self):
        if bool(self.role) == bool(self.role_header):
            raise ValueError("give exactly one of --role or --role-header")
        if bool(self.user) == bool(self.user_header):
            raise ValueError("give exactly one of --user or --user-header")
        if self.role and self.role not in load_roles():
            raise ValueError(f"unknown role {self.role!r}; known roles: {', '.join(sorted(load_roles()))}")

    def caller(self, headers: Mapping[str, str], peer: str = "") -> Caller:
        role_name = self.role or (headers.get(self.role_header) or "").strip()
        user = self.user or (headers.get(self.user_header) or "").strip()
        if not role_name or not user:
            raise AccessDenied("the request does not say who is asking")
        return Caller(subject=user, role=role_named(role_name), peer=peer, via="local" if self.role else "proxy")

    def describe(self) -> str:
        who = f"role {self.role}" if self.role else f"role from header {self.role_header}"
        return who + (f", user {self.user}" if self.user else f", user from header {self.user_header}")

    @property
    def note(self) -> str:
        if self.role:
            return "התפקיד והמשתמש נקבעו בהפעלת השרת, וכל מי שמגיע לכתובת זו פועל בשמם."
        return "התפקיד והמשתמש נלקחים מכותרות שמוסיף שרת הביניים (proxy) שלפני העמוד."
