"""Roles (`schemas/roles.yaml`): which named queries a caller may run and which columns they see.

A role carries a clearance (public < personal < sensitive). Column and query sensitivity come from the
catalogue, which derives them from the resident model, so roles.yaml never restates what is sensitive.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from serving.catalogue import Column, Query, load_catalogue
from schemas.loader import load_yaml
from schemas.model import SENSITIVITY, table as model_table


class AccessDenied(PermissionError):
    """The caller's role may not run this query (or the role is unknown)."""


@dataclass(frozen=True)
class Role:
    name: str
    title_he: str
    description: str
    clearance: str
    queries: frozenset[str] | None      # None = all
    idp_groups: frozenset[str] = frozenset()
    rows_per_hour: int | None = None    # None = no limit

    def cleared_for(self, sensitivity: str) -> bool:
        return cleared(self.clearance, sensitivity)

    def may_run(self, query: Query) -> bool:
        """Given the query and cleared for everything it filters or sorts on."""
        given = self.queries is None or query.name in self.queries
        return given and self.cleared_for(query.clearance)

    def visible_columns(self, query: Query) -> list[Column]:
        return [c for c in query.columns if self.cleared_for(c.sensitivity)]

    def view_of(self, query: Query) -> str | None:
        """"list" (names, with counts), "counts" (the planner view: de-identified counts only) or None."""
        if self.may_run(query):
            return "list"
        given = self.queries is None or query.name in self.queries
        return "counts" if given and query.counts else None


@lru_cache(maxsize=None)
def planner_suppress_below() -> int:
    """Counts under this are never shown in the planner view (roles.yaml `planner_view.suppress_below`)."""
    value = load_yaml("roles.yaml").get("planner_view", {}).get("suppress_below")
    if not isinstance(value, int) or value < 2:
        raise ValueError("roles.yaml: planner_view.suppress_below must be a whole number of at least 2")
    return value


def cleared(clearance: str, sensitivity: str) -> bool:
    """Whether a caller with `clearance` may see a value of class `sensitivity` (public < personal < sensitive).
    The one rule for people's roles and for systems (serving/consumers.py)."""
    return SENSITIVITY.index(sensitivity) <= SENSITIVITY.index(clearance)


def cleared_fields(table_name: str, clearance: str) -> list[str]:
    """The fields of a resident-model table a caller with `clearance` may receive, in model order."""
    return [f.name for f in model_table(table_name).fields if cleared(clearance, f.sensitivity)]


def parse_grant(where: str, spec: dict) -> tuple[str, frozenset[str] | None]:
    """(clearance, queries) of a role or a consumer spec; errors name `where` (file and key)."""
    if spec.get("clearance") not in SENSITIVITY:
        raise ValueError(f"{where} has unknown clearance {spec.get('clearance')!r}")
    given = spec.get("queries", [])
    if given == "all":
        return spec["clearance"], None
    unknown = set(given) - set(load_catalogue().queries)
    if unknown:
        raise ValueError(f"{where} names unknown queries {sorted(unknown)}")
    return spec["clearance"], frozenset(given)


@lru_cache(maxsize=None)
def load_roles() -> dict[str, Role]:
    raw = load_yaml("roles.yaml")["roles"]
    roles = {}
    for name, spec in raw.items():
        clearance, queries = parse_grant(f"roles.yaml: role {name}", spec)
        groups = spec.get("idp_groups", [])
        if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
            raise ValueError(f"roles.yaml: role {name}: idp_groups is a list of group or role names")
        limit = spec.get("rows_per_hour")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise ValueError(f"roles.yaml: role {name}: rows_per_hour is a whole number of rows")
        roles[name] = Role(name=name, title_he=spec.get("title_he", name),
                           description=" ".join(spec.get("description", "").split()),
                           clearance=clearance, queries=queries, idp_groups=frozenset(groups),
                           rows_per_hour=limit)
    return roles


def role_for_groups(groups: Iterable[str]) -> Role | None:
    """The role an identity provider's groups (or app roles) give: the first role in roles.yaml that lists one."""
    held = set(groups)
    return next((r for r in load_roles().values() if r.idp_groups & held), None)


def role(name: str) -> Role:
    try:
        return load_roles()[name]
    except KeyError:
        raise AccessDenied(f"unknown role {name!r}; known roles: {', '.join(sorted(load_roles()))}") from None


def runnable_queries(r: Role) -> list[Query]:
    """The queries this role may run by name, in catalogue order (what `--list` shows)."""
    return [q for q in load_catalogue().ordered() if r.may_run(q)]


def viewable_queries(r: Role) -> list[tuple[Query, str]]:
    """Every list the role sees in some form, with how ("list" or "counts"), in catalogue order (the page)."""
    return [(q, v) for q in load_catalogue().ordered() if (v := r.view_of(q))]
